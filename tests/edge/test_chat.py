"""Chat proxy end to end: real loopback fake providers, the real app on uvicorn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.chat import create_app
from edge.settings import Settings
from tests.support.chatsite import IDS, SYSTEM, ask, chat_data, chat_site, provider_of, text_of
from tests.support.fakeproviders import FakeProviders
from tests.support.servers import free_port_url, serve


def test_streams_from_first_provider_in_several_chunks(chat: str) -> None:
    events, chunks = ask(chat)
    assert provider_of(events) == "groq"
    assert text_of(events) == "Hello from the fake provider. (groq)"
    assert events[-1] == ("done", {})
    assert chunks > 1


@pytest.mark.parametrize("mode", ["hang", "429", "500", "401", "error_event"])
def test_failover_before_first_token(chat: str, fake: FakeProviders, mode: str) -> None:
    fake.modes["groq"] = mode
    events, _ = ask(chat)
    assert provider_of(events) == "cerebras"
    assert text_of(events).endswith("(cerebras)")
    assert not [e for e in events if e[0] == "error"]


def test_failover_on_refused_connection(tmp_path: Path, fake: FakeProviders) -> None:
    fake.modes.clear()
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    env["SITEGEN_CHAT_GROQ_BASE_URL"] = f"{free_port_url()}/groq"  # nothing listens
    settings = Settings(data_dir=chat_data(tmp_path), local_dir=tmp_path, site=chat_site(), env=env)
    with serve(create_app(settings)) as base:
        events, _ = ask(f"{base}/")
    assert provider_of(events) == "cerebras"


def test_kill_first_two_yields_third(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "hang"}
    events, chunks = ask(chat)
    assert provider_of(events) == "openrouter"
    assert text_of(events).endswith("(openrouter)")
    assert chunks > 1


def test_gemini_native_sse(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "500", "openrouter": "error_event"}
    events, _ = ask(chat)
    assert provider_of(events) == "gemini"
    assert text_of(events) == "Hello from the fake provider. (gemini)"


def test_error_event_after_partial_stream(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "cut"
    events, _ = ask(chat)
    assert text_of(events) == "Hello from"
    assert [e for e, _ in events][-2:] == ["error", "done"]
    # Nothing was retried on another provider once the visitor had text.
    assert {r["provider"] for r in fake.requests} == {"groq"}


def test_all_fail_offline_answer_region_specific(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {p: "500" for p in IDS}
    events, _ = ask(chat, "How much does branding cost?", "pk")
    assert provider_of(events) == "offline"
    assert "Rs 45,000" in text_of(events)
    events, _ = ask(chat, "How much does branding cost?", "intl")
    text = text_of(events)
    assert "not offered on our International site; it is offered in Pakistan" in text
    assert "$1,500" in text and "Rs" not in text


def test_cooldown_after_429_skipsprovider_of(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "429"
    ask(chat)
    fake.modes["groq"] = "ok"
    fake.requests.clear()
    events, _ = ask(chat)
    assert provider_of(events) == "cerebras"
    assert "groq" not in {r["provider"] for r in fake.requests}


def test_every_upstream_request_carries_only_allowed_fields(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "401", "openrouter": "error_event"}
    ask(chat, "What do you charge?")
    assert {r["provider"] for r in fake.requests} == set(IDS)
    allowed_headers = {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "user-agent",
        "authorization",
        "x-goog-api-key",
        "cache-control",
    }
    for r in fake.requests:
        h = r["headers"]
        assert set(h) <= allowed_headers, set(h) - allowed_headers
        assert h["user-agent"] == "sitegen-chat/1"
        assert "Visitor" not in json.dumps(r) and "secret" not in json.dumps(r)
        body = r["body"]
        if r["provider"] == "gemini":
            assert set(body) == {"systemInstruction", "contents", "generationConfig"}
            assert body["systemInstruction"]["parts"][0]["text"].startswith(SYSTEM)
            assert "key" not in r["query"]
        else:
            expected = {"model", "messages", "max_tokens", "stream"}
            if r["provider"] == "openrouter":
                expected.add("provider")
                assert body["provider"] == {"data_collection": "deny"}
            assert set(body) == expected
            system, *rest = body["messages"]
            assert system["role"] == "system" and system["content"].startswith(SYSTEM)
            assert rest == [{"role": "user", "content": "What do you charge?"}]


@pytest.mark.parametrize(
    "body,reason",
    [
        ({"region": "xx", "messages": [{"role": "user", "content": "hi"}]}, "unknown region"),
        ({"region": "pk", "messages": [{"role": "system", "content": "hi"}]}, "role must be"),
        ({"region": "pk", "messages": [{"role": "user", "content": 5}]}, "content must be"),
        ({"region": "pk", "messages": [{"role": "user", "content": "x" * 201}]}, "at most 200"),
        ({"region": "pk", "messages": [{"role": "user", "content": "hi"}] * 5}, "at most 4 messages"),
        ({"region": "pk", "messages": []}, "non-empty"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_requests_get_400_with_reason(chat: str, fake: FakeProviders, body: Any, reason: str) -> None:
    r = httpx.post(chat, json=body)
    assert r.status_code == 400
    assert reason in r.json()["error"]
    assert fake.requests == []


def test_json_mode(chat: str) -> None:
    r = httpx.post(chat + "?stream=0", json={"region": "pk", "messages": [{"role": "user", "content": "hi"}]})
    assert r.json() == {"reply": "Hello from the fake provider. (groq)", "provider": "groq"}


def test_daily_budget_then_offline_and_says_so(tmp_path: Path, fake: FakeProviders) -> None:
    fake.modes.clear()
    site = chat_site(daily_requests=2)
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    with serve(create_app(settings)) as base:
        body = {"region": "pk", "messages": [{"role": "user", "content": "How can I contact you?"}]}
        replies = [httpx.post(f"{base}/?stream=0", json=body).json() for _ in range(3)]
    assert [r["provider"] for r in replies] == ["groq", "groq", "offline"]
    assert "budget for the AI assistant is used up" in replies[2]["notice"]
    assert "hello@example.com" in replies[2]["reply"]


def test_rate_limit_429_with_retry_after(tmp_path: Path) -> None:
    site = chat_site(providers=[], rate_per_minute=2)
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env={})
    with serve(create_app(settings)) as base:
        body = {"region": "pk", "messages": [{"role": "user", "content": "contact?"}]}
        codes = [httpx.post(f"{base}/?stream=0", json=body) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    assert codes[2].json()["error"] == "too many messages; wait a moment"
    assert codes[0].json()["provider"] == "offline"
    assert "hello@example.com" in codes[0].json()["reply"]


def test_three_consecutive_failures_cool_a_provider_down(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "500"
    for _ in range(3):
        assert provider_of(ask(chat)[0]) == "cerebras"
    fake.modes["groq"] = "ok"
    fake.requests.clear()
    assert provider_of(ask(chat)[0]) == "cerebras"
    assert "groq" not in {r["provider"] for r in fake.requests}


def test_logs_never_hold_messagetext_of(
    chat: str, fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    fake.modes |= {"groq": "500", "cerebras": "cut"}
    ask(chat, "my secret budget is 12345")
    assert "chat provider groq failed: ProviderError" in caplog.messages  # failures are logged...
    assert "12345" not in caplog.text  # ...without the visitor's words


def test_concurrency_cap_503_with_retry_after(tmp_path: Path, fake: FakeProviders) -> None:
    fake.modes.clear()
    fake.modes["groq"] = "slow"
    site = chat_site(timeout=5, max_concurrent=1)
    env = {"GROQ_API_KEY": "k", "SITEGEN_CHAT_GROQ_BASE_URL": fake.url("groq")}
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    body = {"region": "pk", "messages": [{"role": "user", "content": "hi"}]}
    with (
        serve(create_app(settings)) as base,
        httpx.stream("POST", f"{base}/", json=body) as first,
    ):
        lines = first.iter_lines()
        assert next(lines) == "event: meta"  # the first answer is under way
        assert "groq" in next(lines)
        second = httpx.post(f"{base}/", json=body)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "5"
        assert second.json()["error"] == "the assistant is busy; try again shortly"


def test_oversized_and_malformed_bodies_are_4xx(chat: str) -> None:
    as_json = {"content-type": "application/json"}
    assert httpx.post(chat, content=b"x" * 10_000, headers=as_json).status_code == 413
    r = httpx.post(chat, content=b"\xff\xfe{", headers=as_json)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    # Deep nesting was a RecursionError (500); refused before parsing now.
    r = httpx.post(chat, content=b"[" * 3000, headers=as_json)
    assert r.status_code == 400 and "nested" in r.json()["error"]


def test_chat_requires_json_and_the_sites_own_origin(chat: str) -> None:
    body = json.dumps({"region": "pk", "messages": [{"role": "user", "content": "hi"}]}).encode()
    # Once an open LLM proxy: any content type and any origin reached the providers.
    assert httpx.post(chat, content=body, headers={"content-type": "text/plain"}).status_code == 415
    other_site = {"content-type": "application/json", "origin": "https://evil.example"}
    r = httpx.post(chat, content=body, headers=other_site)
    assert r.status_code == 403
    assert r.json()["error"] == "Chat requests from other sites are not accepted."
    cross = {"content-type": "application/json", "sec-fetch-site": "cross-site"}
    assert httpx.post(chat, content=body, headers=cross).status_code == 403
    same = {"content-type": "application/json", "origin": chat.rstrip("/"), "accept": "application/json"}
    assert httpx.post(chat, content=body, headers=same).status_code == 200


def test_offline_contact_answer_from_site_json(tmp_path: Path) -> None:
    from edge.offline import OfflineAnswerer

    settings = Settings(data_dir=chat_data(tmp_path), local_dir=tmp_path, site=chat_site(), env={})
    answer = OfflineAnswerer(settings).answer("pk", "How can I contact you?")
    assert "hello@example.com" in answer.text and "/pk/contact/" in [link.url for link in answer.links]
