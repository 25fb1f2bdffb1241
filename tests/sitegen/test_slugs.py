"""URLs from file names: every segment a slug (python-slugify), or refused with the fix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3986 import misc

from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.errors import BuildFailed
from sitegen.pages import slug, url_for_source
from tests.support.sitefactory import build_site, write_site

REPO = Path(__file__).resolve().parents[2]
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("our work.md", "/our-work/"),
        ("Our Work/Case Study_1.md", "/our-work/case-study-1/"),
        ("blog/Café déjà vu.md", "/blog/cafe-deja-vu/"),
        ("v1.2 notes.md", "/v1-2-notes/"),
        ("Services/index.md", "/services/"),
        ("web-development.md", "/web-development/"),
    ],
)
def test_file_names_become_slugs(source: str, url: str) -> None:
    assert url_for_source(source, {}) == url


def test_the_published_url_and_links_by_file_name(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nSee [our work](<Our Work.md>) and [café](blog/Café.md).\n",
            "content/Our Work.md": "---\ntitle: Our work\n---\nWork.\n",
            "content/blog/Café.md": "---\ntitle: Café\n---\nCoffee.\n",
        },
    )
    result = build_site(root)
    home = (root / "dist/pk/index.html").read_text(encoding="utf-8")
    # Links by source file name keep working and point at the slug URL.
    assert 'href="/pk/our-work/"' in home and 'href="/pk/blog/cafe/"' in home
    assert (root / "dist/pk/our-work/index.html").is_file() and "pk/our work/index.html" not in result.files


def test_a_link_by_the_raw_name_as_a_url_names_the_slug(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nSee [our work](</our work/>).\n",
            "content/Our Work.md": "---\ntitle: Our work\n---\nWork.\n",
        },
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert {str(e) for e in failed.value.errors} == {
        "content/index.md:4: link to '/our work/': no page has the URL /our work/; did you mean /our-work/?"
    }


def test_a_link_with_a_space_in_its_destination_is_an_error_not_text(tmp_path: Path) -> None:
    """CommonMark leaves "[x](/our team/)" as text: the build stops at its line with the link that works."""
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nSee\n[x](/our team/) and [y](Our Team.md).\n\n"
            "In code it is text: `[x](/our team/)`.\n",
            "content/Our Team.md": "---\ntitle: Our team\n---\nTeam.\n",
        },
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    shown = "is not a link (a link's destination cannot contain spaces, so it is shown as text)"
    assert [str(e) for e in failed.value.errors] == [
        f"content/index.md:5: '[x](/our team/)' {shown}; did you mean [x](/our-team/)?",
        f"content/index.md:5: '[y](Our Team.md)' {shown}; did you mean [y](<Our Team.md>)?",
    ]
    assert not (root / "dist").exists()


def test_a_markdown_file_not_named_md_is_a_warning_naming_it(tmp_path: Path) -> None:
    page = "---\ntitle: Notes\n---\nNotes.\n"
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nHi.\n",
            "content/Notes.MD": page,
            "content/blog/notes2.markdown": page,
        },
    )
    built = CliRunner().invoke(main, ["build", "--root", str(root)])
    assert built.exit_code == 0, built.output
    said = "not read as a page: a page's file name ends in '.md' (lower case); rename it to"
    assert built.stderr.splitlines() == [
        f"warning: content/Notes.MD: {said} 'Notes.md'",
        f"warning: content/blog/notes2.markdown: {said} 'notes2.md'",
    ]
    strict = CliRunner().invoke(main, ["build", "--strict", "--root", str(root)])
    assert strict.exit_code == 1


def test_two_names_with_one_slug_are_an_error_naming_both(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nHi.\n",
            "content/Our Work.md": "---\ntitle: A\n---\nA.\n",
            "content/our_work.md": "---\ntitle: B\n---\nB.\n",
        },
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [
        "content/our_work.md:1: two sources for the URL /our-work/: content/Our Work.md and "
        "content/our_work.md; rename one or set 'slug'/'url'"
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("slug: Our Work", "content/a.md:3: 'slug: Our Work' is not made of slugs (lowercase letters, "
         "digits and hyphens); write 'slug: our-work'"),
        ("slug: a/b", "content/a.md:3: 'slug: a/b' is not made of slugs (lowercase letters, digits and "
         "hyphens); write 'slug: a-b'"),
        ("url: /Über uns/Team", "content/a.md:3: 'url: /Über uns/Team' is not made of slugs (lowercase "
         "letters, digits and hyphens); write 'url: /uber-uns/team/'"),
    ],
)  # fmt: skip
def test_slug_and_url_values_must_be_slugs(tmp_path: Path, front: str, message: str) -> None:
    root = write_site(
        tmp_path / "site",
        {
            "content/index.md": "---\ntitle: Home\n---\nHi.\n",
            "content/a.md": f"---\ntitle: A\n{front}\n---\nA.\n",
        },
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [message]


def test_a_name_without_letters_or_digits_is_refused(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "site",
        {"content/index.md": "---\ntitle: Home\n---\nHi.\n", "content/!!!.md": "---\ntitle: A\n---\nA.\n"},
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [
        "content/!!!.md:1: the name '!!!' has no letter or digit to make a URL from; rename it, or set 'slug:'"
    ]
    (root / "content/!!!.md").write_text("---\ntitle: A\nslug: excited\n---\nA.\n", encoding="utf-8")
    assert (build_site(root).out / "pk/excited/index.html").is_file()


def valid_absolute_url(loc: str) -> bool:
    """RFC 3986 absolute-URI grammar (rfc3986's matcher), over http(s) with a host."""
    parts = urlsplit(loc)
    return bool(misc.ABSOLUTE_URI_MATCHER.fullmatch(loc)) and parts.scheme == "https" and bool(parts.hostname)


def test_the_validator_refuses_what_the_issue_saw() -> None:
    assert not valid_absolute_url("https://7expertspk.com/pk/our work/")
    assert valid_absolute_url("https://7expertspk.com/pk/our-work/")


def test_every_sitemap_loc_is_a_valid_absolute_url(tmp_path: Path) -> None:
    """This repository's site plus pages whose names need slugs, built as production."""
    import shutil

    root = tmp_path / "site"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    (root / "content/work/Our Work 2026.md").write_text(
        "---\ntitle: Our work\n---\nWork.\n", encoding="utf-8"
    )
    (root / "content/Über uns.md").write_text("---\ntitle: About us\n---\nUs.\n", encoding="utf-8")
    result = build(BuildOptions(root=root, out=root / "dist", cache=False))
    locs: list[str] = []
    for rel in ["sitemap.xml", *(f"{rid}/sitemap.xml" for rid in result.pages)]:
        tree = ElementTree.fromstring(result.files[rel])
        locs += [e.text or "" for e in tree.iter(f"{{{NS['s']}}}loc")]
        locs += [e.get("href", "") for e in tree.iter(f"{{{NS['x']}}}link")]
    assert len(locs) > 60
    assert [loc for loc in locs if not valid_absolute_url(loc)] == []
    assert "https://7expertspk.com/pk/work/our-work-2026/" in locs
    assert "https://7expertspk.com/intl/uber-uns/" in locs


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet="abcxyz0189-_ .ÄéØ", max_size=14))
def test_the_shortcut_for_names_that_are_already_slugs_agrees_with_python_slugify(name: str) -> None:
    from slugify import slugify

    assert slug(name) == slugify(name)
