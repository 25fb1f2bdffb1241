"""The search text of a page: made from its sections in one pass, equal to stripping the whole."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.chunks import page_sections, search_text
from sitegen.render import strip_tags

PIECES = [
    "word",
    " ",
    "\n",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "<p>",
    "</p>",
    "<em>",
    "</em>",
    "<b>",
    "</b>",
    '<a href="/x/">',
    "</a>",
    '<h2 id="one">',
    "</h2>",
    "<h3>",
    "</h3>",
    "<nav>",
    "</nav>",
    "<!-- c -->",
    "<br>",
    '<img alt="a>b">',
]


def slow(main: str) -> tuple[str, list[dict[str, str]]]:
    return strip_tags(main), page_sections(main)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_text_made_from_the_sections_is_the_whole_text_stripped(parts: list[str]) -> None:
    main = "".join(parts)
    assert search_text(main) == slow(main)


def test_cases_where_a_tag_of_text_crosses_a_heading_take_the_whole_text() -> None:
    for main in (
        "x < y <h2>T</h2> z",  # a '<' that starts no tag
        "a <b c <h2>T</h2> d>",  # a tag left open across the heading
        "<nav><a href='#a'>A</a></nav><h2 id=a>A</h2>text",
        "p<b>q<h2>r</h2>s</b>t",
    ):
        assert search_text(main) == slow(main)
    text, sections = search_text(
        'Intro words here.<h2 id="team">Our team</h2><p>Five people &amp; a dog.</p>'
    )
    assert text == "Intro words here. Our team Five people & a dog."
    assert [s["anchor"] for s in sections] == [""]  # the short section folded into the first


_INLINE_REFERENCE = re.compile(
    r"</?(?:a|abbr|b|code|em|i|kbd|mark|q|s|small|span|strong|sub|sup|time|u)\b[^>]*>", re.I
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "/",
                " ",
                "a",
                "A",
                "abbr",
                "b",
                "Strong",
                "SPAN",
                "sub",
                "sup",
                "small",
                "s",
                "x",
                "time",
                "KBD",
                "mark",
                "q",
                "u",
                "i",
                "em",
                "code",
                "\u00fc",
                "1",
                "-",
                '"',
            ]
        ),
        max_size=20,
    ).map("".join)
)
def test_inline_tags_are_found_as_the_case_insensitive_pattern_found_them(html: str) -> None:
    from sitegen.render import _INLINE_TAGS

    assert _INLINE_TAGS.sub("", html) == _INLINE_REFERENCE.sub("", html)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=400, deadline=None)
@given(
    url=_TEXT,
    title=_TEXT,
    text=_TEXT,
    # In the order chunks._cut makes a section's keys.
    sections=st.lists(
        st.tuples(_TEXT, _TEXT, _TEXT).map(lambda t: {"heading": t[0], "anchor": t[1], "text": t[2]}),
        max_size=4,
    ),
)
def test_entries_and_chunks_written_from_quoted_text_are_json_dumps_bytes(
    url: str, title: str, text: str, sections: list[dict[str, str]]
) -> None:
    import json

    from sitegen.chunks import QuotedText, entry_and_chunks_json, page_chunks_json, search_entry

    entry = search_entry(url, title, "", (text, sections))
    assert entry_and_chunks_json(url, title, QuotedText.of(text, sections)) == (
        json.dumps(entry, ensure_ascii=False).encode("utf-8"),
        page_chunks_json(entry),
    )
