"""Every page of both regions, in real Chromium: 200, no console errors, no third-party requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

REGIONS = ("pk", "intl")
SITE_YAML = Path(__file__).resolve().parents[2] / "site.yaml"


def _paths(built_site: Path, region: str) -> list[str]:
    xml = (built_site / region / "sitemap.xml").read_text(encoding="utf-8")
    return [urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", xml)]


def test_every_page_loads_cleanly(browser: Any, built_site: Path, site_server: str) -> None:
    problems: list[str] = []
    current = {"path": ""}  # the page being visited, for the messages below

    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"{current['path']}: console {message.text}")

    def on_pageerror(error: Any) -> None:
        problems.append(f"{current['path']}: pageerror {error}")

    def on_request(request: Any) -> None:
        if not request.url.startswith((site_server + "/", "data:")):
            problems.append(f"{current['path']}: request to another origin {request.url}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            problems.append(f"{current['path']}: {response.status} for {response.url}")

    declared = {
        c["name"] for c in yaml.safe_load(SITE_YAML.read_text(encoding="utf-8"))["privacy"]["cookies"]
    }
    visited = 0
    for region in REGIONS:
        context = browser.new_context()
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("request", on_request)
        page.on("response", on_response)
        for path in _paths(built_site, region):
            current["path"] = path
            # networkidle: late fetches are attributed to the page that made them.
            response = page.goto(site_server + path, wait_until="networkidle")
            visited += 1
            if response is None or response.status != 200:
                problems.append(f"{path}: status {response.status if response else 'none'}")
        # Only cookies that the privacy page declares may ever be set (region switcher not exercised yet).
        for cookie in context.cookies():
            if cookie["name"] not in declared:
                problems.append(f"{region}: undeclared cookie {cookie['name']}")
        context.close()
    assert visited > 0, "the sitemaps list no pages"
    assert not problems, "\n".join(problems)
