"""Worker processes: one per core, forked after the build has read what they need.

Forking (rather than spawning) lets every worker start with the parent's
imported modules, configuration, pages and compiled templates already in
memory, so a task carries only indexes and a result only what the parent
needs back. Where ``fork`` is unavailable the build runs in one process,
which gives the same output.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

# The function and context the forked workers run: set just before the pool starts, inherited by fork.
_task: tuple[Callable[[Any, Any], Any], Any] | None = None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    # What multiprocessing.get_all_start_methods() says about "fork", without importing
    # multiprocessing (~20 ms) in builds that start no worker.
    return hasattr(os, "fork")


def chunks(items: Sequence[T], jobs: int, per_job: int = 4) -> list[list[T]]:
    """Contiguous slices, a few per worker, so a slow slice does not leave a core idle at the end."""
    n = max(1, min(len(items), jobs * per_job))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return [c for c in out if c]


def run(fn: Callable[[C, list[T]], R], parts: list[list[T]], jobs: int, context: C) -> Iterator[R]:
    """``fn(context, part)`` for each part, in order; in ``jobs`` forked processes when that is worth it.

    ``context`` (a frozen dataclass) reaches the workers by fork, never pickled.
    """
    if jobs <= 1 or len(parts) <= 1 or not can_fork():
        for part in parts:
            yield fn(context, part)
        return
    import multiprocessing

    global _task
    _task = (fn, context)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(parts))) as pool:
            yield from pool.imap(_call, parts)
    finally:
        _task = None


def _call(part: Any) -> Any:
    """Runs in a worker: the task the parent set before forking."""
    assert _task is not None
    fn, context = _task
    return fn(context, part)
