"""One ASGI application for every edge handler.

Run it with any ASGI server, e.g. ``uvicorn edge.app:app``; ``sitegen serve``
mounts the same application at ``/api`` next to the static site. Settings are
loaded on first use, so importing this module never needs a built site.
"""

from __future__ import annotations

import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from edge import chat, contact, portal
from edge.settings import Settings, load_settings


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
    return JSONResponse({"ok": False, "error": f"no API endpoint at {request.url.path}"}, status_code=404)


def create_app(settings: Settings) -> Starlette:
    """The edge app with every handler mounted under ``/api``."""
    contact_app = contact.create_app(settings)
    chat_app = chat.create_app(settings)
    app = Starlette(
        routes=[
            Route("/api/health", _health, methods=["GET"]),
            # The exact path too: Mount alone answers POST /api/contact with a 307 to /api/contact/,
            # which a fetch() behind a proxy may follow to another origin.
            Route("/api/contact", contact_app, methods=["POST"]),
            Mount("/api/contact", app=contact_app),
            Route("/api/chat", chat_app, methods=["POST"]),  # exact path, as for contact
            Mount("/api/chat", app=chat_app),
            Mount("/api/portal", app=portal.create_app(settings)),
            Route("/api/{rest:path}", _not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.settings = settings
    return app


class _LazyApp:
    """Builds the real app from the environment on the first request."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def _get(self) -> ASGIApp:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app(load_settings())
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # Nothing to start or stop; acknowledge so servers don't warn.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self._get()(scope, receive, send)


app = _LazyApp()
