"""Streaming clients for the chat providers (OpenAI-compatible and Gemini native SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

# A fixed, neutral agent so nothing about the visitor's browser reaches a provider.
USER_AGENT = "sitegen-chat/1"


class ProviderError(Exception):
    """The provider failed; ``retry_after`` is set when it asked us to back off (429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    api: str
    base_url: str
    model: str
    api_key: str
    timeout: float
    max_tokens: int


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise ProviderError(f"HTTP {response.status_code}", _retry_after(response))


def _request(
    provider: Provider, system: str, messages: list[dict[str, str]]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """URL, headers and body: only the prompt, the texts and the model settings."""
    headers = {"user-agent": USER_AGENT, "accept": "text/event-stream", "content-type": "application/json"}
    base = provider.base_url.rstrip("/")
    if provider.api == "gemini":
        # Native endpoint: the key goes in a header (not the URL, which proxies may log).
        headers["x-goog-api-key"] = provider.api_key
        body: dict[str, Any] = {
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [
                {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
                for m in messages
            ],
            "generationConfig": {"maxOutputTokens": provider.max_tokens},
        }
        return f"{base}/models/{provider.model}:streamGenerateContent?alt=sse", headers, body
    headers["authorization"] = f"Bearer {provider.api_key}"
    body = {
        "model": provider.model,
        "messages": [{"role": "system", "content": system}, *messages],
        "max_tokens": provider.max_tokens,
        "stream": True,
    }
    if provider.id == "openrouter":
        # OpenRouter provider routing: only use endpoints that do not store/train on prompts.
        body["provider"] = {"data_collection": "deny"}
    return f"{base}/chat/completions", headers, body


def _text(provider: Provider, data: str) -> str | None:
    """Text of one SSE data payload; None at the end marker. Raises on an error payload."""
    if data.strip() == "[DONE]":
        return None
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise ProviderError("malformed event") from exc
    if not isinstance(payload, dict):
        raise ProviderError("malformed event")
    if "error" in payload:
        raise ProviderError("provider error event")
    try:
        if provider.api == "gemini":
            parts = payload["candidates"][0]["content"].get("parts", [])
            return "".join(str(p.get("text", "")) for p in parts)
        choices = payload.get("choices") or []
        if not choices:
            return ""
        return str((choices[0].get("delta") or {}).get("content") or "")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ProviderError("malformed event") from exc


async def stream(
    client: httpx.AsyncClient, provider: Provider, system: str, messages: list[dict[str, str]]
) -> AsyncGenerator[str, None]:
    """Yield text pieces; raise ProviderError (or an httpx error) on failure."""
    url, headers, body = _request(provider, system, messages)
    timeout = httpx.Timeout(provider.timeout, connect=min(provider.timeout, 5.0))
    async with aconnect_sse(client, "POST", url, headers=headers, json=body, timeout=timeout) as source:
        _check(source.response)
        # Comment lines such as ": OPENROUTER PROCESSING" never become events in httpx-sse.
        async for event in source.aiter_sse():
            if event.event == "error":
                raise ProviderError("provider error event")
            piece = _text(provider, event.data)
            if piece is None:
                return
            if piece:
                yield piece
        if provider.api != "gemini":
            # OpenAI-style streams end with [DONE]; a close without it is a cut-off answer.
            raise ProviderError("stream ended before [DONE]")
