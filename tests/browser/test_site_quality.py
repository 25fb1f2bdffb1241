"""Every page of both regions in real Chromium, served with the deployed security headers.

One crawl (module fixture) visits every page in ``pk/sitemap.xml`` and ``intl/sitemap.xml`` plus each
region's 404 page, and records per page what the tests below judge: status, console errors, requests
to other origins, Content-Security-Policy violations, axe-core's serious and critical findings and the
cookies set. The server applies the generated ``dist/_headers`` (``tests/support/static_site.py``), so
the browser enforces the exact policy that will be deployed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import expect

from tests.support import axe
from tests.support.static_site import csp_for

pytestmark = pytest.mark.browser

REGIONS = ("pk", "intl")
SITE_YAML = Path(__file__).resolve().parents[2] / "site.yaml"
MISSING = "no-such-page/"  # under each region: answered with that region's 404 page

# Runs before any page script (an init script is not subject to the page's CSP). Collects the
# violation reports the browser fires, including ones that never reach the console.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} (${event.sourceFile}:${event.lineNumber})`
  );
});
"""


@dataclass
class Visit:
    path: str
    expected_status: int
    status: int | None = None
    csp_header: str | None = None
    problems: list[str] = field(default_factory=list)  # loading: status, console, requests
    csp: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)


@dataclass
class Crawl:
    visits: list[Visit]
    cookies: dict[str, list[dict[str, Any]]]  # region -> cookies set while crawling it


def _paths(built_site: Path, region: str) -> list[str]:
    xml = (built_site / region / "sitemap.xml").read_text(encoding="utf-8")
    return [urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", xml)]


def _is_csp_message(text: str) -> bool:
    return "Content Security Policy" in text


@pytest.fixture(scope="module")
def crawl(browser: Any, built_site: Path, site_server: str) -> Crawl:
    if not axe.AXE.exists():
        pytest.skip("axe-core is not installed (npm tools come with ./dev test)")
    visits: list[Visit] = []
    cookies: dict[str, list[dict[str, Any]]] = {}
    current: list[Visit] = []  # the visit in progress, for the handlers below

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        visit = current[-1]
        if _is_csp_message(message.text):
            visit.csp.append(f"console: {message.text}")
        elif visit.expected_status != 200 and message.location.get("url") == site_server + visit.path:
            pass  # the 404 page's own status, which Chromium reports as a failed load
        else:
            visit.problems.append(f"console {message.text} ({message.location.get('url')})")

    def on_request(request: Any) -> None:
        if not request.url.startswith((site_server + "/", "data:")):
            current[-1].problems.append(f"request to another origin {request.url}")

    def on_response(response: Any) -> None:
        visit = current[-1]
        if response.status >= 400 and response.url != site_server + visit.path:
            visit.problems.append(f"{response.status} for {response.url}")

    for region in REGIONS:
        context = browser.new_context()
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: current[-1].problems.append(f"pageerror {error}"))
        page.on("request", on_request)
        page.on("response", on_response)
        pages = [(path, 200) for path in _paths(built_site, region)] + [(f"/{region}/{MISSING}", 404)]
        for path, expected in pages:
            visit = Visit(path, expected)
            current.append(visit)
            # networkidle: late fetches are attributed to the page that made them.
            response = page.goto(site_server + path, wait_until="networkidle")
            if response is not None:
                visit.status = response.status
                visit.csp_header = response.headers.get("content-security-policy")
            # Read the reports before axe runs, so its own work can never be blamed on the page.
            visit.csp += page.evaluate("() => window.__cspViolations")
            visit.accessibility = axe.describe(path, axe.violations(page))
            visits.append(visit)
        cookies[region] = context.cookies()
        context.close()
    return Crawl(visits, cookies)


def test_every_page_loads_cleanly(crawl: Crawl) -> None:
    """200 (404 for the missing page), no console error, nothing from another origin, no failed request."""
    assert len(crawl.visits) > len(REGIONS), "the sitemaps list no pages"
    problems = [
        f"{v.path}: status {v.status}, expected {v.expected_status}"
        for v in crawl.visits
        if v.status != v.expected_status
    ]
    problems += [f"{v.path}: {p}" for v in crawl.visits for p in v.problems]
    assert not problems, "\n".join(problems)


