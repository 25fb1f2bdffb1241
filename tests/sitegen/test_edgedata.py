"""edgedata: dist/_edge/ as docs/architecture.md specifies it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sitegen import __version__
from tests.sitegen.sitefactory import SITE_YAML, build_site, write_site

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
    assert "- Web (from Rs 80,000): Sites." in pk and "- Phone: +92 300 1234567" in pk
    intl = (edge / "chat/intl.prompt.txt").read_text(encoding="utf-8")
    assert "- Web ($900 per month): Sites." in intl and "Rs" not in intl
    assert "- Email: hi@tiny.example" in intl


def test_search_index_has_every_page_as_plain_text(edge: Path) -> None:
    entries = json.loads((edge / "search/pk.json").read_text(encoding="utf-8"))
    by_url = {e["url"]: e for e in entries}
    assert set(by_url) == {"/pk/", "/pk/contact/", "/pk/legal/privacy/", "/pk/services/web/"}
    assert by_url["/pk/"]["title"] == "Home"
    assert "Welcome to Tiny." in by_url["/pk/"]["text"] and "<" not in by_url["/pk/"]["text"]
