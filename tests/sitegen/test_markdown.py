from sitegen.markdown import (
    EXPR_OPEN,
    LINK_OPEN,
    convert,
    protect_expressions,
    select_region,
    slugify,
)

IDS = ["pk", "intl", "eu"]


def test_region_blocks_selected_after_one_parse() -> None:
    parsed = convert(
        "Intro\n\n::: region pk\nPK only\n:::\n\n::: region not pk\nElsewhere\n:::\n\n::: region pk eu\nPK or EU\n:::\n",
        IDS,
    )
    pk = select_region(parsed.html, "pk", parsed.blocks)
    intl = select_region(parsed.html, "intl", parsed.blocks)
    eu = select_region(parsed.html, "eu", parsed.blocks)
    assert "PK only" in pk and "Elsewhere" not in pk and "PK or EU" in pk
    assert "PK only" not in intl and "Elsewhere" in intl and "PK or EU" not in intl
    assert "PK or EU" in eu and "Elsewhere" in eu
    assert [(b.spec.ids, b.spec.negate, b.line) for b in parsed.blocks] == [
        (("pk",), False, 3),
        (("pk",), True, 7),
        (("pk", "eu"), False, 11),
    ]
    for html in (pk, intl, eu):
        assert "\ue010" not in html and "\ue012" not in html


def test_nested_region_blocks_and_the_text_after_them() -> None:
    parsed = convert(
        "::: region not intl\nOuter\n\n::: region pk\nInner\n:::\n\nAfter inner\n:::\n\nEnd\n", IDS
    )
    assert parsed.errors == []
    pk = select_region(parsed.html, "pk", parsed.blocks)
    assert "Outer" in pk and "Inner" in pk and "After inner" in pk and "End" in pk
    eu = select_region(parsed.html, "eu", parsed.blocks)
    assert "Outer" in eu and "Inner" not in eu and "After inner" in eu and "End" in eu
    intl = select_region(parsed.html, "intl", parsed.blocks)
    assert "Outer" not in intl and "After inner" not in intl and "End" in intl


def test_malformed_region_block_is_reported_with_line() -> None:
    parsed = convert("text\n\n::: region\nx\n:::\n", IDS)
    assert parsed.errors == [
        (
            3,
            "'::: region' names no region: write '::: region ID …' or '::: region not ID …' (known: pk, intl, eu)",
        ),
    ]  # its ':::' closes it: no second error for the same mistake


def test_expressions_and_internal_links_are_marked() -> None:
    text, exprs = protect_expressions(
        'Price {{ price("web") }}\n\nSee [a](/about/) [b](team.md#x) [c](https://e.com) [d](#top)'
    )
    parsed = convert(text, IDS)
    assert exprs == [('{{ price("web") }}', 1)]
    assert EXPR_OPEN in parsed.html and "&quot;" not in parsed.html
    assert [(link.target, link.fragment, link.is_source) for link in parsed.links] == [
        ("/about/", "", False),
        ("team.md", "x", True),
    ]
    assert parsed.html.count(LINK_OPEN) == 2
    assert 'href="https://e.com"' in parsed.html and 'href="#top"' in parsed.html


def test_code_is_highlighted_with_classes_not_styles() -> None:
    html = convert("```python\nprint('hi')\n```\n", IDS).html
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="nb">print</span>' in html
    assert "style=" not in html


def test_tables_footnotes_and_heading_anchors() -> None:
    html = convert(
        "## Hello World\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: The note.\n", IDS
    ).html
    assert '<h2 id="hello-world">' in html
    assert "<table>" in html and "<td>2</td>" in html
    assert 'class="footnote-ref"' in html


