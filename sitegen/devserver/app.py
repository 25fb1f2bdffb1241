"""The dev server's ASGI application: dispatch, the edge under its lifespan, the dev client.

- ``/api/...``: the edge app, called directly so its streamed responses (chat
  tokens over SSE) pass through unbuffered, and run under its own lifespan;
- ``/<region>/...``, ``/assets/...`` and root files: the last good build, held
  in memory (pretty URLs, the region's 404 page), and any other un-prefixed
  path through the routing emulator with the country from ``--country``, a
  ``?country=XX`` query or the ``nf_country`` cookie (``site.py``);
- ``/__sitegen/...``: the live-reload client, its stylesheet, the event stream,
  a status document and one page of two regions side by side (``diff``,
  ``sidebyside.py``). These exist only here, never in a build's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sitegen import routing
from sitegen.devserver import sidebyside, site
from sitegen.devserver.builder import Builder, EdgeFactory, Snapshot, default_edge
from sitegen.devserver.events import EventHub
from sitegen.devserver.lifespan import Lifespan
from sitegen.devserver.site import RESERVED, View
from sitegen.devserver.watch import watch
from sitegen.errors import SitegenError


def _error_view(error: SitegenError) -> dict[str, Any]:
    return {
        "file": error.file,
        "line": error.line,
        "key": error.key,
        "message": error.message,
        "where": error.location(),
    }


class DevServer:
    """A live preview: the builder's last good build, served; rebuilt when the sources change."""

    def __init__(
        self,
        root: Path,
        *,
        country: str | None = None,
        out: Path | None = None,
        edge_factory: EdgeFactory | None = None,
        log: Callable[[str], None] | None = None,
        request_log: Callable[[str], None] | None = None,
        build_log: Callable[[str], None] | None = None,
        drafts: bool = True,
        base_url: str | None = None,
    ) -> None:
        self.root = root.resolve()
        self.country = country.upper() if country else None
        self._own_out = out is None
        self.out = out or Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.request_log = request_log or self.log  # one line per page request (off with serve -q)
        self.builder = Builder(
            self.root,
            self.out,
            edge_factory or default_edge,
            self.log,
            drafts=drafts,
            base_url=base_url,
            build_log=build_log,  # a good build's line (off with serve -q); failures always go to log
        )
        self.events = EventHub()
        self.watching = False
        self._edge: Lifespan | None = None  # the edge app running under its lifespan
        self._edge_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    # The builder's state, as tests and the status document read it.
    @property
    def snapshot(self) -> Snapshot | None:
        return self.builder.snapshot

    @property
    def errors(self) -> list[SitegenError]:
        return self.builder.errors

    @property
    def builds(self) -> int:
        return self.builder.builds

    @property
    def full_builds(self) -> int:
        return self.builder.full_builds

    @property
    def generation(self) -> int:
        return self.builder.generation

    def rebuild(
        self, reason: str = "start", changed: set[Path] | None = None, ready: Callable[[], None] | None = None
    ) -> bool:
        """See ``Builder.rebuild``: never raises for a problem in the site."""
        return self.builder.rebuild(reason, changed, ready)

    def state(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "builds": self.builds,
            "watching": self.watching,
            "errors": [_error_view(e) for e in self.errors],
        }

    def _publish(self, name: str) -> None:
        self.events.publish(name, json.dumps(self.state()))

    def _reload(self, pages: list[str] | None) -> None:
        """Tell open pages to reload: those at ``pages`` (the URLs a one-page rebuild changed), or all."""
        self.events.publish("reload", json.dumps({**self.state(), "pages": pages}))

    # ------------------------------------------------------------------ running

    def close(self) -> None:
        """End event streams and the watcher (called from the server's loop)."""
        self._stop.set()
        self.events.end_all()

    def end_streams(self) -> None:
        """Close every open event stream; callable from any thread (tests, shutdown hooks)."""
        self.events.end_all_threadsafe()

    def cleanup(self) -> None:
        if self._own_out:
            shutil.rmtree(self.out, ignore_errors=True)

    def _watching(self) -> None:
        self.watching = True
        self._publish("watching")

    async def _changed(self, reason: str, paths: set[Path]) -> None:
        loop = asyncio.get_running_loop()

        def ready() -> None:
            # From the build's thread, as soon as the new pages are served (before the edge data).
            loop.call_soon_threadsafe(self._reload, self.builder.changed_pages)

        if not await anyio.to_thread.run_sync(self.rebuild, reason, paths, ready):
            self._publish("build-error")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stop = asyncio.Event()
                self.events.loop = asyncio.get_running_loop()
                self._watcher = asyncio.create_task(
                    watch(self.root, self._stop, self._watching, self._changed, self.log)
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                if self._watcher is not None:
                    self._watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await self._watcher
                await self._switch_edge(None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _switch_edge(self, app: ASGIApp | None) -> Lifespan | None:
        """Run ``app`` under its lifespan, after stopping the one it replaces (draining what it owns)."""
        async with self._edge_lock:
            if self._edge is not None and self._edge.app is app:
                return self._edge
            old, self._edge = self._edge, None
            if old is not None:
                try:
                    await old.shutdown()
                except Exception as exc:  # the old handlers' problem must not stop the new ones
                    self.log(f"the edge handlers did not stop cleanly: {type(exc).__name__}: {exc}")
            if app is not None:
                running = Lifespan(app)
                await running.startup()
                self._edge = running
            return self._edge

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1003})
            return
        path: str = scope["path"]
        if path == "/api" or path.startswith("/api/"):
            await self._api(scope, receive, send)
            return
        request = Request(scope, receive)
        if path.startswith(RESERVED):
            response = self._reserved(path[len(RESERVED) :], request)
        else:
            snap = self.snapshot
            if snap is None:
                response = site.no_build(self.errors)
            else:
                response = site.respond(request, snap, View(self.country, self.generation, self.request_log))
        await response(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = self.builder.edge_problem
        edge = None
        if self.builder.edge is not None:
            try:
                edge = await self._switch_edge(self.builder.edge)
            except Exception as exc:  # keep serving pages when a handler cannot start
                problem = f"the edge handlers could not start: {type(exc).__name__}: {exc}"
                self.log(problem)
        if edge is None:
            await JSONResponse({"ok": False, "error": problem}, status_code=503)(scope, receive, send)
            return
        await edge.app(edge.scope(scope), receive, send)

    def _reserved(self, name: str, request: Request) -> Response:
        if name == "events":
            return StreamingResponse(
                self.events.stream(lambda: json.dumps(self.state())),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
        if name == "status":
            return JSONResponse(self.state(), headers={"Cache-Control": "no-store"})
        if name == "diff":
            snap, last = self.snapshot, self.builder.last_build
            if snap is None or last is None:
                return site.no_build(self.errors)
            return sidebyside.respond(request, snap, last, self.root, RESERVED)
        if name in ("reload.js", "dev.css", "diff.js", "diff.css"):
            media = "text/javascript" if name.endswith(".js") else "text/css"
            # Asked for by its content's version (site.client_url): cacheable, so a reload fetches the
            # page alone; any other request (an old version, none) gets the file as it is now.
            fresh = request.query_params.get("v") == site.client_version(name)
            return Response(
                (site.CLIENT_DIR / name).read_bytes(),
                media_type=media,
                headers={"Cache-Control": routing.ASSET_CACHE if fresh else "no-store"},
            )
        return Response(
            f"no dev-server resource {RESERVED}{name}\n", status_code=404, media_type="text/plain"
        )
