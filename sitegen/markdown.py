"""Markdown to HTML, once per source file, with region blocks left selectable.

The engine is markdown-it-py (CommonMark) with mdit-py-plugins: tables,
footnotes, heading anchors and a ``region`` container. A region block
(``::: region pk`` … ``:::``) is rendered as a pair of private-use markers, so
the HTML of every region is cut from the one parse by :func:`select_region`.
Template expressions (``{{ … }}``) and internal links are replaced by markers
too and filled per region by the render stage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin

# Private-use code points: markdown-it passes them through untouched, and no
# editor types them, so they cannot collide with content.
REGION_OPEN, REGION_MID, REGION_CLOSE = "\ue010", "\ue011", "\ue012"
EXPR_OPEN, EXPR_CLOSE = "\ue000", "\ue001"
LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"

_REGION_MARK = re.compile(f"{REGION_OPEN}([^{REGION_MID}]*){REGION_MID}\n?|{REGION_CLOSE}\n?")
_EXPR = re.compile(r"\{\{(.*?)\}\}", re.S)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass
class RegionSpec:
    """Which regions a ``::: region`` block is shown in."""

    ids: tuple[str, ...]
    negate: bool = False

    def shows(self, region_id: str) -> bool:
        return (region_id in self.ids) != self.negate


def parse_region_spec(info: str) -> RegionSpec | None:
    """``region pk intl`` / ``region not pk`` -> RegionSpec; None when malformed."""
    words = info.split()
    if not words or words[0] != "region":
        return None
    words = words[1:]
    negate = bool(words) and words[0] == "not"
    if negate:
        words = words[1:]
    if not words:
        return None
    return RegionSpec(tuple(words), negate)


@dataclass
class Link:
    """An internal link found in Markdown, resolved per region later."""

    target: str  # region-less URL path ("/about/") or source path ("about.md")
    fragment: str
    line: int
    is_source: bool


@dataclass
class Parsed:
    """One source file's Markdown, converted once."""

    html: str
    links: list[Link] = field(default_factory=list)
    regions: list[tuple[RegionSpec, int, str]] = field(default_factory=list)  # spec, line, raw info
    errors: list[tuple[int, str]] = field(default_factory=list)  # line (in body), message
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # level, id, text

    @property
    def has_regions(self) -> bool:
        return bool(self.regions)


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


def _slugify(text: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower(), flags=re.UNICODE)
    return re.sub(r"[\s]+", "-", slug).strip("-") or "section"


def _render_region(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if token.nesting == 1:
        return f"{REGION_OPEN}{token.info.strip()}{REGION_MID}\n"
    return f"{REGION_CLOSE}\n"


def _collect(state: StateCore) -> None:
    """Core rule: record region blocks, headings and internal links; mark links."""
    env = state.env
    links: list[Link] = env.setdefault("links", [])
    regions: list[tuple[RegionSpec, int, str]] = env.setdefault("regions", [])
    errors: list[tuple[int, str]] = env.setdefault("errors", [])
    headings: list[tuple[int, str, str]] = env.setdefault("headings", [])
    line = 0
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.map:
            line = token.map[0] + 1
        if token.type == "container_region_open":
            spec = parse_region_spec(token.info)
            if spec is None:
                errors.append(
                    (
                        line,
                        f"malformed region block '::: {token.info.strip()}': write '::: region ID [ID…]' or '::: region not ID'",
                    )
                )
            else:
                regions.append((spec, line, token.info.strip()))
        elif token.type == "heading_open" and i + 1 < len(tokens):
            hid = token.attrGet("id")
            headings.append((int(token.tag[1]), str(hid or ""), tokens[i + 1].content))
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    _mark_link(child, line, links)


def _mark_link(token: Token, line: int, links: list[Link]) -> None:
    href = str(token.attrGet("href") or "")
    if not href or href.startswith("#") or href.startswith("//") or _SCHEME.match(href):
        return
    raw, _, fragment = href.partition("#")
    raw = unquote(raw)
    path_part = raw.split("?", 1)[0]
    # .yaml: a catalog file (services/web.yaml) stands for its service page.
    is_source = path_part.endswith((".md", ".yaml", ".yml"))
    links.append(Link(raw, fragment, line, is_source))
    token.attrSet("href", f"{LINK_OPEN}{len(links) - 1}{LINK_CLOSE}")


def _fence_lang_guard(state: StateCore) -> None:
    """Nothing to do: kept as an extension point for fenced-code options."""


@lru_cache(maxsize=1)
def engine() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": highlight_code})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=_slugify)
    md.use(
        container_plugin,
        name="region",
        marker=":",
        validate=lambda params, *args: params.strip().split(" ", 1)[0] == "region",
        render=_render_region,
    )
    md.core.ruler.push("sitegen_collect", _collect)
    return md


def protect_expressions(body: str) -> tuple[str, list[tuple[str, int]]]:
    """Replace ``{{ expr }}`` by markers; return the text and (expr, line) pairs."""
    found: list[tuple[str, int]] = []

    def repl(m: re.Match[str]) -> str:
        found.append((m.group(0), body.count("\n", 0, m.start()) + 1))
        return f"{EXPR_OPEN}{len(found) - 1}{EXPR_CLOSE}"

    return _EXPR.sub(repl, body), found


def convert(body: str) -> Parsed:
    """Markdown body (expressions already protected) to HTML with markers."""
    env: dict[str, Any] = {}
    html = engine().render(body, env)
    return Parsed(
        html=html,
        links=env.get("links", []),
        regions=env.get("regions", []),
        errors=env.get("errors", []),
        headings=env.get("headings", []),
    )


def select_region(html: str, region_id: str) -> str:
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
        if m.group(0).startswith(REGION_OPEN):
            spec = parse_region_spec(m.group(1))
            shown = spec.shows(region_id) if spec else True
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


def content_hash(*parts: str | bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()
