"""Mutation testing of one critical module at a time, each with the fast tests that cover it.

``./dev mutate edge/auth.py`` runs mutmut on that module only, with the test files listed for it in
TESTS below (or with the pytest arguments given after ``--``), in a work directory of its own,
``mutants/edge.auth/``: mutmut keeps its copy of the tree, its per-test coverage and its results
there, so a second run re-tests only what changed and the modules never share a test selection.
``./dev mutate`` without a module runs them all in turn; ``./dev mutate score`` prints the table.

Why one directory per module: mutmut reads its settings from the ``pyproject.toml`` of the directory
it runs in and records which test reaches which function over the whole selection once. A selection
broad enough for every module (every build test reaches ``links.rewrite``) makes a surviving mutant
run hundreds of site builds; a narrow one per module keeps a survivor to seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"

# The tests that exercise each module's behaviour and run without a browser or PostgreSQL (the RLS
# is mutated by tools/policy_mutants.py).
TESTS: dict[str, list[str]] = {
    "edge/auth.py": ["tests/edge/test_auth.py", "tests/edge/test_portal_local.py"],
    "edge/contact.py": [
        "tests/edge/test_contact.py",
        "tests/edge/test_contact_hostile.py",
        "tests/edge/test_contact_partial.py",
        "tests/edge/test_site_yaml_guards.py",
    ],
    "edge/portal.py": [
        "tests/edge/test_portal_local.py",
        "tests/edge/test_portal_answers.py",
        "tests/edge/test_privacy_local.py",
    ],
    "edge/portal_store.py": [
        "tests/edge/test_portal_local.py",
        "tests/edge/test_portal_answers.py",
        "tests/edge/test_portal_store_local.py",
        "tests/edge/test_privacy_local.py",
    ],
    "edge/ratelimit.py": ["tests/edge/test_ratelimit.py", "tests/edge/test_contact.py"],
    "edge/chat.py": [
        "tests/edge/test_chat.py",
        "tests/edge/test_chat_grounding.py",
        "tests/edge/test_chat_requests.py",
        "tests/edge/test_chat_failover.py",
    ],
    "sitegen/regions.py": [
        "tests/sitegen/test_regions.py",
        "tests/sitegen/test_region_nesting.py",
        "tests/sitegen/test_pages.py",
    ],
    "sitegen/links.py": [
        "tests/sitegen/test_links.py",
        "tests/sitegen/test_links_written.py",
        "tests/sitegen/test_links_output.py",
        "tests/sitegen/test_drafts.py",
    ],
    # Rules generated and read back without a build: with the build-based routing tests, every
    # mutant no test kills ran ~15 site builds and timed out on a loaded machine (a timeout counts
    # as killed), equivalent mutants included.
    "sitegen/routing.py": [
        "tests/routing/test_rules.py",
        "tests/routing/test_csp.py::test_this_sites_policy_follows_its_site_yaml",
    ],
    "sitegen/markdown.py": [
        "tests/sitegen/test_markdown.py",
        "tests/sitegen/test_markdown_links.py",
        "tests/sitegen/test_commonmark_spec.py",
    ],
}
FAST = ["-m", "not browser and not pg"]
# Modules with branches only PostgreSQL reaches (the portal in Supabase mode: the visitor's token
# through PostgREST, Storage's signed URLs, the database's refusals). Their run adds these tests,
# runs inside a throwaway cluster as ./dev test does, and tests one mutant at a time: every child
# resets the cluster's one database. The abuse tests reach the portal through JWKS-verified
# tokens; their ten-thousand-request run only measures and would slow every survivor by 20 s.
PG_TESTS: dict[str, list[str]] = {
    "edge/portal.py": [
        "tests/edge/test_portal_supabase.py",
        "tests/edge/test_privacy_supabase.py",
        "tests/edge/test_abuse.py",
        "--deselect",
        "tests/edge/test_abuse.py::test_mixed_run_of_ten_thousand_requests",
    ],
}
WITH_PG = ["-m", "not browser"]
# mutmut settings of one module. links.py memoises which hrefs the output check follows (_KEPT); a
# worker forked from mutmut's main process, which ran every test to collect the stats, would inherit
# that memo full and never run the mutated classification: fork each from a server that ran none.
SETTINGS: dict[str, dict[str, object]] = {"sitegen/links.py": {"process_isolation": "forkserver"}}
# What the work directory links to: the sources, the tests and what the tests read.
LINKED = ["sitegen", "edge", "tests", "uv.lock"]


def base_config() -> dict[str, object]:
    config: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config


def modules() -> list[str]:
    return [str(m) for m in base_config()["only_mutate"]]  # type: ignore[attr-defined]


def work_dir(module: str) -> Path:
    return WORK / module.removesuffix(".py").replace("/", ".")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def prepare(module: str, selection: list[str]) -> Path:
    """The module's work directory: links to the tree and a pyproject.toml naming only it."""
    work = work_dir(module)
    work.mkdir(parents=True, exist_ok=True)
    config = dict(base_config())
    for name in [*LINKED, *config.get("also_copy", [])]:  # type: ignore[misc]
        link = work / str(name)
        if not link.is_symlink():
            link.symlink_to(ROOT / str(name))
    # mutmut copies the unmutated sources once and never refreshes them; drop stale copies so a run
    # after a rebase tests the module against today's neighbours.
    copies = work / "mutants"
    for source in config["source_paths"]:  # type: ignore[attr-defined]
        for copy in (copies / str(source)).rglob("*.py") if (copies / str(source)).is_dir() else []:
            relative = copy.relative_to(copies)
            original = ROOT / relative
            if str(relative) != module and (
                not original.exists() or original.read_bytes() != copy.read_bytes()
            ):
                copy.unlink()
    config.update(SETTINGS.get(module, {}))
    config["only_mutate"] = [module]
    config["pytest_add_cli_args_test_selection"] = selection
    # The work directory is not a checkout of its own: compare file contents, not git history.
    config["use_git_change_detection"] = False
    text = (ROOT / "pyproject.toml").read_text()
    head = text.split("[tool.mutmut]")[0]
    body = "\n".join(f"{key} = {_toml_value(value)}" for key, value in config.items())
    wanted = f"{head}[tool.mutmut]\n{body}\n"
    target = work / "pyproject.toml"
    if not target.exists() or target.read_text() != wanted:
        target.write_text(wanted)
    return work


