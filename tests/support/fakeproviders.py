"""Real HTTP servers on loopback speaking the providers' streaming wire formats.

One server serves every provider under /<id>/...; ``modes[id]`` picks its behaviour
and ``requests`` records every request (headers and body) for privacy checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tests.support.servers import serve

WORDS = ["Hello", " from", " the", " fake", " provider."]


@dataclass
class FakeProviders:
    modes: dict[str, str] = field(default_factory=dict)
    # A provider's answer, piece by piece, instead of WORDS ("echo" mode answers with the system message).
    answers: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def url(self, pid: str) -> str:
        return f"http://127.0.0.1:{self.port}/{pid}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        pid = request.url.path.strip("/").split("/")[0]
        raw = await request.body()
        self.requests.append(
            {
                "provider": pid,
                "path": request.url.path,
                "query": request.url.query,
                "headers": dict(request.headers),
                "body": json.loads(raw or b"{}"),
            }
        )
        mode = self.modes.get(pid, "ok")
        response: Response
        if mode == "429":
            response = Response("slow down", 429, headers={"retry-after": "120"})
        elif mode == "500":
            response = Response("boom", 500)
        elif mode == "401":
            response = Response("bad key", 401)
        else:
            gemini = "GenerateContent" in request.url.path
            body = self.requests[-1]["body"]
            if mode == "echo":
                system = (
                    body["systemInstruction"]["parts"][0]["text"]
                    if gemini
                    else body["messages"][0]["content"]
                )
                self.answers[pid] = [system]
            response = StreamingResponse(self._events(pid, mode, gemini), media_type="text/event-stream")
        await response(scope, receive, send)

    async def _events(self, pid: str, mode: str, gemini: bool) -> AsyncIterator[bytes]:
        if mode == "hang":
            await asyncio.sleep(30)
        if mode == "error_event":
            yield b": OPENROUTER PROCESSING\n\n"
            yield b'data: {"error": {"code": 502, "message": "upstream down"}}\n\n'
            return
        if pid == "openrouter":
            yield b": OPENROUTER PROCESSING\n\n"
        words = self.answers.get(pid) or WORDS
        for i, word in enumerate(words):
            if mode == "cut" and i == 2:
                return  # connection closes mid-answer, without [DONE]
            text = f"{word} ({pid})" if i == len(WORDS) - 1 and words is WORDS else word
            payload: dict[str, Any]
            if gemini:
                payload = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
            else:
                payload = {"choices": [{"index": 0, "delta": {"content": text}}]}
            yield f"data: {json.dumps(payload)}\n\n".encode()
            # Separate chunks, so incremental delivery is observable; "slow" leaves time to press Stop.
            await asyncio.sleep(1.0 if mode == "slow" else 0.02)
        if not gemini:
            yield b"data: [DONE]\n\n"


@contextmanager
def fake_providers() -> Iterator[FakeProviders]:
    fake = FakeProviders()
    with serve(fake) as url:
        fake.port = int(url.rsplit(":", 1)[1])
        yield fake
