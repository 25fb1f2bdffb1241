"""The golden three-region fixture (tests/fixtures/three_regions/).

The build output is reduced to what an editor or a search engine sees
(titles, headings, main text, canonical/hreflang, switcher, menus, prices,
sitemaps, edge search index) and compared with expected.json. Hashes in asset
names are masked so a CSS edit does not churn the golden file; everything
else must match exactly. After an intended change, regenerate it with
``SITEGEN_UPDATE_GOLDEN=1 pytest tests/sitegen/test_fixture_three_regions.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sitegen.build import BuildOptions, BuildResult, build
from sitegen.cli import main
from sitegen.edgedata import read_search

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "three_regions"
GOLDEN = FIXTURE / "expected.json"
_HASHED = re.compile(r"(/assets/[^\"' ]+?)\.[0-9a-f]{8}(\.\w+)")


def _mask(text: str) -> str:
    return _HASHED.sub(r"\1.HASH\2", text)


class _Summary(HTMLParser):
    """Collects the parts of a page that matter to visitors and crawlers."""

    def __init__(self) -> None:
        super().__init__()
        self.info: dict[str, Any] = {"alternates": {}, "switcher": [], "menu": [], "prices": [], "h1": []}
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._main: list[str] = []
        self._in_main = 0
        self._in_form = 0
        self._capture: str | None = None
        self._buf: list[str] = []

    def _inside(self, tag: str, label: str) -> bool:
        return any(t == tag and a.get("aria-label") == label for t, a in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.info["lang"] = a.get("lang")
        if tag == "link" and a.get("rel") == "canonical":
            self.info["canonical"] = a["href"]
        if tag == "link" and a.get("rel") == "alternate":
            self.info["alternates"][a["hreflang"]] = a["href"]
        if tag == "a" and self._inside("nav", label="Region"):
            self.info["switcher"].append([a.get("data-region"), a.get("data-country"), a.get("href")])
        if tag == "a" and self._inside("nav", label="Main"):
            self.info["menu"].append(a.get("href"))
        if tag in {"h1", "title"} or "price" in a.get("class", "").split():
            self._capture, self._buf = tag if tag in {"h1", "title"} else "price", []
        # Text of <main>, except forms: the contact form partial belongs to another part.
        self._in_main += tag == "main"
        self._in_form += tag == "form"
        if tag not in {"meta", "link", "img", "br", "input", "hr"}:
            self._stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if self._capture and (tag == self._capture or (self._capture == "price" and tag == "p")):
            text = " ".join("".join(self._buf).split())
            if self._capture == "title":
                self.info["title"] = text
            else:
                self.info["prices" if self._capture == "price" else "h1"].append(text)
            self._capture = None
        self._in_main -= tag == "main"
        self._in_form -= tag == "form"
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buf.append(data)
        if self._in_main and not self._in_form:
            self._main.append(data)

    def result(self) -> dict[str, Any]:
        self.info["main"] = " ".join("".join(self._main).split())
        return self.info


def summarize(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "files": sorted(_mask(p.relative_to(out).as_posix()) for p in out.rglob("*") if p.is_file())
    }
    pages: dict[str, Any] = {}
    for path in sorted(out.rglob("*.html")):
        parser = _Summary()
        parser.feed(_mask(path.read_text(encoding="utf-8")))
        pages[path.relative_to(out).as_posix()] = parser.result()
    summary["pages"] = pages
    summary["sitemaps"] = {
        p.relative_to(out).as_posix(): re.findall(r"<loc>([^<]+)</loc>", p.read_text(encoding="utf-8"))
        for p in sorted(out.rglob("sitemap.xml"))
    }
    summary["robots"] = (out / "robots.txt").read_text(encoding="utf-8").splitlines()
    summary["search"] = {
        p.stem: sorted([e["url"], e["title"]] for e in read_search(out / "_edge", p.stem))
        for p in sorted((out / "_edge/search").glob("*.json"))
    }
    site = json.loads((out / "_edge/site.json").read_text(encoding="utf-8"))
    summary["edge_services"] = {
        rid: [[s["id"], s["url"], s["price"]["text"]] for s in region["services"]]
        for rid, region in site["regions"].items()
    }
    return summary


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    # Built from a copy: the fixture folder stays clean (no dist/, no manifest).
    root = tmp_path_factory.mktemp("three") / "site"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("expected.json"))
    result = build(BuildOptions(root=root))
    return root / "dist", result


def test_output_matches_the_golden_summary(built: tuple[Path, BuildResult]) -> None:
    out, _ = built
    actual = summarize(out)
    if os.environ.get("SITEGEN_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert actual["files"] == expected["files"]
    for name in expected["pages"]:
        assert actual["pages"][name] == expected["pages"][name], name
    assert actual == expected


def test_three_regions_with_their_own_pages_and_prices(built: tuple[Path, BuildResult]) -> None:
    out, result = built
    # A region's page count follows from `regions:` in front matter and the catalog.
    assert result.pages == {"pk": 8, "ae": 8, "intl": 7}
    assert not (out / "intl/team").exists() and (out / "ae/team/index.html").is_file()
    assert not (out / "intl/services/seo").exists() and (out / "intl/services/audit/index.html").is_file()
    assert not any("draft" in p.as_posix() for p in out.rglob("*"))
    pages = summarize(out)["pages"]
    assert pages["pk/services/index.html"]["prices"] == ["from Rs 80,000", "Rs 25,000 per month"]
    assert pages["ae/services/index.html"]["prices"] == ["from AED 3,500", "AED 1,200 per month"]
    assert pages["intl/services/index.html"]["prices"] == ["from $900", "$450.50 per report"]
    assert pages["pk/about/index.html"]["h1"] == ["About us in Karachi"]
    assert pages["ae/about/index.html"]["h1"] == ["About us"]


def test_every_page_links_all_its_regions_and_x_default(built: tuple[Path, BuildResult]) -> None:
    out, _ = built
    pages = summarize(out)["pages"]
    for name, page in pages.items():
        if name.endswith("404.html"):
            continue
        rid, _, rest = name.partition("/")
        url = "/" + rest.removesuffix("index.html")
        assert page["canonical"] == f"https://three.example/{rid}{url}", name
        present = {r for r in ("pk", "ae", "intl") if (out / r / rest).is_file()}
        hreflang = {"pk": "en-PK", "ae": "en-AE", "intl": "en"}
        expected = {hreflang[r]: f"https://three.example/{r}{url}" for r in present}
        if "intl" in present:
            expected["x-default"] = f"https://three.example/intl{url}"
        assert page["alternates"] == expected, name
        # The switcher: the same page in each other region, else that region's home.
        switch = {r: (c, h) for r, c, h in page["switcher"]}
        for r, country in (("pk", "PK"), ("ae", "AE"), ("intl", "ZZ")):
            if r == rid:
                assert r not in switch
            else:
                assert switch[r] == (country, f"/{r}{url}" if r in present else f"/{r}/"), name


def test_site_template_and_static_override_the_theme(built: tuple[Path, BuildResult]) -> None:
    out, _ = built
    team = (out / "pk/team/index.html").read_text(encoding="utf-8")
    assert '<ul class="people"><li>Ayesha</li><li>Omar</li></ul>' in team
    logo = re.search(r'src="(/assets/img/logo\.[0-9a-f]{8}\.svg)"', team)
    assert (
        logo
        and (out / logo.group(1).lstrip("/")).read_bytes() == (FIXTURE / "static/img/logo.svg").read_bytes()
    )


def test_drafts_only_with_the_flag(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("expected.json"))
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--drafts", "--region", "ae", "-q"])
    assert result.exit_code == 0, result.output
    assert (root / "dist/ae/draft/index.html").is_file()
    assert not (root / "dist/pk").exists()


def test_pages_are_accessible_and_csp_clean(built: tuple[Path, BuildResult]) -> None:
    out, _ = built
    for path in sorted(out.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(out).as_posix()
        assert text.count("<h1") == 1, name
        assert '<a class="skip-link" href="#main">' in text and '<main id="main"' in text, name
        assert re.search(r"<nav[^>]*aria-label=\"Main\"", text) and re.search(
            r"<nav[^>]*aria-label=\"Region\"", text
        )
        # The CSP allows no inline code or styles and no third-party hosts.
        assert " style=" not in text and "<style" not in text, name
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", text)), name
        assert not re.search(r'(?:src|href)="https?://(?!three\.example)[^"]*\.(?:css|js|woff2?)"', text), (
            name
        )
