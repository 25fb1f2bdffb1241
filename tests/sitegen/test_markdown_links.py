"""Links, images and site values in link destinations, as the Markdown conversion leaves them.

What a visitor gets (a working href, no script URL), what an editor gets (the line and the fix when
a link is shown as text) and what the render stage gets (internal links and local images as
markers with their targets).
"""

from __future__ import annotations

from sitegen.markdown import (
    IMG_CLOSE,
    IMG_OPEN,
    LINK_CLOSE,
    LINK_OPEN,
    convert,
    fill,
    fill_link_values,
    protect_expressions,
)

NOT_A_LINK = "is not a link (a link's destination cannot contain spaces, so it is shown as text)"


def test_links_with_spaces_are_reported_at_their_line_with_the_link_that_would_work() -> None:
    parsed = convert(
        "Intro\n\nline two\n[our team](/our team/) ![pic](team photo.jpg)\n\n"
        "[x](https://e.com/a b) [y](/files/a b.pdf) [w]( /q r/ )\n",
        [],
    )
    assert parsed.errors == [
        (4, f"'[our team](/our team/)' {NOT_A_LINK}; did you mean [our team](/our-team/)?"),
        (4, f"'![pic](team photo.jpg)' {NOT_A_LINK}; did you mean ![pic](<team photo.jpg>)?"),
        (6, f"'[x](https://e.com/a b)' {NOT_A_LINK}; did you mean [x](<https://e.com/a b>)?"),
        (6, f"'[y](/files/a b.pdf)' {NOT_A_LINK}; did you mean [y](</files/a b.pdf>)?"),
        (6, f"'[w]( /q r/ )' {NOT_A_LINK}; did you mean [w](/q-r/)?"),
    ]
    # The text stays visible as the editor wrote it, and nothing became a link.
    assert "[our team](/our team/) ![pic](team photo.jpg)</p>" in parsed.html
    assert parsed.links == [] and parsed.images == []


def test_inline_code_that_looks_like_a_link_with_spaces_is_not_reported() -> None:
    parsed = convert("Write `[x](/a b/)` for a link.\n", [])
    assert parsed.errors == []
    assert "<code>[x](/a b/)</code>" in parsed.html


def test_internal_links_keep_their_query_and_decoded_fragment_and_know_source_files() -> None:
    parsed = convert(
        "Top\n\n[a](/p/?q=1#Frag%20x) [b](web.yaml) [c](web.yml) [d](z.md?x#y) [e](/a.md/) "
        "[f](/t%C3%A9am/)\n",
        [],
    )
    assert [(link.target, link.fragment, link.line, link.is_source) for link in parsed.links] == [
        ("/p/?q=1", "Frag x", 3, False),
        ("web.yaml", "", 3, True),
        ("web.yml", "", 3, True),
        ("z.md?x", "y", 3, True),
        ("/a.md/", "", 3, False),
        ("/téam/", "", 3, False),
    ]
    markers = [f'<a href="{LINK_OPEN}{i}{LINK_CLOSE}">' for i in range(6)]
    assert all(marker in parsed.html for marker in markers)


def test_other_links_stay_as_written() -> None:
    parsed = convert("[m](mailto:a@b.com) [e]() [p](//cdn.example.com/x) [t](#top) [w](HTTPS://E.COM)\n", [])
    assert parsed.links == []
    for href in ("mailto:a@b.com", "", "//cdn.example.com/x", "#top", "HTTPS://E.COM"):
        assert f'<a href="{href}">' in parsed.html


def test_script_urls_lose_their_destination_in_markdown_and_in_raw_html() -> None:
    parsed = convert(
        "[a](javascript:alert(1)) [b](VBScript:x) [c](file:///etc/passwd) [d](data:text/html,x)\n\n"
        '<a href=" JavaScript:alert(1)">e</a> <a href="&#106;avascript:alert(1)">f</a>\n',
        [],
    )
    for text in "abcdef":
        assert f'<a href="">{text}</a>' in parsed.html
    assert "script:" not in parsed.html.lower() and parsed.links == []


