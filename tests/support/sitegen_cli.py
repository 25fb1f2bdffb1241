"""The sitegen command line run as a person runs it (a child process), for tests and benches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class SitegenFailed(RuntimeError):
    pass


def run_sitegen(*args: str) -> None:
    """``sitegen ARGS``; raises SitegenFailed with its output when it exits non-zero."""
    result = subprocess.run(
        [sys.executable, "-m", "sitegen.cli", *args], capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        raise SitegenFailed(f"sitegen {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def build_dev(root: Path, out: Path) -> Path:
    """A development build of the site in ``root`` into ``out`` (returned)."""
    run_sitegen("build", "--dev", "--quiet", "--out", str(out), "--root", str(root))
    return out
