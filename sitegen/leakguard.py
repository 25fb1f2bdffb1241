"""The leak guard: a check of each rendered page against what its source says, behind the parser.

Two promises, checked on every page of every region after rendering, so that a
mistake anywhere between the block scanner and the written file fails the
build instead of publishing:

- no page shows a raw ``:::`` line (outside code): every block line was consumed;
- no page shows text written only inside blocks for other regions.

The second is checked on the page's content with region blocks chosen and
before values are filled in, so a site value that happens to read like a hidden
sentence cannot trip it. A hidden line's words count as leaked only when they
appear there and nowhere in the source outside the hidden blocks (raw source
words, a superset of any text Markdown makes from them): valid content cannot
trigger the guard; a parser bug does.
"""

from __future__ import annotations

import html as htmllib
import re

from sitegen.blocks import words
from sitegen.markdown import Parsed

_LETTERS = re.compile(r"[^\W\d_]{3,}")
_VERBATIM = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_RAW_BLOCK_LINE = re.compile(r"(?:^|>)[ \t]*(:::[^<\n]*)", re.M)

BUG = "a sitegen bug, not a mistake in your file: nothing was written; please report it"


def hidden_text(parsed: Parsed, region_id: str) -> list[tuple[int, str]]:
    """(block line, words) written only inside blocks not shown in ``region_id``."""
    shown = [parsed.outside]
    found: list[tuple[int, str]] = []
    for index, block in enumerate(parsed.blocks):
        if parsed.shown(index, region_id):
            shown.append(block.raw)
        else:
            found.extend((block.line, chunk) for chunk in block.words if _LETTERS.search(chunk))
    if not found:
        return []
    text = " " + " ".join(shown) + " "
    return [(line, chunk) for line, chunk in found if f" {chunk} " not in text]


def leaked(parsed: Parsed, region_id: str, content_html: str) -> list[tuple[int, str]]:
    """Hidden text (block line, words) that the region's content nevertheless shows."""
    sentinels = hidden_text(parsed, region_id)
    if not sentinels:
        return []
    shown = f" {words(htmllib.unescape(_TAG.sub(' ', content_html)))} "
    return [(line, chunk) for line, chunk in sentinels if f" {chunk} " in shown]


def raw_block_lines(page_html: str) -> list[str]:
    """``:::`` lines a page shows as text (code, scripts and styles left out)."""
    if ":::" not in page_html:
        return []  # nearly every page: no need to cut out code and search line by line
    return [m.group(1).strip() for m in _RAW_BLOCK_LINE.finditer(_VERBATIM.sub("", page_html))]
