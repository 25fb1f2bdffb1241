"""The hosts' own command-line tools (npm ``netlify-cli`` and ``vercel``, installed by ``./dev test``)
and what they need, found or refused the same way by every test that runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "node_modules" / ".bin"


def require(condition: bool, reason: str) -> None:
    """Skip when something a test needs is missing; under CI (nothing may be skipped) fail instead."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def npm_tool(name: str) -> Path:
    tool = BIN / name
    require(tool.exists(), f"{tool} is missing: `./dev test` installs the npm tools (npm ci)")
    return tool


def python312() -> Path:
    """A Python 3.12, which Vercel's Python builder needs (the version of its runtime)."""
    found = shutil.which("python3.12")
    if found is None:
        uv = Path(sys.executable).parent / "uv"
        if uv.exists():
            proc = subprocess.run(
                [str(uv), "python", "find", "3.12"], capture_output=True, text=True, check=False
            )
            found = proc.stdout.strip() or None
    require(found is not None, "no Python 3.12: `./dev test` installs one with `uv python install 3.12`")
    assert found is not None
    return Path(found)


def host_env(**extra: str) -> dict[str, str]:
    """The environment the host CLIs run in: offline-friendly, no telemetry, the venv's uv first."""
    env = dict(os.environ)
    path = [str(Path(sys.executable).parent), str(python312().parent), env.get("PATH", "")]
    env.update(
        PATH=os.pathsep.join(path),
        VERCEL_TELEMETRY_DISABLED="1",
        NETLIFY_TELEMETRY_DISABLED="1",
        CI="true",
        **extra,
    )
    return env
