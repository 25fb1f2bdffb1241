"""Nested region blocks on built pages: what each region's visitor reads.

Mutation testing showed that counting nested hidden blocks wrongly (a flag instead of a depth)
passed every test: the International page then showed Pakistan-only text and lost the text
after the blocks. These check the text before, between and after the blocks on the built pages.
"""

from __future__ import annotations

import re

import pytest

from tests.support.sitefactory import build_site, html, write_site

PAGE = """\
---
title: Offices
---
Before the blocks.

::: region pk
Outer Pakistan text.

::: region pk
Inner Pakistan-only text.
:::

Outer Pakistan text after the inner block.
:::

Between the blocks.

::: region not pk
Outer text for everyone else.

::: region intl
Inner International text.
:::

Outer text after the inner block for everyone else.
:::

After the blocks.
"""

EVERYWHERE = ["Before the blocks.", "Between the blocks.", "After the blocks."]
EXPECTED = {
    "pk": [
        "Outer Pakistan text.",
        "Inner Pakistan-only text.",
        "Outer Pakistan text after the inner block.",
    ],
    "intl": [
        "Outer text for everyone else.",
        "Inner International text.",
        "Outer text after the inner block for everyone else.",
    ],
}
NOWHERE_ELSE = {
    "pk": [
        "Outer text for everyone else.",
        "Inner International text.",
        "Outer text after the inner block for everyone else.",
    ],
    "intl": [
        "Outer Pakistan text.",
        "Inner Pakistan-only text.",
        "Outer Pakistan text after the inner block.",
    ],
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    files = {"content/index.md": "---\ntitle: Home\n---\nHi.\n", "content/offices.md": PAGE}
    root = write_site(tmp_path_factory.mktemp("nesting"), files)
    build_site(root)

    def main_text(rel: str) -> str:
        body = html(root, rel)
        main = re.search(r"<main\b.*?</main>", body, re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.group(0) if main else body))

    return {region: main_text(f"{region}/offices/index.html") for region in ("pk", "intl")}


@pytest.mark.parametrize("region", ["pk", "intl"])
def test_nested_region_blocks_keep_text_after_the_blocks(pages: dict[str, str], region: str) -> None:
    text = pages[region]
    positions = [text.find(s) for s in EVERYWHERE]
    assert -1 not in positions, (region, text)
    assert positions == sorted(positions)


@pytest.mark.parametrize("region", ["pk", "intl"])
def test_nested_region_blocks_show_each_region_only_its_text(pages: dict[str, str], region: str) -> None:
    text = pages[region]
    for sentence in EXPECTED[region]:
        assert sentence in text, (region, sentence)
    for sentence in NOWHERE_ELSE[region]:
        assert sentence not in text, (region, sentence)
