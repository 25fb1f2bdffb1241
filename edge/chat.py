"""POST /api/chat: validated visitor messages -> first working provider, streamed as SSE.

Nothing is stored and message text is never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, request_response

from edge.grounding import InventedPrice, PriceGuard, allowed_prices, grounded_context
from edge.http import (
    EXCEPTION_HANDLERS,
    BadRequest,
    check_origin,
    normalise_origins,
    parse_json,
    read_body,
    require_json,
)
from edge.limits import Budget, SharedCounters, counters_for, estimate_tokens, limiter_for
from edge.offline import Answer, OfflineAnswerer
from edge.providers import Provider, ProviderError, stream
from edge.ratelimit import Visitors
from edge.retrieval import Retriever
from edge.settings import Settings

log = logging.getLogger("sitegen.chat")

FAILURES_BEFORE_COOLDOWN = 3
COOLDOWN_SECONDS = 30.0


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class ChatApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = settings.chat
        limits = self.config.limits
        self.max_messages = limits.max_messages
        self.max_message_chars = limits.max_message_chars
        self.max_total_chars = limits.max_total_chars
        self.max_concurrent = limits.max_concurrent
        # Room for every character escaped as \uXXXX plus the JSON around the messages.
        self.max_body = self.max_total_chars * 6 + 4096
        self.counters = counters_for(settings)
        self.limiter = limiter_for(self.counters, "chat", limits.rate_per_minute)
        self.budget = Budget(self.counters, limits.daily_requests, limits.daily_tokens)
        self.visitors = Visitors.from_env(settings.env, settings.edge.proxy_signature_env)
        self.allowed_origins = normalise_origins(settings.edge.allowed_origins)
        self.active = 0
        self.retriever = Retriever(settings)
        self.offline = OfflineAnswerer(settings, self.retriever)
        self.providers = self._providers()
        self.failures: dict[str, int] = {}
        self.cooldown_until: dict[str, float] = {}
        self.client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        """Close the providers' HTTP client (shutdown)."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if isinstance(self.counters, SharedCounters):
            await self.counters.aclose()

    async def _answer(
        self, region: str, messages: list[dict[str, str]]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The answer's events within the site's daily provider budget.

        Past the budget the offline answerer answers and says why; a provider's
        answer is charged (question and answer, estimated tokens) when it ends.
        """
        if self.providers and not await self.budget.allows():
            offline = self.offline.answer(region, messages[-1]["content"])
            notice = "Today's budget for the AI assistant is used up. Quick answers from this site:"
            for item in _offline_events(
                offline, {"provider": "offline", "notice": notice, "reason": "budget"}
            ):
                yield item
            return
        provider, chars = "offline", sum(len(m["content"]) for m in messages)
        async for event, data in self._events(region, messages):
            if event == "meta":
                provider = data["provider"]
            elif event == "token":
                chars += len(data["t"])
            yield event, data
        if provider != "offline":
            await self.budget.spend(estimate_tokens(chars))

    def _providers(self) -> list[Provider]:
        result = []
        for entry in self.config.providers:
            key = self.settings.secret(entry.api_key_env)
            if not key:
                continue  # not configured: skipped without a request
            pid = entry.id
            # Tests and staging can point a provider elsewhere without editing site.yaml.
            base = self.settings.secret(f"SITEGEN_CHAT_{pid.upper()}_BASE_URL") or entry.base_url
            result.append(
                Provider(
                    id=pid,
                    name=entry.name,
                    api=entry.api,
                    base_url=base,
                    model=entry.model,
                    api_key=key,
                    timeout=entry.timeout,
                    max_tokens=entry.max_tokens,
                )
            )
        return result

    def _validate(self, body: Any) -> tuple[str, list[dict[str, str]]]:
        if not isinstance(body, dict):
            raise BadRequest(400, "body must be a JSON object")
        region = body.get("region")
        if not isinstance(region, str) or region not in self.settings.regions:
            raise BadRequest(400, "unknown region")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest(400, "messages must be a non-empty list")
        if len(messages) > self.max_messages:
            raise BadRequest(400, f"at most {self.max_messages} messages")
        clean: list[dict[str, str]] = []
        total = 0
        for m in messages:
            if not isinstance(m, dict) or set(m) - {"role", "content"}:
                raise BadRequest(400, "each message is {role, content}")
            role, content = m.get("role"), m.get("content")
            if role not in ("user", "assistant"):
                raise BadRequest(400, "role must be 'user' or 'assistant'")
            if not isinstance(content, str) or not content.strip():
                raise BadRequest(400, "content must be a non-empty string")
            if len(content) > self.max_message_chars:
                raise BadRequest(400, f"a message may have at most {self.max_message_chars} characters")
            total += len(content)
            clean.append({"role": role, "content": content})
        if total > self.max_total_chars:
            raise BadRequest(400, f"messages may have at most {self.max_total_chars} characters in total")
        if clean[-1]["role"] != "user":
            raise BadRequest(400, "the last message must be from the user")
        return region, clean

    def _system(self, region: str, question: str, answer: Answer) -> str:
        """The region's prompt plus what the site says about the question, with URLs (edge/grounding.py)."""
        try:
            prompt = self.settings.read_text(f"chat/{region}.prompt.txt")
        except OSError:
            prompt = f"You are {self.config.bot_name}, the assistant of this website."
        return prompt + grounded_context(self.offline, region, question, answer)

    def _failed(self, provider: Provider, retry_after: float | None) -> None:
        count = self.failures.get(provider.id, 0) + 1
        self.failures[provider.id] = count
        if retry_after is not None or count >= FAILURES_BEFORE_COOLDOWN:
            wait = retry_after if retry_after is not None else COOLDOWN_SECONDS
            self.cooldown_until[provider.id] = time.monotonic() + wait

    def _notice(self) -> str:
        # Only a configured provider that failed is worth mentioning; a site without one just has quick answers.
        if self.providers:
            return "The assistant can't be reached right now. Quick answers from this site:"
        return "Quick answers from this site:"

    async def _events(
        self, region: str, messages: list[dict[str, str]]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        question = messages[-1]["content"]
        offline = self.offline.answer(region, question)
        system = self._system(region, question, offline)
        links = _links(offline) if offline.kind != "out_of_scope" else None
        if self.client is None:
            self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        for provider in self.providers:
            if self.cooldown_until.get(provider.id, 0.0) > time.monotonic():
                continue
            sent = False
            guard = PriceGuard(allowed_prices(self.settings.regions.get(region, {})))
            gen = stream(self.client, provider, system, messages)
            try:
                async for piece in gen:
                    shown = guard.feed(piece)
                    if shown and not sent:
                        sent = True
                        yield "meta", {"provider": provider.id}
                    if shown:
                        yield "token", {"t": shown}
                rest = guard.finish()
                if rest:
                    if not sent:
                        sent = True
                        yield "meta", {"provider": provider.id}
                    yield "token", {"t": rest}
            except InventedPrice:
                # The model named a price the catalog does not have: the visitor gets the site's own answer.
                log.warning(
                    "chat provider %s quoted a price not in the catalog; answer replaced", provider.id
                )
                yield (
                    ("replace" if sent else "meta"),
                    {"provider": "offline", "t": offline.text, "notice": "Quick answer from this site:"},
                )
                if not sent:
                    yield "token", {"t": offline.text}
                yield "links", _links(offline)
                return
            except (ProviderError, httpx.HTTPError, ValueError) as exc:
                retry = exc.retry_after if isinstance(exc, ProviderError) else None
                log.warning("chat provider %s failed: %s", provider.id, type(exc).__name__)
                self._failed(provider, retry)
                if sent:
                    yield "error", {"message": "The answer was cut off. Please try again."}
                    return
                continue
            finally:
                await gen.aclose()
            if sent:
                self.failures[provider.id] = 0
                if links and links["links"]:
                    yield "links", links
                return
            self._failed(provider, None)  # an empty answer counts as a failure
        for event in _offline_events(offline, {"provider": "offline", "notice": self._notice()}):
            yield event

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            raise BadRequest(405, "use POST", headers={"Allow": "POST"})
        if not self.config.enabled:
            raise BadRequest(404, "chat is disabled")
        # Only the site's own pages may spend the providers' quota.
        check_origin(request.headers, self.allowed_origins, "Chat requests from other sites")
        require_json(request)
        wait = await self.limiter.take(self.visitors.key(request.scope))
        if wait is not None:
            raise BadRequest.retry(429, "too many messages; wait a moment", wait)
        # The slot is taken before the body is read, so slow clients cannot all pass the check
        # together and be counted afterwards.
        if self.active >= self.max_concurrent:
            raise BadRequest.retry(503, "the assistant is busy; try again shortly", 5)
        self.active += 1
        try:
            region, messages = self._validate(parse_json(await read_body(request, self.max_body)))
        except BaseException:
            self.active -= 1
            raise
        wants_json = request.query_params.get("stream") == "0" or "application/json" in request.headers.get(
            "accept", ""
        )
        if wants_json:
            try:
                reply: list[str] = []
                body: dict[str, Any] = {"reply": "", "provider": "offline"}
                async for event, data in self._answer(region, messages):
                    if event == "token":
                        reply.append(data["t"])
                    elif event in {"meta", "replace"}:
                        body |= {k: v for k, v in data.items() if k in {"provider", "notice"}}
                        reply = [data["t"]] if event == "replace" else reply
                    elif event == "links":
                        body["links"] = data["links"]
                    elif event == "error":
                        body["error"] = data["message"]
                body["reply"] = "".join(reply).strip()
                return JSONResponse(body)
            finally:
                self.active -= 1

        async def body_iter() -> AsyncIterator[bytes]:
            try:
                async for event, data in self._answer(region, messages):
                    yield _sse(event, data)
                yield _sse("done", {})
            finally:
                self.active -= 1

        return StreamingResponse(
            body_iter(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )


def create_app(settings: Settings) -> Starlette:
    """The chat handler as an app answering at ``/``; ``app.state.handler`` is the :class:`ChatApp`."""
    handler = ChatApp(settings)
    app = Starlette(
        routes=[
            # Every method reaches the handler (a Route would answer the ones it does not list
            # itself, in plain text), so OPTIONS or PROPFIND get the same JSON 405 as GET.
            Mount("", app=request_response(handler.handle))
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.handler = handler
    return app


def _links(answer: Answer) -> dict[str, Any]:
    return {"links": [link.as_dict() for link in answer.links]}


def _offline_events(answer: Answer, meta: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The site's own answer as a provider's would stream: meta, the words, then its links."""
    yield "meta", meta
    for word in answer.text.split(" "):
        yield "token", {"t": word + " "}
    yield "links", _links(answer)
