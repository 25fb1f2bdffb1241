"""The leak guard behind the parser: silent on valid content, loud on an injected parser bug."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import sitegen.blocks
import sitegen.page_content
from sitegen.errors import BuildFailed
from sitegen.leakguard import hidden_text, raw_block_lines
from sitegen.markdown import convert, protect_expressions
from tests.support.sitefactory import build_site, html, write_site

PAGE = """\
---
title: Home
---
Everyone reads this.

::: region pk
Call our Karachi office on {{ region.label }}.

```text
::: region pk  (code: shown as written)
```
:::

::: region not pk
We schedule calls in your time zone.

::: region intl
Invoices in US dollars.
:::

Still outside Pakistan after the inner block.
:::
"""


def test_valid_blocks_build_and_nothing_leaks(tmp_path: Path) -> None:
    build_site(write_site(tmp_path, {"content/index.md": PAGE}))
    pk, intl = html(tmp_path, "pk/index.html"), html(tmp_path, "intl/index.html")
    assert "Karachi office" in pk and "time zone" not in pk and "Still outside" not in pk
    assert "::: region pk  (code: shown as written)" in pk
    assert "Karachi office" not in intl and "Invoices in US dollars" in intl and "Still outside" in intl


def test_hidden_text_is_what_only_other_regions_wrote() -> None:
    text, _ = protect_expressions(PAGE.split("---\n", 2)[2])
    parsed = convert(text, ["pk", "intl"])
    assert hidden_text(parsed, "intl") == [(3, "call our karachi office on")]
    assert hidden_text(parsed, "pk") == [
        (11, "we schedule calls in your time zone"),
        (11, "still outside pakistan after the inner block"),
        (14, "invoices in us dollars"),
    ]
    # Words the other regions also see are no evidence of a leak.
    same = convert("Call us.\n\n::: region pk\nCall us.\n:::\n", ["pk", "intl"])
    assert hidden_text(same, "intl") == []


def test_a_region_selection_bug_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_site(tmp_path, {"content/index.md": PAGE})
    build_site(tmp_path)
    before = html(tmp_path, "intl/index.html")

    def shows_everything(html: str, region_id: str, blocks: Sequence[object]) -> str:
        return sitegen.markdown._REGION_MARK.sub("", html)

    monkeypatch.setattr(sitegen.page_content, "select_region", shows_everything)
    with pytest.raises(BuildFailed) as failed:
        build_site(tmp_path, cache=False)
    bug = "a sitegen bug, not a mistake in your file: nothing was written; please report it"
    assert [str(e) for e in failed.value.errors] == [
        "content/index.md:6: leak guard: /intl/ shows 'call our karachi office on', written only for other "
        f"regions in the block opened here; {bug}",
        "content/index.md:14: leak guard: /pk/ shows 'still outside pakistan after the inner block', written "
        f"only for other regions in the block opened here; {bug}",
        "content/index.md:14: leak guard: /pk/ shows 'we schedule calls in your time zone', written only for "
        f"other regions in the block opened here; {bug}",
        "content/index.md:17: leak guard: /pk/ shows 'invoices in us dollars', written only for other regions "
        f"in the block opened here; {bug}",
    ]
    assert html(tmp_path, "intl/index.html") == before


def test_a_scanner_that_misses_block_lines_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_site(tmp_path, {"content/index.md": "---\ntitle: Home\n---\n\n::: region pk\nPK only\n:::\n"})
    real = sitegen.blocks.classify

    def misses_blocks(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
        for i, kind in real(lines):
            yield i, "text" if kind == "block" else kind

    monkeypatch.setattr(sitegen.blocks, "classify", misses_blocks)
    with pytest.raises(BuildFailed) as failed:
        build_site(tmp_path, cache=False)
    messages = [str(e) for e in failed.value.errors]
    assert (
        "content/index.md: leak guard: /intl/ shows the block line '::: region pk' as text; a sitegen bug"
        in ("\n".join(messages))
    )


def test_raw_block_lines_outside_code_only() -> None:
    assert raw_block_lines("<p>::: regoin pk\nPK</p>\n<pre><code>::: region pk\n</code></pre>") == [
        "::: regoin pk"
    ]
    assert raw_block_lines("<p>Write ::: in the middle</p>") == []
