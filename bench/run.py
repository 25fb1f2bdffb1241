"""Build benchmark: `sitegen build` scenarios, and Hugo on the same corpus, in interleaved rounds.

    .venv/bin/python bench/run.py                       # N = 1000 and 4000, table
    .venv/bin/python bench/run.py --n 4000 --runs 7 --peers --json out.json
    .venv/bin/python bench/run.py --n 1000 20000 --scenarios cold

Scenarios, each timed as a separate process (what a developer or CI runs):

- cold: empty output folder and no cache;
- no-change: rebuild with nothing changed;
- page-edit: one Markdown page changed before the run;
- template-edit: the site's page template changed before the run;
- with --peers, Hugo's default build of the same pages in one region, with and
  without code highlighting (the corpus of ../shared/bench-peers, which Hugo
  is installed by: its `run_peers.sh install` uses apt).

Every round runs every scenario once, in a new random order, so a load spike
on this shared machine hits all of them alike; the figure to trust is the
ratio sitegen/Hugo per round (median and range printed), not the seconds.
After one warm-up round, --runs rounds are timed. Each scenario leaves a
complete build behind, so any order is valid.

Memory: peak over the build's process tree (parent and forked workers),
sampled from /proc every 10 ms: RSS summed (shared pages counted once per
process, so an overstatement) and PSS summed (shared pages split between the
processes sharing them: the figure the targets use). Sites live on tmpfs
(/dev/shm) because disk timings here swing by 2x. The load average is printed
beside the figures. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
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
# Python may cache compiled modules, as on a developer's machine: with PYTHONDONTWRITEBYTECODE
# set (as it is in some sandboxes) and a virtualenv installed without bytecode, every run
# compiled Jinja2, click, PyYAML... from source: ~0.6 CPU-s of a ~2 CPU-s one-page edit.
# The warm-up round writes the bytecode.
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# ../shared/bench-peers beside the repository (or beside the folder of its worktrees).
PEERS = next(
    (
        p
        for p in (ROOT.parent / "shared" / "bench-peers", ROOT.parent.parent / "shared" / "bench-peers")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "bench-peers",
)
SCENARIOS = ("cold", "no-change", "page-edit", "template-edit")


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
    peak_pss_mib: float
    html_files: int
    cpu_median_s: float = 0.0  # user+sys of the whole process tree: steadier than wall time under load
    cpu_min_s: float = 0.0
    cpu_max_s: float = 0.0


@dataclass
class Scenario:
    """One timed command and what to do (untimed) before each run of it."""

    tool: str
    name: str
    cmd: list[str]
    cwd: Path
    before: Callable[[], None]
    out: Path


def _tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc/<pid>/task/<tid>/children, without scanning all of /proc)."""
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", "rb") as f:
                    stack.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def _memory_kib(pids: list[int]) -> tuple[int, int]:
    """(summed RSS, summed PSS) of the processes, from smaps_rollup."""
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith(b"Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pass
    return rss, pss


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float, float]:
    """Run cmd; return (wall seconds, peak tree RSS MiB, peak tree PSS MiB, CPU seconds).

    CPU is user+sys of the process and of the children it waited for (the build's workers)."""
    peak_rss = peak_pss = 0
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=RUN_ENV)

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not done.is_set():
            rss, pss = _memory_kib(_tree(proc.pid))
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            done.wait(0.01)

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
    cpu = usage.ru_utime + usage.ru_stime
    return wall, max(peak_rss, usage.ru_maxrss) / 1024, peak_pss / 1024, cpu


def sitegen_scenarios(
    n: int, base: Path, extra: list[str], names: list[str], sitegen: list[str]
) -> list[Scenario]:
    site = base / f"site-{n}"
    out = base / f"out-{n}"
    make_site(site, n)
    cache = site / ".sitegen-cache"
    templates = site / "templates"
    templates.mkdir(exist_ok=True)
    shutil.copy(ROOT / "themes" / "default" / "templates" / "page.html", templates / "page.html")
    counter = iter(range(1_000_000))

    def clean() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    def edit_page() -> None:
        page = site / "content" / "pages" / "page-00001.md"
        page.write_text(page.read_text(encoding="utf-8") + f"\nEdit {next(counter)}.\n", encoding="utf-8")

    def edit_template() -> None:
        tpl = templates / "page.html"
        tpl.write_text(
            tpl.read_text(encoding="utf-8") + f"\n{{# edit {next(counter)} #}}\n", encoding="utf-8"
        )

    before = {
        "cold": clean,
        "no-change": lambda: None,
        "page-edit": edit_page,
        "template-edit": edit_template,
    }
    cmd = [*sitegen, "build", "--out", str(out), *extra]
    return [Scenario("sitegen", name, cmd, site, before[name], out) for name in names]


def hugo_scenarios(n: int) -> list[Scenario]:
    """Hugo on ../shared/bench-peers' corpus (installed by its run_peers.sh when missing)."""
    if shutil.which("hugo") is None:
        subprocess.run(["bash", str(PEERS / "run_peers.sh"), "install"], check=True)
    data = Path("/dev/shm/sg-bench")
    corpus, site = data / f"corpus-{n}", data / "sites" / f"hugo-{n}"
    subprocess.run([sys.executable, str(PEERS / "make_corpus.py"), "--n", str(n), str(corpus)], check=True)
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(PEERS / "peers" / "hugo", site)
    (site / "content" / "pages").mkdir(parents=True)
    for md in corpus.glob("*.md"):
        shutil.copy(md, site / "content" / "pages" / md.name)
    public = site / "public"

    def clean() -> None:
        shutil.rmtree(public, ignore_errors=True)

    return [
        Scenario("Hugo", "cold (1 region)", ["hugo", "--quiet"], site, clean, public),
        Scenario(
            "Hugo, no highlighting",
            "cold (1 region)",
            ["hugo", "--quiet", "--config", "hugo.toml,nohighlight.toml"],
            site,
            clean,
            public,
        ),
    ]


