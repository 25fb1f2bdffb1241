"""`sitegen serve`: time from an edit saved to the browser showing it, measured in Chromium.

    .venv/bin/python bench/serve_reload.py [--n 4000] [--runs 20] [--json FILE]

Generates the bench site (bench/make_site.py) on tmpfs, starts `sitegen serve` on it (a free
port, no browser opening), opens one page in Debian's Chromium (Playwright, headless), then
edits that page's Markdown source `--runs` times (after two warm-up edits), each time adding a
paragraph with a new token. Then one edit of another page (is the open page reloaded?) and one
template edit (a full rebuild), each timed the same way.

The clock: Python's ``time.time()`` just before the write, and ``Date.now()`` in the page, are
both the system's wall clock (1 ms resolution in the browser), so no clock has to be carried
from one process to the other. An init script in every document of the tab notes when the
live-reload client received the ``reload`` event (kept in sessionStorage across the reload),
and when the first frame after DOMContentLoaded was produced (two ``requestAnimationFrame``s),
besides the document's first contentful paint (Paint Timing): "shown". Python only waits for
the DOM to contain the token (``wait_for_function``) and then reads those times, so its own
polling is not part of the figure ("python saw the token" shows what it would add).

The breakdown per edit: write → the reload event in the page, of which the rebuild is the
server's own figure (its build line, "re-rendered 2 pages in 12 ms", read off its stderr) and the
rest the watcher's batching, thread hand-overs and the event's delivery; event → the new
document's navigation start; navigation start → response end; response end → first contentful
paint. "Shown" above is that paint: the token is in the DOM by then (the page is rendered by the
server), though it may be below the fold.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_site import make_site  # noqa: E402
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

OPEN = "pages/page-00001"  # the page open in the browser
OTHER = "pages/page-00002"  # the page edited while not open
WARM_UP = 2
BUILD_LINE = re.compile(r"^(re-rendered \d+ pages?|built \d+ pages) in (\d+) ms \((.*)\)$")
SERVING = re.compile(r"^serving .* at (http://\S+/) ")
TEMPLATE = '{% extends "base.html" %}{% block content %}{{ content | safe }}<p>TOKEN</p>{% endblock %}\n'

# Runs in every document of the tab before its own scripts (Playwright's init script).
PROBE = """
(() => {
  const Source = window.EventSource;
  window.EventSource = class extends Source {
    addEventListener(type, listener, options) {
      if (type === "reload") {
        const inner = listener;
        listener = function (event) {
          sessionStorage.setItem("bench-event", String(Date.now()));
          return inner.call(this, event);
        };
      }
      return super.addEventListener(type, listener, options);
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__benchShown = Date.now(); }));
  });
})();
"""

READ_TIMES = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    event: Number(sessionStorage.getItem("bench-event") || 0),
    nav_start: performance.timeOrigin,
    response_end: performance.timeOrigin + nav.responseEnd,
    dom_loaded: performance.timeOrigin + nav.domContentLoadedEventEnd,
    paint: performance.timeOrigin + (performance.getEntriesByName("first-contentful-paint")[0] || {startTime: NaN}).startTime,
    shown: window.__benchShown,
  };
}
"""


@dataclass
class Edit:
    kind: str  # "page", "template" or "other page"
    total_ms: float  # write -> the new document's first contentful paint (the target's figure)
    event_ms: float  # write -> the reload event received in the page
    rebuild_ms: float  # the server's own figure in its build line
    watch_ms: float  # event_ms - rebuild_ms: the watcher's batching, thread hand-overs, event delivery
    navigate_ms: float  # event -> the new document's navigation start
    response_ms: float  # navigation start -> response end
    render_ms: float  # response end -> first contentful paint
    dom_ms: float  # response end -> DOMContentLoaded (parsed, stylesheets and deferred scripts run)
    frame_ms: float  # write -> the second animation frame after DOMContentLoaded (an upper bound)
    build: str  # the server's build line
    observed_ms: float  # write -> Python saw the token (includes Playwright's polling)


@dataclass
class Report:
    n: int
    runs: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    start_build: str = ""
    edits: list[Edit] = field(default_factory=list)
    template: Edit | None = None
    other_page_build: str = ""
    other_page_reloaded_open_page: bool | None = None