def equivalent_mutants() -> dict[str, str]:
    """Full mutant name -> why it cannot change behaviour (tools/equivalent_mutants.toml)."""
    data = tomllib.loads((ROOT / "tools" / "equivalent_mutants.toml").read_text(encoding="utf-8"))
    return {
        entry["module"].removesuffix(".py").replace("/", ".") + "." + name: entry["reason"]
        for entry in data["equivalent"]
        for name in entry["mutants"]
    }


def survivors(module: str) -> list[str]:
    """Mutants of ``module`` no test killed in the last run (survived, or no test reached them),
    except those listed as equivalent."""
    meta = work_dir(module) / "mutants" / f"{module}.meta"
    if not meta.exists():
        return []
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    equivalent = equivalent_mutants()
    return sorted(name for name, code in codes.items() if code in (0, 33) and name not in equivalent)


def run(module: str, selection: list[str], children: int, recheck: bool) -> int:
    work = prepare(module, selection)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    # mutmut keeps a verdict until the mutated function changes; after new tests, name the survivors
    # to test them again.
    names = survivors(module) if recheck else []
    if recheck and not names:
        return 0
    what = f"{len(names)} surviving mutants of {module}" if recheck else module
    print(f"==> mutmut on {what} with {' '.join(selection)}", file=sys.stderr, flush=True)
    env = {**os.environ, "CI": "true"}
    # mutmut copies the tests into the work directory, where the spec test's default path (beside
    # the tests, in .venv/) does not exist: name the checkout's copy.
    env.setdefault("SITEGEN_COMMONMARK_SPEC", str(ROOT / ".venv" / "commonmark-spec.md"))
    command = [mutmut, "run", "--max-children", str(children), *names]
    if module in PG_TESTS:
        command = [*throwaway_cluster(), *command]
    return subprocess.run(command, cwd=work, env=env).returncode


def throwaway_cluster() -> list[str]:
    """pg_virtualenv as ./dev test calls it: a fresh cluster with pg_cron, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [
        "pg_virtualenv", "-t", "-c", f"--port {port}",
        "-o", "shared_preload_libraries=pg_cron", "-o", "cron.database_name=postgres",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: every critical module)")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--tests", nargs="+", help="pytest arguments instead of the module's own tests")
    parser.add_argument(
        "--recheck", action="store_true", help="test the survivors of the last run again (after new tests)"
    )
    args = parser.parse_args(argv)
    known = modules()
    unknown = [m for m in args.modules if m not in known]
    if unknown:
        print(f"not a critical module: {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    failed = 0
    for module in args.modules or known:
        if module in PG_TESTS:
            selection = [*WITH_PG, *(args.tests or [*TESTS[module], *PG_TESTS[module]])]
            children = 1
        else:
            selection, children = [*FAST, *(args.tests or TESTS[module])], args.children
        if run(module, selection, children, args.recheck) != 0:
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
