"""The region switcher stores the override cookie, and the routing rules honour it (Chromium)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen import emulator
from sitegen.build import BuildOptions, BuildResult, build
from tests.support.chromium import CHROMIUM as CHROMIUM_PATH
from tests.support.chromium import CHROMIUM_ARGS as ARGS

CHROMIUM = Path(CHROMIUM_PATH)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, BuildResult]]:
    result = build(BuildOptions(root=ROOT, out=tmp_path_factory.mktemp("dist")))
    handler = functools.partial(_Quiet, directory=str(result.out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", result
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def test_switcher_sets_the_cookie_that_routing_obeys(served: tuple[str, BuildResult]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium (/usr/bin/chromium) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    base, result = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{base}/pk/services/")
            assert context.cookies() == []  # nothing is set until the visitor chooses
            page.click('nav.region-switcher a[data-region="intl"]')
            page.wait_for_url(f"{base}/intl/services/")
            (cookie,) = context.cookies()
            assert cookie["name"] == "nf_country" and cookie["path"] == "/"
            assert cookie["sameSite"] == "Lax" and cookie["secure"] is False  # Secure only over https
            assert cookie["expires"] > 0  # persistent (Max-Age), not a session cookie
            intl_country = cookie["value"]

            page.click('nav.region-switcher a[data-region="pk"]')
            page.wait_for_url(f"{base}/pk/services/")
            (cookie,) = context.cookies()
            pk_country = cookie["value"]
        finally:
            browser.close()
    assert pk_country in result.config.regions["pk"].countries
    # A visitor in Pakistan who picked International is routed there, and back.
    host = result.config.hosting
    picked_intl = emulator.resolve_files(result.files, host, "/", "PK", {"nf_country": intl_country})  # type: ignore[arg-type]
    assert picked_intl.location == "/intl/"
    picked_pk = emulator.resolve_files(result.files, host, "/about/", "US", {"nf_country": pk_country})  # type: ignore[arg-type]
    assert picked_pk.location == "/pk/about/"
