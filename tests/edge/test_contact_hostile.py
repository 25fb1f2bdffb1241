"""Hostile input: hundreds of generated payloads against the contact handler.

Each payload carries a unique marker in its message, so the store can be
checked after every request: a 2xx means exactly one new row with that marker,
anything else means no new row, and no answer is ever a 5xx. Payloads that
the generator builds as legitimate must be accepted. Every error page that
re-shows a hostile payload is parsed to prove that it contains no markup the
payload tried to inject.
"""

from __future__ import annotations

import json
import random
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.contact import create_app
from edge.inquiries import LocalInquiryStore
from tests.support.contact_payloads import HEADER_INJECTION, SQLI, XSS, payloads
from tests.support.contactsite import BASE, JSON_HEADERS, make_settings, valid

pytestmark = pytest.mark.anyio


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "h1",
    "div",
    "p",
    "ul",
    "li",
    "a",
    "form",
    "input",
    "label",
    "select",
    "option",
    "textarea",
    "button",
}


def assert_no_injected_markup(page: str) -> None:
    collector = TagCollector()
    collector.feed(page)
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in the error page"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler attribute {name} in the error page"
            if name == "href":
                assert value is not None and not value.lower().startswith("javascript:")
    assert page.count("<style>") == 1  # only the page's own stylesheet


def rows_with(store: LocalInquiryStore, marker: str) -> list[dict[str, Any]]:
    return [r for r in store.all() if marker in r["message"]]


async def test_hostile_payloads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body=16384)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    app = create_app(settings, store=store)
    statuses: dict[int, int] = {}
    sent = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for marker, payload, is_legit in payloads():
            # Alternate JSON clients and no-JS form posts (form posts carry text only).
            as_form = sent % 2 == 1 and all(isinstance(v, str) for v in payload.values())
            if as_form:
                response = await client.post("/", data=payload)
            else:
                body = json.dumps(payload, ensure_ascii=True)
                response = await client.post(
                    "/", content=body, headers={**JSON_HEADERS, "Content-Type": "application/json"}
                )
            sent += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (marker, payload, response.text)
            stored = rows_with(store, marker)
            if response.status_code in (200, 303):
                assert len(stored) == 1, (marker, payload)
            else:
                assert stored == [], (marker, payload)
                assert response.status_code in (400, 413, 415, 422)
                if response.headers["content-type"].startswith("text/html"):
                    assert_no_injected_markup(response.text)
            if is_legit:
                assert response.status_code in (200, 303), (marker, payload, response.text)

        # Raw malformed bodies that are not field dictionaries at all.
        rng = random.Random(7)
        for i in range(40):
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
            ctype = rng.choice(["application/json", "application/x-www-form-urlencoded", "text/html", ""])
            response = await client.post("/", content=raw, headers={"Content-Type": ctype})
            sent += 1
            assert 400 <= response.status_code < 500, (i, raw, response.status_code)
        for size in (16385, 50_000, 1_000_000):
            response = await client.post("/", json=valid(message="x" * size), headers=JSON_HEADERS)
            sent += 1
            assert response.status_code == 413

    assert sent >= 200
    rows = store.all()
    # Every accepted request left exactly one row; nothing else was stored.
    assert len(rows) == statuses.get(200, 0) + statuses.get(303, 0)
    assert len({r["message"] for r in rows}) == len(rows)
    for row in rows:
        for key in ("name", "email", "company", "region", "service", "phone"):
            value = row[key] or ""
            assert "\r" not in value and "\n" not in value and "\x00" not in value
        assert "\x00" not in row["message"] and "\r" not in row["message"]
        assert not any(
            ch in row["message"] for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        )
    # Hostile text is kept as plain text, exactly as typed (escaping happens on output, never in storage).
    sqli_rows = [r for r in rows if any(text in r["message"] for text in SQLI)]
    assert sqli_rows, "the generator is expected to produce accepted SQL-injection text"
    assert any(text in r["message"] for r in rows for text in XSS)
    assert statuses.get(422, 0) > 50


async def test_xss_reshown_in_form_is_inert(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    app = create_app(settings, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for payload in XSS + HEADER_INJECTION:
            for field in ("name", "company", "message", "phone", "region", "service"):
                # An invalid email forces the error page, which re-shows every field.
                response = await client.post("/", data=valid(**{field: payload, "email": "x"}))
                assert response.status_code == 422
                assert_no_injected_markup(response.text)
    assert store.all() == []