def test_heading_ids_like_github_for_every_script() -> None:
    assert slugify("Café & Co.") == "café--co"
    assert slugify("ہماری خدمات") == "ہماری-خدمات"
    assert slugify("C++ and Python 3.12!") == "c-and-python-312"
    assert slugify("snake_case - kept") == "snake_case---kept"
    assert slugify("!!!") == "section"
    parsed = convert("## FAQ\n\n## FAQ\n\n## FAQ\n\n## Team {#people}\n\n# Top {#top}\n", IDS)
    assert [(level, hid, text) for level, hid, text in parsed.headings] == [
        (2, "faq", "FAQ"),
        (2, "faq-1", "FAQ"),
        (2, "faq-2", "FAQ"),
        (2, "people", "Team"),
        (1, "top", "Top"),
    ]
    assert '<h2 id="people">Team</h2>' in parsed.html and '<h1 id="top">Top</h1>' in parsed.html


def test_value_in_a_link_destination_is_kept_for_the_url() -> None:
    text, _ = protect_expressions("[mail](mailto:{{ site.contact.email }}) [call](tel:{{ x }})\n")
    html = convert(text, IDS).html
    assert 'href="mailto:sitegen-value-0-"' in html and 'href="tel:sitegen-value-1-"' in html


def test_links_carry_their_block_line_and_unsafe_destinations_are_dropped() -> None:
    parsed = convert(
        "# T\n\nText\n[a](/a/)\n\n- x\n- [b](b.md)\n\n| h |\n| - |\n| [c](/c/#Caf%C3%A9) |\n\n"
        '[bad](javascript:alert(1)) <a href="/raw here/">raw</a>\n',
        IDS,
    )
    assert [(link.target, link.fragment, link.line) for link in parsed.links] == [
        ("/a/", "", 3),
        ("b.md", "", 7),
        ("/c/", "Café", 11),
    ]
    assert '<a href="">bad</a>' in parsed.html
    assert '<a href="/raw here/">raw</a>' in parsed.html  # raw HTML the engine did not write: as is
    assert "data-sourcepos" not in parsed.html


def test_heading_ids_errors_and_table_of_contents_text() -> None:
    parsed = convert("## Use `code` & more\n\n## Team {#team}\n\n## Again {#team}\n\n# Top\n", IDS)
    assert parsed.headings[:2] == [(2, "use-code--more", "Use code & more"), (2, "team", "Team")]
    assert '<h2 id="use-code--more">Use <code>code</code> &amp; more</h2>' in parsed.html
    assert parsed.errors == [(5, "heading id '{#team}' is already used on this page; pick another")]
    assert "<h1>Top</h1>" in parsed.html


def test_a_block_inside_a_hidden_block_stays_hidden_even_where_it_is_shown() -> None:
    parsed = convert("::: region pk\nA\n\n::: region not eu\nB\n:::\n\nC\n:::\n\nD\n", IDS)
    assert parsed.errors == [] and parsed.has_regions
    assert select_region(parsed.html, "pk", parsed.blocks) == "<p>A</p>\n<p>B</p>\n<p>C</p>\n<p>D</p>\n"
    assert select_region(parsed.html, "intl", parsed.blocks) == "<p>D</p>\n"
    assert [[parsed.shown(i, rid) for i in range(2)] for rid in IDS] == [
        [True, True],
        [False, False],  # 'not eu' shows intl, but its outer block does not
        [False, False],
    ]


def test_a_page_without_region_blocks_is_the_same_for_every_region() -> None:
    parsed = convert("Intro\n\n## Team\n", IDS)
    assert not parsed.has_regions
    assert select_region(parsed.html, "pk", parsed.blocks) == parsed.html


def test_errors_come_in_line_order_of_their_kind_and_the_outside_words_are_kept() -> None:
    parsed = convert(
        "Intro words\n\n::: region pk\nsecret\n:::\n\n::: region\nbad\n:::\n\n[a b](/c d/)\n", IDS
    )
    assert [line for line, _ in parsed.errors] == [7, 11]
    assert "secret" not in parsed.outside and "intro words" in parsed.outside


