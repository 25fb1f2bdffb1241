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
