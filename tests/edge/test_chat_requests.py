"""What a visitor's request to /api/chat gets: methods, limits at their edges, the JSON mode, the slot."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from edge.chat import create_app
from edge.settings import Settings
from tests.support.chatsite import IDS, ask, chat_data, chat_site, provider_env, provider_of, text_of
from tests.support.edgesite import PROXY_SECRET, netlify_signature
from tests.support.fakeproviders import FakeProviders
from tests.support.servers import serve

HI = {"region": "pk", "messages": [{"role": "user", "content": "hi"}]}


@contextmanager
def _chat(tmp_path: Path, site: dict[str, Any], env: dict[str, str]) -> Iterator[str]:
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    with serve(create_app(settings)) as base:
        yield f"{base}/"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"])
def test_only_post_is_answered_and_the_405_says_so(chat: str, method: str) -> None:
    r = httpx.request(method, chat)
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    if method != "HEAD":
        assert r.json()["error"] == "use POST"


def test_a_disabled_chat_is_not_found(tmp_path: Path, fake: FakeProviders) -> None:
    site = chat_site()
    site["chat"]["enabled"] = False
    with _chat(tmp_path, site, provider_env(fake)) as url:
        r = httpx.post(url, json=HI)
    assert r.status_code == 404 and r.json()["error"] == "chat is disabled"


def _user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def _assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


@pytest.mark.parametrize(
    "body,reason",
    [
        ({"region": 5, "messages": [_user("hi")]}, "unknown region"),
        ({"messages": [_user("hi")]}, "unknown region"),
        (
            {"region": "pk", "messages": {"role": "user", "content": "hi"}},
            "messages must be a non-empty list",
        ),
        ({"region": "pk"}, "messages must be a non-empty list"),
        ({"region": "pk", "messages": ["hi"]}, "each message is {role, content}"),
        ({"region": "pk", "messages": [_user("hi") | {"name": "x"}]}, "each message is {role, content}"),
        ({"region": "pk", "messages": [{"content": "hi"}]}, "role must be 'user' or 'assistant'"),
        ({"region": "pk", "messages": [_user(" \n ")]}, "content must be a non-empty string"),
        ({"region": "pk", "messages": [_user("")]}, "content must be a non-empty string"),
        ({"region": "pk", "messages": [_user("x" * 201)]}, "a message may have at most 200 characters"),
        ({"region": "pk", "messages": [_user("hi")] * 5}, "at most 4 messages"),
        (
            {"region": "pk", "messages": [_user("x" * 200), _assistant("y" * 200), _user("z" * 101)]},
            "messages may have at most 500 characters in total",
        ),
        (
            {"region": "pk", "messages": [_user("hi"), _assistant("hello")]},
            "the last message must be from the user",
        ),
        ("hi", "body must be a JSON object"),
    ],
)
def test_refused_conversations_get_the_exact_reason(
    chat: str, fake: FakeProviders, body: Any, reason: str
) -> None:
    r = httpx.post(chat, json=body)
    assert r.status_code == 400
    assert r.json()["error"] == reason
    assert fake.requests == []


def test_a_conversation_at_every_limit_reaches_the_provider_as_sent(chat: str, fake: FakeProviders) -> None:
    # 4 messages (the most), one of 200 characters (the most), 500 characters in all (the most).
    messages = [_user("a" * 200), _assistant("b" * 199), _assistant("c"), _user("d" * 100)]
    r = httpx.post(chat + "?stream=0", json={"region": "pk", "messages": messages})
    assert r.status_code == 200 and r.json()["provider"] == "groq"
    assert fake.requests[-1]["body"]["messages"][1:] == messages


def test_the_body_limit_leaves_room_for_every_character_escaped(chat: str, fake: FakeProviders) -> None:
    # 500 characters each sent as a 6-byte \\uXXXX escape, plus 4096 bytes of JSON around them.
    limit = 500 * 6 + 4096
    text = json.dumps(
        {"region": "pk", "messages": [_user("é" * 200), _assistant("é" * 200), _user("é" * 100)]}
    )
    assert len(text) < limit
    as_json = {"content-type": "application/json", "accept": "application/json"}
    at_limit = text[:-1] + " " * (limit - len(text)) + "}"
    r = httpx.post(chat, content=at_limit.encode(), headers=as_json)
    assert r.status_code == 200 and r.json()["provider"] == "groq"
    over = text[:-1] + " " * (limit + 1 - len(text)) + "}"
    assert httpx.post(chat, content=over.encode(), headers=as_json).status_code == 413


def test_accept_json_gets_the_whole_reply_as_json(chat: str) -> None:
    r = httpx.post(chat, json=HI, headers={"accept": "text/html, application/json"})
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"reply": "Hello from the fake provider. (groq)", "provider": "groq"}


def test_a_request_without_accept_header_gets_the_stream(chat: str) -> None:
    with httpx.Client() as client:
        del client.headers["accept"]
        with client.stream("POST", chat, json=HI) as r:
            assert "accept" not in r.request.headers
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "Hello" in r.read().decode()


def test_each_provider_gets_the_sites_model_and_answer_length(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "500", "openrouter": "500"}
    ask(chat)
    for request in fake.requests:
        body, pid = request["body"], request["provider"]
        if pid == "gemini":
            assert "model-gemini" in request["path"]
            assert body["generationConfig"]["maxOutputTokens"] == 64
        else:
            assert body["model"] == f"model-{pid}" and body["max_tokens"] == 64


def test_a_streamed_reply_is_never_cached_or_buffered(chat: str) -> None:
    with httpx.stream("POST", chat, json=HI) as r:
        r.read()
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-accel-buffering"] == "no"


def test_json_reply_carries_the_links_and_is_trimmed(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {p: "500" for p in IDS}
    body = {"region": "pk", "messages": [_user("How can I contact you?")]}
    reply = httpx.post(chat + "?stream=0", json=body).json()
    events, _ = ask(chat, "How can I contact you?")
    streamed = [d["links"] for e, d in events if e == "links"]
    assert streamed and streamed[0]
    assert reply["links"] == streamed[0]
    assert reply["reply"] == text_of(events).strip() and not reply["reply"].endswith(" ")
    assert reply["provider"] == "offline"
    assert reply["notice"] == "The assistant can't be reached right now. Quick answers from this site:"


def test_json_reply_cut_off_says_so(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "cut"
    reply = httpx.post(chat + "?stream=0", json=HI).json()
    assert reply == {
        "reply": "Hello from",
        "provider": "groq",
        "error": "The answer was cut off. Please try again.",
    }


def test_every_finished_or_refused_request_frees_its_slot(tmp_path: Path, fake: FakeProviders) -> None:
    with _chat(tmp_path, chat_site(max_concurrent=1), provider_env(fake)) as url:
        assert httpx.post(url, json={"region": "pk", "messages": []}).status_code == 400
        assert httpx.post(url, content=b"{", headers={"content-type": "application/json"}).status_code == 400
        assert httpx.post(url + "?stream=0", json=HI).json()["provider"] == "groq"
        assert provider_of(ask(url)[0]) == "groq"
        assert provider_of(ask(url)[0]) == "groq"


def test_the_concurrency_cap_counts_every_answer_under_way(tmp_path: Path, fake: FakeProviders) -> None:
    env = provider_env(fake)
    fake.modes["groq"] = "slow"
    fake.answers["groq"] = ["Word. "] * 30  # a second a word: both answers outlast the test
    with (
        _chat(tmp_path, chat_site(timeout=5, max_concurrent=2), env) as url,
        httpx.stream("POST", url, json=HI) as first,
        httpx.stream("POST", url, json=HI) as second,
    ):
        # Kept: a dropped line iterator closes its response, which would end that answer.
        lines = [first.iter_lines(), second.iter_lines()]
        assert [next(answer) for answer in lines] == ["event: meta"] * 2  # both answers are under way
        third = httpx.post(url, json=HI)
        assert third.status_code == 503 and third.headers["retry-after"] == "5"


def test_every_request_gives_back_exactly_its_own_slot(tmp_path: Path, fake: FakeProviders) -> None:
    """After refusals, a whole JSON answer and a whole streamed one, the cap is still the cap: one
    answer under way and max_concurrent 1 means the next visitor waits (a request that gave back
    more than its slot would let both through)."""
    env = provider_env(fake)
    with _chat(tmp_path, chat_site(timeout=5, max_concurrent=1), env) as url:
        for _ in range(2):
            assert httpx.post(url, json={"region": "pk", "messages": []}).status_code == 400
        assert httpx.post(url + "?stream=0", json=HI).json()["provider"] == "groq"
        assert provider_of(ask(url)[0]) == "groq"
        fake.modes["groq"] = "slow"
        fake.answers["groq"] = ["Word. "] * 30
        with httpx.stream("POST", url, json=HI) as first:
            lines = first.iter_lines()
            assert next(lines) == "event: meta"
            second = httpx.post(url, json=HI)
            assert (
                second.status_code == 503
                and second.json()["error"] == "the assistant is busy; try again shortly"
            )


def test_behind_the_signed_proxy_each_visitor_has_their_own_rate_limit(tmp_path: Path) -> None:
    site = chat_site(providers=[], rate_per_minute=1)
    site["edge"]["proxy_signature_env"] = "NETLIFY_PROXY_SIGNATURE"
    env = {"NETLIFY_PROXY_SIGNATURE": PROXY_SECRET}

    def visitor(address: str) -> dict[str, str]:
        # Not X-Forwarded-For: uvicorn itself believes that header from a loopback peer.
        signed = {"x-nf-sign": netlify_signature(), "x-nf-client-connection-ip": address}
        return signed | {"accept": "application/json"}

    with _chat(tmp_path, site, env) as url:
        codes = [
            httpx.post(url, json=HI, headers=visitor(address)).status_code
            for address in ("198.51.100.2", "198.51.100.3", "198.51.100.2")
        ]
    assert codes == [200, 200, 429]


def test_with_supabase_the_chat_limit_is_counted_in_the_shared_counters(tmp_path: Path) -> None:
    """Every edge instance counts a visitor's chat messages in the database (PostgREST's
    /rpc/edge_hit, faked here at the network boundary), under the chat's own bucket and the
    site's per-minute limit; the wait the database names becomes the 429's Retry-After."""
    calls: list[dict[str, Any]] = []
    waits = {"chat": [0, 0, 7]}

    async def edge_hit(request: Request) -> JSONResponse:
        args = await request.json()
        calls.append(args | {"apikey": request.headers.get("apikey")})
        queue = waits.get(args["p_bucket"])
        return JSONResponse(queue.pop(0) if queue else 0)

    database = Starlette(routes=[Route("/rest/v1/rpc/edge_hit", edge_hit, methods=["POST"])])
    site = chat_site(providers=[], rate_per_minute=2)
    with serve(database) as supabase:
        env = {"SUPABASE_URL": supabase, "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_test"}
        with _chat(tmp_path, site, env) as url:
            answers = [httpx.post(url, json=HI, headers={"accept": "application/json"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "7"
    assert answers[2].json()["error"] == "too many messages; wait a moment"
    chat = [c for c in calls if c["p_bucket"] == "chat"]
    assert len(chat) == 3
    for call in chat:
        assert re.fullmatch(r"[0-9a-f]{32}", call.pop("p_key"))
        assert call == {
            "p_bucket": "chat",
            "p_limit": 2,
            "p_window_seconds": 60,
            "p_cost": 1,
            "apikey": "sb_publishable_test",
        }


def test_tokens_of_question_and_answer_are_charged_to_the_daily_budget(
    tmp_path: Path, fake: FakeProviders
) -> None:
    # "Hi" and "Hello from the fake provider. (groq)" are 38 characters: 10 tokens at four per token.
    for daily_tokens, second in ((10, "offline"), (11, "groq")):
        (tmp_path / str(daily_tokens)).mkdir()
        with _chat(
            tmp_path / str(daily_tokens), chat_site(daily_tokens=daily_tokens), provider_env(fake)
        ) as url:
            assert provider_of(ask(url, "Hi")[0]) == "groq"
            assert provider_of(ask(url, "Hi")[0]) == second


def test_offline_answers_cost_no_tokens(tmp_path: Path, fake: FakeProviders) -> None:
    # The budget is for the providers: quick answers after they all failed are not charged.
    with _chat(tmp_path, chat_site(daily_tokens=11), provider_env(fake)) as url:
        fake.modes |= {p: "500" for p in IDS}
        for _ in range(2):
            events, _ = ask(url, "How can I contact you?")
            assert provider_of(events) == "offline" and len(text_of(events)) > 44
        fake.modes.clear()
        assert provider_of(ask(url, "Hi")[0]) == "groq"


def test_the_stream_carries_text_as_utf8_not_escapes(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = ["Café ", "کراچی"]
    with httpx.stream("POST", chat, json=HI) as r:
        raw = r.read().decode()
    assert '{"t": "Café "}' in raw and '{"t": "کراچی"}' in raw


def test_shutdown_closes_the_providers_client_and_a_later_request_gets_a_new_one(
    tmp_path: Path, fake: FakeProviders
) -> None:
    site = chat_site()
    env = provider_env(fake)
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    app = create_app(settings)

    async def scenario() -> list[str]:
        await app.state.handler.aclose()  # an app that never answered shuts down cleanly too
        providers = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://chat") as client:
            for _ in range(2):
                r = await client.post("/?stream=0", json=HI)
                providers.append(r.json()["provider"])
                await app.state.handler.aclose()
        return providers

    assert asyncio.run(scenario()) == ["groq", "groq"]


def test_a_site_without_providers_never_blames_a_budget(tmp_path: Path) -> None:
    with _chat(tmp_path, chat_site(providers=[], daily_requests=1), {}) as url:
        replies = [httpx.post(url + "?stream=0", json=HI).json() for _ in range(2)]
    assert [(r["provider"], r["notice"]) for r in replies] == [
        ("offline", "Quick answers from this site:")
    ] * 2


def test_a_site_with_no_requests_left_answers_offline_with_the_reason(
    tmp_path: Path, fake: FakeProviders
) -> None:
    with _chat(tmp_path, chat_site(daily_requests=1), provider_env(fake)) as url:
        assert provider_of(ask(url)[0]) == "groq"
        fake.requests.clear()
        events, _ = ask(url, "How can I contact you?")
    meta = next(d for e, d in events if e == "meta")
    assert meta == {
        "provider": "offline",
        "notice": "Today's budget for the AI assistant is used up. Quick answers from this site:",
        "reason": "budget",
    }
    assert "hello@example.com" in text_of(events)
    assert [e for e, _ in events][-2:] == ["links", "done"]
    assert "/pk/contact/" in [link["url"] for link in events[-2][1]["links"]]
    assert fake.requests == []
