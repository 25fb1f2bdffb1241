"""The GitHub workflows: valid, audited, and doing what the deploy needs in the right order.

Every workflow file passes SchemaStore's GitHub workflow schema (check-jsonschema ships it) and
zizmor's offline audits. Beyond that: pull requests run the tests; a push to main tests, builds,
applies the migrations and deploys to the host site.yaml names; retention runs nightly; every
action is pinned to a commit; no job may write; each secret reaches only the step that uses it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitegen.config import load_config

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True, data.get("on"))  # PyYAML reads the bare key `on` as True (YAML 1.1)
    return data


def _steps(data: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in data["jobs"].items() for step in job.get("steps", [])]


def test_there_are_the_three_workflows() -> None:
    assert {p.name for p in WORKFLOWS} == {"test.yml", "publish.yml", "retention.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", str(ROOT / ".github" / "workflows")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_pinned_permissions_least_secrets_only_where_used(path: Path) -> None:
    data = _load(path)
    assert data.get("permissions") == {}, "nothing by default; each job asks for what it needs"
    for name, job in data["jobs"].items():
        assert set((job.get("permissions") or {}).values()) <= {"read"}, f"{name} may not write"
        assert "secrets." not in yaml.safe_dump(job.get("env", {})), f"{name}: no job-wide secrets"
    assert "secrets." not in yaml.safe_dump(data.get("env", {}))
    for _, step in _steps(data):
        uses = step.get("uses")
        if uses:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}", uses), f"not pinned: {uses}"
        assert "secrets." not in step.get("run", ""), "secrets go through env, never the command line"
        assert "${{" not in step.get("run", ""), "no expression expanded into a shell script"
        for key, value in (step.get("env") or {}).items():
            if "secrets." in str(value):
                used = step.get("run", "")
                if key.startswith("VERCEL_") and key != "VERCEL_TOKEN":
                    continue  # read by the Vercel CLI from its environment
                if key.startswith("NETLIFY_") or (key.startswith("SUPABASE_") and "retention" in used):
                    continue  # read by the Netlify CLI / by `sitegen retention` from the environment
                assert f"${key}" in used, f"{key} is given to a step that does not use it"


def test_pull_requests_run_the_readme_test_command() -> None:
    data = _load(ROOT / ".github" / "workflows" / "test.yml")
    assert "pull_request" in data["on"] and "workflow_call" in data["on"]
    (job,) = data["jobs"].values()
    assert job["env"]["CI"] == "true"
    runs = [shlex.split(step["run"])[:2] for step in job["steps"] if "run" in step]
    assert ["./dev", "test"] in runs
    assert "./dev test" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_publish_tests_builds_migrates_then_deploys_to_the_configured_host(tmp_path: Path) -> None:
    data = _load(ROOT / ".github" / "workflows" / "publish.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["jobs"]["test"]["uses"].endswith(".github/workflows/test.yml")
    deploy = data["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    steps = deploy["steps"]
    runs = [step.get("run", "") for step in steps]

    def index(predicate: Any) -> int:
        found = [i for i, run in enumerate(runs) if predicate(run)]
        assert found, runs
        return found[0]

    build = index(lambda r: r.strip() == "./dev build")
    migrate = index(lambda r: r.startswith("supabase db push"))
    host_step = next(i for i, s in enumerate(steps) if s.get("id") == "site")
    vercel = index(lambda r: "vercel deploy --prebuilt --prod" in r)
    netlify = index(lambda r: "netlify deploy --prod --dir dist" in r)
    assert build < host_step < migrate < min(vercel, netlify)
    assert steps[vercel]["if"] == "steps.site.outputs.hosting == 'vercel'"
    assert steps[netlify]["if"] == "steps.site.outputs.hosting == 'netlify'"
    assert "sitegen vercel-project" in runs[vercel]

    # The step that reads the host, run here against this repository: its answer is site.yaml's.
    output = tmp_path / "github-output"
    subprocess.run(
        ["bash", "-c", runs[host_step].replace(".venv/bin/python", shlex.quote(sys.executable))],
        cwd=ROOT,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    hosting = load_config(ROOT / "site.yaml").hosting
    assert output.read_text().strip() == f"hosting={hosting}"


def test_retention_runs_nightly_with_only_its_secrets() -> None:
    data = _load(ROOT / ".github" / "workflows" / "retention.yml")
    (cron,) = data["on"]["schedule"]
    assert len(cron["cron"].split()) == 5 and cron["cron"].split()[2:] == ["*", "*", "*"]
    ((_, step),) = [(n, s) for n, s in _steps(data) if "sitegen retention" in s.get("run", "")]
    assert set(step["env"]) == {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}
