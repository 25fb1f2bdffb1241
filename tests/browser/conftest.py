"""Shared browser fixtures: one headless Chromium per session and this repository's site built once.

Test modules that define their own `browser` fixture override this one (pytest scoping).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.hosts import require

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build this repository's site once (development build) and return the output folder."""
    out = tmp_path_factory.mktemp("site") / "dist"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sitegen.cli",
            "build",
            "--dev",
            "--quiet",
            "--out",
            str(out),
            "--root",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, f"sitegen build failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="session")
def site_server(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the built output on a loopback port as the host would (headers from the generated
    ``_headers``, so the deployed CSP is enforced; region 404 pages), the edge app at /api/.
    Yields the base URL."""
    from edge.app import create_app
    from edge.settings import load_settings
    from tests.support.servers import serve
    from tests.support.static_site import site_app

    edge = create_app(
        load_settings(data_dir=built_site / "_edge", local_dir=tmp_path_factory.mktemp("edge-local"))
    )
    # The edge app routes full paths (/api/...), so it gets them unstripped.
    with serve(site_app(built_site, {"/api/": edge})) as url:
        yield url.rstrip("/")
