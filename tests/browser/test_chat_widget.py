"""The ExpertBot widget in real Chromium against the real chat app and a loopback fake provider."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from edge.chat import create_app
from edge.settings import Settings
from tests.support.chatsite import IDS, chat_data, chat_site
from tests.support.chromium import CHROMIUM
from tests.support.chromium import CHROMIUM_ARGS as ARGS
from tests.support.fakeproviders import FakeProviders, fake_providers
from tests.support.servers import serve

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
THEME = REPO / "themes" / "default"


def _page() -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(THEME / "templates"), autoescape=True)
    partial = env.get_template("partials/chat_widget.html").render(
        site={"chat": {"bot_name": "ExpertBot"}}, asset=lambda path: f"/assets/{path}"
    )
    return (
        '<!doctype html><html lang="en" data-region="pk"><head><meta charset="utf-8"><title>Home</title></head>'
        f"<body><main><h1>Home</h1></main>{partial}</body></html>"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not installed at {CHROMIUM} (CI must not skip)")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("chat-browser")
    with fake_providers() as fake:
        env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
        env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
        site = chat_site(providers=["groq"], timeout=5)  # only groq: its failures reach the widget
        (tmp / "d").mkdir()
        data = chat_data(tmp / "d", site)
        chat_app = create_app(Settings(data_dir=data, local_dir=tmp, site=site, env=env))

        async def home(request: Any) -> HTMLResponse:
            return HTMLResponse(_page(), headers={"content-security-policy": "default-src 'self'"})

        app = Starlette(
            routes=[
                Route("/api/chat", chat_app, methods=["POST"]),
                Route("/pk/", home),
                Mount("/assets", app=StaticFiles(directory=THEME / "static")),
            ]
        )
        with serve(app) as base:
            yield {"url": f"{base}/pk/", "fake": fake}


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    fake: FakeProviders = site["fake"]
    fake.modes.clear()
    context = browser.new_context()
    p = context.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.goto(site["url"])
    yield p
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e]


def test_open_send_streams_and_escape_closes(page: Any) -> None:
    button = page.locator(".chat-open")
    assert page.locator("link[href$='chat.css']").count() == 0  # lazy until opened
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.locator("link[href$='chat.css']").count() == 1
    dialog = page.get_by_role("dialog", name="ExpertBot")
    assert dialog.is_visible()
    assert page.locator(".chat-notice a").get_attribute("href") == "/pk/legal/privacy/"
    page.get_by_label("Your message").fill("Hello?")
    page.get_by_role("button", name="Send").click()
    page.locator(".chat-assistant", has_text="Hello from the fake provider. (groq)").wait_for()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "chat-open"


def test_stop_keeps_text_then_retry_answers(page: Any, site: dict[str, Any]) -> None:
    site["fake"].modes["groq"] = "slow"
    page.locator(".chat-open").click()
    page.get_by_label("Your message").fill("Tell me more")
    page.get_by_role("button", name="Send").click()
    page.locator(".chat-assistant", has_text="Hello").wait_for()  # first token streamed in
    page.get_by_role("button", name="Stop").click()
    page.locator(".chat-status", has_text="Stopped.").wait_for()
    assert page.get_by_label("Your message").input_value() == "Tell me more"
    site["fake"].modes["groq"] = "ok"
    page.get_by_role("button", name="Retry").click()
    page.locator(".chat-assistant", has_text="Hello from the fake provider. (groq)").wait_for()


def test_error_mid_stream_offers_retry(page: Any, site: dict[str, Any]) -> None:
    site["fake"].modes["groq"] = "cut"
    page.locator(".chat-open").click()
    page.get_by_label("Your message").fill("Prices?")
    page.get_by_role("button", name="Send").click()
    page.locator(".chat-status", has_text="cut off").wait_for()
    assert page.get_by_label("Your message").input_value() == "Prices?"
    site["fake"].modes["groq"] = "ok"
    page.get_by_role("button", name="Retry").click()
    page.locator(".chat-assistant", has_text="(groq)").wait_for()


def test_offline_answer_shows_its_note_and_real_links(page: Any, site: dict[str, Any]) -> None:
    site["fake"].modes["groq"] = "500"
    page.locator(".chat-open").click()
    page.get_by_label("Your message").fill("Website banwana hai, kitne paise lagenge?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".chat-assistant").last
    answer.locator(".chat-text", has_text="Web Development: from Rs 80,000.").wait_for()
    page.locator(".chat-status", has_text="Answer complete.").wait_for()
    assert (
        answer.locator(".chat-note").inner_text()
        == "The assistant can't be reached right now. Quick answers from this site:"
    )
    link = answer.get_by_role("link", name="Web Development")
    assert link.get_attribute("href") == "/pk/services/web-development/"
    assert (
        answer.get_by_role("link", name="Contact us").get_attribute("href")
        == "/pk/contact/?service=web-development"
    )
    if os.environ.get("SITEGEN_SCREENSHOTS"):
        for width, height in ((390, 844), (1280, 800)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{os.environ['SITEGEN_SCREENSHOTS']}/chat-answer-{width}.png")


def test_an_invented_price_is_replaced_before_the_visitor_sees_it(page: Any, site: dict[str, Any]) -> None:
    site["fake"].answers["groq"] = [
        "Web Development",
        " costs",
        " Rs 12",
        ",345",
        " for everything",
        " you need.",
    ]
    try:
        page.locator(".chat-open").click()
        page.get_by_label("Your message").fill("How much does a website cost?")
        page.get_by_role("button", name="Send").click()
        page.locator(".chat-status", has_text="Answer complete.").wait_for()
    finally:
        site["fake"].answers.clear()
    answer = page.locator(".chat-assistant").last
    assert answer.locator(".chat-text").inner_text().startswith("Web Development: from Rs 80,000.")
    assert "12,345" not in answer.inner_text()
    assert answer.locator(".chat-note").inner_text() == "Quick answer from this site:"
