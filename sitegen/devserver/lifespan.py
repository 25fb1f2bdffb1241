"""Running an ASGI application's lifespan from inside another application.

``sitegen serve`` calls the edge app directly (no mount), so it starts and
stops it as a server would: the edge's own lifespan (``edge/app.py``) starts
what its handlers own before the first ``/api`` request and drains it at
shutdown or when a rebuild replaces the app. Requests then carry the state the
lifespan yielded, as under ``uvicorn edge.app:app``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Scope


class Lifespan:
    """One app's lifespan: ``startup()`` once, then ``shutdown()`` once; ``scope()`` for its requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def scope(self, scope: Scope) -> Scope:
        return {**scope, "state": dict(self.state)}

    async def startup(self) -> None:
        """Start the app; raises RuntimeError when its startup fails."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        self._task = asyncio.ensure_future(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        await self._answer("lifespan.startup")

    async def shutdown(self) -> None:
        """Stop the app (draining what it owns); raises RuntimeError when its shutdown fails."""
        if self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._answer("lifespan.shutdown")
        await self._task

    async def _answer(self, kind: str) -> None:
        assert self._task is not None
        reply = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({reply, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            reply.cancel()
            # An app that raises on a lifespan scope does not support lifespan (as uvicorn's "auto").
            self.supported = False
            if not self._task.cancelled() and self._task.exception() is not None and kind.endswith("startup"):
                return
            raise RuntimeError(f"the app ended its lifespan without answering {kind}")
        message = reply.result()
        if message["type"] == f"{kind}.failed":
            raise RuntimeError(message.get("message") or f"{kind} failed")