def test_local_images_become_markers_with_their_file_alt_title_and_line() -> None:
    parsed = convert(
        'Intro\n\n![Our team](team.jpg "The team") ![b](../shared/team%20photo.jpg?v=1#x)\n\n'
        "> ![c &amp; d](two.png)\n",
        [],
    )
    assert [(i.target, i.alt, i.title, i.line, i.src) for i in parsed.images] == [
        ("team.jpg", "Our team", "The team", 3, "team.jpg"),
        ("../shared/team photo.jpg", "b", "", 3, "../shared/team%20photo.jpg?v=1#x"),
        ("two.png", "c &amp; d", "", 5, "two.png"),
    ]
    assert parsed.html == (
        f"<p>Intro</p>\n<p>{IMG_OPEN}0{IMG_CLOSE} {IMG_OPEN}1{IMG_CLOSE}</p>\n"
        f"<blockquote>\n<p>{IMG_OPEN}2{IMG_CLOSE}</p>\n</blockquote>\n"
    )


def test_remote_images_stay_and_script_or_html_data_images_lose_their_source() -> None:
    text, _ = protect_expressions(
        "![c](https://e.com/a.png) ![d](//cdn/a.png) ![v]({{ site.logo }}) "
        "![e](javascript:alert(1)) ![f](data:image/png;base64,AA) ![g](data:text/html,x) ![h](data:image/svg+xml,x)\n"
    )
    parsed = convert(text, [])
    assert parsed.images == []
    assert parsed.html == (
        '<p><img src="https://e.com/a.png" alt="c" /> <img src="//cdn/a.png" alt="d" /> '
        '<img src="sitegen-value-0-" alt="v" /> <img src="" alt="e" /> '
        '<img src="data:image/png;base64,AA" alt="f" /> <img src="" alt="g" /> <img src="" alt="h" /></p>\n'
    )


def test_values_in_reference_definitions_and_bracketed_destinations_are_kept_for_the_url() -> None:
    text, _ = protect_expressions(
        "[a](https://wa.me/{{ n }}) [b]( <tel:{{ p }}> )\n\n[ref]: https://x/{{ q }}?a=1\n"
        "   [r2]:\t<mailto:{{ e }}>\n\n[ref] [r2] text {{ t }}\n"
    )
    html = convert(text, []).html
    for href in ("https://wa.me/sitegen-value-0-", "tel:sitegen-value-1-", "https://x/sitegen-value-2-?a=1"):
        assert f'<a href="{href}">' in html
    assert '<a href="mailto:sitegen-value-3-">r2</a> text \ue0004\ue001' in html


def test_site_values_in_links_are_encoded_and_script_values_refused() -> None:
    refused: list[str] = []
    made: list[tuple[str, str]] = []
    values = ["92 300", "é x", "javascript:alert(1)", 'a"b\nc&d']
    html = (
        '<a href="https://wa.me/sitegen-value-0-">x</a> <img src="/i/sitegen-value-1-.png" /> '
        '<a href="sitegen-value-2-">y</a> <a href="/s?q=sitegen-value-3-">z</a> <a title="sitegen-value-0-">'
    )
    out = fill_link_values(html, lambda i: values[i], refused.append, lambda h, w: made.append((h, w)))
    assert out == (
        '<a href="https://wa.me/92%20300">x</a> <img src="/i/%C3%A9%20x.png" /> '
        '<a href="">y</a> <a href="/s?q=a%22b%0Ac&amp;d">z</a> <a title="sitegen-value-0-">'
    )
    assert refused == ["javascript:alert(1)"]
    assert made == [
        ("https://wa.me/92%20300", "https://wa.me/sitegen-value-0-"),
        ("/i/%C3%A9%20x.png", "/i/sitegen-value-1-.png"),
        ("", "sitegen-value-2-"),
        ("/s?q=a%22b%0Ac&amp;d", "/s?q=sitegen-value-3-"),
    ]


