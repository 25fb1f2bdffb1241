"""edgedata: dist/_edge/ as docs/architecture.md specifies it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sitegen import __version__
from sitegen.edgedata import read_search
from tests.support.sitefactory import SITE_YAML, build_site, write_site

FILES = {
    "content/index.md": "---\ntitle: Home\n---\nWelcome to <em>Tiny</em>.\n",
    "content/contact.md": "---\ntitle: Contact\ntemplate: contact\n---\nWrite.\n",
    "content/legal/privacy.md": "---\ntitle: Privacy\ntemplate: legal\n---\nWe keep little.\n",
    "content/services/web.yaml": (
        "id: web\nname: Web\nsummary: Sites.\nfeatures: [Fast]\n"
        "price:\n  pk: {amount: 80000, unit: project, from: true}\n  intl: {amount: 900, unit: month}\n"
    ),
}


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    yaml = SITE_YAML.replace("chat:\n  enabled: false\n", "chat:\n  enabled: true\n  bot_name: TinyBot\n")
    root = write_site(tmp_path_factory.mktemp("edge"), dict(FILES), yaml)
    build_site(root)
    return root / "dist/_edge"


def test_site_json_follows_the_contract(edge: Path) -> None:
    site: dict[str, Any] = json.loads((edge / "site.json").read_text(encoding="utf-8"))
    for key in (
        "version",
        "generator",
        "production",
        "title",
        "base_url",
        "contact",
        "default_region",
        "regions",
        "retention",
        "edge",
        "contact_form",
        "chat",
        "portal",
    ):
        assert key in site, key
    assert (site["version"], site["generator"], site["production"]) == (1, f"sitegen {__version__}", True)
    assert site["default_region"] == "intl" and list(site["regions"]) == ["pk", "intl"]
    pk = site["regions"]["pk"]
    assert {k: pk[k] for k in ("label", "hreflang", "locale", "currency", "countries", "default")} == {
        "label": "Pakistan",
        "hreflang": "en-PK",
        "locale": "en_PK",
        "currency": "PKR",
        "countries": ["PK"],
        "default": False,
    }
    assert pk["params"] == {"phone": "+92 300 1234567"}
    assert pk["urls"] == {"home": "/pk/", "contact": "/pk/contact/", "privacy": "/pk/legal/privacy/"}
    (web,) = pk["services"]
    assert web["url"] == "/pk/services/web/" and web["features"] == ["Fast"]
    assert web["price"] == {
        "amount": 80000,
        "currency": "PKR",
        "unit": "project",
        "from": True,
        "text": "from Rs 80,000",
    }
    assert site["regions"]["intl"]["services"][0]["price"]["text"] == "$900 per month"
    assert site["chat"]["enabled"] is True and site["chat"]["bot_name"] == "TinyBot"


def test_chat_prompt_per_region_lists_its_services_and_contact(edge: Path) -> None:
    pk = (edge / "chat/pk.prompt.txt").read_text(encoding="utf-8")
    assert pk.startswith("You are TinyBot, the assistant on the website of Tiny.")
    assert "- Web, from Rs 80,000 (/pk/services/web/): Sites." in pk and "- Phone: +92 300 1234567" in pk
    assert "- Contact form (/pk/contact/)" in pk
    assert "Privacy policy (/pk/legal/privacy/): contact form inquiries are kept for up to 12 months;" in pk
    assert "Other regional sites, with their own services and prices: International (/intl/)." in pk
    intl = (edge / "chat/intl.prompt.txt").read_text(encoding="utf-8")
    assert "- Web, $900 per month (/intl/services/web/): Sites." in intl and "Rs" not in intl
    assert "- Email: hi@tiny.example" in intl


def test_chat_chunks_are_sections_with_anchors_and_services_with_prices(edge: Path) -> None:
    chunks = json.loads((edge / "chat/pk.chunks.json").read_text(encoding="utf-8"))
    services = [c for c in chunks if c["kind"] == "service"]
    assert services == [
        {
            "kind": "service",
            "service": "web",
            "url": "/pk/services/web/",
            "title": "Web",
            "heading": "from Rs 80,000",
            "text": "Sites. Fast",
        }
    ]
    home = [c for c in chunks if c["url"].split("#")[0] == "/pk/"]
    # Sections by heading, each linked by its anchor; short ones (a service card, the one-line
    # text under "About Tiny") are folded into the one before them.
    assert [(c["url"], c["heading"]) for c in home] == [("/pk/", ""), ("/pk/#home-services", "What we do")]
    assert home[0]["title"] == "Home" and home[0]["text"].startswith("Home Web from Rs 80,000")
    assert "Web Sites. from Rs 80,000" in home[1]["text"] and home[1]["text"].endswith("Welcome to Tiny.")
    intl = json.loads((edge / "chat/intl.chunks.json").read_text(encoding="utf-8"))
    assert [c["heading"] for c in intl if c["kind"] == "service"] == ["$900 per month"]


def test_page_sections_split_at_headings_and_keep_anchors() -> None:
    from sitegen.chunks import page_sections

    html = (
        "<h1>Privacy</h1><p>Intro text that is long enough to stand alone.</p>"
        '<nav class="toc"><h2>On this page</h2><a href="#rights">Your rights</a></nav>'
        '<h2 class="x" id="rights">Your <em>rights</em></h2><p>You may ask for a copy of your data, or its deletion.</p>'
        "<h3>Short</h3><p>Tiny.</p>"
    )
    assert page_sections(html) == [
        {"heading": "", "anchor": "", "text": "Privacy Intro text that is long enough to stand alone."},
        {
            "heading": "Your rights",
            "anchor": "rights",
            "text": "You may ask for a copy of your data, or its deletion. Short Tiny.",
        },
    ]


def test_search_index_has_every_page_as_plain_text(edge: Path) -> None:
    entries = read_search(edge, "pk")
    by_url = {e["url"]: e for e in entries}
    assert set(by_url) == {"/pk/", "/pk/contact/", "/pk/legal/privacy/", "/pk/services/web/"}
    assert by_url["/pk/"]["title"] == "Home"
    assert "Welcome to Tiny." in by_url["/pk/"]["text"] and "<" not in by_url["/pk/"]["text"]


def test_chunks_file_from_serialised_pages_is_the_same_json() -> None:
    """The build joins each page's chunks serialised where it rendered; the file must not change by that."""
    from sitegen.chunks import chunks_file, chunks_json, page_chunks_json, search_entry, service_chunks

    pages = [
        search_entry(
            "/pk/a/",
            "A – “quoted”",
            '<p>Intro text long enough to stand alone.</p><h2 id="x">X</h2><p>Ünïcode body.</p>',
        ),
        search_entry("/pk/b/", "B", ""),
    ]
    services = service_chunks(
        [{"id": "web", "url": "/pk/services/web/", "name": "Web", "price_text": "from Rs 1", "summary": "S"}]
    )
    assert (
        chunks_json([page_chunks_json(p) for p in pages], services) == chunks_file(pages, services).encode()
    )
    assert chunks_json([], []) == chunks_file([], []).encode() == b"[]\n"
    assert json.loads(chunks_json([page_chunks_json(p) for p in pages], []))[0]["url"] == "/pk/a/"
