"""Worker processes: one per core, forked after the build has read what they need.

Forking (rather than spawning) lets every worker start with the parent's
imported modules, configuration, pages and compiled templates already in
memory, so a task carries only indexes and a result only what the parent
needs back. Where ``fork`` is unavailable the build runs in one process,
which gives the same output.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

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


def in_worker() -> bool:
    """This process is a worker forked by :func:`run` (what it loads dies with it)."""
    return _in_worker


_in_worker = False


def _call(part: Any) -> Any:
    """Runs in a worker: the task the parent set before forking."""
    global _in_worker
    _in_worker = True
    assert _task is not None
    fn, context = _task
    return fn(context, part)


def aside(fn: Callable[[], R]) -> Aside[R]:
    """``fn()`` started in a forked child while the caller goes on.

    For short independent checks (a build stats its old outputs while it reads its inputs): the
    child's answer comes back pickled through a pipe. Without fork, or when the child fails, ``fn``
    runs in this process when the result is asked for. Callers that may have threads (which a
    fork does not copy safely) must not call it: see ``BuildOptions.jobs``.
    """
    if not can_fork():
        return Aside(fn, None, None)
    try:
        read_end, write_end = os.pipe()
    except OSError:  # out of file descriptors: the work is done here when asked for
        return Aside(fn, None, None)
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: the same
        os.close(read_end)
        os.close(write_end)
        return Aside(fn, None, None)
    if pid == 0:  # the child: answer, then leave without running the parent's exit handlers
        status = 1
        try:
            os.close(read_end)
            import pickle

            data = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return Aside(fn, pid, read_end)


class Aside(Generic[R]):
    """A result being computed by :func:`aside`; asked for once, it is kept."""

    def __init__(self, fn: Callable[[], R], pid: int | None, pipe: int | None) -> None:
        self._fn, self._pid, self._pipe = fn, pid, pipe
        self._value: tuple[R] | None = None

    def result(self) -> R:
        if self._value is None:
            self._value = (self._compute(),)
        return self._value[0]

    def _compute(self) -> R:
        if self._pid is None or self._pipe is None:
            return self._fn()
        pid, fd = self._pid, self._pipe
        self._pipe = None  # the file object below owns it now: closed once, whatever happens
        with os.fdopen(fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        self._pid = None
        if status != 0 or not data:
            return self._fn()  # the child failed (out of memory, killed): the same work here
        import pickle

        value: R = pickle.loads(data)
        return value

    def cancel(self) -> None:
        """The result is not wanted (any more): stop the child if it runs, and reap it.

        Safe after a result() that was interrupted (Ctrl-C while waiting): the pipe is closed
        only if this object still owns it, and a child already reaped is left alone.
        """
        import signal

        pid, fd = self._pid, self._pipe
        self._pid = self._pipe = None
        if fd is not None:
            os.close(fd)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
