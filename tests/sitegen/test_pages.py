"""pages: content/**/*.md with front matter become region-less URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.config import load_config
from sitegen.errors import Problems, SitegenError
from sitegen.pages import read_pages, split_front_matter, url_for_source
from tests.support.sitefactory import write_site


@pytest.mark.parametrize(
    ("source", "meta", "url"),
    [
        ("index.md", {}, "/"),
        ("about.md", {}, "/about/"),
        ("services/index.md", {}, "/services/"),
        ("legal/privacy.md", {}, "/legal/privacy/"),
        ("legal/privacy.md", {"slug": "privacy-policy"}, "/legal/privacy-policy/"),
        ("old/page.md", {"url": "/new/place"}, "/new/place/"),
        ("index.md", {"url": "/"}, "/"),
    ],
)
def test_url_of_a_source(source: str, meta: dict[str, str], url: str) -> None:
    assert url_for_source(source, meta) == url


def test_front_matter_lines_and_body_start() -> None:
    data, lines, body, body_line = split_front_matter(
        "---\ntitle: T\n\nmenu: main\n---\nHello\n", "content/a.md"
    )
    assert data == {"title": "T", "menu": "main"}
    assert lines == {"title": 2, "menu": 4}
    assert (body, body_line) == ("Hello\n", 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Hello\n",
            "content/a.md:1: missing front matter: start the file with '---', a 'title:' line and '---'",
        ),
        ("---\ntitle: T\nHello\n", "content/a.md:1: front matter is not closed: add a line '---' after it"),
        ("---\n- a\n- b\n---\n", "content/a.md:2: front matter must be 'key: value' lines"),
    ],
)
def test_front_matter_mistakes(text: str, message: str) -> None:
    with pytest.raises(SitegenError) as err:
        split_front_matter(text, "content/a.md")
    assert str(err.value) == message


def test_regions_drafts_and_menus_read_from_front_matter(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\nx\n",
            "content/local.md": "---\ntitle: Local\nregions: [pk]\nmenu: [main, footer]\nweight: 3\n---\nx\n",
            "content/wip.md": "---\ntitle: WIP\ndraft: true\n---\nx\n",
        },
    )
    config = load_config(tmp_path / "site.yaml")
    problems = Problems()
    pages = {p.path: p for p in read_pages(config, tmp_path / "content", problems)}
    assert problems.errors == []
    assert pages["/"].template == "home" and pages["/"].regions == ["pk", "intl"]
    assert pages["/local/"].regions == ["pk"] and pages["/local/"].template == "page"
    assert "/wip/" not in pages
    with_drafts = {p.path for p in read_pages(config, tmp_path / "content", Problems(), drafts=True)}
    assert "/wip/" in with_drafts
