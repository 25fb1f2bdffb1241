"""`vercel build` (Vercel's own CLI, offline) over the project sitegen writes for ``hosting: vercel``.

One build of this repository's site; the project from ``sitegen vercel-project``; ``vercel build``
with a hand-written ``.vercel/project.json`` (no account needed). Then the produced
``.vercel/output/`` is checked: the routes in its ``config.json`` answer the shared routing case
table, the static files hold nothing private, and the function, started from its own bundle with
only the bundled dependencies, answers ``/api/health``, ``/api/contact`` and ``/api/chat``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from sitegen import emulator
from sitegen.vercelproject import EDGE_LOCK
from tests.support.hosts import host_env, npm_tool, python312
from tests.support.routing_cases import CASES, Case, copy_sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    vercel = npm_tool("vercel")
    python312()
    site = tmp_path_factory.mktemp("vercel-site")
    copy_sources(ROOT, site)
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    project = site / "project"
    for args in (
        ["build", "--quiet", "--root", str(site)],
        ["vercel-project", "--root", str(site), "--out", str(project)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "sitegen.cli", *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _vercel_build(vercel, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Installing required dependencies from uv.lock" in proc.stdout + proc.stderr
    return project / ".vercel" / "output"


def _vercel_build(vercel: Path, project: Path) -> subprocess.CompletedProcess[str]:
    (project / ".vercel").mkdir(exist_ok=True)
    (project / ".vercel" / "project.json").write_text(
        json.dumps({"projectId": "prj_offline", "orgId": "team_offline", "settings": {"framework": None}})
    )
    return subprocess.run(
        [str(vercel), "build", "--yes"],
        cwd=project,
        env=host_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _static(output: Path) -> dict[str, object]:
    static = output / "static"
    return {p.relative_to(static).as_posix(): True for p in static.rglob("*") if p.is_file()}


def _functions(output: Path) -> set[str]:
    root = output / "functions"
    return {"/" + p.relative_to(root).as_posix().removesuffix(".func") for p in root.rglob("*.func")}


def test_only_the_site_is_published_as_static_files(output: Path) -> None:
    static = _static(output)
    assert "pk/index.html" in static and "intl/404.html" in static and "robots.txt" in static
    private = [
        rel
        for rel in static
        if rel.startswith(("_edge/", "edge/", "api/"))
        or rel
        in {
            ".python-version",
            "vercel.json",
            ".vercelignore",
            "pyproject.toml",
            "uv.lock",
        }
        or rel.endswith(".py")
    ]
    assert private == []


def test_the_function_is_the_edge_app_on_pythons_runtime(output: Path) -> None:
    assert _functions(output) == {"/api/index"}
    config = json.loads((output / "functions/api/index.func/.vc-config.json").read_text())
    assert config["runtime"] == "python3.12"
    bundle = set(config.get("filePathMap", {}))
    assert {"api/index.py", "edge/app.py", "_edge/site.json"} <= bundle
    assert not any(rel.startswith("public/") for rel in bundle), "the static site is not in the function"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_config_json_routes_answer_the_case_table(output: Path, case: Case) -> None:
    config = json.loads((output / "config.json").read_text())
    assert config["version"] == 3
    cookies = {"nf_country": case.cookie} if case.cookie else {}
    answer = emulator.resolve_routes(
        config["routes"], _static(output), _functions(output), case.path, case.country, cookies
    )
    if case.edge:
        assert (answer.status, answer.function) == (200, "/api/index")
        return
    assert (answer.status, answer.location, answer.file) == (case.status, case.location, case.file)
    assert answer.headers["Content-Security-Policy"]


# What Vercel's builder adds to every Python function besides the project's dependencies.
BUILDER_PACKAGES = {"pip", "vercel-runtime"}


def test_the_function_bundles_exactly_the_locked_versions(output: Path) -> None:
    """The function's packages are sitegen/edgelock/uv.lock's, version for version (that lock's
    versions and hashes equal uv.lock's: tests/test_lock.py)."""
    config = json.loads((output / "functions/api/index.func/.vc-config.json").read_text())
    bundled = {}
    for rel in config["filePathMap"]:
        parts = rel.split("/")
        if parts[0] == "_vendor" and parts[1].endswith(".dist-info"):
            name, version = parts[1].removesuffix(".dist-info").rsplit("-", 1)
            bundled[canonicalize_name(name)] = version
    locked = {
        canonicalize_name(p["name"]): p["version"]
        for p in tomllib.loads((EDGE_LOCK / "uv.lock").read_text())["package"]
        if p["name"] != "sitegen-edge-function"
    }
    assert {n: v for n, v in bundled.items() if n not in BUILDER_PACKAGES} == locked


def test_a_file_that_does_not_match_the_locked_hash_fails_the_build(output: Path, tmp_path: Path) -> None:
    """The lock's hashes are checked on Vercel: one altered hash and `vercel build` refuses."""
    project = output.parent.parent
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".vercel", "public"))
    (copy / "public").mkdir()
    (copy / "public" / "index.html").write_text("<!doctype html><title>x</title>")
    lock = (copy / "uv.lock").read_text()
    wheels = lock.index("wheels = [", lock.index('name = "pyjwt"'))  # a wheel is what gets installed
    start = lock.index('hash = "sha256:', wheels) + len('hash = "sha256:')
    (copy / "uv.lock").write_text(lock[:start] + ("1" if lock[start] == "0" else "0") + lock[start + 1 :])
    proc = _vercel_build(npm_tool("vercel"), copy)
    assert proc.returncode != 0
    assert "Hash mismatch for `pyjwt" in proc.stdout + proc.stderr


