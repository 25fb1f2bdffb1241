"""Build benchmark: median wall time and peak memory of `sitegen build`.

    .venv/bin/python bench/run.py                 # N = 1000 and 4000, table
    .venv/bin/python bench/run.py --n 1000 4000 20000 --runs 5 --json out.json
    .venv/bin/python bench/run.py --peers         # also Hugo, Eleventy, MkDocs, Pelican

Scenarios, each timed as a separate `sitegen build` process (what a developer
or CI runs), median of --runs after one warm-up:

- cold: empty output folder and no cache;
- no-change: rebuild with nothing changed;
- page-edit: one Markdown page changed before each run;
- template-edit: the site's page template changed before each run.

Peak memory is the largest resident set of the build's process tree, sampled
from /proc every 5 ms (worker processes included), and cross-checked with
wait4's ru_maxrss. Sites live on tmpfs (/dev/shm) because disk timings here
swing by 2x. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from make_site import make_site  # noqa: E402

SITEGEN = [str(ROOT / ".venv" / "bin" / "sitegen")]
PEERS = ROOT.parent / "shared" / "bench-peers"


@dataclass
class Result:
    tool: str
    scenario: str
    n: int
    runs: int
    median_s: float
    min_s: float
    max_s: float
    peak_rss_mib: float
    html_files: int


def _tree_rss_kib(pid: int) -> int:
    """Sum of RSS over pid and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run cmd; return (wall seconds, peak tree RSS in MiB)."""
    peak = 0
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"build failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, max(peak, usage.ru_maxrss) / 1024


def count_html(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def measure(
    label: str, n: int, site: Path, out: Path, runs: int, before: Callable[[], None], extra: list[str]
) -> Result:
    cmd = [*SITEGEN, "build", "--out", str(out), *extra]
    walls, peaks = [], []
    before()
    timed(cmd, site)  # warm-up: page cache, and a cache to rebuild from
    for _ in range(runs):
        before()
        wall, peak = timed(cmd, site)
        walls.append(wall)
        peaks.append(peak)
    return Result(
        "sitegen",
        label,
        n,
        runs,
        statistics.median(walls),
        min(walls),
        max(walls),
        max(peaks),
        count_html(out),
    )


def bench_sitegen(n: int, runs: int, base: Path, extra: list[str]) -> list[Result]:
    site = base / f"site-{n}"
    out = base / f"out-{n}"
    make_site(site, n)
    cache = site / ".sitegen-cache"
    theme_page = ROOT / "themes" / "default" / "templates" / "page.html"
    templates = site / "templates"
    templates.mkdir(exist_ok=True)
    shutil.copy(theme_page, templates / "page.html")
    counter = iter(range(1_000_000))

    def clean() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    def nothing() -> None:
        pass

    def edit_page() -> None:
        page = site / "content" / "pages" / "page-00001.md"
        page.write_text(page.read_text(encoding="utf-8") + f"\nEdit {next(counter)}.\n", encoding="utf-8")

    def edit_template() -> None:
        tpl = templates / "page.html"
        tpl.write_text(
            tpl.read_text(encoding="utf-8") + f"\n{{# edit {next(counter)} #}}\n", encoding="utf-8"
        )

    results = [measure("cold", n, site, out, runs, clean, extra)]
    for label, before in (("no-change", nothing), ("page-edit", edit_page), ("template-edit", edit_template)):
        results.append(measure(label, n, site, out, runs, before, extra))
    return results


def bench_peers(ns: list[int], runs: int) -> list[Result]:
    """Run ../shared/bench-peers in this process's run and read its TSV."""
    data = Path("/dev/shm/sg-bench")
    env = dict(os.environ, NS=" ".join(map(str, ns)), RUNS=str(runs), D=str(data))
    subprocess.run(["bash", str(PEERS / "run_peers.sh"), "install", "setup", "bench"], env=env, check=True)
    results = []
    # timecmd.py rows: label, version, N, median wall s, median peak RSS MB, pages/s
    for row in (data / "results.tsv").read_text(encoding="utf-8").splitlines():
        cols = row.split("\t")
        try:
            label, version, n, wall, rss = cols[0], cols[1], int(cols[2]), float(cols[3]), float(cols[4])
        except (IndexError, ValueError):
            continue
        results.append(
            Result(f"{label} {version}"[:30], "cold (1 region)", n, runs, wall, wall, wall, rss, 0)
        )
    return results


def table(results: list[Result]) -> str:
    lines = [
        f"{'tool':<30} {'scenario':<16} {'N':>6} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'peak MiB':>9} {'html':>6}",
    ]
    for r in results:
        lines.append(
            f"{r.tool:<30} {r.scenario:<16} {r.n:>6} {r.median_s:>9.3f} {r.min_s:>7.3f} {r.max_s:>7.3f} "
            f"{r.peak_rss_mib:>9.1f} {r.html_files:>6}"
        )
    return "\n".join(lines)


def growth(results: list[Result]) -> str:
    cold = sorted((r.n, r.median_s) for r in results if r.tool == "sitegen" and r.scenario == "cold")
    if len(cold) < 2:
        return ""
    (n0, t0), (n1, t1) = cold[0], cold[-1]
    per0, per1 = t0 / n0 * 1e3, t1 / n1 * 1e3
    return (
        f"cold build cost per page: {per0:.3f} ms at N={n0}, {per1:.3f} ms at N={n1} "
        f"(x{t1 / t0:.2f} time for x{n1 / n0:.0f} pages; linear growth keeps ms/page flat)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="sitegen build benchmark")
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 4000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path("/dev/shm/sitegen-bench"))
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--peers", action="store_true", help="also build the peer corpus with Hugo and others")
    ap.add_argument("--build-arg", action="append", default=[], help="extra argument for sitegen build")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for n in args.n:
        results.extend(bench_sitegen(n, args.runs, args.dir, args.build_arg))
    if args.peers:
        results.extend(bench_peers(args.n, args.runs))
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(table(results))
    line = growth(results)
    if line:
        print(line)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
