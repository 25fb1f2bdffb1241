"""The real edge app mounted by `sitegen serve`: local defaults, same origin, chat tokens streamed."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import pytest

from tests.support.devserver import Running

Start = Callable[..., AbstractContextManager[Running]]


@pytest.fixture(autouse=True)
def no_remote_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh clone has none of these: the handlers must run on their embedded local defaults.
    pytest.importorskip(
        "edge.app",
        reason="the edge app (edge/app.py with chat and portal) is not importable yet",
        exc_type=ImportError,
    )
    for name in (
        "SUPABASE_URL",
        "SUPABASE_PUBLISHABLE_KEY",
        "SUPABASE_ANON_KEY",
        "GROQ_API_KEY",
        "CEREBRAS_API_KEY",
        "OPENROUTER_API_KEY",
        "GEMINI_API_KEY",
        "CONTACT_WEBHOOK_URL",
        "CONTACT_SMTP_URL",
        "TURNSTILE_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def test_handlers_run_on_local_defaults_on_the_same_origin(start: Start) -> None:
    with start() as run:
        health = run.client.get("/api/health")
        assert health.status_code == 200
        assert health.json() == {"ok": True, "store": "local", "production": False}
        sent = run.client.post(
            "/api/contact",
            json={
                "name": "Ayesha Khan",
                "email": "ayesha@example.com",
                "message": "We need a new website for our shop.",
                "consent": "on",
                "region": "pk",
                "website": "",
            },
            headers={"accept": "application/json", "origin": run.url},
        )
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"ok": True}
        assert (run.dev.root / ".sitegen-local").is_dir()


def test_chat_tokens_arrive_one_by_one(start: Start) -> None:
    with (
        start() as run,
        httpx.Client(base_url=run.url, timeout=30) as client,
        client.stream(
            "POST",
            "/api/chat",
            json={"region": "pk", "messages": [{"role": "user", "content": "How can I contact you?"}]},
            headers={"accept": "text/event-stream", "origin": run.url},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        chunks = [chunk for chunk in response.iter_raw() if chunk]
    events = [block for block in b"".join(chunks).decode().split("\n\n") if block.strip()]
    data = [line[5:].strip() for block in events for line in block.splitlines() if line.startswith("data:")]
    assert len(data) > 2, events  # several token events and a final one
    assert len(chunks) > 1, chunks  # they reached the client as separate writes, not one buffered body
    assert any(json.loads(d) for d in data if d.startswith("{"))
