"""Markdown to HTML, once per source file, with region blocks left selectable.

The engine is markdown-it-py (CommonMark) with mdit-py-plugins: tables and
footnotes. Region blocks are not a Markdown feature: :mod:`sitegen.blocks`
finds and checks them line by line first and leaves one marker line per block
line, so the HTML of every region is cut from the one parse by
:func:`select_region`. Template expressions (``{{ … }}``) and internal links
are replaced by markers too and filled per region by the render stage; an
expression inside a link destination gets a plain-ASCII marker, because the
engine rewrites a link's host name (``mailto:``) before we could fill it.
Heading ids are made the way GitHub makes them, or given as ``{#id}``.
"""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from sitegen.blocks import (
    HEADING_ID_CLOSE,
    HEADING_ID_OPEN,
    REGION_CLOSE,
    REGION_MID,
    REGION_OPEN,
    Block,
    heading_id_error,
    mark_heading_ids,
    scan,
)

EXPR_OPEN, EXPR_CLOSE = "\ue000", "\ue001"
LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"
# An expression inside a link destination: ASCII, so the engine's URL handling leaves it as is.
LINK_VALUE_OPEN, LINK_VALUE_CLOSE = "sitegen-value-", "-"
LINK_VALUE = re.compile(f"{LINK_VALUE_OPEN}(\\d+){LINK_VALUE_CLOSE}")

_REGION_MARK = re.compile(f"[ ]*<!--(?:{REGION_OPEN}(\\d+){REGION_MID}|{REGION_CLOSE})-->\n?")
_EXPR = re.compile(r"\{\{(.*?)\}\}", re.S)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING_ID = re.compile(f"{HEADING_ID_OPEN}([^{HEADING_ID_CLOSE}]*){HEADING_ID_CLOSE}")
# Link destinations that hold an expression marker: inline links and reference definitions.
_DESTINATION = re.compile(
    f"(\\]\\(\\s*<?|^[ ]{{0,3}}\\[[^\\]]+\\]:[ \\t]*<?)([^\\s)>]*{EXPR_OPEN}[^\\s)>]*)", re.M
)


@dataclass
class Link:
    """An internal link found in Markdown, resolved per region later."""

    target: str  # region-less URL path ("/about/") or source path ("about.md")
    fragment: str  # decoded: "café-co", not "caf%C3%A9-co"
    line: int
    is_source: bool


@dataclass
class Parsed:
    """One source file's Markdown, converted once."""

    html: str
    links: list[Link] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # line (in body), message
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # level, id, text
    outside: str = ""  # every word outside every block (leak guard)

    @property
    def has_regions(self) -> bool:
        return bool(self.blocks)

    def shown(self, index: int, region_id: str) -> bool:
        block = self.blocks[index]
        return all(self.blocks[i].spec.shows(region_id) for i in (*block.parents, index))


@lru_cache(maxsize=4096)
def _highlight_cached(code: str, lang: str) -> str | None:
    # Pygments is imported on first use: a build with no code blocks to convert never pays for it.
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang, stripall=False)
    except ClassNotFound:
        return None
    return str(highlight(code, lexer, HtmlFormatter(nowrap=True)))


def highlight_code(code: str, lang: str, attrs: str) -> str:
    """Pygments highlighting with CSS classes (no inline styles: strict CSP)."""
    lang = (lang or "").strip().split()[0] if lang else ""
    if not lang:
        return ""
    body = _highlight_cached(code, lang.lower())
    if body is None:
        return ""
    return f'<pre class="highlight"><code class="language-{lang}">{body}</code></pre>'


@lru_cache(maxsize=1)
def highlight_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".highlight"))


def slugify(text: str) -> str:
    """GitHub's heading ids: letters, marks and digits of any script kept, lower-cased,
    other punctuation dropped, each space a hyphen (``Café & Co.`` -> ``café--co``)."""
    kept = [
        "-" if ch == " " else ch
        for ch in text.strip().lower()
        if ch in " -_" or unicodedata.category(ch)[0] in "LMN"
    ]
    return "".join(kept) or "section"


def _collect(state: StateCore) -> None:
    """Core rule: heading ids, and internal links (recorded and replaced by markers)."""
    env = state.env
    links: list[Link] = env.setdefault("links", [])
    errors: list[tuple[int, str]] = env.setdefault("errors", [])
    headings: list[tuple[int, str, str]] = env.setdefault("headings", [])
    used: set[str] = set()
    line = 0
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.map:
            line = token.map[0] + 1
        if token.type == "heading_open" and i + 1 < len(tokens):
            inline = tokens[i + 1]
            explicit = _take_heading_id(inline)
            if explicit is not None:
                problem = heading_id_error(explicit)
                if problem:
                    errors.append((line, problem))
                elif explicit in used:
                    errors.append(
                        (line, f"heading id '{{#{explicit}}}' is already used on this page; pick another")
                    )
            level = int(token.tag[1])
            if explicit or 2 <= level <= 4:
                hid = explicit or _unique(
                    slugify(
                        "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
                    ),
                    used,
                )
                used.add(hid)
                token.attrSet("id", hid)
            headings.append((level, str(token.attrGet("id") or ""), inline.content))
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    _mark_link(child, line, links)


