"""The "draft" badge of `sitegen serve` in Chromium, at phone and desktop widths, under the page's CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegen.serve import DevServer
from tests.support.devserver import serving
from tests.support.sitefactory import write_site

pytestmark = pytest.mark.browser

FILES = {
    "content/index.md": "---\ntitle: Home\n---\nWelcome.\n",
    "content/work/launch.md": (
        "---\ntitle: Our next launch\ndraft: true\n---\nA case study that is not ready yet.\n\n"
        "## What we did\n\nDesign, build and launch.\n"
    ),
}


@pytest.mark.parametrize("width", [360, 1280])
def test_a_draft_shows_the_badge_and_a_published_page_does_not(
    browser: Any, tmp_path: Path, width: int
) -> None:
    root = write_site(tmp_path / "site", FILES)
    logs: list[str] = []
    dev = DevServer(root, out=tmp_path / "out", log=logs.append)
    dev.rebuild("start")
    with serving(dev, logs) as run:
        page = browser.new_page(viewport={"width": width, "height": 740})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            page.goto(run.url + "/pk/work/launch/")
            badge = page.locator("#sitegen-draft")
            badge.wait_for()
            assert badge.inner_text().strip().lower() == "draft"
            box = badge.bounding_box()
            assert box is not None and box["width"] > 30 and box["height"] > 15
            assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= 740
            region = page.locator("#sitegen-badge").bounding_box()
            assert region is not None
            # Side by side, never on top of each other (the phone width is the tight case).
            assert box["x"] + box["width"] <= region["x"] or region["x"] + region["width"] <= box["x"]
            colours = page.evaluate(
                "() => { const s = getComputedStyle(document.getElementById('sitegen-draft'));"
                " return [s.color, s.backgroundColor, s.position]; }"
            )
            assert colours == ["rgb(69, 26, 3)", "rgb(251, 191, 36)", "fixed"]
            page.screenshot(path=str(tmp_path / f"draft-badge-{width}.png"))
            page.goto(run.url + "/pk/")
            page.locator("#sitegen-badge").wait_for()
            assert page.locator("#sitegen-draft").count() == 0
            assert problems == [], "the dev client obeys the page's CSP"
        finally:
            page.close()