Times = dict[tuple[str, str], list[tuple[float, float, float, float]]]


def rounds(scenarios: list[Scenario], runs: int, seed: int) -> tuple[Times, list[float]]:
    """One warm-up round, then ``runs`` rounds, each in a new random order; the load average per round."""
    rng = random.Random(seed)
    times: Times = {(s.tool, s.name): [] for s in scenarios}
    loads = []
    for r in range(runs + 1):
        order = scenarios[:]
        rng.shuffle(order)
        for s in order:
            s.before()
            measured = timed(s.cmd, s.cwd)
            if r:
                times[(s.tool, s.name)].append(measured)
        if r:
            loads.append(os.getloadavg()[0])
    return times, loads


def summarise(n: int, scenarios: list[Scenario], times: Times) -> list[Result]:
    results = []
    for s in scenarios:
        walls = [t[0] for t in times[(s.tool, s.name)]]
        cpus = [t[3] for t in times[(s.tool, s.name)]]
        results.append(
            Result(
                s.tool,
                s.name,
                n,
                len(walls),
                statistics.median(walls),
                min(walls),
                max(walls),
                max(t[1] for t in times[(s.tool, s.name)]),
                max(t[2] for t in times[(s.tool, s.name)]),
                sum(1 for _ in s.out.rglob("*.html")),
                statistics.median(cpus),
                min(cpus),
                max(cpus),
            )
        )
    return results


def ratios(n: int, times: Times) -> list[str]:
    """sitegen cold / Hugo per round: the figure a load spike cannot fake (both ran in the same round)."""
    cold = [t[0] for t in times.get(("sitegen", "cold"), [])]
    lines = []
    for tool in ("Hugo", "Hugo, no highlighting"):
        peer = [t[0] for t in times.get((tool, "cold (1 region)"), [])]
        if cold and len(peer) == len(cold):
            per_round = sorted(a / b for a, b in zip(cold, peer, strict=True))
            lines.append(
                f"N={n}: sitegen cold (2 regions) / {tool} (1 region): median {statistics.median(per_round):.2f} "
                f"(rounds: {', '.join(f'{x:.2f}' for x in per_round)})"
            )
    return lines


def table(results: list[Result]) -> str:
    lines = [
        f"{'tool':<24} {'scenario':<16} {'N':>6} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'RSS MiB':>8} {'PSS MiB':>8} {'html':>6} {'CPU s':>7} {'CPU min':>7} {'CPU max':>7}",
    ]
    for r in results:
        lines.append(
            f"{r.tool:<24} {r.scenario:<16} {r.n:>6} {r.median_s:>9.3f} {r.min_s:>7.3f} {r.max_s:>7.3f} "
            f"{r.peak_rss_mib:>8.1f} {r.peak_pss_mib:>8.1f} {r.html_files:>6} "
            f"{r.cpu_median_s:>7.2f} {r.cpu_min_s:>7.2f} {r.cpu_max_s:>7.2f}"
        )
    return "\n".join(lines)


def growth(results: list[Result]) -> str:
    cold = sorted((r.n, r.median_s) for r in results if r.tool == "sitegen" and r.scenario == "cold")
    if len(cold) < 2:
        return ""
    (n0, t0), (n1, t1) = cold[0], cold[-1]
    per0, per1 = t0 / n0 * 1e3, t1 / n1 * 1e3
    return (
        f"cold build cost per source: {per0:.3f} ms at N={n0}, {per1:.3f} ms at N={n1} "
        f"({(per1 / per0 - 1) * 100:+.0f} %; linear growth keeps ms/source flat)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="sitegen build benchmark")
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 4000])
    ap.add_argument("--runs", type=int, default=5, help="timed rounds (after one warm-up round)")
    ap.add_argument("--dir", type=Path, default=Path("/dev/shm/sitegen-bench"))
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--peers", action="store_true", help="also build the same pages with Hugo, interleaved")
    ap.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    ap.add_argument("--seed", type=int, default=1, help="seed of the rounds' random order")
    ap.add_argument("--build-arg", action="append", default=[], help="extra argument for sitegen build")
    ap.add_argument(
        "--sitegen",
        default=" ".join(SITEGEN),
        help="command that runs sitegen (e.g. a copy of the code: 'env PYTHONPATH=COPY python -m sitegen.cli')",
    )
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    notes: list[str] = []
    for n in args.n:
        scenarios = sitegen_scenarios(n, args.dir, args.build_arg, args.scenarios, args.sitegen.split())
        if args.peers:
            scenarios += hugo_scenarios(n)
        times, loads = rounds(scenarios, args.runs, args.seed)
        results += summarise(n, scenarios, times)
        notes += ratios(n, times)
        notes.append(f"N={n}: load average (1 min) after each round: {', '.join(f'{x:.1f}' for x in loads)}")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(table(results))
    for line in [*notes, growth(results)]:
        if line:
            print(line)
    if args.json:
        data = {"results": [asdict(r) for r in results], "notes": notes}
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
