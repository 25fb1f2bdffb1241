"""``POST /api/contact``: the contact form's handler.

Two kinds of clients use it: the form's JavaScript (``Accept: application/json``,
answered with JSON) and a plain HTML form post without JavaScript (answered
with a 303 to the region's thank-you page, or with the page of
:mod:`edge.contact_page` showing the form again). Every 2xx/303 answer that is
not a honeypot catch corresponds to exactly one stored inquiry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from edge import contact_page
from edge.contact_fields import FIELDS, HONEYPOT_FIELD, TURNSTILE_FIELD, validate
from edge.http import EXCEPTION_HANDLERS, BadRequest, check_origin, normalise_origins, read_fields, wants_json
from edge.inquiries import InquiryStore, StoreUnavailable, store_from_settings
from edge.limits import Counters, SharedCounters, counters_for, limiter_for
from edge.notify import Notifier, notifier_from_settings
from edge.ratelimit import Limiter, Visitors
from edge.settings import Settings
from edge.turnstile import VERIFY_URL, Turnstile

__all__ = ["FIELDS", "HONEYPOT_FIELD", "TURNSTILE_FIELD", "ContactHandler", "create_app"]

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class ContactHandler:
    """Everything ``POST /api/contact`` needs, passed in (tests replace any of it)."""

    def __init__(
        self,
        settings: Settings,
        store: InquiryStore,
        notifier: Notifier,
        limiter: Limiter,
        turnstile: Turnstile | None,
        clock: Callable[[], datetime],
        own_client: httpx.AsyncClient | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.own_client = own_client
        self.counters = counters
        self.visitors = Visitors.from_env(settings.env, settings.edge.proxy_signature_env)
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.limiter = limiter
        self.turnstile = turnstile
        self.clock = clock
        self.max_body = settings.contact_form.max_body_bytes
        self.allowed_origins = normalise_origins(settings.edge.allowed_origins)

    async def aclose(self) -> None:
        """Deliver pending notifications and close the client this handler opened (shutdown)."""
        await self.notifier.drain()
        if self.own_client is not None:
            await self.own_client.aclose()
        if isinstance(self.counters, SharedCounters):
            await self.counters.aclose()

    async def handle(self, request: Request) -> Response:
        request.state.error_page = partial(self._page, None)
        if request.method != "POST":
            raise BadRequest(405, "Send the contact form with POST.", headers={"Allow": "POST"})
        check_origin(request.headers, self.allowed_origins, "Cross-site form posts")
        raw = await read_fields(request, self.max_body, too_big=self._too_large())
        request.state.error_page = partial(self._page, raw)

        if str(raw.get(HONEYPOT_FIELD) or "").strip():
            # A bot filled the invisible field: look successful, keep nothing.
            region = raw.get("region")
            return self._success(request, region if isinstance(region, str) else "")

        checked = validate(raw, self.settings.regions, self.clock())
        if checked.inquiry is None:
            raise BadRequest(422, "Please check the highlighted fields.", errors=checked.errors)

        retry = await self.limiter.take(self.visitors.key(request.scope))
        if retry is not None:
            seconds = max(1, math.ceil(retry))
            raise BadRequest.retry(
                429,
                f"You have sent several messages in a short time. Please wait {seconds} seconds and send again.",
                seconds,
            )
        if self.turnstile is not None:
            await self.turnstile.verify(raw.get(TURNSTILE_FIELD))
        try:
            await self.store.add(checked.inquiry)
        except StoreUnavailable as exc:
            raise BadRequest.retry(
                503,
                "We could not save your message just now because our storage is not responding. "
                "Please try again in a few minutes, or email us directly.",
                60,
            ) from exc
        if self.notifier.enabled:
            self.notifier.submit(checked.inquiry)
        return self._success(request, checked.inquiry.region)

    def _page(self, raw: Mapping[str, Any] | None, request: Request, error: BadRequest) -> Response:
        return contact_page.render(self.settings, request, error, raw)

    def _too_large(self) -> BadRequest:
        return BadRequest(
            413,
            f"Your message is too long to send (over {self.max_body} bytes) and was not saved. "
            "Use your browser's Back button to return to the form, where your text is still "
            "filled in, and shorten it.",
        )

    def _thanks_url(self, region_id: str) -> str:
        regions = self.settings.regions
        region = regions.get(region_id) or regions.get(self.settings.default_region, {})
        return str((region.get("urls") or {}).get("thanks") or "/")

    def _success(self, request: Request, region_id: str) -> Response:
        if wants_json(request.headers):
            return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
        return RedirectResponse(self._thanks_url(region_id), status_code=303)


def create_app(
    settings: Settings,
    *,
    store: InquiryStore | None = None,
    notifier: Notifier | None = None,
    limiter: Limiter | None = None,
    turnstile_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> Starlette:
    """The contact handler for ``settings`` as an app answering at ``/``.

    ``app.state.handler`` is the :class:`ContactHandler` (``edge.app`` routes
    ``/api/contact`` to it and drains its notifier at shutdown).
    """
    form = settings.contact_form
    secret = settings.secret(form.turnstile.secret_env)
    turnstile = own_client = None
    if secret:
        if http_client is None:
            http_client = own_client = httpx.AsyncClient(timeout=10.0, trust_env=False)
        url = turnstile_url or settings.env.get("TURNSTILE_VERIFY_URL") or VERIFY_URL
        turnstile = Turnstile(secret, url, http_client)
    counters: Counters | None = None
    if limiter is None:
        counters = counters_for(settings)
        limiter = limiter_for(counters, "contact", form.rate_limit_per_minute)
    handler = ContactHandler(
        settings=settings,
        store=store if store is not None else store_from_settings(settings),
        notifier=notifier if notifier is not None else notifier_from_settings(settings),
        limiter=limiter,
        turnstile=turnstile,
        clock=clock or (lambda: datetime.now(UTC)),
        own_client=own_client,
        counters=counters,
    )
    app = Starlette(
        # Any path: it answers wherever it is mounted or routed (``/api/contact``, ``/api/contact/``).
        routes=[Route("/{rest:path}", handler.handle, methods=METHODS)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.handler = handler
    return app
