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


def record_console_errors(page: Any, problems: list[str]) -> None:
    """Console errors (a CSP violation is one); the browser's own favicon probe is not the page's doing
    (the tiny site has no favicon)."""
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.text} {m.location}")
            if m.type == "error" and not str(m.location.get("url", "")).endswith("favicon.ico")
            else None
        ),
    )


def test_edit_reloads_the_open_page_and_errors_show_an_overlay(
    browser: Any, start: Start, site: Path
) -> None:
    layout = site / "themes" / "mini" / "templates" / "page.html"
    good = layout.read_text()
    with start() as run:
        page = browser.new_page()
        problems: list[str] = []
        record_console_errors(page, problems)
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


def test_the_overlay_links_to_both_regions_side_by_side_with_the_differences(
    browser: Any, start: Start, site: Path, tmp_path: Path
) -> None:
    (site / "content" / "about.md").write_text(
        "---\ntitle: About\n---\nAbout us.\n\n::: region pk\nCall our Karachi office.\n:::\n\n"
        "::: region not pk\nWrite to us by e-mail.\n:::\n"
    )
    with start() as run:
        problems: list[str] = []
        for width in (360, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            record_console_errors(page, problems)
            try:
                page.goto(run.url + "/pk/about/")
                page.locator("#sitegen-compare").click()
                page.locator("html[data-sitegen-diff=marked]").wait_for(state="attached")
                assert page.url.startswith(run.url + "/__sitegen/diff?path=%2Fabout%2F&regions=pk%2Cintl")
                pk = page.locator(".sitegen-diff-col[data-region=pk]")
                intl = page.locator(".sitegen-diff-col[data-region=intl]")
                assert "Call our Karachi office." in pk.inner_text()
                assert "Call our Karachi office." not in intl.inner_text()
                assert "Write to us by e-mail." in intl.inner_text()
                # Each region's own text is marked; the text both share is not.
                assert pk.locator(".sitegen-only").all_inner_texts() == ["Call our Karachi office."]
                assert intl.locator(".sitegen-only").all_inner_texts() == ["Write to us by e-mail."]
                listed = page.locator(".sitegen-diff-list").inner_text()
                assert "content/about.md:6" in listed and "::: region pk" in listed
                assert "content/about.md:10" in listed and "::: region not pk" in listed
                page.screenshot(path=str(tmp_path / f"side-by-side-{width}.png"), full_page=True)
            finally:
                page.close()
        # Under the site's own CSP, like every page the dev server serves (a violation is a console error).
        assert problems == []
    # A development-only address: nothing of it is in a build's output.
    built = run.dev.snapshot
    assert built is not None
    assert not any(b"__sitegen" in data or "diff" in rel.split("/")[-1] for rel, data in built.files.items())


def test_an_edit_of_another_page_leaves_the_open_page_as_it_is(
    browser: Any, start: Start, site: Path
) -> None:
    """A one-page rebuild reloads only the pages it changed: the open page keeps its state (scroll,
    anything typed) when another page's body is edited, and still reloads for its own edits after."""
    with start() as run:
        page = browser.new_page()
        try:
            page.goto(run.url + "/pk/about/")
            page.locator("html[data-sitegen=connected]").wait_for(state="attached")
            page.evaluate("window.__kept = true")
            builds = run.dev.builds
            (site / "content" / "index.md").write_text("---\ntitle: Home\n---\nWelcome home, edited.\n")
            index = browser.new_page()  # the edited page, open in another tab, does reload
            try:
                index.goto(run.url + "/pk/")
                index.locator("main", has_text="Welcome home, edited.").wait_for(timeout=20000)
            finally:
                index.close()
            assert run.dev.builds == builds + 1 and run.dev.full_builds == 1  # the one-page path
            page.wait_for_timeout(500)  # the reload event reached this page long before now
            assert page.evaluate("window.__kept === true")

            (site / "content" / "about.md").write_text("---\ntitle: About\n---\nAbout us, edited.\n")
            page.locator("main", has_text="About us, edited.").wait_for(timeout=20000)
            assert page.evaluate("window.__kept === undefined")
            # A full build (the layout changed) reloads every open page.
            page.evaluate("window.__kept = true")
            layout = site / "themes" / "mini" / "templates" / "page.html"
            layout.write_text(layout.read_text().replace("<main>", "<main><p id=again>again</p>"))
            page.locator("#again").wait_for(timeout=20000)
            assert page.evaluate("window.__kept === undefined")
        finally:
            page.close()
