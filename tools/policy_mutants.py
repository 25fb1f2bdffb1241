"""Mutation testing of the row-level security: one policy or access function weakened at a time.

For each mutant the script rewrites one statement of ``supabase/migrations/`` in a scratch copy
of the repository, lets the RLS tests migrate a throwaway PostgreSQL from that copy, and counts
the mutant as killed when a test fails. Mutants:

- ``using`` or ``with check`` of each ``create policy`` replaced by ``true`` (the rule let
  through everyone the policy applies to);
- each policy dropped (rightful access must then fail somewhere);
- the body of each SECURITY DEFINER access helper (``is_staff``, ``can_access_object``...)
  replaced by ``true``, and by ``false``.

Run by ``./dev mutate sql``; each mutant costs one ``pg_virtualenv`` cluster and one run of the
RLS tests, stopped at the first failure. Prints one line per mutant and a score per file.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path("supabase/migrations")
RLS_TESTS = [
    "tests/db",
    "tests/edge/test_inquiries_pg.py",
    "tests/edge/test_portal_supabase.py",
    "tests/edge/test_portal_retention.py",
]
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "node_modules", "mutants", "dist", ".sitegen-cache", ".sitegen-local", ".git", "__pycache__"
)

POLICY = re.compile(r"create\s+policy\s+(\w+)\s+on\s+([\w.]+)(.*?);", re.S | re.I)
FUNCTION = re.compile(
    r"create\s+or\s+replace\s+function\s+public\.(\w+)\s*\(([^)]*)\)\s*returns\s+boolean(.*?)\$\$(.*?)\$\$\s*;",
    re.S | re.I,
)


@dataclass(frozen=True)
class Mutant:
    file: str
    name: str
    start: int
    end: int
    replacement: str


def _clause(text: str, keyword: str) -> tuple[int, int] | None:
    """Span of the parenthesised expression after ``keyword`` (``using`` / ``with check``)."""
    m = re.search(rf"\b{keyword}\s*\(", text, re.I)
    if m is None:
        return None
    depth, i = 0, m.end() - 1
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return i, j + 1
    raise ValueError(f"unbalanced parentheses after {keyword}")


def mutants_of(path: Path, rel: str) -> list[Mutant]:
    text = path.read_text(encoding="utf-8")
    found: list[Mutant] = []
    for m in POLICY.finditer(text):
        name, body = m.group(1), m.group(3)
        body_start = m.start(3)
        for keyword, label in (("using", "using"), (r"with\s+check", "with check")):
            span = _clause(body, keyword)
            if span is not None and body[span[0] : span[1]].strip().lower() != "(true)":
                a, b = body_start + span[0], body_start + span[1]
                found.append(Mutant(rel, f"policy {name}: {label} (true)", a, b, "(true)"))
        found.append(Mutant(rel, f"policy {name}: dropped", m.start(), m.end(), "select 1;"))
    for m in FUNCTION.finditer(text):
        name, header = m.group(1), m.group(3)
        language_sql = re.search(r"language\s+sql", header, re.I) is not None
        for value in ("true", "false"):
            body = f" select {value} " if language_sql else f" begin return {value}; end "
            found.append(Mutant(rel, f"function {name}(): always {value}", m.start(4), m.end(4), body))
        if not language_sql:
            # Each branch on its own: e.g. "a name outside any project folder: staff only".
            for n, r in enumerate(re.finditer(r"\breturn\s+([^;]+);", m.group(4), re.I), 1):
                if r.group(1).strip().lower() != "true":
                    a, b = m.start(4) + r.start(1), m.start(4) + r.end(1)
                    found.append(Mutant(rel, f"function {name}(): return #{n} true", a, b, "true"))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_rls_tests(copy: Path, python: str) -> tuple[bool, str]:
    """True when every RLS test passed (the mutant survived)."""
    command = [
        "pg_virtualenv", "-t", "-c", f"--port {free_port()}",
        "-o", "shared_preload_libraries=pg_cron", "-o", "cron.database_name=postgres",
        python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *RLS_TESTS,
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=copy, capture_output=True, text=True, env={"CI": "true", **_env()})
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return proc.returncode == 0, (lines[0] if lines else proc.stdout.strip().splitlines()[-1:] or [""])[0]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run only mutants whose name contains this text")
    args = parser.parse_args(argv)
    mutants = [
        mutant
        for path in sorted((ROOT / MIGRATIONS).glob("*.sql"))
        for mutant in mutants_of(path, str(MIGRATIONS / path.name))
    ]
    if args.only:
        mutants = [m for m in mutants if args.only in m.name]
    with tempfile.TemporaryDirectory(prefix="policy-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
        started = time.monotonic()
        passed, detail = run_rls_tests(copy, sys.executable)
        if not passed:
            print(f"the RLS tests fail without any mutation: {detail}", file=sys.stderr)
            return 2
        results: dict[str, list[bool]] = {}
        for mutant in mutants:
            target = copy / mutant.file
            original = target.read_text(encoding="utf-8")
            target.write_text(
                original[: mutant.start] + mutant.replacement + original[mutant.end :], encoding="utf-8"
            )
            try:
                survived, detail = run_rls_tests(copy, sys.executable)
            finally:
                target.write_text(original, encoding="utf-8")
            results.setdefault(mutant.file, []).append(not survived)
            verdict = "SURVIVED" if survived else "killed  "
            print(
                f"{verdict} {mutant.file}: {mutant.name}" + ("" if survived else f"  [{detail}]"), flush=True
            )
        print(f"\n{len(mutants)} mutants in {time.monotonic() - started:.0f} s")
        for file, killed in results.items():
            print(f"{file}: {sum(killed)}/{len(killed)} killed ({100 * sum(killed) / len(killed):.0f} %)")
        return 0 if all(all(k) for k in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
