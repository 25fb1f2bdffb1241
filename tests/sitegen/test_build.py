"""Whole tiny sites built inline; the output HTML is parsed and checked."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.edgedata import read_search
from sitegen.errors import BuildFailed
from tests.support.sitefactory import build_site, html, write_site

PAGES = {
    "content/index.md": """
        ---
        title: Home
        menu: main
        ---
        Welcome. Web development: {{ price("web") }}.

        ::: region pk
        Call {{ region.params.phone }}.
        :::

        ::: region not pk
        We work in your time zone.
        :::
    """,
    "content/about.md": """
        ---
        title:
          pk: About us (Pakistan)
          default: About us
        menu: main
        weight: 2
        ---
        See [services](services/index.md) and [home](/).

        ## Team

        Ten people.
    """,
    "content/services/index.md": """
        ---
        title: Services
        template: services
        ---
        Prices in {{ region.currency }}. Read [about the team](../about.md#team).
    """,
    "content/local.md": """
        ---
        title: Local offices
        regions: [pk]
        ---
        Karachi.
    """,
    "content/services/web.yaml": """
        id: web
        name: Web Development
        summary: Websites.
        price:
          pk: {amount: 80000, currency: PKR, unit: project, from: true}
          intl: {amount: 900, currency: USD, unit: project, from: true}
        body: Built well.
    """,
    "content/services/branding.yaml": """
        id: branding
        name: Branding
        summary: Logos.
        regions: [pk]
        price:
          pk: {amount: 40000}
    """,
    "content/services/shop.yaml": """
        id: shop
        name: eCommerce Management
        summary: Shops.
        regions: [intl]
        price:
          intl: {amount: 600, unit: month}
    """,
}


class Heads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.anchors: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self.links.append(a)
        if tag == "a":
            self.anchors.append(a)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Heads:
    p = Heads()
    p.feed(text)
    return p


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_site(tmp_path_factory.mktemp("site"), dict(PAGES))
    build_site(root)
    return root


def test_one_site_per_region_with_pretty_urls(site: Path) -> None:
    dist = site / "dist"
    for rid in ("pk", "intl"):
        for rel in (
            "index.html",
            "about/index.html",
            "services/index.html",
            "services/web/index.html",
            "404.html",
            "sitemap.xml",
        ):
            assert (dist / rid / rel).is_file(), f"{rid}/{rel}"
    assert (dist / "pk/local/index.html").is_file()
    assert not (dist / "intl/local").exists()
    assert (dist / "pk/services/branding/index.html").is_file() and not (
        dist / "intl/services/branding"
    ).exists()
    assert (dist / "intl/services/shop/index.html").is_file() and not (dist / "pk/services/shop").exists()
    assert (dist / "404.html").read_bytes() == (dist / "intl/404.html").read_bytes()
    assert "Sitemap: https://tiny.example/sitemap.xml" in (dist / "robots.txt").read_text()


def test_canonical_and_hreflang_alternates(site: Path) -> None:
    links = parse(html(site, "pk/about/index.html")).links
    canonical = [link["href"] for link in links if link.get("rel") == "canonical"]
    alternates = {link["hreflang"]: link["href"] for link in links if link.get("rel") == "alternate"}
    assert canonical == ["https://tiny.example/pk/about/"]
    assert alternates == {
        "en-PK": "https://tiny.example/pk/about/",
        "en": "https://tiny.example/intl/about/",
        "x-default": "https://tiny.example/intl/about/",
    }
    only_pk = {
        link["hreflang"]: link["href"]
        for link in parse(html(site, "pk/local/index.html")).links
        if link.get("rel") == "alternate"
    }
    assert only_pk == {"en-PK": "https://tiny.example/pk/local/"}


def test_region_blocks_values_and_prices(site: Path) -> None:
    pk = html(site, "pk/index.html")
    intl = html(site, "intl/index.html")
    assert "Call +92 300 1234567." in pk and "time zone" not in pk
    assert "time zone" in intl and "Call" not in intl
    assert "Web development: from Rs 80,000." in pk
    assert "Web development: from $900." in intl
    assert "Branding" in pk and "eCommerce Management" not in pk
    assert "eCommerce Management" in intl and "Branding" not in intl
    assert "$600 per month" in intl
    assert "Prices in PKR" in html(site, "pk/services/index.html")
    assert "<h1>About us (Pakistan)</h1>" in html(site, "pk/about/index.html")
    assert "<h1>About us</h1>" in html(site, "intl/about/index.html")


def test_internal_links_are_region_prefixed(site: Path) -> None:
    hrefs = [a.get("href") for a in parse(html(site, "pk/about/index.html")).anchors]
    assert "/pk/services/" in hrefs
    assert "/pk/" in hrefs
    services = [a.get("href") for a in parse(html(site, "intl/services/index.html")).anchors]
    assert "/intl/about/#team" in services
    assert "/intl/services/shop/" in services and "/intl/services/branding/" not in services


def test_region_switcher_links_same_page_or_home(site: Path) -> None:
    anchors = parse(html(site, "pk/local/index.html")).anchors
    switch = {a["data-region"]: a for a in anchors if "data-region" in a}
    assert switch["intl"]["href"] == "/intl/"
    assert switch["intl"]["data-country"] == "ZZ"
    switch = {
        a["data-region"]: a for a in parse(html(site, "intl/about/index.html")).anchors if "data-region" in a
    }
    assert switch["pk"]["href"] == "/pk/about/" and switch["pk"]["data-country"] == "PK"


def test_sitemaps_per_region_and_index(site: Path) -> None:
    index = (site / "dist/sitemap.xml").read_text()
    assert "<loc>https://tiny.example/pk/sitemap.xml</loc>" in index
    assert "<loc>https://tiny.example/intl/sitemap.xml</loc>" in index
    pk = (site / "dist/pk/sitemap.xml").read_text()
    assert "<loc>https://tiny.example/pk/local/</loc>" in pk
    assert 'hreflang="x-default" href="https://tiny.example/intl/about/"' in pk
    assert "https://tiny.example/pk/services/shop/" not in pk


def test_assets_are_hashed_and_shared(site: Path) -> None:
    assets = sorted(p.relative_to(site / "dist").as_posix() for p in (site / "dist/assets").rglob("*.css"))
    assert any(a.startswith("assets/css/site.") for a in assets)
    css = next(a for a in assets if a.startswith("assets/css/site."))
    assert f'href="/{css}"' in html(site, "pk/index.html") and f'href="/{css}"' in html(
        site, "intl/index.html"
    )


def test_edge_data_for_the_handlers(site: Path) -> None:
    data = json.loads((site / "dist/_edge/site.json").read_text())
    assert data["default_region"] == "intl"
    assert [s["id"] for s in data["regions"]["pk"]["services"]] == ["branding", "web"]
    web = next(s for s in data["regions"]["pk"]["services"] if s["id"] == "web")
    assert web["price_text"] == "from Rs 80,000" and web["url"] == "/pk/services/web/"
    prompt = (site / "dist/_edge/chat/intl.prompt.txt").read_text()
    assert (
        "eCommerce Management, $600 per month (/intl/services/shop/): Shops." in prompt
        and "Branding" not in prompt
    )
    search = read_search(site / "dist/_edge", "pk")
    assert any(entry["url"] == "/pk/local/" and "Karachi" in entry["text"] for entry in search)


def test_region_filter_and_out_dir(tmp_path: Path) -> None:
    root = write_site(tmp_path / "s", dict(PAGES))
    result = build_site(root, regions=["pk"], out=tmp_path / "out")
    assert result.pages == {"pk": 6}
    assert (tmp_path / "out/pk/index.html").is_file() and not (tmp_path / "out/intl").exists()


def test_rebuild_only_rewrites_changed_files_and_removes_stale(tmp_path: Path) -> None:
    root = write_site(tmp_path, dict(PAGES))
    build_site(root)
    again = build_site(root)
    assert again.written == 0 and again.removed == 0
    (root / "content/local.md").unlink()
    result = build_site(root)
    assert result.removed >= 1 and not (root / "dist/pk/local").exists()


def test_failed_build_leaves_dist_untouched(tmp_path: Path) -> None:
    root = write_site(tmp_path, dict(PAGES))
    build_site(root)
    before = {p: p.read_bytes() for p in (root / "dist").rglob("*") if p.is_file()}
    (root / "content/about.md").write_text("---\ntitle: [broken\n---\nx\n")
    with pytest.raises(BuildFailed):
        build_site(root)
    after = {p: p.read_bytes() for p in (root / "dist").rglob("*") if p.is_file()}
    assert after == before


def test_three_and_one_region_sites_build_the_same_way(tmp_path: Path) -> None:
    one = write_site(
        tmp_path / "one",
        {"content/index.md": "---\ntitle: Solo\n---\nHi {{ region.label }}.\n"},
        site_yaml="title: One\nbase_url: https://one.example\nregions:\n  main:\n    label: Main\n    default: true\n"
        "    hreflang: en\n    locale: en_US\n    currency: USD\n",
    )
    result = build_site(one)
    assert result.pages == {"main": 1}
    assert "Hi Main." in html(one, "main/index.html")
