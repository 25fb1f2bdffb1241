"""Which provider answers, and what the visitor sees when one misbehaves: cooldowns, empty answers,
redirects, a proxy in the environment, a price the catalog does not have, a missing prompt."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from edge.chat import create_app
from edge.settings import Settings
from sitegen.chunks import chunks_file, service_chunks
from tests.support.chatsite import IDS, ask, chat_data, chat_site, provider_env, provider_of, text_of
from tests.support.fakeproviders import FakeProviders
from tests.support.servers import free_port_url, serve

CONTACT = "How can I contact you?"


@contextmanager
def _chat(tmp_path: Path, env: dict[str, str]) -> Iterator[str]:
    site = chat_site()
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    with serve(create_app(settings)) as base:
        yield f"{base}/"


def _asked(fake: FakeProviders) -> list[str]:
    return [r["provider"] for r in fake.requests]


def test_two_failures_do_not_cool_a_provider_down_and_an_answer_forgives_them(
    chat: str, fake: FakeProviders
) -> None:
    for _ in range(2):
        fake.modes["groq"] = "500"
        for _ in range(2):
            assert provider_of(ask(chat)[0]) == "cerebras"
        fake.modes["groq"] = "ok"
        fake.requests.clear()
        # Two failures in a row, then an answer: the count starts again from nothing.
        assert provider_of(ask(chat)[0]) == "groq"
        assert _asked(fake) == ["groq"]


def test_a_provider_answering_nothing_fails_over_and_is_cooled_down(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = [""]
    for _ in range(3):
        fake.requests.clear()
        events, _ = ask(chat)
        assert provider_of(events) == "cerebras"
        assert _asked(fake) == ["groq", "cerebras"]
    fake.requests.clear()
    assert provider_of(ask(chat)[0]) == "cerebras"
    assert _asked(fake) == ["cerebras"]


def test_a_key_less_provider_is_skipped_without_a_request(tmp_path: Path, fake: FakeProviders) -> None:
    env = provider_env(fake)
    del env["GROQ_API_KEY"]
    with _chat(tmp_path, env) as url:
        events, _ = ask(url)
    assert provider_of(events) == "cerebras"
    assert _asked(fake) == ["cerebras"]


def test_a_redirecting_provider_is_not_followed(tmp_path: Path, fake: FakeProviders) -> None:
    # Following it would send the API key and the visitor's words wherever the redirect points.
    async def redirect(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await RedirectResponse(fake.url("groq") + scope["path"], 307)(scope, receive, send)

    with serve(redirect) as elsewhere:
        env = provider_env(fake) | {"SITEGEN_CHAT_GROQ_BASE_URL": elsewhere}
        with _chat(tmp_path, env) as url:
            events, _ = ask(url)
    assert provider_of(events) == "cerebras"
    assert _asked(fake) == ["cerebras"]


def test_proxy_settings_in_the_environment_are_ignored(
    tmp_path: Path, fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The providers are reached directly: a proxy named in the process environment would see every key.
    dead = free_port_url()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead)
    with _chat(tmp_path, provider_env(fake)) as url, httpx.Client(trust_env=False) as client:
        body = {"region": "pk", "messages": [{"role": "user", "content": "hi"}]}
        reply = client.post(url + "?stream=0", json=body).json()
    assert reply["provider"] == "groq"


def test_an_invented_price_in_the_first_words_shows_the_sites_answer_instead(
    chat: str, fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    fake.answers["groq"] = ["Rs 12,345 buys you a website."]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    assert [e for e, _ in events] == ["meta", "token", "links", "done"]
    meta, token, links = (d for _, d in events[:3])
    assert meta["provider"] == "offline" and meta["notice"] == "Quick answer from this site:"
    assert token["t"] == meta["t"] and token["t"].startswith("Web Development: from Rs 80,000.")
    assert {"title": "Web Development", "url": "/pk/services/web-development/"} in links["links"]
    assert "chat provider groq quoted a price not in the catalog; answer replaced" in caplog.messages


def test_an_invented_price_after_shown_words_replaces_them(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = ["We build websites.", " Ours start", " at Rs 12,345."]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    names = [e for e, _ in events]
    assert names[0] == "meta" and events[0][1] == {"provider": "groq"}
    replace = next(d for e, d in events if e == "replace")
    assert replace["provider"] == "offline" and replace["notice"] == "Quick answer from this site:"
    assert replace["t"].startswith("Web Development: from Rs 80,000.")
    assert names[names.index("replace") :] == ["replace", "links", "done"]


def test_an_answer_that_is_only_a_catalog_price_is_shown_whole(chat: str, fake: FakeProviders) -> None:
    # Nothing can be shown until the stream ends (a price could still be growing): then all of it.
    fake.answers["groq"] = ["Rs 80,000"]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    assert events[0] == ("meta", {"provider": "groq"})
    assert events[1] == ("token", {"t": "Rs 80,000"})
    assert [e for e, _ in events][2:] == ["links", "done"]


def test_a_cut_off_answer_tells_the_visitor_to_try_again(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "cut"
    events, _ = ask(chat)
    assert events[-2] == ("error", {"message": "The answer was cut off. Please try again."})


def test_an_out_of_scope_question_gets_no_links_after_a_provider_answer(chat: str) -> None:
    events, _ = ask(chat, "What is the capital of France?")
    assert provider_of(events) == "groq"
    assert [e for e, _ in events][-1] == "done" and "links" not in [e for e, _ in events]


def test_a_missing_prompt_file_falls_back_to_the_bots_own_introduction(
    chat: str, fake: FakeProviders, tmp_path: Path
) -> None:
    (tmp_path / "chat" / "pk.prompt.txt").unlink()
    fake.modes["groq"] = "echo"
    ask(chat, "Tell me about the Karachi agency")
    system = fake.requests[-1]["body"]["messages"][0]["content"]
    assert system.startswith("You are ExpertBot, the assistant of this website.")
    assert "(/pk/about/): A Karachi agency building websites since 2015." in system


def test_offline_words_stream_one_by_one(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {p: "500" for p in IDS}
    events, _ = ask(chat, CONTACT)
    tokens = [d["t"] for e, d in events if e == "token"]
    assert len(tokens) > 3 and all(t.endswith(" ") and " " not in t[:-1] for t in tokens)
    assert "reach " in tokens
    links: list[dict[str, Any]] = next(d["links"] for e, d in events if e == "links")
    assert "/pk/contact/" in [link["url"] for link in links]


def test_a_provider_asking_to_retry_at_once_is_asked_again_next_time(
    tmp_path: Path, fake: FakeProviders
) -> None:
    # Retry-After: 0 is the provider's own word that no pause is needed: not the default 30-second cooldown.
    hits: list[str] = []

    async def busy(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hits.append(scope["path"])
            await Response("busy", 429, headers={"retry-after": "0"})(scope, receive, send)

    with (
        serve(busy) as groq,
        _chat(tmp_path, provider_env(fake) | {"SITEGEN_CHAT_GROQ_BASE_URL": groq}) as url,
    ):
        assert [provider_of(ask(url)[0]) for _ in range(2)] == ["cerebras", "cerebras"]
    assert len(hits) == 2


def test_offline_answers_keep_the_pages_spacing_and_line_breaks(tmp_path: Path, fake: FakeProviders) -> None:
    site = chat_site()
    data = chat_data(tmp_path, site)
    pages = [
        {"url": "/pk/about/", "title": "About us", "text": "A Karachi agency  building websites\nsince 2015."}
    ]
    (data / "chat" / "pk.chunks.json").write_text(
        chunks_file(pages, service_chunks(site["regions"]["pk"]["services"]))
    )
    env = provider_env(fake)
    fake.modes |= {p: "500" for p in IDS}
    settings = Settings(data_dir=data, local_dir=tmp_path, site=site, env=env)
    with serve(create_app(settings)) as base:
        events, _ = ask(f"{base}/", "Tell me about the Karachi agency")
    assert provider_of(events) == "offline"
    assert text_of(events) == "From “About us”: A Karachi agency  building websites\nsince 2015. "
