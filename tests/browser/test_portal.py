"""The client portal in real Chromium against the real portal app on its local store.

The page is the theme's ``portal.html`` (its ``main`` block, inside a minimal
stand-in for base.html), served with a strict CSP so any inline script or
style would break it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from edge.portal import create_app
from edge.settings import load_settings
from tests.support.chromium import CHROMIUM
from tests.support.chromium import CHROMIUM_ARGS as ARGS
from tests.support.edgesite import EDGE_SITE_YAML, write_edge
from tests.support.servers import serve

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
THEME = REPO / "themes" / "default"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'"
BASE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Portal</title>
{% block head_extra %}{% endblock %}</head><body><main>{% block main %}{% block page_head %}{% endblock %}
{% block body %}{% endblock %}{% endblock %}</main></body></html>"""


def portal_page() -> str:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.DictLoader({"base.html": BASE}), jinja2.FileSystemLoader(THEME / "templates")]
        ),
        autoescape=True,
    )
    return env.get_template("portal.html").render(
        page={"title": "Client portal"}, content="<p>Sign in.</p>", asset=lambda p: f"/assets/{p}"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("portal-browser")
    portal = "portal:\n  upload_max_bytes: 10000\n  upload_types: [text/plain]\n  signed_url_seconds: 600\n"
    write_edge(tmp / "_edge", EDGE_SITE_YAML + portal, production=False)
    settings = load_settings(environ={}, data_dir=tmp / "_edge", local_dir=tmp / "local")
    html = portal_page()

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(html, headers={"content-security-policy": CSP})

    app = Starlette(
        routes=[
            Mount("/api/portal", app=create_app(settings)),
            Route("/portal/", page),
            Mount("/assets", app=StaticFiles(directory=THEME / "static")),
        ]
    )
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _login(browser: Any, url: str, email: str, errors: list[str]) -> Any:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "/portal/")
    page.get_by_text("Local development only").wait_for()
    page.fill("#portal-dev-email", email)
    page.click("#portal-dev-login button")
    page.locator("#portal-projects li").first.wait_for()
    return page


def test_dev_login_projects_messages_files_export(site: str, browser: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    other = _login(browser, site, "b@example.com", errors)
    other.click("#portal-projects button")
    other.fill("#portal-message", "secret of b")
    other.click("#portal-message-form button")
    other.locator("#portal-messages li", has_text="secret of b").wait_for()

    page = _login(browser, site, "a@example.com", errors)
    assert page.locator("#portal-projects li").all_inner_texts() == ["Website for a@example.com (active)"]
    assert "secret of b" not in page.content()
    page.click("#portal-projects button")
    page.fill("#portal-message", "hello from a")
    page.click("#portal-message-form button")
    page.locator("#portal-messages li", has_text="hello from a").wait_for()

    upload = tmp_path / "brief.txt"
    upload.write_text("the brief")
    page.set_input_files("#portal-file", str(upload))
    page.click("#portal-upload-form button")
    page.locator(".portal-download").wait_for()
    with page.expect_download() as dl:
        page.click(".portal-download")
    assert Path(dl.value.path()).read_text() == "the brief"

    with page.expect_download() as dl:
        page.click("#portal-export")
    export = json.loads(Path(dl.value.path()).read_text())
    assert [m["body"] for m in export["messages"]] == ["hello from a"]
    assert [f["name"] for f in export["files"]] == ["brief.txt"]
    assert export["profile"]["email"] == "a@example.com"

    token = page.evaluate("sessionStorage.getItem('sitegen.portal.token')")
    assert token and "a@example.com" not in page.evaluate("document.cookie")
    page.click("#portal-logout")
    assert page.evaluate("sessionStorage.getItem('sitegen.portal.token')") is None
    assert page.locator("#portal-app").is_hidden()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_correction_and_privacy_requests(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = _login(browser, site, "c@example.com", errors)
    page.fill("#portal-profile-company", "Acme Traders")
    page.click("#portal-profile-form button")
    page.get_by_text("Your details were saved.").wait_for()
    for kind in ("objection", "withdrawal", "correction"):
        page.select_option("#portal-request-kind", kind)
        page.fill("#portal-request-note", f"about {kind}")
        page.click("#portal-request-form button")
        page.get_by_text("Your request was sent").wait_for()
        page.evaluate("document.getElementById('portal-status').textContent = ''")
    with page.expect_download() as dl:
        page.click("#portal-export")
    export = json.loads(Path(dl.value.path()).read_text())
    assert export["profile"]["company"] == "Acme Traders"
    assert sorted((r["kind"], r["note"]) for r in export["data_rights_requests"]) == [
        ("correction", "about correction"),
        ("objection", "about objection"),
        ("withdrawal", "about withdrawal"),
    ]
    assert not [e for e in errors if "Content Security Policy" in e], errors
