"""Worker processes: a parallel build writes byte for byte what one process writes.

Run through the CLI in a subprocess (as developers and CI run it): forking the
test runner itself, which may have threads, is not what users do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.sitefactory import tree

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from make_site import make_site  # noqa: E402


def sitegen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen.cli", "build", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def test_parallel_build_is_byte_identical_to_one_process(tmp_path: Path) -> None:
    site = tmp_path / "site"
    make_site(site, 450)  # above the thresholds for forking workers in both stages
    one = sitegen("--root", str(site), "--out", str(tmp_path / "one"), "--jobs", "1", "--no-cache")
    two = sitegen("--root", str(site), "--out", str(tmp_path / "two"), "--jobs", "2", "--no-cache")
    assert "2 processes" in two.stdout and "processes" not in one.stdout
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert len([n for n in tree(tmp_path / "two") if n.endswith(".html")]) > 900

    # An edit that re-renders every page (a template change), in parallel, with the cache.
    cached = sitegen("--root", str(site), "--out", str(tmp_path / "cached"), "--jobs", "2")
    assert "cache: 0 of" in cached.stdout
    templates = site / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        (ROOT / "themes/default/templates/page.html").read_text(encoding="utf-8") + "{# edited #}\n",
        encoding="utf-8",
    )
    page = site / "content/pages/page-00007.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    again = sitegen("--root", str(site), "--out", str(tmp_path / "cached"), "--jobs", "2")
    assert "2 processes" in again.stdout
    sitegen("--root", str(site), "--out", str(tmp_path / "clean"), "--jobs", "1", "--no-cache")
    assert tree(tmp_path / "cached") == tree(tmp_path / "clean")