def _take_heading_id(inline: Token) -> str | None:
    """The ``{#id}`` marker at the end of a heading, removed from its text."""
    m = _HEADING_ID.search(inline.content)
    if m is None:
        return None
    inline.content = _HEADING_ID.sub("", inline.content).rstrip()
    for child in inline.children or []:
        if child.type == "text" and HEADING_ID_OPEN in child.content:
            child.content = _HEADING_ID.sub("", child.content).rstrip()
    return m.group(1)


def _unique(slug: str, used: set[str]) -> str:
    """GitHub's numbering of repeated headings: ``faq``, ``faq-1``, ``faq-2``."""
    candidate, n = slug, 0
    while candidate in used:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def _mark_link(token: Token, line: int, links: list[Link]) -> None:
    href = str(token.attrGet("href") or "")
    if not href or href.startswith("#") or href.startswith("//") or _SCHEME.match(href):
        return
    if LINK_VALUE.search(href):
        return  # built from site values: filled per region, checked in the output
    raw, _, fragment = href.partition("#")
    raw, fragment = unquote(raw), unquote(fragment)
    path_part = raw.split("?", 1)[0]
    # .yaml: a catalog file (services/web.yaml) stands for its service page.
    is_source = path_part.endswith((".md", ".yaml", ".yml"))
    links.append(Link(raw, fragment, line, is_source))
    token.attrSet("href", f"{LINK_OPEN}{len(links) - 1}{LINK_CLOSE}")


@lru_cache(maxsize=1)
def engine() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": highlight_code})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.core.ruler.push("sitegen_collect", _collect)
    return md


def protect_expressions(body: str) -> tuple[str, list[tuple[str, int]]]:
    """Replace ``{{ expr }}`` by markers; return the text and (expr, line) pairs."""
    found: list[tuple[str, int]] = []

    def repl(m: re.Match[str]) -> str:
        found.append((m.group(0), body.count("\n", 0, m.start()) + 1))
        return f"{EXPR_OPEN}{len(found) - 1}{EXPR_CLOSE}"

    return _EXPR.sub(repl, body), found


def _ascii_destinations(text: str) -> str:
    """Expression markers inside link destinations -> ASCII markers the URL handling keeps."""
    if EXPR_OPEN not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        inner = re.sub(
            f"{EXPR_OPEN}(\\d+){EXPR_CLOSE}", rf"{LINK_VALUE_OPEN}\1{LINK_VALUE_CLOSE}", m.group(2)
        )
        return m.group(1) + inner

    return _DESTINATION.sub(repl, text)


def convert(body: str, region_ids: Sequence[str]) -> Parsed:
    """Markdown body (expressions already protected) to HTML with markers."""
    scanned = scan(mark_heading_ids(body), region_ids)
    env: dict[str, Any] = {}
    html = engine().render(_ascii_destinations(scanned.text), env)
    return Parsed(
        html=html,
        links=env.get("links", []),
        blocks=scanned.blocks,
        errors=scanned.errors + env.get("errors", []),
        headings=env.get("headings", []),
        outside=scanned.outside,
    )


def select_region(html: str, region_id: str, blocks: Sequence[Block]) -> str:
    """Keep the region blocks shown in ``region_id`` (nesting allowed), drop the rest."""
    if REGION_OPEN not in html:
        return html
    out: list[str] = []
    hidden = 0
    stack: list[bool] = []
    pos = 0
    for m in _REGION_MARK.finditer(html):
        if not hidden:
            out.append(html[pos : m.start()])
        pos = m.end()
        if m.group(1) is not None:
            shown = blocks[int(m.group(1))].spec.shows(region_id)
            stack.append(shown)
            if not shown:
                hidden += 1
        elif stack and not stack.pop():
            hidden -= 1
    if not hidden:
        out.append(html[pos:])
    return "".join(out)


def fill(html: str, opener: str, closer: str, values: Callable[[int], str]) -> str:
    """Replace ``opener N closer`` markers with ``values(N)``."""
    # Inside a link destination markdown-it percent-encodes the markers
    # ([WhatsApp](https://wa.me/{{ region.params.whatsapp }})): match both forms.
    enc_open, enc_close = quote(opener), quote(closer)
    if opener not in html and enc_open not in html:
        return html
    pattern = re.compile(f"(?:{opener}|{enc_open})(\\d+)(?:{closer}|{enc_close})")
    return pattern.sub(lambda m: values(int(m.group(1))), html)


_ATTR_WITH_VALUE = re.compile(f'(\\s(?:href|src)=")([^"]*{LINK_VALUE_OPEN}\\d+{LINK_VALUE_CLOSE}[^"]*)(")')


def fill_link_values(
    html: str, values: Callable[[int], str], refused: Callable[[str], None], made: Callable[[str, str], None]
) -> str:
    """Put values into link destinations, then treat the whole URL as the engine treats one it
    parsed itself (normalised, percent-encoded, checked for an allowed scheme).

    ``made(href, written)`` hears of each link made, with its destination as written (markers in it).
    """
    if LINK_VALUE_OPEN not in html:
        return html
    md = engine()

    def repl(m: re.Match[str]) -> str:
        written = htmllib.unescape(m.group(2))
        url = LINK_VALUE.sub(lambda v: values(int(v.group(1))), written)
        if not md.validateLink(url):
            refused(url)
            url = ""
        href = escapeHtml(md.normalizeLink(url))
        made(href, written)
        return m.group(1) + href + m.group(3)

    return _ATTR_WITH_VALUE.sub(repl, html)
