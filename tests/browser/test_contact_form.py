"""The contact form in real Chromium, with JavaScript on and off.

A self-contained server on one loopback origin (until the lead's ``site_server``
fixture exists): a contact page rendered from the theme's real partial
(``partials/contact_form.html``), the theme's static files, a thank-you page,
and the real contact app at ``/api/contact`` with the real local SQLite store.
The store can be switched "down" to simulate a storage outage.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from edge.contact import create_app
from edge.inquiries import Inquiry, LocalInquiryStore, StoreUnavailable
from tests.support import axe
from tests.support.chromium import CHROMIUM
from tests.support.chromium import CHROMIUM_ARGS as ARGS
from tests.support.contactsite import make_settings, site_data
from tests.support.servers import serve
from tests.support.static_site import site_app

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
THEME = REPO / "themes" / "default"


class SwitchableStore:
    """The real local store, with a switch that makes it fail like an unreachable database."""

    def __init__(self, inner: LocalInquiryStore) -> None:
        self.inner = inner
        self.down = False

    async def add(self, inquiry: Inquiry) -> None:
        if self.down:
            raise StoreUnavailable("simulated outage")
        await self.inner.add(inquiry)


def contact_page(region_id: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(THEME / "templates"), autoescape=True)
    site = site_data()
    region = dict(site["regions"][region_id], id=region_id)
    partial = env.get_template("partials/contact_form.html").render(
        site={"title": site["title"], "contact": site["contact"], "contact_form": site["contact_form"]},
        region=region,
        services=region["services"],
        asset=lambda path: f"/assets/{path}",
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact</title></head>'
        f"<body><main><h1>Contact us</h1>{partial}</main></body></html>"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("contact-browser")
    settings = make_settings(tmp)
    store = SwitchableStore(LocalInquiryStore.in_dir(settings.local_dir))
    contact_app = create_app(settings, store=store)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(contact_page(request.path_params["region"]))

    async def thanks(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Thanks</title><h1>Thank you for your message</h1>")

    app = Starlette(
        routes=[
            Route("/api/contact", contact_app, methods=["POST"]),
            Route("/{region}/contact/", page),
            Route("/{region}/contact/thanks/", thanks),
            Mount("/assets", app=StaticFiles(directory=THEME / "static")),
        ]
    )
    with serve(app) as url:
        yield {"url": url, "store": store}


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.js_enabled = request.param
    yield page
    context.close()


@pytest.fixture(autouse=True)
def store_up(site: dict[str, Any]) -> Iterator[None]:
    site["store"].down = False
    yield
    site["store"].down = False


def fill(page: Any, marker: str, **overrides: str) -> None:
    values = {
        "name": "Ayesha Khan",
        "email": "ayesha@example.com",
        "phone": "0336 6532777",
        "company": "Khan Textiles",
        "message": f"{marker} We need a new website for our shop.\nBudget is flexible.",
    }
    values.update(overrides)
    for field, value in values.items():
        page.fill(f"#cf-{field}", value)
    page.select_option("#cf-service", "web-development")
    page.check("#cf-consent")


def rows(site: dict[str, Any], marker: str) -> list[dict[str, Any]]:
    return [r for r in site["store"].inner.all() if marker in r["message"]]


def test_submit_stores_the_inquiry(site: dict[str, Any], page: Any) -> None:
    marker = f"[ok-{'js' if page.js_enabled else 'nojs'}-{os.getpid()}]"
    page.goto(f"{site['url']}/pk/contact/")
    fill(page, marker)
    page.click("button[type=submit]")
    if page.js_enabled:
        status = page.locator("#contact-form-status")
        status.wait_for(state="visible")
        expect(page.locator("#contact-form-status")).to_contain_text("Thank you")
        assert page.input_value("#cf-message") == ""  # cleared only after it was stored
        assert page.url.endswith("/pk/contact/")
    else:
        page.wait_for_url("**/pk/contact/thanks/")
        assert "Thank you" in page.inner_text("h1")
    [row] = rows(site, marker)
    assert row["region"] == "pk"
    assert row["service"] == "web-development"
    assert row["phone"] == "+923366532777"
    assert row["message"] == f"{marker} We need a new website for our shop.\nBudget is flexible."


def test_storage_outage_keeps_the_typed_text(site: dict[str, Any], page: Any) -> None:
    marker = f"[down-{'js' if page.js_enabled else 'nojs'}-{os.getpid()}]"
    message = f"{marker} This long message <b>must not</b> be lost & retyped."
    site["store"].down = True
    page.goto(f"{site['url']}/pk/contact/")
    fill(page, marker, message=message)
    page.click("button[type=submit]")
    if page.js_enabled:
        expect(page.locator("#contact-form-status")).to_contain_text("could not save")
        text = page.inner_text("#contact-form-status")
        assert "still in the form" in text
        assert "info@7expertspk.com" in text
        assert page.url.endswith("/pk/contact/")
    else:
        page.wait_for_load_state()
        assert "could not save your message" in page.inner_text("[role=alert]")
    # Either way the visitor sees their text in a form they can send again.
    assert page.input_value("#cf-message") == message
    assert page.input_value("#cf-name") == "Ayesha Khan"
    assert page.input_value("#cf-email") == "ayesha@example.com"
    assert rows(site, marker) == []

    # Storage is back: sending the same form again works without retyping.
    site["store"].down = False
    if not page.js_enabled:
        page.check("#cf-consent")
    page.click("button[type=submit]")
    if page.js_enabled:
        expect(page.locator("#contact-form-status")).to_contain_text("Thank you")
    else:
        page.wait_for_url("**/pk/contact/thanks/")
    assert len(rows(site, marker)) == 1


def test_server_side_errors_are_shown_next_to_fields(site: dict[str, Any], page: Any) -> None:
    marker = f"[invalid-{'js' if page.js_enabled else 'nojs'}-{os.getpid()}]"
    page.goto(f"{site['url']}/pk/contact/")
    fill(page, marker, phone="12")  # passes the browser's checks, fails the server's
    page.click("button[type=submit]")
    if page.js_enabled:
        error = page.locator("#cf-phone-error")
        error.wait_for(state="visible")
        assert "phone number" in error.inner_text()
        assert page.get_attribute("#cf-phone", "aria-invalid") == "true"
    else:
        page.wait_for_load_state()
        assert "Please check the phone number" in page.content()
    assert page.input_value("#cf-message").startswith(marker)
    assert rows(site, marker) == []


def test_service_preselected_from_query(site: dict[str, Any], browser: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site['url']}/pk/contact/?service=branding")
        assert page.input_value("#cf-service") == "branding"
        page.goto(f"{site['url']}/pk/contact/?service=ecommerce-management")  # not offered in pk
        assert page.input_value("#cf-service") == ""
    finally:
        context.close()


def test_form_and_error_states_are_accessible(site: dict[str, Any], browser: Any) -> None:
    """axe-core (npm, pinned) finds no serious or critical problem in the form, its error states or the error page."""
    if not axe.AXE.exists():
        pytest.skip("axe-core is not installed (npm tools come with ./dev test)")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site['url']}/pk/contact/")
        assert axe.violations(page, "form") == []
        fill(page, "[a11y]", phone="12")
        page.click("button[type=submit]")
        page.locator("#cf-phone-error").wait_for(state="visible")
        assert axe.violations(page, "form") == []
    finally:
        context.close()
    # Reach the handler's error page with a native submit (no fetch). Its CSP allows no script at
    # all; axe still runs there (tests/support/axe.py injects it through the DevTools protocol).
    native = browser.new_context()
    try:
        page = native.new_page()
        page.goto(f"{site['url']}/pk/contact/")
        fill(page, "[a11y-page]", phone="12")
        with page.expect_navigation():
            page.evaluate("document.querySelector('form').submit()")
        assert "Please check the phone number" in page.content()
        assert axe.violations(page, "body") == []
    finally:
        native.close()


# --------------------------------------------------------------------------- the real build


@pytest.fixture(scope="module")
def real_site(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """This repository's site as sitegen builds it, served with its generated ``_headers`` (so its
    CSP is enforced), the contact app at /api/contact."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from edge.settings import load_settings

    tmp = tmp_path_factory.mktemp("contact-real")
    settings = load_settings(environ={}, data_dir=built_site / "_edge", local_dir=tmp / "local")
    store = LocalInquiryStore.in_dir(settings.local_dir)
    api = Starlette(routes=[Route("/api/contact", create_app(settings, store=store), methods=["POST"])])
    with serve(site_app(built_site, {"/api/": api})) as url:
        yield {"url": url, "store": store}


@pytest.mark.parametrize("region", ["pk", "intl"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_real_contact_page_under_the_site_csp(
    real_site: dict[str, Any], browser: Any, region: str, js: bool
) -> None:
    context = browser.new_context(java_script_enabled=js)
    problems: list[str] = []
    try:
        page = context.new_page()
        # Resource 404s are judged by URL below (Vercel's analytics scripts exist only on Vercel).
        page.on(
            "console",
            lambda msg: (
                problems.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and "/_vercel/" not in r.url
                else None
            ),
        )
        page.goto(f"{real_site['url']}/{region}/contact/")
        marker = f"[real-{region}-{'js' if js else 'nojs'}]"
        phone = "0336 6532777" if region == "pk" else "+44 20 7946 0018"
        fill(page, marker, phone=phone)
        page.click("button[type=submit]")
        if js:
            expect(page.locator("#contact-form-status")).to_contain_text("Thank you")
        else:
            page.wait_for_url(f"**/{region}/contact/thanks/")
            assert page.locator("h1").count() == 1
        assert problems == []  # no CSP violation, no script error
    finally:
        context.close()
    [row] = [r for r in real_site["store"].all() if marker in r["message"]]
    assert row["region"] == region
    assert row["service"] == "web-development"