class Server:
    """`sitegen serve` as a child process; its stderr read line by line with the time each arrived."""

    def __init__(self, site: Path) -> None:
        cmd = [sys.executable, "-m", "sitegen.cli", "serve", "--root", str(site), "--port", "0"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put((time.time(), line.rstrip("\n")))

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> tuple[float, re.Match[str]]:
        """(arrival time, match) of the next line matching ``pattern``; other lines are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"sitegen serve printed no line like {pattern.pattern!r}") from None
            if line.startswith("build failed"):
                raise RuntimeError(f"sitegen serve: {line}")
            match = pattern.match(line)
            if match:
                return at, match

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def serving(site: Path, timeout: float) -> Iterator[tuple[Server, str, str]]:
    server = Server(site)
    try:
        _, built = server.wait_for(BUILD_LINE, timeout)
        _, match = server.wait_for(SERVING, 30)
        yield server, match.group(1), built.group(0)
    finally:
        server.stop()


def write_token(path: Path, text: str, token: str) -> float:
    """Write ``text`` with ``TOKEN`` replaced; the wall-clock time just before the write."""
    data = text.replace("TOKEN", token).encode("utf-8")
    started = time.time()
    with path.open("wb") as f:  # one write, as most editors save a small file
        f.write(data)
    return started


def timed_edit(page: Any, server: Server, path: Path, text: str, token: str, kind: str) -> Edit:
    """Edit ``path`` to show ``token`` and time it until the open page shows it."""
    server.drain()
    started = write_token(path, text, token)
    page.wait_for_function(
        "t => document.body && document.body.textContent.includes(t) && window.__benchShown",
        arg=token,
        timeout=120_000,
    )
    observed = (time.time() - started) * 1000
    _, build = server.wait_for(BUILD_LINE, 10)
    t = page.evaluate(READ_TIMES)
    if t["paint"] != t["paint"]:  # NaN: no paint entry (never seen here); the frame is the bound
        t["paint"] = t["shown"]
    return Edit(
        kind=kind,
        total_ms=t["paint"] - started * 1000,
        event_ms=t["event"] - started * 1000,
        rebuild_ms=float(build.group(2)),
        watch_ms=t["event"] - started * 1000 - float(build.group(2)),
        navigate_ms=t["nav_start"] - t["event"],
        response_ms=t["response_end"] - t["nav_start"],
        render_ms=t["paint"] - t["response_end"],
        dom_ms=t["dom_loaded"] - t["response_end"],
        frame_ms=t["shown"] - started * 1000,
        build=build.group(0),
        observed_ms=observed,
    )


def other_page_edit(page: Any, server: Server, path: Path, text: str, report: Report) -> None:
    """Edit a page that is not open; note whether the open page reloaded all the same."""
    reloads: list[str] = []

    def on_navigated(frame: Any) -> None:
        if frame == page.main_frame:
            reloads.append(frame.url)

    page.on("framenavigated", on_navigated)
    server.drain()
    write_token(path, text, f"other-{time.time_ns()}")
    _, build = server.wait_for(BUILD_LINE, 120)
    page.wait_for_timeout(1500)  # far longer than a reload takes here (see the figures)
    page.remove_listener("framenavigated", on_navigated)
    report.other_page_build = build.group(0)
    report.other_page_reloaded_open_page = bool(reloads)


def body_with_token(source: str) -> str:
    """The page's source with a paragraph ``TOKEN`` added (front matter, URL and anchors unchanged)."""
    return source.rstrip("\n") + "\n\nBench edit TOKEN.\n"


def run(n: int, runs: int, base: Path) -> Report:
    from playwright.sync_api import sync_playwright

    report = Report(n=n, runs=runs, load_before=os.getloadavg())
    site = base / f"site-{n}"
    make_site(site, n)
    (site / "templates").mkdir(exist_ok=True)
    template = site / "templates" / "page.html"
    template.write_text(TEMPLATE.replace("TOKEN", "template-0"), encoding="utf-8")
    source = site / "content" / f"{OPEN}.md"
    page_text = body_with_token(source.read_text(encoding="utf-8"))
    other = site / "content" / f"{OTHER}.md"
    other_text = body_with_token(other.read_text(encoding="utf-8"))
    with serving(site, timeout=900) as (server, url, start_build), sync_playwright() as pw:
        report.start_build = start_build
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(PROBE)
            page.goto(f"{url}west/{OPEN}/")
            page.wait_for_selector("html[data-sitegen=connected]")
            server.drain()
            for i in range(WARM_UP + runs):
                edit = timed_edit(page, server, source, page_text, f"tok-{i}-{time.time_ns()}", "page")
                if i >= WARM_UP:
                    report.edits.append(edit)
            other_page_edit(page, server, other, other_text, report)
            report.template = timed_edit(
                page, server, template, TEMPLATE, f"tpl-{time.time_ns()}", "template"
            )
        finally:
            browser.close()
    report.load_after = os.getloadavg()
    return report


def summary(report: Report) -> str:
    totals = [e.total_ms for e in report.edits]
    fmt = "{:<28} {:>8} {:>8} {:>8}"
    lines = [
        f"sitegen serve, {report.n}-source bench site, {len(totals)} page edits after {WARM_UP} warm-up",
        f"start: {report.start_build}",
        "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*report.load_before),
        "load average (1, 5, 15 min) after:  {:.2f} {:.2f} {:.2f}".format(*report.load_after),
        "",
        fmt.format("edit saved -> ..., ms", "median", "min", "max"),
    ]
    parts = [
        ("write -> painted (FCP)", "total_ms"),
        ("  write -> reload event", "event_ms"),
        ("    the rebuild (server)", "rebuild_ms"),
        ("    the rest (watcher...)", "watch_ms"),
        ("  event -> navigation", "navigate_ms"),
        ("  navigation -> response", "response_ms"),
        ("  response -> painted", "render_ms"),
        ("  (response -> DOM loaded)", "dom_ms"),
        ("write -> 2nd frame after DCL", "frame_ms"),
        ("python saw the token", "observed_ms"),
    ]
    for label, name in parts:
        values = [getattr(e, name) for e in report.edits]
        lines.append(
            fmt.format(label, f"{statistics.median(values):.1f}", f"{min(values):.1f}", f"{max(values):.1f}")
        )
    if report.template is not None:
        t = report.template
        lines += [
            "",
            f"template edit: {t.total_ms:.0f} ms to painted ({t.build}; write -> reload event "
            f"{t.event_ms:.0f} ms)",
        ]
    reloaded = {True: "reloaded", False: "not reloaded", None: "not checked"}
    lines.append(
        f"edit of a page not open ({report.other_page_build}): the open page was "
        f"{reloaded[report.other_page_reloaded_open_page]}"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=4000, help="sources in the generated site")
    ap.add_argument("--runs", type=int, default=20, help="timed page edits (after two warm-up edits)")
    ap.add_argument("--dir", type=Path, default=Path("/dev/shm/sitegen-serve-bench"))
    ap.add_argument("--json", type=Path, help="also write the report (every edit) as JSON here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args.n, args.runs, args.dir)
    finally:
        shutil.rmtree(args.dir / f"site-{args.n}", ignore_errors=True)
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