RUN_BUNDLE = textwrap.dedent(
    """
    import importlib.util, json, site, sys
    sys.path.insert(0, ".")
    site.addsitedir("_vendor")  # what Vercel's handler does with the bundle's _vendor/
    spec = importlib.util.spec_from_file_location("api.index", "api/index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from starlette.testclient import TestClient
    origin = {"origin": "https://7expertspk.com"}
    with TestClient(module.app) as client:
        health = client.get("/api/health")
        contact = client.post("/api/contact", json={
            "name": "Ayesha", "email": "ayesha@example.com", "message": "We need a new website for our shop.",
            "consent": True, "region": "pk"}, headers=origin)
        chat = client.post("/api/chat", json={"messages": [{"role": "user", "content": "What do you build?"}],
            "region": "pk"}, headers=origin)
        missing = client.get("/api/nope")
    print(json.dumps({
        "health": [health.status_code, health.json()],
        "contact": [contact.status_code, contact.json()],
        "chat": [chat.status_code, chat.headers["content-type"], chat.text[:2000]],
        "missing": missing.status_code,
        "paths": [p for p in sys.path if "site-packages" in p],
        "edge": sys.modules["edge.app"].__file__,
    }))
    """
)


def test_the_function_runs_from_its_bundle_alone(output: Path, tmp_path: Path) -> None:
    """Lay the bundle out as Vercel uploads it (the .vc-config.json filePathMap) and run it with
    Python 3.12 isolated from every installed package (-I -S): only the bundle is importable."""
    func = output / "functions/api/index.func"
    project = output.parent.parent
    bundle = tmp_path / "task"
    shutil.copytree(func, bundle)
    for target, source in json.loads((func / ".vc-config.json").read_text())["filePathMap"].items():
        (bundle / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / source, bundle / target)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SITEGEN_LOCAL_DIR": str(tmp_path / "local")}
    proc = subprocess.run(
        [str(python312()), "-I", "-S", "-c", RUN_BUNDLE],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["paths"] == [], "nothing from an installed site-packages"
    assert result["edge"].startswith(str(bundle))
    status, health = result["health"]
    assert status == 200 and health["ok"] is True and health["production"] is True
    status, contact = result["contact"]
    assert status in (200, 201) and contact["ok"] is True, contact
    status, kind, body = result["chat"]
    assert status == 200 and kind.startswith("text/event-stream") and "event: token" in body
    assert result["missing"] == 404
