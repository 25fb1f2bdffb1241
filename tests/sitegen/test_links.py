"""links: editors' links become region URLs; the output is checked link by link."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.errors import BuildFailed
from sitegen.links import OutputProblem, check_links, check_output
from tests.support.sitefactory import build_site, html, write_site

SERVICE = """
    id: seo
    name: Local SEO
    regions: [pk]
    price:
      pk: {amount: 25000, unit: month}
    body: |
      See also [web](web.yaml) and [about](../about.md#team).
"""
WEB = """
    id: web
    name: Web
    price:
      pk: {amount: 80000}
      intl: {amount: 900}
    body: Built well.
"""


def test_every_link_form_becomes_the_region_url(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": """
                ---
                title: Home
                ---
                [a](about.md) [b](/about/) [c](about) [d](./about.md#team) [e](/intl/about/)
                [f](services/web.yaml) [g](/services/web/) [h](#top) [x](https://example.org/about/)

                ::: region pk
                [seo](services/seo.yaml)
                :::

                <p id="top">top</p>
            """,
            "content/about.md": "---\ntitle: About\n---\n## Team\n\n[home](index.md) [up](../)\n",
            "content/services/seo.yaml": SERVICE,
            "content/services/web.yaml": WEB,
        },
    )
    build_site(root)
    for rid in ("pk", "intl"):
        page = html(root, f"{rid}/index.html")
        for label, href in (
            ("a", f"/{rid}/about/"),
            ("b", f"/{rid}/about/"),
            ("c", f"/{rid}/about/"),
            ("d", f"/{rid}/about/#team"),
            ("e", "/intl/about/"),  # an explicit region prefix is kept as written
            ("f", f"/{rid}/services/web/"),
            ("g", f"/{rid}/services/web/"),
            ("h", "#top"),
            ("x", "https://example.org/about/"),
        ):
            assert f'<a href="{href}">{label}</a>' in page, (rid, label)
    assert '<a href="/pk/services/seo/">seo</a>' in html(root, "pk/index.html")
    assert "seo" not in html(root, "intl/index.html").split("<main", 1)[1].split("</main>")[0]
    seo = html(root, "pk/services/seo/index.html")
    assert '<a href="/pk/services/web/">web</a>' in seo and '<a href="/pk/about/#team">about</a>' in seo
    about = html(root, "intl/about/index.html")
    assert '<a href="/intl/">home</a>' in about and '<a href="/intl/">up</a>' in about


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[t](about.md#nope)",
            "content/index.md:4: link to 'about.md#nope': that page has no heading or element with id 'nope'; check the anchor",
        ),
        (
            "[t](services/seo.yaml)",
            "content/index.md:4: link to 'services/seo.yaml' (content/services/seo.yaml), which is not built in region 'intl' (only in pk); wrap the link in '::: region pk' or remove it",
        ),
        (
            "[t](gone.md)",
            "content/index.md:4: link to 'gone.md': no such content file (looked for content/gone.md)",
        ),
    ],
)
def test_bad_links_name_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": f"---\ntitle: Home\n---\n{body}\n",
            "content/about.md": "---\ntitle: About\n---\n## Team\n",
            "content/services/seo.yaml": SERVICE,
            "content/services/web.yaml": WEB,
        },
    )
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [message]


def test_check_output_finds_missing_files_and_anchors() -> None:
    files = {
        "r/index.html": '<a href="/r/a/">a</a><a href="/r/a/#x">x</a><a href="/r/a/#y">y</a><img src="/assets/l.svg">',
        "r/a/index.html": '<h2 id="x">X</h2><a href="../">up</a><a href="#x">self</a><a href="/r/b/">b</a>',
    }
    problems = check_output(files, exists=["assets/l.svg"])
    assert problems == [
        ("r/index.html", "broken anchor '/r/a/#y': no element with id 'y' on /r/a/"),
        ("r/a/index.html", "broken link '/r/b/': /r/b/ does not exist in the output"),
    ]


def test_headings_in_any_script_can_be_linked(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": """
                ---
                title: Home
                ---
                [a](about.md#café--co) [b](about.md#caf%C3%A9--co) [c](about.md#ہماری-خدمات)
                [d](about.md#faq-1) [e](about.md#people) [f](#intro)

                ## Intro
            """,
            "content/about.md": """
                ---
                title: About
                ---
                ## Café & Co.

                ## ہماری خدمات

                ## FAQ

                ## FAQ

                ## Team {#people}
            """,
        },
    )
    build_site(root)
    about = html(root, "pk/about/index.html")
    assert '<h2 id="café--co">Café &amp; Co.</h2>' in about
    assert '<h2 id="ہماری-خدمات">ہماری خدمات</h2>' in about
    assert '<h2 id="faq-1">FAQ</h2>' in about and '<h2 id="people">Team</h2>' in about
    home = html(root, "intl/index.html")
    assert 'href="/intl/about/#caf%C3%A9--co"' in home or 'href="/intl/about/#café--co"' in home
    (root / "content/index.md").write_text("---\ntitle: Home\n---\n\n[a](about.md#ہماری)\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert [str(e) for e in failed.value.errors] == [
        "content/index.md:5: link to 'about.md#ہماری': that page has no heading or element with id 'ہماری'; check the anchor"
    ]


def test_mailto_and_tel_links_in_the_output_are_checked() -> None:
    from sitegen.links import contact_link_problem

    assert contact_link_problem("mailto:info@7expertspk.com") == ""
    assert contact_link_problem("mailto:a@example.com,b@example.com?subject=Hi%20there") == ""
    assert contact_link_problem("mailto:xn--1-ro7ge").startswith("'xn--1-ro7ge' is not an e-mail address")
    assert contact_link_problem("mailto:") == "no e-mail address after 'mailto:'"
    assert contact_link_problem("tel:+923366532777") == ""
    assert contact_link_problem("tel:+92 336 6532777").startswith("not a phone number in E.164 form")
    assert contact_link_problem("tel:+442079460958123") == (
        "+442079460958123 has too few or too many digits for its country code"
    )


# --------------------------------------------------------------------------- the output check, link by link


def _problems(
    hrefs: list[str],
    present: set[str],
    ids: dict[str, frozenset[str]] | None = None,
    good: tuple[str, ...] | list[str] = (),
) -> list[OutputProblem]:
    return check_links({"pk/about/index.html": hrefs}, ids or {}, present, good)


PRESENT = {"pk/about/index.html", "pk/team/index.html", "pk/site.css", "index.html"}


def test_every_broken_link_on_a_page_is_reported_not_just_the_first() -> None:
    hrefs = ["/", "/pk/gone/", "/pk/gone/", "../missing/", "/pk/team/", "../team/"]
    assert _problems(hrefs, PRESENT) == [
        OutputProblem("pk/about/index.html", "/pk/gone/", "/pk/gone/", ""),
        OutputProblem("pk/about/index.html", "/pk/gone/", "/pk/gone/", ""),
        OutputProblem("pk/about/index.html", "../missing/", "../missing/", ""),
    ]


def test_a_query_is_not_part_of_the_file_linked_to() -> None:
    assert _problems(["../team/?a=1?b=2", "/pk/site.css?v=3", "/pk/site.css?v=3"], PRESENT) == []
    assert _problems(["/pk/gone/?a=1?b=2"], PRESENT) == [
        OutputProblem("pk/about/index.html", "/pk/gone/?a=1?b=2", "/pk/gone/", "")
    ]


def test_the_site_root_is_left_to_the_routing_rules() -> None:
    # "/" is answered by the region redirect, not by a file: never reported, whatever exists.
    assert _problems(["/", "/pk/gone/"], set()) == [
        OutputProblem("pk/about/index.html", "/pk/gone/", "/pk/gone/", "")
    ]
    assert _problems(["/pk/about/"], {"pk/about/index.html"}) == []


def test_anchors_must_exist_on_the_page_they_point_to() -> None:
    ids = {"pk/team/index.html": frozenset({"lead"}), "pk/about/index.html": frozenset({"top"})}
    assert _problems(["/pk/team/#lead", "#top", "../team/#lead"], PRESENT, ids) == []
    assert _problems(["/pk/team/#nobody", "#bottom"], PRESENT, ids) == [
        OutputProblem("pk/about/index.html", "/pk/team/#nobody", "/pk/team/", "nobody"),
        OutputProblem("pk/about/index.html", "#bottom", "", "bottom"),
    ]
    # A page with no ids at all has none of the anchors asked for.
    assert _problems(["/index.html#x"], PRESENT, ids) == [
        OutputProblem("pk/about/index.html", "/index.html#x", "/index.html", "x")
    ]


def test_contact_links_are_checked_unless_already_known_good() -> None:
    assert _problems(["mailto:info@7expertspk.com", "tel:+923366532777"], set()) == []
    assert _problems(["mailto:"], set(), good=["mailto:"]) == []
    assert _problems(["tel:0336 6532777", "mailto:", "/pk/gone/"], set()) == [
        OutputProblem(
            "pk/about/index.html",
            "tel:0336 6532777",
            "",
            "",
            "not a phone number in E.164 form (tel:+923001234567: '+', country code, number, no spaces)",
        ),
        OutputProblem("pk/about/index.html", "mailto:", "", "", "no e-mail address after 'mailto:'"),
        OutputProblem("pk/about/index.html", "/pk/gone/", "/pk/gone/", ""),
    ]


def test_source_links_from_the_repository_root_and_with_queries(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": (
                "---\ntitle: Home\n---\n"
                "[a](/content/about.md) [b](/about.md) [c](our%20work.md) [w](/intl/services/web/)\n"
            ),
            "content/about.md": "---\ntitle: About\n---\nAbout.\n",
            "content/our work.md": "---\ntitle: Our work\n---\nWork.\n",
            "content/services/web.yaml": WEB,
        },
    )
    build_site(root)
    page = html(root, "pk/index.html")
    for label, href in (
        ("a", "/pk/about/"),
        ("b", "/pk/about/"),
        ("c", "/pk/our-work/"),
        ("w", "/intl/services/web/"),
    ):
        assert f'<a href="{href}">{label}</a>' in page, label


def test_a_link_to_a_url_no_page_has_fails_the_build(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\n[x](/nope/)\n",
            "content/about.md": "---\ntitle: About\n---\n",
        },
    )
    with pytest.raises(BuildFailed) as caught:
        build_site(root)
    assert [str(e) for e in caught.value.errors] == [
        "content/index.md:4: link to '/nope/': no page has the URL /nope/; check the path"
    ]
