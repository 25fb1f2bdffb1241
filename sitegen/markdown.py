"""Markdown to HTML, once per source file, with region blocks left selectable.

The engine is cmarkgfm (GitHub's cmark: CommonMark plus tables, strikethrough
and footnotes), compiled C; see docs/decisions.md for why. Region blocks are
not a Markdown feature: :mod:`sitegen.blocks` finds and checks them line by
line first and leaves one marker line per block line, so the HTML of every
region is cut from the one parse by :func:`select_region`. Template
expressions (``{{ … }}``) and internal links are replaced by markers too and
filled per region by the render stage; an expression inside a link destination
gets a plain-ASCII marker, because the engine percent-encodes a destination
before we could fill it. Heading ids (made the way GitHub makes them, or given
as ``{#id}``), internal-link markers and Pygments highlighting are added in one
pass over the engine's HTML, which carries each block's source line
(``data-sourcepos``, removed in that pass) for file:line messages.
"""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote

import cmarkgfm
from cmarkgfm.cmark import Options

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
from sitegen.highlight import highlight_code

EXPR_OPEN, EXPR_CLOSE = "\ue000", "\ue001"
LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"
IMG_OPEN, IMG_CLOSE = "\ue004", "\ue005"
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
class ImageRef:
    """An image beside the content (``![alt](hero.jpg)``), replaced by a marker until rendering."""

    target: str  # as written, decoded: "hero.jpg", "../shared/team photo.jpg"
    alt: str  # HTML-escaped, as the engine wrote it (expression markers may be inside)
    title: str  # HTML-escaped
    line: int
    src: str = ""  # the destination as the engine wrote it (percent-encoded, HTML-escaped)


@dataclass
class Parsed:
    """One source file's Markdown, converted once."""

    html: str
    links: list[Link] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # line (in body), message
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # level, id, text
    outside: str = ""  # every word outside every block (leak guard)
    images: list[ImageRef] = field(default_factory=list)

    @property
    def has_regions(self) -> bool:
        return bool(self.blocks)

    def shown(self, index: int, region_id: str) -> bool:
        block = self.blocks[index]
        return all(self.blocks[i].spec.shows(region_id) for i in (*block.parents, index))


def slugify(text: str) -> str:
    """GitHub's heading ids: letters, marks and digits of any script kept, lower-cased,
    other punctuation dropped, each space a hyphen (``Café & Co.`` -> ``café--co``)."""
    kept = [
        "-" if ch == " " else ch
        for ch in text.strip().lower()
        if ch in " -_" or unicodedata.category(ch)[0] in "LMN"
    ]
    return "".join(kept) or "section"


_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_SOURCEPOS | Options.CMARK_OPT_FOOTNOTES
_EXTENSIONS = ["table", "strikethrough"]
# What the one pass over the engine's HTML looks at: a block's source line (cmark writes it on every
# block it renders, raw HTML excepted), a whole heading, a code block, a link.
_PASS = re.compile(
    r'<h([1-6]) data-sourcepos="(\d+):[^"]*">(.*?)</h\1>'
    r'|<pre data-sourcepos="(\d+):[^"]*"><code(?: class="language-([^"]*)")?>(.*?)</code></pre>'
    r'| data-sourcepos="(\d+):[^"]*"'
    r'|<a href="([^"]*)"'
    r'|<img src="([^"]*)" alt="([^"]*)"(?: title="([^"]*)")? />'
    # Inline code (left alone), and a link CommonMark left as text because of a space in its
    # destination ("[x](/our team/)"): an editor's link that would vanish into the page.
    r"|(<code>.*?</code>)"
    r"|(!?\[[^\]\n<]*\]\(([^()\n<>]*[ \t][^()\n<>]*)\))",
    re.S,
)
_TAG = re.compile(r"<[^>]*>")
# Destinations a Markdown link may not have (the list markdown-it and cmark's safe mode use).
_UNSAFE_URL = re.compile(r"^\s*(?:javascript|vbscript|file|data(?!:image/(?:gif|png|jpeg|webp);)):", re.I)