def test_markers_are_filled_also_where_the_engine_percent_encoded_them() -> None:
    html = f"a {LINK_OPEN}0{LINK_CLOSE} b %EE%80%8212%EE%80%83 c"
    assert fill(html, LINK_OPEN, LINK_CLOSE, lambda i: f"<{i}>") == "a <0> b <12> c"
    assert fill("%EE%80%827%EE%80%83", LINK_OPEN, LINK_CLOSE, lambda i: f"[{i}]") == "[7]"
    assert fill("no markers", LINK_OPEN, LINK_CLOSE, lambda i: "x") == "no markers"


def test_links_in_raw_html_are_placed_at_the_line_of_the_block_before_or_at_the_top() -> None:
    # The engine gives raw HTML no line: a link in it is reported where the last block began, and a
    # page that starts with raw HTML at its first line (not at the front matter's closing line).
    top = convert('<div><a href="/x/">x</a></div>\n', [])
    assert [(link.target, link.line) for link in top.links] == [("/x/", 1)]
    after_code = convert('Intro\n\n```\ncode\n```\n\n<div><a href="/y/">y</a></div>\n', [])
    assert [(link.target, link.line) for link in after_code.links] == [("/y/", 3)]
    spaced = convert("<div>\nintro\n[x](/a b/)\n</div>\n", [])
    assert spaced.errors == [(3, f"'[x](/a b/)' {NOT_A_LINK}; did you mean [x](/a-b/)?")]


def test_an_image_is_its_file_whatever_query_or_fragment_follows() -> None:
    parsed = convert("![a](a.png#x) ![b](b.png?v=1?w) ![c](c.png#s#t)\n", [])
    assert [(image.target, image.src) for image in parsed.images] == [
        ("a.png", "a.png#x"),
        ("b.png", "b.png?v=1?w"),
        ("c.png", "c.png#s#t"),
    ]


def test_a_page_link_whose_query_names_a_markdown_file_is_still_a_page_link() -> None:
    parsed = convert("[q](/faq/?q=readme.md?) [r](/faq/?doc=a.md)\n", [])
    assert [(link.target, link.is_source) for link in parsed.links] == [
        ("/faq/?q=readme.md?", False),
        ("/faq/?doc=a.md", False),
    ]


def test_a_raw_html_image_written_like_the_engines_is_published_from_the_file_it_names() -> None:
    parsed = convert('<img src="team photo.jpg" alt="Team" />\n', [])
    assert [(image.target, image.alt) for image in parsed.images] == [("team photo.jpg", "Team")]
    assert parsed.html == f"{IMG_OPEN}0{IMG_CLOSE}\n"


def test_a_link_with_spaces_and_an_entity_is_reported_at_the_line_that_holds_it() -> None:
    for written in ("[a &amp; b](/x y/)", "[a & b](/x y/)"):
        parsed = convert(f"Intro\n\nText\n{written}\n", [])
        assert parsed.errors == [(4, f"'[a & b](/x y/)' {NOT_A_LINK}; did you mean [a & b](/x-y/)?")]
    # Written another way than the page shows it: the line its paragraph starts on.
    parsed = convert("Intro\n\nText\n[a &#38; b](/x y/)\n", [])
    assert [line for line, _ in parsed.errors] == [3]


def test_a_page_address_with_spaces_is_fixed_to_its_slug_whatever_dots_its_folders_have() -> None:
    parsed = convert("[g](/guides/web 2.0/) [h](/v1.0/our team/) [i](/docs/my file.v2 final)\n", [])
    assert [message.rsplit("did you mean ", 1)[1] for _, message in parsed.errors] == [
        "[g](/guides/web-2-0/)?",
        "[h](/v1-0/our-team/)?",
        "[i](</docs/my file.v2 final>)?",  # a dot in the last segment: a file, kept in brackets
    ]
