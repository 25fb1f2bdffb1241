"""The default theme's layout in real Chromium at phone, tablet and desktop widths.

Every template of this repository's site (both regions) and the starter site's case studies
(``sitegen new``: this site has none yet) are loaded at 360, 768 and 1280 px in the light and dark
colour schemes, served with the deployed ``_headers`` (strict CSP). On each: no horizontal
overflow; no fixed or sticky element over text of the page (bounding boxes of every text line,
at the top, middle and bottom of the page); the header at most 15 % of the first phone screen;
every control that is not a link inside running text at least 44 × 44 px; every image and
drawing with its dimensions. The menu button works without JavaScript and closes with Escape
with it; the dark scheme passes axe's colour-contrast rule.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import axe

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
WIDTHS = {360: 640, 768: 1024, 1280: 800}  # width -> height of the first screen
SCHEMES = ("light", "dark")
REGIONS = ("pk", "intl")
# One page per template of this site (see themes/default/templates).
PAGES = (
    "",  # home
    "services/",
    "services/web-development/",
    "contact/",
    "about/",  # page
    "legal/privacy/",  # legal
    "portal/",
    "no-such-page/",  # 404
)
STARTER_PAGES = ("/local/", "/local/work/", "/local/work/sample-bakery/", "/global/work/sample-bakery/")

# Text boxes covered by fixed or sticky elements (other than the text's own), at this scroll position.
COVERED_TEXT = """
() => {
  const visible = (e) => {
    const cs = getComputedStyle(e);
    return cs.display !== "none" && cs.visibility !== "hidden" && e.getClientRects().length > 0;
  };
  const pinned = [...document.querySelectorAll("body *")].filter((e) => {
    const p = getComputedStyle(e).position;
    return (p === "fixed" || p === "sticky") && visible(e);
  });
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || pinned.some((p) => p.contains(node))) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width < 2 || r.height < 2) continue;
      for (const p of pinned) {
        const b = p.getBoundingClientRect();
        const x = Math.min(b.right, r.right) - Math.max(b.left, r.left);
        const y = Math.min(b.bottom, r.bottom) - Math.max(b.top, r.top);
        if (x > 1 && y > 1) {
          found.push(`${p.tagName.toLowerCase()}.${p.className} covers "${node.textContent.trim().slice(0, 40)}"`);
        }
      }
    }
  }
  return found;
}
"""

# Controls smaller than 44 x 44 px. Links inside running text (display: inline) are exempt, as in
# WCAG 2.5.8; a checkbox counts together with its label, which toggles it too.
SMALL_TARGETS = """
() => {
  const found = [];
  const controls = document.querySelectorAll("a[href], button, summary, input, select, textarea");
  for (const e of controls) {
    const cs = getComputedStyle(e);
    if (e.closest("[aria-hidden='true'], [hidden]") || e.type === "hidden") continue;
    if (cs.display === "none" || cs.visibility === "hidden" || !e.getClientRects().length) continue;
    if (e.tagName === "A" && cs.display === "inline") continue;
    let box = e.getBoundingClientRect();
    if (box.width <= 1 && box.height <= 1) continue;  // visually hidden until focused (none here)
    if ((e.type === "checkbox" || e.type === "radio") && e.labels && e.labels.length) {
      const l = e.labels[0].getBoundingClientRect();
      box = {width: Math.max(box.right, l.right) - Math.min(box.left, l.left),
             height: Math.max(box.bottom, l.bottom) - Math.min(box.top, l.top)};
    }
    if (box.width < 44 || box.height < 44) {
      const name = (e.getAttribute("aria-label") || e.textContent || e.name || "").trim().slice(0, 30);
      found.push(`${e.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return found;
}
"""

UNSIZED_IMAGES = """
() => [
  ...[...document.images].filter((i) => !i.getAttribute("width") || !i.getAttribute("height"))
    .map((i) => `img ${i.getAttribute("src")}`),
  ...[...document.querySelectorAll("svg")].filter((s) => !s.parentElement.closest("svg"))
    .filter((s) => !s.getAttribute("width") || !s.getAttribute("height"))
    .map((s) => `svg in ${s.parentElement.className}`),
]
"""


@pytest.fixture(scope="module")
def starter_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The starter site (`sitegen new`) built and served: it has a (sample) case study."""
    from tests.support.servers import serve
    from tests.support.sitegen_cli import build_dev, run_sitegen
    from tests.support.static_site import site_app

    root = tmp_path_factory.mktemp("starter") / "site"
    run_sitegen("new", str(root))
    out = build_dev(root, root / "dist")
    with serve(site_app(out)) as url:
        yield url.rstrip("/")


def layout_problems(page: Any, width: int) -> list[str]:
    problems: list[str] = []
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"horizontal overflow of {overflow}px")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    for y in sorted({0, max(0, height // 2 - WIDTHS[width] // 2), height}):
        page.evaluate(f"() => window.scrollTo(0, {y})")
        problems += [f"at y={y}: {p}" for p in page.evaluate(COVERED_TEXT)]
    page.evaluate("() => window.scrollTo(0, 0)")
    if width == 360:
        header = page.locator("header.site-header").bounding_box()
        if header["height"] > 0.15 * WIDTHS[width]:
            problems.append(f"header {header['height']:.0f}px is over 15% of the {WIDTHS[width]}px screen")
    problems += [f"tap target {t}" for t in page.evaluate(SMALL_TARGETS)]
    problems += [f"no width/height: {i}" for i in page.evaluate(UNSIZED_IMAGES)]
    return problems


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_template_lays_out_cleanly(
    browser: Any, site_server: str, starter_site: str, width: int, scheme: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, color_scheme=scheme)
    page = context.new_page()
    found: list[str] = []
    urls = [f"{site_server}/{region}/{path}" for region in REGIONS for path in PAGES]
    urls += [starter_site + path for path in STARTER_PAGES]
    try:
        for url in urls:
            page.goto(url)
            found += [f"{url}: {problem}" for problem in layout_problems(page, width)]
    finally:
        context.close()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("region", REGIONS)
def test_phone_menu_works_without_javascript(browser: Any, site_server: str, region: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{site_server}/{region}/services/")
        switch = page.locator("nav.region-switcher a[data-region]")
        expect(switch).to_be_hidden()
        page.locator("details.menu > summary").click()
        expect(switch).to_be_visible()
        expect(page.locator("nav.main-nav a[aria-current='page']")).to_be_visible()
        switch.click()
        other = "intl" if region == "pk" else "pk"
        expect(page).to_have_url(f"{site_server}/{other}/services/")
    finally:
        context.close()


def test_menu_script_closes_the_menu_on_escape(browser: Any, site_server: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    try:
        page.goto(f"{site_server}/pk/")
        summary = page.locator("details.menu > summary")
        summary.click()
        expect(page.locator("details.menu")).to_have_attribute("open", "")
        page.keyboard.press("Escape")
        expect(page.locator("details.menu")).not_to_have_attribute("open", "")
        expect(summary).to_be_focused()
        summary.click()
        page.mouse.click(180, 620)  # below the open menu: outside it
        expect(page.locator("details.menu")).not_to_have_attribute("open", "")
    finally:
        context.close()


def test_wide_screens_show_the_menu_without_a_button(browser: Any, site_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{site_server}/intl/")
        expect(page.locator("details.menu > summary")).to_be_hidden()
        expect(page.locator("nav.main-nav a").first).to_be_visible()
        expect(page.locator("nav.region-switcher a[data-region='pk']")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("width", (360, 1280))
def test_chat_launcher_is_in_the_header_and_named(browser: Any, site_server: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    try:
        page.goto(f"{site_server}/pk/")
        launcher = page.locator("header.site-header button.chat-open")
        expect(launcher).to_be_visible()
        expect(launcher).to_have_accessible_name("Ask ExpertBot")
        launcher.focus()
        page.keyboard.press("Enter")
        expect(launcher).to_have_attribute("aria-expanded", "true")
    finally:
        context.close()


@pytest.mark.parametrize("width", (360, 1280))
def test_dark_scheme_has_enough_contrast(browser: Any, site_server: str, width: int) -> None:
    if not axe.AXE.exists():
        pytest.skip("axe-core is not installed (npm tools come with ./dev test)")
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, color_scheme="dark")
    page = context.new_page()
    found: list[str] = []
    try:
        for region in REGIONS:
            for path in ("", "services/", "services/web-development/", "contact/", "legal/privacy/"):
                page.goto(f"{site_server}/{region}/{path}")
                found += axe.describe(f"/{region}/{path}", axe.violations(page))
    finally:
        context.close()
    assert not found, "\n".join(found)


def test_stylesheets_stay_small() -> None:
    # Every page loads site.css; the contact and portal pages add their own. Under 30 KB compressed.
    css = REPO / "themes" / "default" / "static" / "css"
    total = sum(len(gzip.compress(path.read_bytes(), 9)) for path in css.glob("*.css"))
    assert total < 30 * 1024, f"{total} bytes of CSS compressed"