def _to_html(text: str) -> str:
    return cmarkgfm.markdown_to_html_with_extensions(text, options=_OPTIONS, extensions=_EXTENSIONS)


class _Pass:
    """Heading ids, internal-link markers and highlighting, in document order."""

    def __init__(self, source: str) -> None:
        self.source = source.split("\n")  # the Markdown, to place an error within its block
        self.links: list[Link] = []
        self.errors: list[tuple[int, str]] = []
        self.headings: list[tuple[int, str, str]] = []
        self.images: list[ImageRef] = []
        self.used: set[str] = set()
        # The line of the block being read; raw HTML carries none, so HTML at the top is at line 1.
        self.line = 1

    def run(self, html: str) -> str:
        return _PASS.sub(self._one, html)

    def _one(self, m: re.Match[str]) -> str:
        if m.group(1):
            return self._heading(int(m.group(1)), int(m.group(2)), m.group(3))
        if m.group(4):
            self.line = int(m.group(4))
            return self._code(m.group(5), m.group(6))
        if m.group(7):
            self.line = int(m.group(7))
            return ""
        if m.group(12) is not None:
            return m.group(12)
        if m.group(13) is not None:
            return self._unparsed(htmllib.unescape(m.group(13)), htmllib.unescape(m.group(14)), m.group(13))
        if m.group(8) is None:
            return self._image(m.group(9), m.group(10), m.group(11) or "", m.group(0))
        return f'<a href="{self._href(m.group(8))}"'

    def _unparsed(self, written: str, destination: str, shown: str) -> str:
        """An error at the line that holds the text, with the link as it would work."""
        # The text as the editor wrote it: with '&' (the engine escaped it) or '&amp;' as it shows.
        line = self.line + next(
            (i for i, text in enumerate(self.source[self.line - 1 :]) if written in text or shown in text),
            0,  # not found (written with other entities): the line its block starts on
        )
        target = destination.strip()
        if target.startswith("/") and not _SCHEME.match(target) and "." not in target.rsplit("/", 1)[-1]:
            from sitegen.pages import slug_url  # pages imports this module

            fixed = slug_url(target)  # a page's address is its slug URL
        else:
            fixed = f"<{target}>"  # a file name (or any URL) with spaces: in angle brackets
        label = written[: written.index("](") + 2]
        self.errors.append(
            (
                line,
                f"'{written}' is not a link (a link's destination cannot contain spaces, so it is "
                f"shown as text); did you mean {label}{fixed})?",
            )
        )
        return shown

    def _image(self, escaped: str, alt: str, title: str, written: str) -> str:
        """A local image becomes a marker (filled with its variants when rendering); others stay."""
        src = htmllib.unescape(escaped)
        if _UNSAFE_URL.match(src):
            return written.replace(f'src="{escaped}"', 'src=""')
        if not src or src.startswith("//") or _SCHEME.match(src) or LINK_VALUE.search(src):
            return written
        target = unquote(src.split("#", 1)[0].split("?", 1)[0])
        self.images.append(ImageRef(target, alt, title, self.line, escaped))
        return f"{IMG_OPEN}{len(self.images) - 1}{IMG_CLOSE}"

    def _heading(self, level: int, line: int, inner: str) -> str:
        self.line = line
        explicit = None
        found = _HEADING_ID.search(inner)
        if found is not None:
            explicit = htmllib.unescape(found.group(1))
            inner = _HEADING_ID.sub("", inner).rstrip()
            problem = heading_id_error(explicit)
            if problem:
                self.errors.append((line, problem))
            elif explicit in self.used:
                self.errors.append(
                    (line, f"heading id '{{#{explicit}}}' is already used on this page; pick another")
                )
        inner = _PASS.sub(self._one, inner)  # links inside the heading
        text = htmllib.unescape(_TAG.sub("", inner))
        hid = ""
        if explicit or 2 <= level <= 4:
            hid = explicit or _unique(slugify(text), self.used)
            self.used.add(hid)
        self.headings.append((level, hid, text.strip()))
        attr = f' id="{htmllib.escape(hid)}"' if hid else ""
        return f"<h{level}{attr}>{inner}</h{level}>"

    def _code(self, info: str | None, escaped: str) -> str:
        lang = htmllib.unescape(info) if info else ""
        shown = highlight_code(htmllib.unescape(escaped), lang, "") if lang else ""
        if shown:
            return shown
        cls = f' class="language-{info}"' if info else ""
        return f"<pre><code{cls}>{escaped}</code></pre>"

    def _href(self, escaped: str) -> str:
        href = htmllib.unescape(escaped)
        if _UNSAFE_URL.match(href):
            return ""
        if not href or href.startswith("#") or href.startswith("//") or _SCHEME.match(href):
            return escaped
        if LINK_VALUE.search(href):
            return escaped  # built from site values: filled per region, checked in the output
        if _engine_href(href) != escaped:
            return escaped  # raw HTML the engine did not write (it would have percent-encoded it)
        raw, _, fragment = href.partition("#")
        raw, fragment = unquote(raw), unquote(fragment)
        path_part = raw.split("?", 1)[0]
        # .yaml: a catalog file (services/web.yaml) stands for its service page.
        is_source = path_part.endswith((".md", ".yaml", ".yml"))
        self.links.append(Link(raw, fragment, self.line, is_source))
        return f"{LINK_OPEN}{len(self.links) - 1}{LINK_CLOSE}"


