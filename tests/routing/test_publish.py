"""Deploy configuration: the publishing workflow and netlify.toml."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_matches_github_schema() -> None:
    # check-jsonschema ships SchemaStore's GitHub workflow schema: no network needed.
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_tests_builds_and_deploys_on_push_to_main() -> None:
    data = _workflow()
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    trigger = data["on"] if "on" in data else data[True]
    assert trigger["push"]["branches"] == ["main"]
    (job,) = data["jobs"].values()
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    # Python comes from the Debian image the tests need (PostgreSQL 15, Chromium).
    assert "python" in str(job.get("container", "")) or any(
        u.startswith("actions/setup-python@") for u in uses
    )

    def index(predicate: Any) -> int:
        found = [i for i, run in enumerate(runs) if predicate(run)]
        assert found, runs
        return found[0]

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./dev test" in readme
    test = index(lambda r: shlex.split(r)[:2] == ["./dev", "test"] if r else False)
    build = index(lambda r: "build.py" in r)
    deploy = index(lambda r: "netlify-cli deploy" in r)
    assert test < build < deploy, "tests must pass before the build is deployed"
    assert job.get("env", {}).get("CI") == "true"
    command = shlex.split(runs[deploy])
    assert "--prod" in command and command[command.index("--dir") + 1] == "dist"
    env = steps[deploy]["env"]
    assert env["NETLIFY_AUTH_TOKEN"] == "${{ secrets.NETLIFY_AUTH_TOKEN }}"
    assert env["NETLIFY_SITE_ID"] == "${{ secrets.NETLIFY_SITE_ID }}"
    assert "secrets." not in runs[deploy], "secrets go through env, never the command line"


def test_deploy_doc_names_the_secrets() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for needle in ("NETLIFY_AUTH_TOKEN", "NETLIFY_SITE_ID", "uvicorn edge.app:app", "vercel deploy dist"):
        assert needle in doc


def test_netlify_toml_builds_with_build_py_into_dist() -> None:
    config = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))
    assert config["build"]["publish"] == "dist"
    assert config["build"]["command"].endswith("python build.py")