def test_only_declared_cookies_are_set_while_browsing(crawl: Crawl) -> None:
    declared = {
        c["name"] for c in yaml.safe_load(SITE_YAML.read_text(encoding="utf-8"))["privacy"]["cookies"]
    }
    undeclared = [
        f"{region}: {c['name']}"
        for region, cs in crawl.cookies.items()
        for c in cs
        if c["name"] not in declared
    ]
    assert not undeclared, "cookies not in site.yaml privacy.cookies:\n" + "\n".join(undeclared)


def test_no_page_violates_the_deployed_csp(crawl: Crawl, built_site: Path) -> None:
    problems = []
    for visit in crawl.visits:
        # The header really arrived, so the browser enforced the deployed policy on this page.
        if visit.csp_header != csp_for(built_site, visit.path):
            problems.append(f"{visit.path}: served with CSP {visit.csp_header!r}, not the one in _headers")
        problems += [f"{visit.path}: {v}" for v in visit.csp]
    assert not problems, "\n".join(problems)


def test_no_serious_or_critical_accessibility_violation(crawl: Crawl) -> None:
    """axe-core over every page, the 404 pages included (its default rule set, nothing disabled)."""
    found = [line for visit in crawl.visits for line in visit.accessibility]
    assert not found, "axe-core (serious/critical):\n" + "\n".join(found)


# --------------------------------------------------------------------------- region switcher

UNIT_DAYS = {"year": (365, 366), "month": (28, 31), "week": (7, 7), "day": (1, 1)}
UNIT_SECONDS = {"hour": 3600, "minute": 60}


def _duration_bounds(text: str) -> tuple[float, float] | None:
    """Seconds a cookie table's "Duration" allows ("1 year", "30 days", "2 hours"); None when it
    states no length ("session", "until you sign out")."""
    match = re.fullmatch(r"(\d+)\s*(year|month|week|day|hour|minute)s?", text.strip().lower())
    if match is None:
        return None
    count, unit = int(match[1]), match[2]
    if unit in UNIT_SECONDS:
        return count * UNIT_SECONDS[unit], count * UNIT_SECONDS[unit]
    low, high = UNIT_DAYS[unit]
    return count * low * 86400, count * high * 86400


def _cookie_table(page: Any) -> dict[str, dict[str, str]]:
    """The rendered cookie policy's table: name -> {column header: cell text}."""
    table = page.locator("table").filter(has=page.locator("th", has_text="Duration"))
    expect(table).to_have_count(1)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows: dict[str, dict[str, str]] = {}
    for row in table.locator("tbody tr").all():
        cells = dict(zip(headers, (c.strip() for c in row.locator("td").all_inner_texts()), strict=True))
        rows[cells["Name"]] = cells
    return rows


@pytest.mark.parametrize(("start", "target"), [("pk", "intl"), ("intl", "pk")])
def test_region_switcher_sets_only_cookies_the_policy_lists(
    browser: Any, site_server: str, start: str, target: str
) -> None:
    declared = {
        c["name"] for c in yaml.safe_load(SITE_YAML.read_text(encoding="utf-8"))["privacy"]["cookies"]
    }
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site_server}/{start}/services/")
        assert context.cookies() == []  # nothing before the visitor chooses
        page.locator(f'nav.region-switcher a[data-region="{target}"]').click()
        page.wait_for_url(f"{site_server}/{target}/services/")
        switched_at = time.time()
        expect(page.locator("html")).to_have_attribute("data-region", target)
        expect(page.locator("nav.region-switcher [aria-current]")).to_have_count(1)
        cookies = context.cookies()
        assert cookies, "the region switcher set no cookie"

        # The cookie policy of the region the visitor is now in, reached the way a visitor would.
        page.locator("footer a", has_text=re.compile("cookie", re.I)).first.click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path.startswith(f"/{target}/")
        table = _cookie_table(page)
    finally:
        context.close()

    problems = []
    for cookie in cookies:
        name = cookie["name"]
        if name not in declared:
            problems.append(f"{name}: not in site.yaml privacy.cookies")
        if name not in table:
            problems.append(f"{name}: not in the cookie policy's table ({sorted(table)})")
            continue
        if cookie["path"] != "/" or cookie["sameSite"] != "Lax":
            problems.append(f"{name}: path={cookie['path']} SameSite={cookie['sameSite']}, want / and Lax")
        bounds = _duration_bounds(table[name]["Duration"])
        if bounds is None:
            continue
        lifetime = cookie["expires"] - switched_at  # expires: -1 for a session cookie
        if not bounds[0] - 60 <= lifetime <= bounds[1] + 60:
            problems.append(f"{name}: lives {lifetime:.0f} s, the table says {table[name]['Duration']!r}")
    assert not problems, "\n".join(problems)
