"""Contact-form payloads for hostile-input tests: legitimate ones with the odd character, and
hostile ones (markup, SQL, Unicode tricks, header injection, wrong types), each carrying a
unique marker in its message so a test can find the row it made. Seeded: the same every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from tests.support.contactsite import valid

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


def payloads() -> Iterator[tuple[str, dict[str, Any], bool]]:
    rng = random.Random(20261125)
    for i in range(120):
        marker = f"[legit-{i}]"
        yield marker, legit(rng, marker), True
    for i in range(180):
        marker = f"[hostile-{i}]"
        yield marker, hostile(rng, marker, i), False
