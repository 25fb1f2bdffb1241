"""One ASGI application for every edge handler, with one lifespan.

Run it with any ASGI server, e.g. ``uvicorn edge.app:app`` (see docs/deploy.md
for the full command); ``sitegen serve`` mounts an app from :func:`create_app`
at ``/api`` next to the static site and ends it with :func:`shutdown`.

What the handlers own is started and drained here and nowhere else: at
shutdown the contact notifier delivers what is queued, and the chat, Turnstile
and JWKS HTTP clients are closed. Mounted sub-apps never receive lifespan
events, so none of them handles its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from edge import chat, contact, portal, retention
from edge.http import EXCEPTION_HANDLERS, BadRequest
from edge.settings import EdgeDataMissing, Settings, load_settings

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def _health(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse(
        {
            "ok": True,
            "store": "supabase" if settings.uses_supabase else "local",
            "production": settings.production,
        }
    )


async def _not_found(request: Request) -> JSONResponse:
    raise BadRequest(404, f"no API endpoint at {request.url.path[:200]}")


async def shutdown(app: Starlette) -> None:
    """Drain and close everything the handlers of ``app`` (from :func:`create_app`) own.

    The one shutdown path: the lifespan below calls it, and so does ``sitegen
    serve`` for an edge app it replaces or stops.
    """
    closers: list[Callable[[], Awaitable[None]]] = app.state.closers
    for close in closers:
        with contextlib.suppress(Exception):  # one failing closer must not keep the others open
            await close()


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await shutdown(app)


def create_app(settings: Settings) -> Starlette:
    """The edge app with every handler mounted under ``/api``.

    In local mode the retention periods are applied first, on every start: nothing
    else would run them on a development machine (docs/privacy.md).
    """
    if not settings.uses_supabase:
        retention.apply_local(settings)
    contact_app = contact.create_app(settings)
    chat_app = chat.create_app(settings)
    portal_app = portal.create_app(settings)
    contact_handler: contact.ContactHandler = contact_app.state.handler
    chat_handler: chat.ChatApp = chat_app.state.handler
    app = Starlette(
        routes=[
            Route("/api/health", _health, methods=["GET"]),
            # The exact path too: Mount alone answers POST /api/contact with a 307 to /api/contact/,
            # which a fetch() behind a proxy may follow to another origin.
            Route("/api/contact", contact_handler.handle, methods=METHODS),
            Mount("/api/contact", app=contact_app),
            Route("/api/chat", chat_handler.handle, methods=METHODS),  # exact path, as for contact
            Mount("/api/chat", app=chat_app),
            Mount("/api/portal", app=portal_app),
            Route("/api/{rest:path}", _not_found, methods=METHODS),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.closers = [contact_handler.aclose, chat_handler.aclose, portal_app.state.portal.aclose]
    return app


class _LazyApp:
    """The app of ``uvicorn edge.app:app``: settings come from the environment.

    It is built at lifespan startup, or on the first request when the server
    runs without lifespan; a missing ``site.json`` at startup is not fatal (the
    first request reports it), so importing this module never needs a built site.
    """

    def __init__(self) -> None:
        self._app: Starlette | None = None
        self._lock = threading.Lock()

    def _get(self) -> Starlette:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app(load_settings())
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            with contextlib.suppress(EdgeDataMissing):
                self._get()
            if self._app is not None:
                await self._app(scope, receive, send)
                return
            await _late_lifespan(self, receive, send)
            return
        await self._get()(scope, receive, send)


async def _late_lifespan(lazy: _LazyApp, receive: Receive, send: Send) -> None:
    """Lifespan when the app could not be built at startup: close it at shutdown if a request built it."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if lazy._app is not None:
                await shutdown(lazy._app)
            await send({"type": "lifespan.shutdown.complete"})
            return


app: ASGIApp = _LazyApp()
