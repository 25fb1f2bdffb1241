"""This repository's site, built and read back: regional differences and policies from site.yaml."""

from __future__ import annotations

import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from sitegen.build import BuildOptions, BuildResult, build

ROOT = Path(__file__).resolve().parents[2]


class _Text(HTMLParser):
    """Visible text of <main> and every link target on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []
        self.links: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "main":
            self.depth += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "script":
            self.scripts.append(values.get("src") or "INLINE")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


class Page:
    def __init__(self, html: str) -> None:
        parser = _Text()
        parser.feed(html)
        self.html = html
        self.text = re.sub(r"\s+", " ", "".join(parser.parts))
        self.links = parser.links
        self.scripts = parser.scripts


def _build(root: Path, out: Path) -> BuildResult:
    return build(BuildOptions(root=root, out=out))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return _build(ROOT, tmp_path_factory.mktemp("dist"))


def page(result: BuildResult, rel: str) -> Page:
    return Page(result.files[rel].decode())


def _services(result: BuildResult, region: str) -> set[str]:
    return {
        rel.split("/")[2]
        for rel in result.files
        if rel.startswith(f"{region}/services/") and rel.count("/") == 3 and rel.endswith("/index.html")
    }


def test_both_regions_have_every_page(site: BuildResult) -> None:
    for region in ("pk", "intl"):
        for rel in (
            "",
            "about/",
            "services/",
            "contact/",
            "contact/thanks/",
            "portal/",
            "legal/privacy/",
            "legal/cookies/",
        ):
            assert f"{region}/{rel}index.html" in site.files, f"{region}/{rel}"
    assert len(_services(site, "pk")) >= 6 and len(_services(site, "intl")) >= 6


def test_pakistan_sees_branding_rupees_phone_and_whatsapp(site: BuildResult) -> None:
    phone = site.config.regions["pk"].params["phone"]
    whatsapp = f"https://wa.me/{site.config.regions['pk'].params['whatsapp']}"
    assert "branding" in _services(site, "pk") and "ecommerce-management" not in _services(site, "pk")
    for rel in ("pk/index.html", "pk/services/index.html"):
        p = page(site, rel)
        assert "Branding" in p.text, rel
        assert "eCommerce" not in p.text, rel
        assert re.search(r"Rs \d{1,3}(,\d{3})+", p.text), rel
        assert "$" not in p.text, rel
    for rel in ("pk/index.html", "pk/contact/index.html"):
        p = page(site, rel)
        assert phone in p.text and whatsapp in p.links, rel
        assert f"tel:{phone.replace(' ', '')}" in p.links, rel


def test_international_sees_ecommerce_dollars_and_time_zones(site: BuildResult) -> None:
    assert "ecommerce-management" in _services(site, "intl") and "branding" not in _services(site, "intl")
    for rel in ("intl/index.html", "intl/services/index.html"):
        p = page(site, rel)
        assert "eCommerce Management" in p.text, rel
        assert "Branding" not in p.text, rel
        assert re.search(r"\$\d{1,3}(,\d{3})*", p.text), rel
        assert "Rs " not in p.text and "PKR" not in p.text, rel
    home = page(site, "intl/index.html")
    assert "time zone" in home.text
    assert not any("wa.me" in link for link in home.links)
    assert site.config.regions["intl"].params["hours"] in page(site, "intl/contact/index.html").text


def test_service_prices_are_per_region(site: BuildResult) -> None:
    for path in sorted((ROOT / "content" / "services").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for region, price in data["price"].items():
            text = page(site, f"{region}/services/{data['id']}/index.html").text
            amount = f"{price['amount']:,}"
            assert (f"Rs {amount}" if price["currency"] == "PKR" else f"${amount}") in text, (
                path.name,
                region,
            )
            assert price["currency"] == {"pk": "PKR", "intl": "USD"}[region]
            assert "unit" in price and "from" in price, path.name


def test_privacy_policy_renders_the_running_system(site: BuildResult) -> None:
    config = site.config
    p = page(site, "pk/legal/privacy/index.html")
    updated = config.privacy.last_updated
    assert updated is not None
    assert f"Last updated: {updated:%B} {updated.day}, {updated.year}" in p.text
    for proc in config.privacy.processors:
        listed = proc.role != "hosting" or proc.name.lower() == config.hosting
        assert (proc.url in p.links) is listed, proc.name
    for provider in config.chat.providers:
        assert provider.name in p.text and provider.privacy_url in p.links
    assert "only the text of your chat messages" in p.text
    assert "Vercel Web Analytics" in p.text and "Vercel Speed Insights" in p.text
    assert f"up to {config.privacy.retention.inquiries_months} months" in p.text
    assert f"plus {config.privacy.retention.portal_months_after_close} months" in p.text
    assert "/pk/legal/cookies/" in p.links


@pytest.mark.parametrize(
    "fact",
    [
        "first and last name",
        "username",
        "email address, phone number and business address",
        "IP address",
        "browser type and version",
        "time zone",
        "operating system and platform",
        "approximate country",
        "never store a precise location",
        "anonymously",
        "time spent",
        "Client portal data",
        "Supabase",
        "ExpertBot",
        "sensitive personal information",
        "contract",
        "region",
        "contact form",
        "anonymous usage",
        "legal obligations",
        "HTTPS (TLS)",
        "encrypted at rest",
        "row-level security",
        "accidental loss",
        "no personal identifiers",
        "copy of the personal data",
        "correct",
        "delete",
        "object",
        "withdraw your consent",
        "FB Area Block 3, Karimabad",
        "+92 336 6532777",
        "info@7expertspk.com",
        "Google Search Console",
        "no personal data",
    ],
)
def test_privacy_policy_conveys_the_seed_facts(site: BuildResult, fact: str) -> None:
    assert fact in page(site, "intl/legal/privacy/index.html").text


def test_cookie_table_lists_every_cookie(site: BuildResult) -> None:
    html = site.files["pk/legal/cookies/index.html"].decode()
    rows = re.findall(
        r"<tr>\s*<td><code>([^<]+)</code></td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", html
    )
    expected = [
        (c.name, c.purpose, c.duration, "Essential" if c.essential else "Optional")
        for c in site.config.privacy.cookies
    ]
    assert rows == expected


def test_pages_load_analytics_only_from_the_site_itself(site: BuildResult) -> None:
    p = page(site, "pk/index.html")
    assert "INLINE" not in p.scripts
    assert "/_vercel/insights/script.js" in p.scripts
    assert all(src.startswith("/") for src in p.scripts)


def test_search_console_meta_tag(site: BuildResult) -> None:
    token = site.config.search_console.verification
    assert (
        f'<meta name="google-site-verification" content="{token}">' in site.files["intl/index.html"].decode()
    )


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """A copy of the site with other retention periods, one more cookie, Netlify hosting and analytics."""
    root = tmp_path_factory.mktemp("copy")
    shutil.copytree(ROOT / "content", root / "content")
    data = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))
    data["privacy"]["retention"] = {"inquiries_months": 7, "portal_months_after_close": 31}
    data["privacy"]["cookies"].append(
        {
            "name": "portal_hint",
            "purpose": "Remembers that you signed in before.",
            "duration": "30 days",
            "essential": False,
        }
    )
    data["hosting"] = "netlify"
    data["analytics"] = {"provider": "netlify"}
    data["chat"]["providers"] = data["chat"]["providers"][:1]
    (root / "site.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return _build(root, root / "dist")


def test_retention_change_changes_the_policies(site: BuildResult, changed: BuildResult) -> None:
    for region in ("pk", "intl"):
        text = page(changed, f"{region}/legal/privacy/index.html").text
        assert "up to 7 months" in text and "plus 31 months" in text
        assert "up to 12 months" not in text
        assert "plus 31 months" in page(changed, f"{region}/portal/index.html").text


def test_added_cookie_appears_in_the_cookie_table(changed: BuildResult) -> None:
    html = changed.files["intl/legal/cookies/index.html"].decode()
    assert "<td><code>portal_hint</code></td>" in html
    assert "<td>30 days</td>" in html and "<td>Optional</td>" in html
    assert "Optional cookies are only set after you agree" in Page(html).text


def test_hosting_and_analytics_change_the_processors_and_scripts(changed: BuildResult) -> None:
    text = page(changed, "pk/legal/privacy/index.html")
    assert "Netlify" in text.text and "Netlify Analytics" in text.text
    assert "Vercel" not in text.text
    assert "Cerebras" not in text.text and "Groq" in text.text
    assert not any("_vercel" in src for src in page(changed, "pk/index.html").scripts)


@pytest.mark.parametrize("region", ["pk", "intl"])
def test_contact_and_thank_you_pages_link_the_address_exactly(site: BuildResult, region: str) -> None:
    email = site.config.contact.email
    for rel in ("contact/", "contact/thanks/"):
        links = page(site, f"{region}/{rel}index.html").links
        assert f"mailto:{email}" in links, rel
        assert all(link == f"mailto:{email}" for link in links if link.startswith("mailto:")), rel


@pytest.mark.parametrize("region", ["pk", "intl"])
def test_web_development_lists_its_features_as_text(site: BuildResult, region: str) -> None:
    html = page(site, f"{region}/services/web-development/index.html").html
    assert "<li>Search-engine basics: titles, descriptions, sitemaps, structured data</li>" in html
    assert "{'" not in html and "['" not in html


_IMG = re.compile(r"<img ([^>]*)>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def _imgs(result: BuildResult, rel: str) -> list[dict[str, str]]:
    return [dict(_ATTR.findall(tag)) for tag in _IMG.findall(result.files[rel].decode())]


def test_the_work_pages_show_real_images_shipped_once_for_both_regions(site: BuildResult) -> None:
    from PIL import Image

    shown: dict[str, list[str]] = {}
    for region in ("pk", "intl"):
        study = _imgs(site, f"{region}/work/website/index.html")
        assert len(study) >= 3, region  # the case study's picture and the ones in its text
        assert "loading" not in study[0] and all(i["loading"] == "lazy" for i in study[1:])
        card = _imgs(site, f"{region}/index.html")  # the home page's "Our work" card, far down
        assert card and all(i["loading"] == "lazy" for i in card)
        shown[region] = [i["src"] for i in study]
        for img in study + card:
            assert img["alt"] and img["width"] and img["height"] and img["srcset"], img
            for url, width in (part.split() for part in img["srcset"].split(", ")):
                with Image.open(io.BytesIO(site.files[url.lstrip("/")])) as variant:
                    assert variant.width == int(width.rstrip("w"))
                    assert variant.width / variant.height == pytest.approx(
                        int(img["width"]) / int(img["height"]), rel=0.01
                    )
    assert shown["pk"] == shown["intl"]  # the same files, published once under assets/
    pictures = [rel for rel in site.files if rel.endswith((".jpg", ".webp", ".png"))]
    assert pictures and all(rel.startswith("assets/img/") for rel in pictures)
    og = re.search(r'<meta property="og:image" content="([^"]+)"', site.files["pk/about/index.html"].decode())
    assert og and og.group(1).startswith(site.config.base_url + "/assets/img/home.")
