"""The output check as a visitor meets the links: any HTML spelling, only what the site serves, and in serve."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.devserver.incremental import Outcome, Previous, rebuild_pages
from sitegen.links import OutputProblem, check_links, check_output
from tests.support.sitefactory import build_site, write_site


def test_links_and_ids_after_a_line_break_or_tab_are_checked_too() -> None:
    # Hand-written HTML in a page or template may put each attribute on its own line.
    files = {
        "pk/index.html": (
            '<a\nhref="/pk/gone/">a</a><img\tsrc="/pk/missing.png" alt=""><h2\nid="faq">FAQ</h2>'
            '<a href="#faq">faq</a><a\r\nhref="#nowhere">n</a><a href="/pk/team/">t</a>'
        ),
        "pk/team/index.html": "<p>Team</p>",
    }
    assert sorted(check_output(files, exists=[])) == [
        ("pk/index.html", "broken anchor '#nowhere': no element with id 'nowhere' on this page"),
        ("pk/index.html", "broken link '/pk/gone/': /pk/gone/ does not exist in the output"),
        ("pk/index.html", "broken link '/pk/missing.png': /pk/missing.png does not exist in the output"),
    ]


def test_text_after_a_non_breaking_space_or_vertical_tab_is_no_attribute() -> None:
    # A browser separates attributes with ASCII whitespace only: "<a\u00a0href=…>" is not a link.
    fake = '<a\u00a0href="/pk/gone/">x</a><a\vhref="/pk/gone-too/">y</a><p\u00a0id="x"></p><a href="#x">x</a>'
    assert check_output({"pk/index.html": fake}, exists=[]) == [
        ("pk/index.html", "broken anchor '#x': no element with id 'x' on this page")
    ]
    with_real = fake + '<a\nhref="/pk/missing/">m</a>'
    assert sorted(check_output({"pk/index.html": with_real}, exists=[])) == [
        ("pk/index.html", "broken anchor '#x': no element with id 'x' on this page"),
        ("pk/index.html", "broken link '/pk/missing/': /pk/missing/ does not exist in the output"),
    ]


def test_an_id_with_an_ampersand_can_be_linked_however_the_link_spells_it() -> None:
    files = {
        "pk/index.html": '<h2 id="q&amp;a">Q&amp;A</h2><a href="#q&amp;a">1</a><a href="#q%26a">2</a>',
        "pk/a/index.html": '<a href="/pk/#q&amp;a">3</a><a href="/pk/#q&amp;b">4</a>',
    }
    assert check_output(files, exists=[]) == [
        ("pk/a/index.html", "broken anchor '/pk/#q&amp;b': no element with id 'q&b' on /pk/")
    ]


def test_links_off_the_site_and_to_the_hosts_own_routes_are_not_followed() -> None:
    page = "".join(
        f'<a href="{href}">x</a>'
        for href in (
            "https://example.org/gone/",
            "http://example.org/gone/",
            "//cdn.example.org/gone.js",
            "data:text/plain,hi",
            "javascript:void(0)",
            "/_vercel/insights/script.js",  # served by the host (Web Analytics), not by the build
            "",  # this very page
            "/pk/not-built/",
        )
    )
    assert check_output({"pk/index.html": page}, exists=[]) == [
        ("pk/index.html", "broken link '/pk/not-built/': /pk/not-built/ does not exist in the output")
    ]


def test_file_names_are_matched_with_their_capitals() -> None:
    present = {"pk/index.html", "Xmas.pdf"}
    assert check_links({"pk/index.html": ["/Xmas.pdf", "../Xmas.pdf", "/xmas.pdf"]}, {}, present) == [
        OutputProblem("pk/index.html", "/xmas.pdf", "/xmas.pdf", "")
    ]


def test_serve_checks_an_edited_pages_anchors_on_pages_it_did_not_rerender(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\nHello.\n",
            "content/about.md": "---\ntitle: About\n---\n## Team\n",
        },
    )
    previous = Previous.of(build_site(root, write=False))
    assert previous is not None
    home = root / "content/index.md"
    home.write_text("---\ntitle: Home\n---\nSee [the team](about.md#team).\n", encoding="utf-8")
    outcome = rebuild_pages(previous, {home})
    assert isinstance(outcome, Outcome) and outcome.pages == 2  # the home page of each region, not about
    assert '<a href="/pk/about/#team">the team</a>' in outcome.previous.files["pk/index.html"].decode()
    home.write_text("---\ntitle: Home\n---\nSee [the team](about.md#people).\n", encoding="utf-8")
    errors = rebuild_pages(previous, {home})
    assert isinstance(errors, list) and [str(e) for e in errors] == [
        "content/index.md:4: link to 'about.md#people': that page has no heading or element with id "
        "'people'; check the anchor"
    ]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["<a", " ", "\t", "\n", "\r", "\f", "href=", "src=", "id=", '"/x/"', "x", ">", "\u00a0"]
        ),
        max_size=30,
    ).map("".join)
)
def test_the_quick_separator_check_answers_as_looking_for_every_combination(html: str) -> None:
    from sitegen.links import _UNUSUAL_SEPARATORS, _unusual_separators

    assert _unusual_separators(html) == any(sep in html for sep in _UNUSUAL_SEPARATORS)