def test_headings_get_ids_at_levels_two_to_four_or_when_the_editor_gives_one() -> None:
    parsed = convert(
        "##### Five\n\n# One\n\n#### Four\n\n### Three\n\n##### Deep {#deep}\n\n###### Six\n", IDS
    )
    assert [(level, hid) for level, hid, _ in parsed.headings] == [
        (5, ""),
        (1, ""),
        (4, "four"),
        (3, "three"),
        (5, "deep"),
        (6, ""),
    ]
    assert '<h5>Five</h5>\n<h1>One</h1>\n<h4 id="four">Four</h4>' in parsed.html
    assert '<h5 id="deep">Deep</h5>' in parsed.html and "<h6>Six</h6>" in parsed.html


def test_a_given_heading_id_takes_its_place_and_the_generated_one_moves_on() -> None:
    parsed = convert("## Team {#faq}\n\n## FAQ\n\n## FAQ\n", IDS)
    assert [hid for _, hid, _ in parsed.headings] == ["faq", "faq-1", "faq-2"]
    assert parsed.errors == []


def test_a_bad_heading_id_is_reported_and_cannot_break_the_markup() -> None:
    parsed = convert('Intro\n\n## T {#a"b}\n', IDS)
    assert parsed.errors == [
        (3, "heading id '{#a\"b}': use letters, digits, '-' and '_' only, e.g. {#our-team}")
    ]
    assert '<h2 id="a&quot;b">T</h2>' in parsed.html


def test_a_link_in_a_heading_is_an_internal_link_and_the_text_is_the_words_shown() -> None:
    parsed = convert("Intro\n\n### Three `x` [l](/a/) &amp; more\n", IDS)
    assert parsed.headings == [(3, "three-x-l--more", "Three x l & more")]
    assert [(link.target, link.line) for link in parsed.links] == [("/a/", 3)]
    assert f'<a href="{LINK_OPEN}0\ue003">l</a>' in parsed.html


def test_code_in_an_unknown_language_or_none_is_shown_escaped_as_written() -> None:
    html = convert("```nosuchlang\nx < y\n```\n\n```\nplain & <b>\n```\n\n```py extra\nx=1\n```\n", IDS).html
    assert '<pre><code class="language-nosuchlang">x &lt; y\n</code></pre>' in html
    assert "<pre><code>plain &amp; &lt;b&gt;\n</code></pre>" in html
    assert '<pre class="highlight"><code class="language-py"><span class="n">x</span>' in html
    assert "data-sourcepos" not in html


def test_highlighted_code_shows_the_characters_the_editor_wrote() -> None:
    html = convert('```python\nif a < b and c == "&":\n    pass\n```\n', IDS).html
    assert '<span class="o">&lt;</span>' in html and "&amp;" in html and "&amp;lt;" not in html


def test_expressions_are_found_across_lines_with_the_line_they_start_on() -> None:
    text, found = protect_expressions("a\n{{ x\n y }} b {{z}}\n\n{{ w }}")
    assert found == [("{{ x\n y }}", 2), ("{{z}}", 3), ("{{ w }}", 5)]
    assert text == f"a\n{EXPR_OPEN}0\ue001 b {EXPR_OPEN}1\ue001\n\n{EXPR_OPEN}2\ue001"


def test_heading_ids_ignore_surrounding_spaces() -> None:
    assert slugify("  Our Team  ") == "our-team"
    assert slugify("a\u0301 b") == "a\u0301-b"  # a combining mark stays, as on GitHub


def test_the_text_before_the_first_region_block_is_kept_whole() -> None:
    parsed = convert("Intro\n\n::: region pk\nA\n:::\n", IDS)
    assert select_region(parsed.html, "pk", parsed.blocks) == "<p>Intro</p>\n<p>A</p>\n"
    assert select_region(parsed.html, "eu", parsed.blocks) == "<p>Intro</p>\n"


def test_an_expression_after_a_leading_blank_line_is_on_line_two() -> None:
    assert protect_expressions("\n{{ x }}")[1] == [("{{ x }}", 2)]
