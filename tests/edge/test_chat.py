"""Chat proxy end to end: real loopback fake providers, the real app on uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.chat import create_app
from edge.settings import Settings
from sitegen.chunks import chunks_file, service_chunks
from tests.edge.fakeproviders import FakeProviders, fake_providers, free_port, serve
from tests.support.edgesite import edge_site

IDS = ["groq", "cerebras", "openrouter", "gemini"]
SYSTEM = "You are ExpertBot for 7Experts Pakistan."


def _site() -> dict[str, Any]:
    def svc(region: str, sid: str, name: str, amount: int, cur: str, text: str) -> dict[str, Any]:
        return {
            "id": sid,
            "name": name,
            "summary": "",
            "url": f"/{region}/services/{sid}/",
            "price_text": text,
            "price": {"amount": amount, "currency": cur, "unit": "project", "from": True, "text": text},
        }

    return edge_site(
        {
            "version": 1,
            "production": True,
            "title": "7Experts",
            "default_region": "intl",
            "contact": {"company": "7Experts", "email": "hello@example.com", "phone": "+92 300 0000000"},
            "regions": {
                "pk": {
                    "label": "Pakistan",
                    "currency": "PKR",
                    "urls": {"contact": "/pk/contact/", "privacy": "/pk/legal/privacy/"},
                    "services": [
                        svc("pk", "web-development", "Web Development", 80000, "PKR", "from Rs 80,000"),
                        svc("pk", "branding", "Branding", 45000, "PKR", "from Rs 45,000"),
                    ],
                },
                "intl": {
                    "label": "International",
                    "currency": "USD",
                    "urls": {"contact": "/intl/contact/"},
                    "services": [
                        svc("intl", "web-development", "Web Development", 900, "USD", "from $900"),
                        svc("intl", "ecommerce", "Ecommerce", 1500, "USD", "from $1,500"),
                    ],
                },
            },
            "chat": {
                "enabled": True,
                "bot_name": "ExpertBot",
                "vocabulary": {"web": ["website"], "price": ["kitne paise"]},
                "providers": [
                    {
                        "id": pid,
                        "name": pid,
                        "api": "gemini" if pid == "gemini" else "openai",
                        "base_url": "https://invalid.example",
                        "model": f"model-{pid}",
                        "api_key_env": f"{pid.upper()}_API_KEY",
                        "timeout": 0.5,
                        "max_tokens": 64,
                    }
                    for pid in IDS
                ],
                "limits": {
                    "max_messages": 4,
                    "max_message_chars": 200,
                    "max_total_chars": 500,
                    "rate_per_minute": 1000,
                    "max_concurrent": 16,
                },
            },
        }
    )


def _data(tmp: Path) -> Path:
    (tmp / "chat").mkdir()
    (tmp / "search").mkdir()
    (tmp / "site.json").write_text(json.dumps(_site()))
    (tmp / "chat" / "pk.prompt.txt").write_text(SYSTEM)
    (tmp / "chat" / "intl.prompt.txt").write_text("You are ExpertBot (international).")
    (tmp / "search" / "pk.json").write_text(
        json.dumps(
            [
                {
                    "url": "/pk/about/",
                    "title": "About us",
                    "text": "A Karachi agency building websites since 2015.",
                },
                {
                    "url": "/pk/services/web-development/",
                    "title": "Web Development",
                    "text": "Fast websites.",
                },
            ]
        )
    )
    (tmp / "search" / "intl.json").write_text("[]")
    # The chat's chunks, made by the build's own functions from the pages and services above.
    for region, info in _site()["regions"].items():
        pages = json.loads((tmp / "search" / f"{region}.json").read_text())
        (tmp / "chat" / f"{region}.chunks.json").write_text(
            chunks_file(pages, service_chunks(info["services"]))
        )
    return tmp


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with fake_providers() as f:
        yield f


@pytest.fixture()
def chat(tmp_path: Path, fake: FakeProviders) -> Iterator[str]:
    fake.modes.clear()
    fake.requests.clear()
    fake.answers.clear()
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=_site(), env=env)
    port = free_port()
    with serve(create_app(settings), port):
        yield f"http://127.0.0.1:{port}/"


def _ask(url: str, text: str = "Hi", region: str = "pk") -> tuple[list[tuple[str, Any]], int]:
    """Events of one streamed reply and the number of body chunks they arrived in."""
    events: list[tuple[str, Any]] = []
    chunks = 0
    body = {"region": region, "messages": [{"role": "user", "content": text}]}
    with httpx.stream(
        "POST", url, json=body, timeout=10, headers={"user-agent": "Visitor/1.0", "cookie": "sid=secret"}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        buf = ""
        for piece in r.iter_text():
            chunks += 1
            buf += piece
        for block in buf.strip().split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((lines["event"], json.loads(lines["data"])))
    return events, chunks


def _text(events: list[tuple[str, Any]]) -> str:
    return "".join(d["t"] for e, d in events if e == "token")


def _provider(events: list[tuple[str, Any]]) -> str:
    return next(str(d["provider"]) for e, d in events if e == "meta")


def test_streams_from_first_provider_in_several_chunks(chat: str) -> None:
    events, chunks = _ask(chat)
    assert _provider(events) == "groq"
    assert _text(events) == "Hello from the fake provider. (groq)"
    assert events[-1] == ("done", {})
    assert chunks > 1


@pytest.mark.parametrize("mode", ["hang", "429", "500", "401", "error_event"])
def test_failover_before_first_token(chat: str, fake: FakeProviders, mode: str) -> None:
    fake.modes["groq"] = mode
    events, _ = _ask(chat)
    assert _provider(events) == "cerebras"
    assert _text(events).endswith("(cerebras)")
    assert not [e for e in events if e[0] == "error"]


def test_failover_on_refused_connection(tmp_path: Path, fake: FakeProviders) -> None:
    fake.modes.clear()
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    env["SITEGEN_CHAT_GROQ_BASE_URL"] = f"http://127.0.0.1:{free_port()}/groq"  # nothing listens
    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=_site(), env=env)
    port = free_port()
    with serve(create_app(settings), port):
        events, _ = _ask(f"http://127.0.0.1:{port}/")
    assert _provider(events) == "cerebras"


def test_kill_first_two_yields_third(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "hang"}
    events, chunks = _ask(chat)
    assert _provider(events) == "openrouter"
    assert _text(events).endswith("(openrouter)")
    assert chunks > 1


def test_gemini_native_sse(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "500", "openrouter": "error_event"}
    events, _ = _ask(chat)
    assert _provider(events) == "gemini"
    assert _text(events) == "Hello from the fake provider. (gemini)"


def test_error_event_after_partial_stream(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "cut"
    events, _ = _ask(chat)
    assert _text(events) == "Hello from"
    assert [e for e, _ in events][-2:] == ["error", "done"]
    # Nothing was retried on another provider once the visitor had text.
    assert {r["provider"] for r in fake.requests} == {"groq"}


def test_all_fail_offline_answer_region_specific(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {p: "500" for p in IDS}
    events, _ = _ask(chat, "How much does branding cost?", "pk")
    assert _provider(events) == "offline"
    assert "Rs 45,000" in _text(events)
    events, _ = _ask(chat, "How much does branding cost?", "intl")
    text = _text(events)
    assert "not offered on our International site; it is offered in Pakistan" in text
    assert "$1,500" in text and "Rs" not in text


def test_cooldown_after_429_skips_provider(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "429"
    _ask(chat)
    fake.modes["groq"] = "ok"
    fake.requests.clear()
    events, _ = _ask(chat)
    assert _provider(events) == "cerebras"
    assert "groq" not in {r["provider"] for r in fake.requests}


def test_every_upstream_request_carries_only_allowed_fields(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "401", "openrouter": "error_event"}
    _ask(chat, "What do you charge?")
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
    site = _site()
    site["chat"]["limits"]["daily_requests"] = 2
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=site, env=env)
    port = free_port()
    with serve(create_app(settings), port):
        body = {"region": "pk", "messages": [{"role": "user", "content": "How can I contact you?"}]}
        replies = [httpx.post(f"http://127.0.0.1:{port}/?stream=0", json=body).json() for _ in range(3)]
    assert [r["provider"] for r in replies] == ["groq", "groq", "offline"]
    assert "budget for the AI assistant is used up" in replies[2]["notice"]
    assert "hello@example.com" in replies[2]["reply"]


def test_rate_limit_429_with_retry_after(tmp_path: Path) -> None:
    site = _site()
    site["chat"]["limits"]["rate_per_minute"] = 2
    site["chat"]["providers"] = []
    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=site, env={})
    port = free_port()
    with serve(create_app(settings), port):
        body = {"region": "pk", "messages": [{"role": "user", "content": "contact?"}]}
        codes = [httpx.post(f"http://127.0.0.1:{port}/?stream=0", json=body) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    assert codes[0].json()["provider"] == "offline"
    assert "hello@example.com" in codes[0].json()["reply"]


def test_three_consecutive_failures_cool_a_provider_down(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "500"
    for _ in range(3):
        assert _provider(_ask(chat)[0]) == "cerebras"
    fake.modes["groq"] = "ok"
    fake.requests.clear()
    assert _provider(_ask(chat)[0]) == "cerebras"
    assert "groq" not in {r["provider"] for r in fake.requests}


def test_logs_never_hold_message_text(
    chat: str, fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    fake.modes |= {"groq": "500", "cerebras": "cut"}
    _ask(chat, "my secret budget is 12345")
    assert "chat provider groq failed" in caplog.text  # failures are logged...
    assert "12345" not in caplog.text  # ...without the visitor's words


def test_concurrency_cap_503_with_retry_after(tmp_path: Path, fake: FakeProviders) -> None:
    fake.modes.clear()
    fake.modes["groq"] = "slow"
    site = _site()
    site["chat"]["limits"]["max_concurrent"] = 1
    site["chat"]["providers"][0]["timeout"] = 5
    env = {"GROQ_API_KEY": "k", "SITEGEN_CHAT_GROQ_BASE_URL": fake.url("groq")}
    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=site, env=env)
    port = free_port()
    body = {"region": "pk", "messages": [{"role": "user", "content": "hi"}]}
    with (
        serve(create_app(settings), port),
        httpx.stream("POST", f"http://127.0.0.1:{port}/", json=body) as first,
    ):
        lines = first.iter_lines()
        assert next(lines) == "event: meta"  # the first answer is under way
        assert "groq" in next(lines)
        second = httpx.post(f"http://127.0.0.1:{port}/", json=body)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "5"
        assert "busy" in second.json()["error"]


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
    cross = {"content-type": "application/json", "sec-fetch-site": "cross-site"}
    assert httpx.post(chat, content=body, headers=cross).status_code == 403
    same = {"content-type": "application/json", "origin": chat.rstrip("/"), "accept": "application/json"}
    assert httpx.post(chat, content=body, headers=same).status_code == 200


def test_offline_contact_answer_from_site_json(tmp_path: Path) -> None:
    from edge.offline import OfflineAnswerer

    settings = Settings(data_dir=_data(tmp_path), local_dir=tmp_path, site=_site(), env={})
    answer = OfflineAnswerer(settings).answer("pk", "How can I contact you?")
    assert "hello@example.com" in answer.text and "/pk/contact/" in [link.url for link in answer.links]
