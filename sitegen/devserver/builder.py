"""The dev server's builds: rebuild (one page when safe, else everything), swap, lock.

No ASGI here: ``rebuild`` runs in a worker thread (the watcher hands it over
with ``anyio.to_thread``) or before the server starts, and only swaps in
finished results under its lock. Requests on the event loop read ``snapshot``,
which is replaced whole, never changed in place.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen import emulator, routing
from sitegen.build import BuildOptions, build
from sitegen.config import SiteConfig
from sitegen.devserver.incremental import Previous, never_read, rebuild_pages
from sitegen.errors import BuildFailed, SitegenError
from sitegen.output import write

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from sitegen.pages import Page

EdgeFactory = Callable[[Path, Path], "ASGIApp"]


@dataclass
class Snapshot:
    """One successful build, served as a whole until the next one replaces it."""

    files: dict[str, bytes]
    regions: dict[str, dict[str, Any]]  # region id -> site.json entry (label, countries, default)
    default_region: str
    csp: str
    host: emulator.Host  # whose rules are emulated: site.yaml's `hosting` (netlify unless vercel)
    drafts: frozenset[str] = frozenset()  # output files of draft pages: shown with a "draft" badge


def default_edge(data_dir: Path, local_dir: Path) -> ASGIApp:
    """The production edge app over this build's data."""
    # Imported here: edge/ never imports sitegen, and a broken handler module must not stop the preview.
    from edge.app import create_app
    from edge.settings import load_settings

    return create_app(load_settings(data_dir=data_dir, local_dir=local_dir))


class Builder:
    """The last good build of a site, the current errors, and the edge app over its data."""

    def __init__(
        self,
        root: Path,
        out: Path,
        edge_factory: EdgeFactory,
        log: Callable[[str], None],
        *,
        drafts: bool = True,
        base_url: str | None = None,
        build_log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root
        # Drafts shown (with a badge) unless --no-drafts; absolute URLs name this server.
        self.options = BuildOptions(
            root=root, out=out, production=False, write=False, drafts=drafts, base_url=base_url
        )
        self.out = out
        self.local_dir = root / ".sitegen-local"
        self.edge_factory = edge_factory
        self.log = log
        self.build_log = build_log or log  # one line per good build (off with serve -q)
        self.snapshot: Snapshot | None = None
        self.errors: list[SitegenError] = []
        self.generation = 0  # successful builds so far: pages reload when it changes
        # The URLs whose page the last good build changed ("/pk/about/"); None: maybe every page.
        self.changed_pages: list[str] | None = None
        self.builds = 0
        self.full_builds = 0
        self.edge: ASGIApp | None = None
        self.edge_problem = "the site has not been built yet"
        self._edge_site: bytes | None = None
        self._previous: Previous | None = None
        self._pending: Callable[[], set[str]] | None = None  # edge data of the last one-page rebuild
        self._lock = threading.Lock()

    @property
    def last_build(self) -> Previous | None:
        """The last good build's sources, catalog and files (what the side-by-side view compares)."""
        return self._previous

    def rebuild(
        self, reason: str = "start", changed: set[Path] | None = None, ready: Callable[[], None] | None = None
    ) -> bool:
        """Rebuild in memory (one page when that is safe, else everything); on success swap it in.

        ``ready()`` is called once the new pages are served, before the one-page path's edge data
        (search shard, chat chunks: megabytes to join and write) are updated; both are done when
        this returns. Never raises for a problem in the site: errors are kept for the overlay.
        """
        started = time.perf_counter()
        with self._lock:
            # After a good build, changes may be answered from it: with nothing when only an
            # editor's temp files came and went, else one page when that is safe.
            previous = self._previous if not self.errors else None
            if changed and previous is not None and all(never_read(previous, p) for p in changed):
                return True
            self.builds += 1
            done = self._rebuild_pages(changed) if changed and previous is not None else None
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
        self.build_log(f"{done} in {ms:.0f} ms ({reason})")
        if ready is not None:
            ready()
        self._edge_data()
        return True

    def _edge_data(self) -> None:
        """The one-page path's edge data, in memory and on disk (where the edge handlers read them)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        with self._lock:
            try:
                names = pending()
            except Exception as exc:  # the pages are right; a full build makes the edge data right too
                self.log(f"edge data not updated ({type(exc).__name__}: {exc}); rebuilding everything")
                self.full_builds += 1
                self._rebuild_all()
                return
            files = self._previous.files if self._previous else {}
            for rel in sorted(names):
                _write_atomic(self.out / rel, files[rel])

    def _rebuild_all(self) -> str:
        try:
            result = build(self.options)
        except BuildFailed as exc:
            self.errors = list(exc.errors)
        except SitegenError as exc:
            self.errors = [exc]
        except Exception as exc:  # a generator bug must not end the preview either
            self.errors = [SitegenError(f"{type(exc).__name__}: {exc} (a sitegen bug?)")]
        else:
            self.errors = []
            self.changed_pages = None
            self._previous = Previous.of(result)
            self._swap(dict(result.files), result.config, result.sources)
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
        self.changed_pages = [f"/{rel[: -len('index.html')]}" for rel in outcome.outputs]
        if self.snapshot is None or old is None:
            self._swap(outcome.previous.files, outcome.previous.config, outcome.previous.sources)
        else:
            # Same pages, regions and config: only file contents changed.
            self.snapshot = replace(self.snapshot, files=outcome.previous.files)
        # The edge data follow in rebuild(), in the snapshot's files too (_edge/ is never served).
        self._pending = outcome.edge_data
        return f"re-rendered {outcome.pages} page{'s' if outcome.pages != 1 else ''}"

    def _swap(self, files: dict[str, bytes], config: SiteConfig, pages: list[Page]) -> None:
        site = json.loads(files["_edge/site.json"])
        self.snapshot = Snapshot(
            files=files,
            regions=site["regions"],
            default_region=site["default_region"],
            # The production policy, minus the https upgrade that would break http://127.0.0.1.
            csp=routing.csp(config).replace("; upgrade-insecure-requests", ""),
            host="vercel" if getattr(config, "hosting", "") == "vercel" else "netlify",
            drafts=frozenset(
                f"{rid}{page.path}index.html"
                for page in pages
                if page.meta.get("draft") is True
                for rid in page.regions
            ),
        )
        # The edge handlers read their data from disk, like in production.
        write(self.out, {rel: data for rel, data in files.items() if rel.startswith("_edge/")})
        if files["_edge/site.json"] != self._edge_site:
            self._edge_site = files["_edge/site.json"]
            try:
                self.edge = self.edge_factory(self.out / "_edge", self.local_dir)
                self.edge_problem = ""
            except Exception as exc:  # keep serving pages when a handler cannot start
                self.edge = None
                self.edge_problem = f"the edge handlers could not start: {type(exc).__name__}: {exc}"
                self.log(self.edge_problem)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
