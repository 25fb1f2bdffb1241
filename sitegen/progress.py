"""Progress of a long build on a terminal: one status line, counts per stage and region.

Only on a TTY (and never with CI set); elsewhere the build prints just its
summary line. The line is redrawn at most ten times a second, so reporting
costs nothing measurable even for tens of thousands of pages.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class Progress:
    """Receives counts from the build; the base class shows nothing."""

    def stage(self, name: str, total: int) -> None:
        """A stage starts with ``total`` units of work (0: unknown or nothing)."""

    def advance(self, n: int = 1, region: str | None = None) -> None:
        """``n`` more units done (in ``region``, for per-region counts)."""

    def note(self, message: str) -> None:
        """A one-off line worth keeping on screen."""

    def done(self) -> None:
        """Clear the status line before the summary is printed."""


class TerminalProgress(Progress):
    def __init__(self, stream: TextIO | None = None, interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.name = ""
        self.total = 0
        self.count = 0
        self.regions: dict[str, int] = {}
        self._last = 0.0
        self._width = 0

    @classmethod
    def wanted(cls, stream: TextIO | None = None) -> bool:
        stream = stream or sys.stderr
        return stream.isatty() and not os.environ.get("CI")

    def stage(self, name: str, total: int) -> None:
        self.name, self.total, self.count, self.regions = name, total, 0, {}
        self._draw(force=True)

    def advance(self, n: int = 1, region: str | None = None) -> None:
        self.count += n
        if region is not None:
            self.regions[region] = self.regions.get(region, 0) + n
        self._draw()

    def note(self, message: str) -> None:
        self._clear()
        self.stream.write(f"  {message}\n")
        self.stream.flush()

    def done(self) -> None:
        self._clear()

    def line(self) -> str:
        total = f"/{self.total}" if self.total else ""
        per_region = "".join(f"  {rid} {n}" for rid, n in self.regions.items())
        return f"  {self.name}: {self.count}{total}{per_region}"

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval and self.count != self.total:
            return
        self._last = now
        text = self.line()
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def _clear(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
