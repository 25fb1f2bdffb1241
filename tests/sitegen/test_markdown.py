from sitegen.markdown import (
    EXPR_OPEN,
    LINK_OPEN,
    convert,
    parse_region_spec,
    protect_expressions,
    select_region,
)


def test_region_blocks_selected_after_one_parse() -> None:
    parsed = convert(
        "Intro\n\n::: region pk\nPK only\n:::\n\n::: region not pk\nElsewhere\n:::\n\n::: region pk eu\nPK or EU\n:::\n"
    )
    pk = select_region(parsed.html, "pk")
    intl = select_region(parsed.html, "intl")
    eu = select_region(parsed.html, "eu")
    assert "PK only" in pk and "Elsewhere" not in pk and "PK or EU" in pk
    assert "PK only" not in intl and "Elsewhere" in intl and "PK or EU" not in intl
    assert "PK or EU" in eu and "Elsewhere" in eu
    assert [(spec.ids, spec.negate, line) for spec, line, _ in parsed.regions] == [
        (("pk",), False, 3),
        (("pk",), True, 7),
        (("pk", "eu"), False, 11),
    ]
    for html in (pk, intl, eu):
        assert "\ue010" not in html and "\ue012" not in html


def test_nested_region_blocks() -> None:
    parsed = convert(":::: region not intl\nOuter\n\n::: region pk\nInner\n:::\n::::\n")
    assert "Inner" in select_region(parsed.html, "pk")
    eu = select_region(parsed.html, "eu")
    assert "Outer" in eu and "Inner" not in eu
    assert "Outer" not in select_region(parsed.html, "intl")


def test_malformed_region_block_is_reported_with_line() -> None:
    parsed = convert("text\n\n::: region\nx\n:::\n")
    assert parsed.errors == [
        (3, "malformed region block '::: region': write '::: region ID [ID…]' or '::: region not ID'")
    ]
    assert parse_region_spec("region not") is None


def test_expressions_and_internal_links_are_marked() -> None:
    text, exprs = protect_expressions(
        'Price {{ price("web") }}\n\nSee [a](/about/) [b](team.md#x) [c](https://e.com) [d](#top)'
    )
    parsed = convert(text)
    assert exprs == [('{{ price("web") }}', 1)]
    assert EXPR_OPEN in parsed.html and "&quot;" not in parsed.html
    assert [(link.target, link.fragment, link.is_source) for link in parsed.links] == [
        ("/about/", "", False),
        ("team.md", "x", True),
    ]
    assert parsed.html.count(LINK_OPEN) == 2
    assert 'href="https://e.com"' in parsed.html and 'href="#top"' in parsed.html


def test_code_is_highlighted_with_classes_not_styles() -> None:
    html = convert("```python\nprint('hi')\n```\n").html
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="nb">print</span>' in html
    assert "style=" not in html


def test_tables_footnotes_and_heading_anchors() -> None:
    html = convert("## Hello World\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: The note.\n").html
    assert '<h2 id="hello-world">' in html
    assert "<table>" in html and "<td>2</td>" in html
    assert 'class="footnote-ref"' in html
