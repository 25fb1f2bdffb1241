"""`sitegen serve` in Debian's Chromium: badge, live reload, build-error overlay, no CSP violations."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import CHROMIUM
from tests.support.chromium import CHROMIUM_ARGS as ARGS
from tests.support.devserver import Running

pytestmark = pytest.mark.browser

Start = Callable[..., AbstractContextManager[Running]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_edit_reloads_the_open_page_and_errors_show_an_overlay(
    browser: Any, start: Start, site: Path
) -> None:
    layout = site / "themes" / "mini" / "templates" / "page.html"
    good = layout.read_text()
    with start() as run:
        page = browser.new_page()
        problems: list[str] = []
        # The browser's own favicon probe is not the page's doing (the tiny site has no favicon).
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location}")
                if m.type == "error" and not str(m.location.get("url", "")).endswith("favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            page.goto(run.url + "/pk/about/")
            badge = page.locator("#sitegen-badge")
            badge.wait_for()
            assert "pk (Pakistan)" in badge.inner_text()
            page.locator("html[data-sitegen=connected]").wait_for(state="attached")

            (site / "content" / "about.md").write_text("---\ntitle: About\n---\nAbout us, live edit.\n")
            page.locator("main", has_text="About us, live edit.").wait_for(timeout=20000)

            layout.write_text(
                "<!doctype html><html><head><title>x</title></head>\n<body>{% if %}</body></html>\n"
            )
            overlay = page.locator("#sitegen-overlay")
            overlay.wait_for(timeout=20000)
            assert "page.html:2" in overlay.inner_text()
            assert "About us, live edit." in page.locator("main").inner_text()  # the last good page stays

            layout.write_text(good.replace("<main>", "<main><p id=fixed>fixed</p>"))
            page.locator("#fixed").wait_for(timeout=20000)
            assert page.locator("#sitegen-overlay").count() == 0
            # The injected client obeys the page's CSP (a violation would be a console error).
            assert problems == []
        finally:
            page.close()


def test_the_badge_names_the_region_the_router_chose(browser: Any, start: Start) -> None:
    with start() as run:
        context = browser.new_context()
        try:
            host = run.url.split("//", 1)[1].split(":")[0]
            context.add_cookies([{"name": "nf_country", "value": "PK", "domain": host, "path": "/"}])
            page = context.new_page()
            page.goto(run.url + "/about/?country=US")
            assert page.url == run.url + "/pk/about/"
            assert "pk (Pakistan)" in page.locator("#sitegen-badge").inner_text()
            page.goto(run.url + "/about/?country=US")
            context.clear_cookies()
            page.goto(run.url + "/about/?country=US")
            assert page.url == run.url + "/intl/about/"
            assert "intl (International)" in page.locator("#sitegen-badge").inner_text()
        finally:
            context.close()
