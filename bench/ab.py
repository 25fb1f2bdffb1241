"""Two or more copies of sitegen's code, built alternately on one site: which is faster here and now.

    .venv/bin/python bench/make_site.py ...            # or let bench/run.py make /dev/shm sites
    git archive OLD sitegen themes | tar -x -C /dev/shm/old
    git archive NEW sitegen themes | tar -x -C /dev/shm/new
    .venv/bin/python bench/ab.py --site /dev/shm/site --rounds 9 cold /dev/shm/old /dev/shm/new
    .venv/bin/python bench/ab.py --site /dev/shm/site --rounds 9 page-edit /dev/shm/old /dev/shm/new
    .venv/bin/python bench/ab.py --site /dev/shm/site --rounds 15 cold OLD NEW -- --jobs 1

On a machine whose speed drifts (a shared VM here: the same build took 5.6 CPU-s in one hour and
7.9 in the next), figures from separate runs cannot be compared; builds of the copies in one run,
alternating in a new random order every round, can. Each copy is run as
`env PYTHONPATH=COPY python -m sitegen.cli build` from the site's folder (so the copy, not the
installed package, is imported; the copy needs its `themes/` beside `sitegen/`). One warm-up
round first (it also writes the bytecode). Printed per copy: median wall and CPU seconds (user +
system of the build's process tree, from wait4) with the range. A benchmark: it asserts nothing.

page-edit: before each timed build the copy builds once (so the cache is its own: another copy's
cache has another code stamp and would mean a full build), then one page gets a new line.

no-change: each copy builds its own copy of the site (made beside it, `SITE-ab-N`, on the same
file system) once in the warm-up round; every timed build then finds nothing changed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python")


def run(copy: str, site: Path, args: list[str]) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = copy
    started = time.perf_counter()
    child = subprocess.Popen(
        [PYTHON, "-m", "sitegen.cli", "build", *args], cwd=site, env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{copy}: the build failed")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--page", default="content/pages/page-00077.md", help="the page a page-edit changes")
    parser.add_argument("scenario", choices=["cold", "page-edit", "no-change"])
    parser.add_argument("copies", nargs="+")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    options = parser.parse_args(argv[:cut])
    build_args = argv[cut + 1 :]  # for `sitegen build`
    results: dict[str, list[tuple[float, float]]] = {c: [] for c in options.copies}
    edits = 0
    sites = {copy: options.site for copy in options.copies}
    if options.scenario == "no-change":
        for n, copy in enumerate(options.copies):
            sites[copy] = options.site.with_name(f"{options.site.name}-ab-{n}")
            shutil.rmtree(sites[copy], ignore_errors=True)
            shutil.copytree(
                options.site, sites[copy], ignore=shutil.ignore_patterns("dist", ".sitegen-cache")
            )
    for round_no in range(options.rounds + 1):
        order = list(options.copies)
        random.shuffle(order)
        for copy in order:
            if options.scenario == "cold":
                shutil.rmtree(options.site / "dist", ignore_errors=True)
                shutil.rmtree(options.site / ".sitegen-cache", ignore_errors=True)
            elif options.scenario == "page-edit":
                run(copy, options.site, build_args)
                edits += 1
                with open(options.site / options.page, "a", encoding="utf-8") as f:
                    f.write(f"\nEdited for the benchmark ({edits}).\n")
            measured = run(copy, sites[copy], build_args)
            if round_no:  # the first round warms up
                results[copy].append(measured)
    print(f"{options.scenario}, {options.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    for copy, runs in results.items():
        wall = sorted(r[0] for r in runs)
        cpu = sorted(r[1] for r in runs)
        print(
            f"{copy:32s} wall {statistics.median(wall):.3f} s ({wall[0]:.3f}-{wall[-1]:.3f})"
            f"  CPU {statistics.median(cpu):.3f} s ({cpu[0]:.3f}-{cpu[-1]:.3f})"
        )


if __name__ == "__main__":
    main()