def _unique(slug: str, used: set[str]) -> str:
    """GitHub's numbering of repeated headings: ``faq``, ``faq-1``, ``faq-2``."""
    candidate, n = slug, 0
    while candidate in used:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


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
    text = _ascii_destinations(scanned.text)
    marks = _Pass(text)
    html = marks.run(_to_html(text))
    return Parsed(
        html=html,
        links=marks.links,
        blocks=scanned.blocks,
        errors=scanned.errors + marks.errors,
        headings=marks.headings,
        outside=scanned.outside,
        images=marks.images,
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
    enc_open, pattern = _markers(opener, closer)
    if opener not in html and enc_open not in html:
        return html
    return pattern.sub(lambda m: values(int(m.group(1))), html)


@lru_cache(maxsize=16)
def _markers(opener: str, closer: str) -> tuple[str, re.Pattern[str]]:
    """The percent-encoded opener, and the pattern of a marker in either form: inside a link
    destination the engine percent-encodes the markers ([WhatsApp](https://wa.me/{{ ... }})).
    Made once per kind of marker (quoting and compiling them was a few µs of every page)."""
    enc_open, enc_close = quote(opener), quote(closer)
    return enc_open, re.compile(f"(?:{opener}|{enc_open})(\\d+)(?:{closer}|{enc_close})")


_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_HREF = re.compile(r'<a href="([^"]*)"')


@lru_cache(maxsize=1024)
def _engine_href(url: str) -> str:
    """``url`` as the engine writes a destination it parsed (percent-encoded, HTML-escaped):
    given to it as a link with every punctuation character escaped, so it is taken literally."""
    if not url:
        return ""
    literal = _ASCII_PUNCTUATION.sub(r"\\\1", url.replace("\n", "%0A"))
    m = _HREF.search(_to_html(f"[x](<{literal}>)"))
    return m.group(1) if m else ""


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

    def repl(m: re.Match[str]) -> str:
        written = htmllib.unescape(m.group(2))
        url = LINK_VALUE.sub(lambda v: values(int(v.group(1))), written)
        if _UNSAFE_URL.match(url):
            refused(url)
            url = ""
        href = _engine_href(url)
        made(href, written)
        return m.group(1) + href + m.group(3)

    return _ATTR_WITH_VALUE.sub(repl, html)
