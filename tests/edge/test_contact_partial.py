"""The theme's form partial and the handler agree on the form's contract.

The partial is rendered with StrictUndefined (as strict as any environment the
generator may use) and parsed; its fields must be exactly what the handler reads,
and the handler's own error page must offer the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest

from edge.contact import FIELDS, HONEYPOT_FIELD, create_app
from edge.inquiries import LocalInquiryStore
from tests.support.contactsite import BASE, make_settings, valid

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "themes" / "default" / "templates"


@dataclass
class Turnstile:
    site_key: str = ""
    secret_env: str = "TURNSTILE_SECRET_KEY"


@dataclass
class ContactForm:
    turnstile: Turnstile = field(default_factory=Turnstile)


@dataclass
class Contact:
    email: str = "info@7expertspk.com"


@dataclass
class Site:
    title: str = "7Experts"
    contact: Contact = field(default_factory=Contact)
    contact_form: ContactForm = field(default_factory=ContactForm)


@dataclass
class Region:
    id: str
    countries: list[str]


@dataclass
class Service:
    id: str
    name: str


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.fields: dict[str, dict[str, str | None]] = {}
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str | None] = []
        self.options: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "form":
            self.forms.append(a)
        if tag in {"input", "select", "textarea"} and a.get("name"):
            self.fields[str(a["name"])] = a
        if tag == "label" and a.get("for"):
            self.label_for.add(str(a["for"]))
        if tag == "script":
            self.scripts.append(a.get("src"))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href"))
        if tag == "option":
            self.options.append(a.get("value"))


def render(region: Region, site_key: str = "", **extra: Any) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    site = Site(contact_form=ContactForm(Turnstile(site_key=site_key)))
    services = [Service("web-development", "Web Development"), Service("seo", "SEO <&> Search")]
    return env.get_template("partials/contact_form.html").render(
        site=site, region=region, services=services, asset=lambda p: f"/assets/{p}", **extra
    )


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def test_partial_fields_are_the_handler_contract() -> None:
    parsed = parse(render(Region("pk", ["PK"])))
    [form] = parsed.forms
    assert form["method"] == "post" and form["action"] == "/api/contact"
    assert set(parsed.fields) == set(FIELDS) | {HONEYPOT_FIELD}
    assert parsed.fields["region"]["value"] == "pk"
    assert parsed.fields["region"]["type"] == "hidden"
    assert parsed.fields["consent"]["type"] == "checkbox" and "required" in parsed.fields["consent"]
    assert parsed.fields[HONEYPOT_FIELD]["tabindex"] == "-1"
    # Every visible field has a label.
    for name, attrs in parsed.fields.items():
        if attrs.get("type") != "hidden":
            assert attrs["id"] in parsed.label_for, name
    assert parsed.options == ["", "web-development", "seo", "other"]
    assert parsed.scripts == ["/assets/js/contact.js"]
    assert parsed.stylesheets == ["/assets/css/contact.css"]
    assert "/pk/legal/privacy/" in render(Region("pk", ["PK"]))


def test_partial_escapes_and_adapts_to_region() -> None:
    html = render(Region("intl", []))
    assert "SEO &lt;&amp;&gt; Search" in html
    assert "With the country code" in html  # no default country: the visitor must type +..
    assert "With the country code" not in render(Region("pk", ["PK"]))


def test_partial_uses_url_for_when_the_generator_provides_it() -> None:
    html = render(Region("pk", ["PK"]), url_for=lambda path: f"/pk{path}?via=url_for")
    assert 'href="/pk/legal/privacy/?via=url_for"' in html


def test_turnstile_widget_only_with_a_site_key() -> None:
    assert "cf-turnstile" not in render(Region("pk", ["PK"]))
    parsed = parse(render(Region("pk", ["PK"]), site_key="0x4AAAA"))
    assert "https://challenges.cloudflare.com/turnstile/v0/api.js" in parsed.scripts
    assert 'data-sitekey="0x4AAAA"' in render(Region("pk", ["PK"]), site_key="0x4AAAA")


@pytest.mark.anyio
async def test_error_page_offers_the_same_fields(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        page = await client.post("/", data=valid(email="nope"))
    assert page.status_code == 422
    parsed = parse(page.text)
    assert set(parsed.fields) == set(FIELDS) | {HONEYPOT_FIELD}
    assert parsed.scripts == []
    partial_ids = parse(render(Region("pk", ["PK"]))).ids
    for name in FIELDS:
        if name != "region":
            assert f"cf-{name}" in parsed.ids and f"cf-{name}" in partial_ids
