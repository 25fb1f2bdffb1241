"""``sitegen serve``: live preview of every region with the edge handlers on the same origin.

One ASGI application (run by uvicorn) answers:

- ``/api/...``: the edge app (``edge.app.create_app``) called directly, so its
  streamed responses (chat tokens over SSE) pass through unbuffered; no
  compression or other buffering middleware is wrapped around anything;
- ``/<region>/...``, ``/assets/...`` and root files: the last good build, held
  in memory (pretty URLs, the region's 404 page);
- any other un-prefixed path: the routing emulator over the generated rules,
  with the country from ``--country``, a ``?country=XX`` query or the
  ``nf_country`` cookie (the cookie wins, as in production);
- ``/__sitegen/...``: the live-reload client, its stylesheet, the event stream
  and a status document. These exist only here, never in a build's output.

The sources are watched with ``watchfiles``; a batch of changes gives one full
build (the generator has no incremental API yet, so correctness first). A
failed build keeps the last good pages and shows its errors in an overlay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import watchfiles
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sitegen import emulator, routing
from sitegen.build import BuildOptions, build
from sitegen.devserver.incremental import Previous, rebuild_pages
from sitegen.errors import BuildFailed, SitegenError
from sitegen.output import write
from sitegen.theme import BUILTIN_THEMES

RESERVED = "/__sitegen/"
WATCHED = ("content", "templates", "themes", "static", "site.yaml")
CLIENT_DIR = Path(__file__).resolve().parent / "devserver"
EdgeFactory = Callable[[Path, Path], ASGIApp]
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)


@dataclass
class Snapshot:
    """One successful build, served as a whole until the next one replaces it."""

    files: dict[str, bytes]
    regions: dict[str, dict[str, Any]]  # region id -> site.json entry (label, countries, default)
    default_region: str
    csp: str
    host: emulator.Host  # whose rules are emulated: site.yaml's `hosting` (netlify unless vercel)


def _default_edge(data_dir: Path, local_dir: Path) -> ASGIApp:
    # Imported here: edge/ never imports sitegen, and a broken handler module must not stop the preview.
    from edge.app import create_app
    from edge.settings import load_settings

    return create_app(load_settings(data_dir=data_dir, local_dir=local_dir))


def _error_view(error: SitegenError) -> dict[str, Any]:
    return {
        "file": error.file,
        "line": error.line,
        "key": error.key,
        "message": error.message,
        "where": error.location(),
    }


class DevServer:
    """State of a preview: the last good build, current errors, open event streams."""

    def __init__(
        self,
        root: Path,
        *,
        country: str | None = None,
        out: Path | None = None,
        edge_factory: EdgeFactory | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.country = country.upper() if country else None
        self._own_out = out is None
        self.out = out or Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        self.local_dir = self.root / ".sitegen-local"
        self.edge_factory = edge_factory or _default_edge
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.snapshot: Snapshot | None = None
        self.errors: list[SitegenError] = []
        self.generation = 0
        self.builds = 0
        self.full_builds = 0
        self._previous: Previous | None = None
        self.watching = False
        self._edge: ASGIApp | None = None
        self._edge_problem = "the site has not been built yet"
        self._edge_site: bytes | None = None
        self._subscribers: set[asyncio.Queue[tuple[str, str] | None]] = set()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ building

    def rebuild(self, reason: str = "start", changed: set[Path] | None = None) -> bool:
        """Rebuild in memory (one page when that is safe, else everything); on success swap it in.

        Never raises for a problem in the site: errors are kept for the overlay.
        """
        started = time.perf_counter()
        with self._lock:
            self.builds += 1
            done = self._rebuild_pages(changed) if changed and self._previous and not self.errors else None
            if done is None:
                self.full_builds += 1
                done = self._rebuild_all()
            ms = (time.perf_counter() - started) * 1000
        if self.errors:
            keeping = (
                "still serving the last good pages" if self.snapshot else "nothing to serve until it builds"
            )
            self.log(f"build failed ({reason}, {ms:.0f} ms); {keeping}:")
            for error in self.errors:
                self.log(f"  {error}")
            return False
        self.generation += 1
        self.log(f"{done} in {ms:.0f} ms ({reason})")
        return True

    def _rebuild_all(self) -> str:
        try:
            result = build(BuildOptions(root=self.root, out=self.out, production=False, write=False))
        except BuildFailed as exc:
            self.errors = list(exc.errors)
        except SitegenError as exc:
            self.errors = [exc]
        except Exception as exc:  # a generator bug must not end the preview either
            self.errors = [SitegenError(f"{type(exc).__name__}: {exc} (a sitegen bug?)")]
        else:
            self.errors = []
            self._previous = Previous.of(result)
            self._swap(dict(result.files), result.config)
            return f"built {sum(result.pages.values())} pages"
        return "failed"

    def _rebuild_pages(self, changed: set[Path]) -> str | None:
        try:
            outcome = rebuild_pages(self._previous, changed) if self._previous else None
        except Exception as exc:  # doubt about the fast path is never worse than a full build
            self.log(f"one-page rebuild not possible ({type(exc).__name__}: {exc}); rebuilding everything")
            return None
        if outcome is None:
            return None
        if isinstance(outcome, list):
            self.errors = outcome
            return "failed"
        old = self._previous
        self._previous = outcome.previous
        if self.snapshot is None or old is None:
            self._swap(outcome.previous.files, outcome.previous.config)
        else:
            # Same pages, regions and config: only file contents changed.
            updated = {
                rel: data for rel, data in outcome.previous.files.items() if old.files.get(rel) is not data
            }
            self.snapshot = replace(self.snapshot, files=outcome.previous.files)
            for rel, data in updated.items():
                if rel.startswith("_edge/"):
                    _write_atomic(self.out / rel, data)
        return f"re-rendered {outcome.pages} page{'s' if outcome.pages != 1 else ''}"

    def _swap(self, files: dict[str, bytes], config: Any) -> None:
        site = json.loads(files["_edge/site.json"])
        self.snapshot = Snapshot(
            files=files,
            regions=site["regions"],
            default_region=site["default_region"],
            # The production policy, minus the https upgrade that would break http://127.0.0.1.
            csp=routing.csp(config).replace("; upgrade-insecure-requests", ""),
            host="vercel" if getattr(config, "hosting", "") == "vercel" else "netlify",
        )
        # The edge handlers read their data from disk, like in production.
        write(self.out, {rel: data for rel, data in files.items() if rel.startswith("_edge/")})
        if files["_edge/site.json"] != self._edge_site:
            self._edge_site = files["_edge/site.json"]
            try:
                self._edge = self.edge_factory(self.out / "_edge", self.local_dir)
                self._edge_problem = ""
            except Exception as exc:  # keep serving pages when a handler cannot start
                self._edge = None
                self._edge_problem = f"the edge handlers could not start: {type(exc).__name__}: {exc}"
                self.log(self._edge_problem)

    def state(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "builds": self.builds,
            "watching": self.watching,
            "errors": [_error_view(e) for e in self.errors],
        }

    def _publish(self, name: str) -> None:
        data = json.dumps(self.state())
        for queue in list(self._subscribers):
            queue.put_nowait((name, data))

    # ------------------------------------------------------------------ watching

    def watch_paths(self) -> list[Path]:
        paths = [self.root / name for name in WATCHED]
        if BUILTIN_THEMES.resolve() != (self.root / "themes").resolve():
            paths.append(BUILTIN_THEMES)
        return [p for p in paths if p.exists()]

    async def _watch(self) -> None:
        paths = self.watch_paths()
        if not paths:
            self.log("nothing to watch: no content/, templates/, themes/, static/ or site.yaml")
            return
        # step: a batch ends after 30 ms without a new change (a `git checkout` of 200
        # files arrives as one batch); debounce caps how long one batch may grow.
        async for changes in watchfiles.awatch(
            *paths, step=30, debounce=1600, stop_event=self._stop, yield_on_timeout=True, rust_timeout=300
        ):
            if not self.watching:
                self.watching = True
                self._publish("watching")
            if not changes:
                continue
            names = sorted({os.path.relpath(p, self.root) for _, p in changes})
            reason = names[0] if len(names) == 1 else f"{len(names)} files changed"
            ok = await anyio.to_thread.run_sync(self.rebuild, reason, {Path(p) for _, p in changes})
            self._publish("reload" if ok else "build-error")

    def close(self) -> None:
        """End event streams and the watcher (called from the server's loop)."""
        self._stop.set()
        self._end_streams()

    def end_streams(self) -> None:
        """Close every open event stream; callable from any thread (tests, shutdown hooks)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._end_streams)

    def _end_streams(self) -> None:
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    def cleanup(self) -> None:
        if self._own_out:
            shutil.rmtree(self.out, ignore_errors=True)

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
            if self._edge is None:
                await JSONResponse({"ok": False, "error": self._edge_problem}, status_code=503)(
                    scope, receive, send
                )
                return
            await self._edge(scope, receive, send)
            return
        request = Request(scope, receive)
        if path.startswith(RESERVED):
            response = self._reserved(request, path[len(RESERVED) :])
        else:
            response = self._site(request)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stop = asyncio.Event()
                self._loop = asyncio.get_running_loop()
                self._watcher = asyncio.create_task(self._watch())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                if self._watcher is not None:
                    self._watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await self._watcher
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _reserved(self, request: Request, name: str) -> Response:
        if name == "events":
            return self._events()
        if name == "status":
            return JSONResponse(self.state(), headers={"Cache-Control": "no-store"})
        if name in ("reload.js", "dev.css"):
            media = "text/javascript" if name.endswith(".js") else "text/css"
            return Response(
                (CLIENT_DIR / name).read_bytes(), media_type=media, headers={"Cache-Control": "no-store"}
            )
        return Response(
            f"no dev-server resource {RESERVED}{name}\n", status_code=404, media_type="text/plain"
        )

    def _events(self) -> Response:
        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        self._subscribers.add(queue)

        async def stream() -> Any:
            try:
                yield f"retry: 1000\nevent: hello\ndata: {json.dumps(self.state())}\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), 15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if item is None:
                        return
                    yield f"event: {item[0]}\ndata: {item[1]}\n\n"
            finally:
                self._subscribers.discard(queue)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # ------------------------------------------------------------------ the site

    def _site(self, request: Request) -> Response:
        snap = self.snapshot
        if snap is None:
            return self._no_build()
        path = request.url.path
        if request.method not in ("GET", "HEAD"):
            return Response(
                f"{request.method} is not allowed on the static site; the handlers live under /api/\n",
                status_code=405,
                media_type="text/plain",
                headers={"Allow": "GET, HEAD"},
            )
        if "\x00" in path or any(part == ".." for part in path.split("/")):
            return Response("bad path\n", status_code=400, media_type="text/plain")
        rel = path.lstrip("/")
        first = rel.split("/", 1)[0]
        if first == "_edge":
            return self._not_found(snap, None, path)
        candidate = rel + "index.html" if rel == "" or rel.endswith("/") else rel
        if rel and candidate in snap.files:
            region = first if first in snap.regions else None
            if candidate.endswith(".html"):
                self.log(f"{request.method} {path} -> 200 region {region or snap.default_region}")
            return self._file(snap, candidate, 200, region)
        if rel and not rel.endswith("/") and f"{rel}/index.html" in snap.files:
            return RedirectResponse(
                path + "/" + (f"?{request.url.query}" if request.url.query else ""), status_code=301
            )
        if first in snap.regions:
            self.log(f"{request.method} {path} -> 404 region {first}")
            return self._not_found(snap, first, path)
        return self._route(request, snap)

    def _visitor(self, request: Request) -> tuple[str | None, dict[str, str], str]:
        """(country, cookies, where the choice came from) of a request."""
        cookies = dict(request.cookies)
        query = request.query_params.get("country", "")
        if query and not _COUNTRY.match(query):
            raise ValueError(f"?country={query}: give a two-letter country code such as PK or US")
        country = query.upper() if query else self.country
        source = "?country" if query else "--country" if self.country else "no country"
        if cookies.get(routing.COOKIE):
            source = f"cookie {routing.COOKIE}={cookies[routing.COOKIE]}"
        return country, cookies, source

    def _route(self, request: Request, snap: Snapshot) -> Response:
        try:
            country, cookies, source = self._visitor(request)
        except ValueError as exc:
            return Response(f"{exc}\n", status_code=400, media_type="text/plain")
        status, location = self._resolve(request, snap, country, cookies)
        self.log(
            f"{request.method} {request.url.path} [{country or '--'}, {source}] -> {status} {location or ''}".rstrip()
        )
        if location and 300 <= status < 400:
            return RedirectResponse(location, status_code=status, headers={"Cache-Control": "no-store"})
        return self._not_found(snap, None, request.url.path)

    def _resolve(
        self, request: Request, snap: Snapshot, country: str | None, cookies: dict[str, str]
    ) -> tuple[int, str | None]:
        """Status and location from the routing emulator over the rules this build generated."""
        answer = emulator.resolve_files(
            snap.files, host=snap.host, path=request.url.path, country=country, cookies=cookies
        )
        return int(answer.status), answer.location

    def _not_found(self, snap: Snapshot, region: str | None, path: str) -> Response:
        page = f"{region}/404.html" if region and f"{region}/404.html" in snap.files else "404.html"
        if page in snap.files:
            return self._file(snap, page, 404, region)
        return Response(f"{path}: not found\n", status_code=404, media_type="text/plain")

    def _file(self, snap: Snapshot, rel: str, status: int, region: str | None) -> Response:
        data = snap.files[rel]
        media = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if media == "text/html":
            headers["Content-Security-Policy"] = snap.csp
            data = self._inject(data, region or snap.default_region, snap)
            media = "text/html; charset=utf-8"
        elif media.startswith("text/") or media in (
            "application/javascript",
            "application/json",
            "application/xml",
        ):
            media += "; charset=utf-8"
        return Response(data, status_code=status, media_type=media, headers=headers)

    def _inject(self, html: bytes, region: str, snap: Snapshot) -> bytes:
        """Add the dev client (external script and stylesheet: the page's CSP forbids inline code)."""
        label = str(snap.regions.get(region, {}).get("label", region))
        tag = (
            f'<link rel="stylesheet" href="{RESERVED}dev.css">'
            f'<script src="{RESERVED}reload.js" defer data-generation="{self.generation}"'
            f' data-region="{_attr(region)}" data-label="{_attr(label)}"></script>'
        ).encode()
        match = _HEAD_END.search(html)
        if match is None:
            return tag + html
        return html[: match.start()] + tag + html[match.start() :]

    def _no_build(self) -> Response:
        items = "".join(
            f"<li><code>{_attr(e.location())}</code> {_attr(e.message)}</li>" for e in self.errors
        )
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Build failed</title>'
            f'<link rel="stylesheet" href="{RESERVED}dev.css">'
            f'<script src="{RESERVED}reload.js" defer data-generation="0" data-region="" data-label=""></script>'
            f"</head><body><h1>The site has not built yet</h1><ul>{items}</ul></body></html>"
        )
        # 503: the server is fine and the request too; the site is not available until the build succeeds.
        return Response(
            html,
            status_code=503,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def uvicorn_server(dev: DevServer, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A uvicorn server for `dev` that ends open event streams as soon as shutdown starts."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # Open pages hold an event stream each; ending them lets shutdown finish at once.
            dev.close()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        dev, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    return Server(config)


def run(root: Path, host: str = "127.0.0.1", port: int = 8000, country: str | None = None) -> None:
    """Build, then serve and rebuild on change until interrupted."""
    if country and not _COUNTRY.match(country):
        raise SitegenError(f"--country {country}: give a two-letter country code such as PK or US")
    dev = DevServer(Path(root), country=country)
    try:
        dev.rebuild("start")
        dev.log(
            f"serving {dev.root} at http://{host}:{port}/ (country {dev.country or 'none'}; ?country=XX or the "
            f"{routing.COOKIE} cookie switch it); edge handlers at /api/"
        )
        uvicorn_server(dev, host, port).run()
    finally:
        dev.cleanup()


__all__ = ["DevServer", "run", "uvicorn_server"]
