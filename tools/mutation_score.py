"""Mutation score per module from mutmut's results (mutants/**/*.py.meta).

A mutant counts as killed when a test failed or timed out with it; "no tests" (no selected test
reaches the mutated function) counts against the module like a survivor. Mutants listed in
tools/equivalent_mutants.toml, each with its reason, are left out of the score unless a test kills
them after all.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import equivalent_mutants, survivors, work_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# mutmut's exit codes: 1 a test failed, 0 all passed, 33 no tests, 34 skipped, 36/-24 timeout,
# -11 segfault, 37 type check caught it, None not run yet.
KILLED = {1, 3, 36, -24, -11, 37}
SURVIVED = {0}
NO_TESTS = {33}


EQUIVALENT = equivalent_mutants()


def meta_file(module: str) -> Path:
    """mutmut's results for ``module``, in the work directory tools/mutate.py gives it."""
    return work_dir(module) / "mutants" / f"{module}.meta"


def scores() -> dict[str, Counter[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    result: dict[str, Counter[str]] = {}
    for module in config["only_mutate"]:
        meta = meta_file(module)
        counts: Counter[str] = Counter()
        if meta.exists():
            for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
                if code in KILLED:  # a test told it apart after all
                    counts["killed"] += 1
                elif key in EQUIVALENT:
                    counts["equivalent"] += 1
                elif code in SURVIVED:
                    counts["survived"] += 1
                elif code in NO_TESTS:
                    counts["no tests"] += 1
                else:
                    counts["not run"] += 1
        result[module] = counts
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants too")
    parser.add_argument("--equivalent", action="store_true", help="list the equivalent mutants with reasons")
    args = parser.parse_args(argv)
    print("| module | mutants | killed | survived | no tests | equivalent | score |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for module, c in scores().items():
        judged = c["killed"] + c["survived"] + c["no tests"]
        score = f"{100 * c['killed'] / judged:.1f} %" if judged else "-"
        total = judged + c["equivalent"] + c["not run"]
        row = [module, total, c["killed"], c["survived"], c["no tests"], c["equivalent"], score]
        print("| " + " | ".join(str(x) for x in row) + " |")
    if args.equivalent:
        by_reason: dict[str, list[str]] = {}
        for name, reason in EQUIVALENT.items():
            by_reason.setdefault(reason, []).append(name)
        print()
        for reason, names in by_reason.items():
            print(f"- {', '.join(f'`{n}`' for n in sorted(names))}: {reason}")
    if args.survivors:
        for module in scores():
            for name in survivors(module):
                print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
