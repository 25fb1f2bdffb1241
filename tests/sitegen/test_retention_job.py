"""The scheduled retention job: the workflow that runs it, and `sitegen retention` as it runs there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sitegen.cli import main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "retention.yml"


def _workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def test_workflow_runs_nightly_with_least_privilege_and_pinned_actions() -> None:
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # PyYAML reads a bare `on` as True
    assert [s["cron"] for s in triggers["schedule"]]
    job = wf["jobs"]["retention"]
    granted = {**(wf.get("permissions") or {}), **(job.get("permissions") or {})}
    assert granted and set(granted.values()) == {"read"}, granted
    steps = job["steps"]
    for step in steps:
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    run = next(s for s in steps if "sitegen retention" in s.get("run", ""))
    # A missing secret must fail the night's run, not skip the Supabase part quietly.
    assert re.search(r"sitegen retention --require-supabase$", run["run"].strip()), run["run"]
    assert run["env"]["SUPABASE_SERVICE_ROLE_KEY"] == "${{ secrets.SUPABASE_SERVICE_ROLE_KEY }}"
    assert run["env"]["SUPABASE_URL"] == "${{ secrets.SUPABASE_URL }}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("retention") / "site"
    assert CliRunner().invoke(main, ["new", str(root)]).exit_code == 0
    return root


def test_retention_without_supabase_fails_when_required(site: Path, tmp_path: Path) -> None:
    env = {"SITEGEN_LOCAL_DIR": str(tmp_path), "SUPABASE_URL": "", "SUPABASE_SERVICE_ROLE_KEY": ""}
    local = CliRunner().invoke(main, ["retention", "--root", str(site)], env=env)
    assert local.exit_code == 0, local.output
    assert "local inquiries: deleted 0" in local.output and "local portal: deleted 0" in local.output
    required = CliRunner().invoke(main, ["retention", "--require-supabase", "--root", str(site)], env=env)
    assert required.exit_code == 1
    assert "SUPABASE_SERVICE_ROLE_KEY" in required.output and "Traceback" not in required.output
