"""The installed Python packages are exactly the locked ones, and the lock covers pyproject.toml.

`./dev` installs from uv.lock; hosts install from its exports in requirements/. These tests fail
when a dependency is added to pyproject.toml without `./dev lock`, when an export is stale (for
example after a Dependabot pull request that updated uv.lock only), or when the virtual
environment holds a version the lock does not name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
# Installed by `python -m venv` itself, not by the lock; uv leaves them alone.
VENV_SEED = {"pip", "setuptools"}


def locked_versions() -> dict[str, Version]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonicalize_name(p["name"]): Version(p["version"]) for p in lock["package"]}


def export_pins(name: str) -> dict[str, Version]:
    """The pins of requirements/<name>.txt that apply to this interpreter and platform."""
    pins: dict[str, Version] = {}
    env = default_environment()
    for line in (ROOT / "requirements" / f"{name}.txt").read_text().splitlines():
        if not line or line[0] in " #":
            continue
        req = Requirement(line.rstrip(" \\"))
        if req.marker is None or req.marker.evaluate(env):
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements/{name}.txt: {line} is not an exact pin"
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    return [Requirement(r) for r in declared]


def test_every_dependency_in_pyproject_is_locked_within_its_range() -> None:
    locked = locked_versions()
    problems = []
    for req in declared_requirements():
        name = canonicalize_name(req.name)
        if name == "sitegen":  # an extra referring to another extra of the project
            continue
        if name not in locked:
            problems.append(f"{req.name} is in pyproject.toml but not in uv.lock")
        elif not req.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{req.name}: uv.lock has {locked[name]}, outside {req.specifier}")
    assert not problems, "; ".join(problems) + " (run ./dev lock)"


def test_installed_packages_are_exactly_the_locked_versions() -> None:
    pins = export_pins("dev")
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()}
    installed.pop("sitegen", None)  # the project itself, installed editable without dependencies
    for seed in VENV_SEED:
        installed.pop(seed, None)
    wrong = {n: (installed.get(n), v) for n, v in pins.items() if installed.get(n) != v}
    extra = sorted(set(installed) - set(pins))
    assert not wrong, "installed != locked: " + ", ".join(
        f"{n} {i} (lock {v})" for n, (i, v) in wrong.items()
    )
    assert not extra, f"installed but not in the lock: {', '.join(extra)} (./dev installs only from uv.lock)"


def test_requirements_exports_are_the_export_of_the_lock() -> None:
    """Hosts install requirements/*.txt: they must say what uv.lock says."""
    proc = subprocess.run(
        [str(ROOT / "dev"), "lock", "--check"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_exports_pin_with_hashes_and_edge_is_a_subset_of_runtime() -> None:
    dev, runtime, edge = export_pins("dev"), export_pins("runtime"), export_pins("edge")
    assert edge.items() <= runtime.items() <= dev.items()
    assert "pytest" in dev and "pytest" not in runtime
    # The generator's Markdown engine is not shipped in the /api function.
    assert "cmarkgfm" in runtime and "cmarkgfm" not in edge
    for name in ("dev", "runtime", "edge"):
        text = (ROOT / "requirements" / f"{name}.txt").read_text()
        entries = [line for line in text.splitlines() if line and line[0] not in " #"]
        hashed = text.count("\\\n    --hash=sha256:")
        assert entries and hashed >= len(entries), f"requirements/{name}.txt: an entry without --hash"


@pytest.mark.timeout(180)
def test_edge_export_alone_runs_the_edge_handlers(tmp_path: Path) -> None:
    """The /api function is bundled from requirements/edge.txt: every edge module imports with it."""
    uv = Path(sys.executable).parent / "uv"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    py = venv / "bin" / "python"
    subprocess.run(
        [
            str(uv),
            "pip",
            "sync",
            "-q",
            "--python",
            str(py),
            "--require-hashes",
            str(ROOT / "requirements/edge.txt"),
        ],
        check=True,
        env=env,
    )
    # edge/__main__.py is `python -m edge`: importing it would start the server (edge.server is checked).
    modules = sorted(f"edge.{p.stem}" for p in (ROOT / "edge").glob("*.py") if not p.stem.startswith("__"))
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import edge.app, supabase\n"
        "assert not any(m == 'sitegen' or m.startswith('sitegen.') for m in sys.modules), 'edge imported sitegen'\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [str(py), "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def _lock_files(lock: Path) -> dict[str, tuple[Version, set[str]]]:
    """Each locked package's version and the sha256 of every file (sdist and wheels) it may install."""
    files = {}
    for p in tomllib.loads(lock.read_text())["package"]:
        if "version" not in p:
            continue
        archives = [p.get("sdist", {}), *p.get("wheels", [])]
        hashes = {a["hash"] for a in archives if "hash" in a}
        files[canonicalize_name(p["name"])] = (Version(p["version"]), hashes)
    return files


def test_the_vercel_function_lock_is_the_edge_export_with_the_same_hashes() -> None:
    """`sitegen vercel-project` ships sitegen/edgelock/ (pyproject.toml + uv.lock), which Vercel's
    builder installs with `uv sync --frozen`: the same versions as the edge export, and no file
    whose hash uv.lock does not already name."""
    function_dir = ROOT / "sitegen" / "edgelock"
    function = _lock_files(function_dir / "uv.lock")
    function.pop("sitegen-edge-function", None)  # the function's own (virtual) project
    main = _lock_files(ROOT / "uv.lock")
    python = (function_dir / ".python-version").read_text().strip()
    env = {**default_environment(), "python_version": python, "python_full_version": f"{python}.0"}
    edge: dict[str, Version] = {}
    for line in (ROOT / "requirements" / "edge.txt").read_text().splitlines():
        if line and line[0] not in " #":
            req = Requirement(line.rstrip(" \\"))
            if req.marker is None or req.marker.evaluate(env):
                edge[canonicalize_name(req.name)] = Version(next(iter(req.specifier)).version)
    assert {n: v for n, (v, _) in function.items()} == edge
    for name, (version, hashes) in function.items():
        main_version, main_hashes = main[name]
        assert version == main_version, name
        assert hashes and hashes <= main_hashes, f"{name}: a file hash uv.lock does not list"
    manifest = tomllib.loads((function_dir / "pyproject.toml").read_text())
    assert manifest["project"]["requires-python"] == f"~={python}.0"
    assert manifest["tool"]["uv"]["package"] is False, "uv sync must not build the function as a package"


def test_every_install_path_installs_from_the_lock() -> None:
    """Netlify's build and the publish workflow get the versions the tests ran against."""
    netlify = tomllib.loads((ROOT / "netlify.toml").read_text())["build"]["command"]
    assert "--require-hashes -r requirements/runtime.txt" in netlify
    assert "pip install -q --no-deps ." in netlify, "the generator must not resolve dependencies itself"
    workflows = ROOT / ".github" / "workflows"
    tests, publish = (workflows / "test.yml").read_text(), (workflows / "publish.yml").read_text()
    assert "./dev test" in tests and "./dev build" in publish, "CI installs through ./dev (uv.lock)"
    for workflow in workflows.glob("*.yml"):
        for line in workflow.read_text().splitlines():
            if "pip install" in line and "--no-deps" not in line:
                assert "--require-hashes -r requirements/runtime.txt" in line, (
                    f"{workflow.name}: {line.strip()}"
                )
    dev = (ROOT / "dev").read_text()
    assert "sync -q --frozen" in dev and "--require-hashes" in dev
    # The edge container for Netlify: the same export, the project without its dependencies.
    dockerfile = (ROOT / "edge.Dockerfile").read_text().replace("\\\n", " ")
    installs = [c for c in re.split(r"&&|\n", dockerfile) if "pip install" in c]
    assert installs, "edge.Dockerfile installs the edge"
    for command in installs:
        assert "--require-hashes -r requirements/runtime.txt" in command or "--no-deps" in command, command


def test_dependabot_config_is_valid_and_proposes_python_updates() -> None:
    config = ROOT / ".github" / "dependabot.yml"
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.dependabot", str(config)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    updates = {u["package-ecosystem"]: u for u in yaml.safe_load(config.read_text())["updates"]}
    assert {"uv", "npm", "github-actions"} <= set(updates)
    # The exports are regenerated by ./dev lock, never bumped on their own.
    assert updates["uv"]["exclude-paths"] == ["requirements/**", "sitegen/edgelock/**"]
