"""Watching a site's sources: one callback per batch of changes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import watchfiles

from sitegen.theme import BUILTIN_THEMES

WATCHED = ("content", "templates", "themes", "static", "site.yaml")
STEP = 10  # milliseconds without a new change that end a batch


def watch_paths(root: Path) -> list[Path]:
    """What a build of ``root`` reads: its sources, and sitegen's own themes unless the site is sitegen."""
    paths = [root / name for name in WATCHED]
    if BUILTIN_THEMES.resolve() != (root / "themes").resolve():
        paths.append(BUILTIN_THEMES)
    return [p for p in paths if p.exists()]


async def watch(
    root: Path,
    stop: asyncio.Event,
    started: Callable[[], None],
    changed: Callable[[str, set[Path]], Awaitable[None]],
    log: Callable[[str], None],
) -> None:
    """Call ``started()`` once watching, then ``changed(reason, paths)`` per batch, until ``stop`` is set."""
    paths = watch_paths(root)
    if not paths:
        log("nothing to watch: no content/, templates/, themes/, static/ or site.yaml")
        return
    watching = False
    # step: a batch ends after STEP ms without a new change (a `git checkout` of 200 files, an
    # editor's temp file, rename and writes arrive within a millisecond or two of each other: one
    # batch); debounce caps how long one batch may grow. The watcher checks every STEP ms and needs
    # one quiet step, so a save waits STEP to 2*STEP ms before its rebuild starts (30 ms cost 30-60
    # of bench/serve_reload.py's edit-to-paint). A save split over two batches stays correct: the
    # second batch rebuilds from the file as it is in the end.
    async for changes in watchfiles.awatch(
        *paths, step=STEP, debounce=1600, stop_event=stop, yield_on_timeout=True, rust_timeout=300
    ):
        if not watching:
            watching = True
            started()
        if not changes:
            continue
        names = sorted({os.path.relpath(p, root) for _, p in changes})
        reason = names[0] if len(names) == 1 else f"{len(names)} files changed"
        await changed(reason, {Path(p) for _, p in changes})
