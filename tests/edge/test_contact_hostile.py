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
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.contact import create_app
from edge.inquiries import LocalInquiryStore
from tests.edge.test_contact import BASE, JSON_HEADERS, make_settings, valid

pytestmark = pytest.mark.anyio

XSS = [
    "<script>alert(1)</script>",
    '"><script>alert(document.cookie)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "'\"><iframe src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "{{ 7*7 }} {% raw %} ${7*7}",
    "<body onload=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<style>*{display:none}</style>",
]
SQLI = [
    "'; drop table inquiries; --",
    '" or 1=1 --',
    "1); delete from inquiries where (1=1",
    "' union select * from sqlite_master --",
    "Robert'); DROP TABLE Students;--",
    "%' or '1'='1",
]
UNICODE = [
    "Zo\u0065\u0301 Saldan\u0303a",  # combining marks (NFC composes them)
    "\u202eevil\u202c reversed",  # bidi override
    "zero\u200bwidth\u200cjoin\u200d",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",  # emoji ZWJ sequence, astral plane
    "ｆｕｌｌｗｉｄｔｈ",
    "Ελληνικά Кириллица العربية اردو 中文",
    "\u0000nul\u0000",
    "tab\tand\u000bvertical\u000cfeed",
    "\u2028line\u2029separators",
    "\ufeffbom at start",
    "a\u0300" * 30,
]
HEADER_INJECTION = [
    "Eve\r\nBcc: victim@example.com",
    "Eve\nX-Injected: 1",
    "Eve\rSubject: pwned",
    "eve@example.com\r\nBcc: all@example.com",
    "Eve%0d%0aBcc: x@example.com",
]
NAMES = ["Ayesha Khan", "José Núñez", "عائشہ خان", "李小龍", "O'Brien-Smith", "Zoë", "Ng", "Đặng Thị"]
EMAILS = ["a@example.com", "first.last+tag@example.co.uk", "user@sub.example.pk", "x_y@example.org"]
PK_PHONES = ["0336 6532777", "+92 336 6532777", "021 3456 7890", "", "0300-1234567"]
INTL_PHONES = ["+44 20 7946 0018", "+1 212 555 0187", "+971 4 312 3456", ""]
WORDS = "we need a website app brand shop store launch karachi london budget timeline quote please".split()


def legit(rng: random.Random, marker: str) -> dict[str, Any]:
    region = rng.choice(["pk", "intl"])
    services = {"pk": ["web-development", "branding"], "intl": ["web-development", "ecommerce-management"]}
    message = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60)))
    extra = rng.choice(
        ["", "\nSecond line.", "\r\nWindows line.", " " + rng.choice(UNICODE[:5] + XSS + SQLI)]
    )
    return valid(
        name=rng.choice(NAMES),
        email=rng.choice(EMAILS),
        phone=rng.choice(PK_PHONES if region == "pk" else INTL_PHONES),
        company=rng.choice(["", "ACME Ltd", "Khan & Sons", "<b>Bold Co</b>"]),
        service=rng.choice(services[region] + ["", "other"]),
        message=f"{marker} {message}{extra}",
        region=region,
    )


def hostile(rng: random.Random, marker: str, i: int) -> dict[str, Any]:
    base = legit(rng, marker)
    field = rng.choice(["name", "email", "phone", "company", "service", "message", "region", "consent"])
    kind = i % 6
    if kind == 0:
        value: Any = rng.choice(XSS)
    elif kind == 1:
        value = rng.choice(SQLI)
    elif kind == 2:
        value = rng.choice(UNICODE)
    elif kind == 3:
        value = rng.choice(HEADER_INJECTION)
    elif kind == 4:
        value = rng.choice([None, 1, 1.5, True, [], {}, ["x"], {"$ne": ""}, "x" * rng.randint(101, 6000)])
    else:
        value = rng.choice(["", " ", "\n", "../../", "%00", "\\", "'" * 10, "<!--"])
    if field == "message" and isinstance(value, str):
        value = f"{marker} {value}"  # keep the marker where rows are looked up
    base[field] = value
    return base


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


def payloads() -> Iterator[tuple[str, dict[str, Any], bool]]:
    rng = random.Random(20261125)
    for i in range(120):
        marker = f"[legit-{i}]"
        yield marker, legit(rng, marker), True
    for i in range(180):
        marker = f"[hostile-{i}]"
        yield marker, hostile(rng, marker, i), False


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
