"""The chat's retrieval chunks: every page cut into sections, every service with its price.

A page's entry in ``_edge/search/<region>.json`` keeps its sections (the text
under each heading, with the heading's anchor), made where the page rendered;
``_edge/chat/<region>.chunks.json`` then holds, per region, one chunk per
section and one per service of that region (name, price phrase, summary,
features, questions). The edge ranks these chunks; it never parses HTML.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sitegen.render import strip_tags

# A section starts at an h2/h3; its id (when the heading has one) becomes the link's anchor.
_HEADING = re.compile(r"<h([23])([^>]*)>(.*?)</h\1>", re.I | re.S)
_ID = re.compile(r"\sid=\"([^\"]*)\"")
# A table of contents (or any navigation inside main) only repeats the headings.
_NAV = re.compile(r"<nav\b.*?</nav>", re.I | re.S)
# A '<' that starts no tag, or one whose tag is not closed before the next '<'.
_UNCLOSED = re.compile(r"<(?![A-Za-z/!?])|<[^>]*<")
# Sections shorter than this are folded into the one before (a heading with one line under it).
MIN_SECTION_CHARS = 40


def search_entry(
    url: str, title: str, main_html: str, made: tuple[str, list[dict[str, str]]] | None = None
) -> dict[str, Any]:
    """A page's entry in ``_edge/search/<region>.json``: its plain text, whole and by section.

    ``made``: ``search_text(main_html)`` when the caller has it already.
    """
    text, sections = made or search_text(main_html)
    return {"url": url, "title": title, "text": text, "sections": sections}


def search_text(main_html: str) -> tuple[str, list[dict[str, str]]]:
    """A page's plain text, whole and by section: made only of what is outside tags, and heading ids."""
    if _NAV.search(main_html) is None and _UNCLOSED.search(main_html) is None:
        # The whole text is the sections' words in order: a heading's tags are not inline, so they
        # separate words in the whole text just where the cut does (a third of the search text's
        # CPU saved). Not so when a nav is left out of the sections, or a '<' that starts no tag,
        # or a tag left open, could make one tag of text on both sides of a cut.
        sections = _cut(main_html)
        text = " ".join(part for s in sections for part in (s["heading"], s["text"]) if part)
        return text, _merge(sections)
    return strip_tags(main_html), page_sections(main_html)


def chunks_file(pages: list[dict[str, Any]], services: list[dict[str, Any]]) -> str:
    """``_edge/chat/<region>.chunks.json``: the region's page sections, then its service chunks."""
    return json.dumps(page_chunks(pages) + services, ensure_ascii=False) + "\n"


# What json.dumps(..., ensure_ascii=False) writes for a str: the quoted, escaped string.
_quote: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class QuotedText:
    """A page's search text and sections with every string already written as JSON.

    Made once per source and used for each of its regions, whose entries and chunks differ only
    in their URL and title: quoting the text was most of serialising them.
    """

    text: str  # the whole text, quoted
    sections: list[tuple[str, str, str]]  # (heading quoted, anchor as is, text quoted)

    @classmethod
    def of(cls, text: str, sections: list[dict[str, str]]) -> QuotedText:
        return cls(_quote(text), [(_quote(s["heading"]), s["anchor"], _quote(s["text"])) for s in sections])


def entry_and_chunks_json(url: str, title: str, quoted: QuotedText) -> tuple[bytes, bytes]:
    """``json.dumps`` of ``search_entry(url, title, ...)`` and ``page_chunks_json`` of it, in UTF-8,
    written from the quoted text (the same bytes: keys in the same order, the same separators)."""
    q_url, q_title = _quote(url), _quote(title)
    sections = ", ".join(
        f'{{"heading": {heading}, "anchor": {_quote(anchor)}, "text": {text}}}'
        for heading, anchor, text in quoted.sections
    )
    entry = f'{{"url": {q_url}, "title": {q_title}, "text": {quoted.text}, "sections": [{sections}]}}'
    chunks = ", ".join(
        f'{{"kind": "page", "url": {_quote(f"{url}#{anchor}") if anchor else q_url}, "title": {q_title}, '
        f'"heading": {heading}, "text": {text}}}'
        for heading, anchor, text in quoted.sections or [(_quote(""), "", quoted.text)]
    )
    return entry.encode("utf-8"), chunks.encode("utf-8")


def page_chunks_json(entry: dict[str, Any]) -> bytes:
    """A page's chunks, serialised as items of the chunks file's array, in UTF-8 (for ``chunks_json``).

    The format's definition: the build writes the same bytes faster with ``entry_and_chunks_json``
    (a property test holds the two together).
    """
    return ", ".join(json.dumps(chunk, ensure_ascii=False) for chunk in page_chunks([entry])).encode("utf-8")


def chunks_json(pages: list[bytes], services: list[dict[str, Any]]) -> bytes:
    """``chunks_file`` in UTF-8 from each page's ``page_chunks_json``: joined as ``json.dumps`` joins
    list items. Joined as bytes: joining 4000 pages' text as ``str`` took 20 ms per region, as
    any page with a character past U+00FF makes every other page's text be widened."""
    items = [part for part in pages if part] + [
        json.dumps(s, ensure_ascii=False).encode("utf-8") for s in services
    ]
    return b"[" + b", ".join(items) + b"]\n"


def page_sections(main_html: str) -> list[dict[str, str]]:
    """``[{"heading", "anchor", "text"}]`` of a page's main element; the text before the first h2/h3 has no heading."""
    return _merge(_cut(_NAV.sub(" ", main_html)))


def _cut(main_html: str) -> list[dict[str, str]]:
    """The sections as the headings cut them, before short ones are folded."""
    sections: list[dict[str, str]] = []
    start, heading, anchor = 0, "", ""
    for match in _HEADING.finditer(main_html):
        sections.append(
            {"heading": heading, "anchor": anchor, "text": strip_tags(main_html[start : match.start()])}
        )
        heading = strip_tags(match.group(3))
        found = _ID.search(match.group(2))
        anchor = htmllib.unescape(found.group(1)) if found else ""
        start = match.end()
    sections.append({"heading": heading, "anchor": anchor, "text": strip_tags(main_html[start:])})
    return sections


def _merge(sections: list[dict[str, str]]) -> list[dict[str, str]]:
    merged: list[dict[str, str]] = []
    for section in sections:
        if merged and len(section["text"]) < MIN_SECTION_CHARS:
            last = merged[-1]
            last["text"] = " ".join(p for p in (last["text"], section["heading"], section["text"]) if p)
        elif section["text"] or section["heading"]:
            merged.append(section)
    return merged


def page_chunks(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One chunk per section of every page (its URL carries the section's anchor)."""
    chunks: list[dict[str, Any]] = []
    for page in pages:
        for section in page.get("sections") or [{"heading": "", "anchor": "", "text": page.get("text", "")}]:
            anchor = section.get("anchor") or ""
            chunks.append(
                {
                    "kind": "page",
                    "url": page["url"] + (f"#{anchor}" if anchor else ""),
                    "title": page.get("title", ""),
                    "heading": section.get("heading", ""),
                    "text": section.get("text", ""),
                }
            )
    return chunks


def service_chunks(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One chunk per service of the region: name, price phrase, summary, features and questions."""
    chunks: list[dict[str, Any]] = []
    for service in services:
        faq = " ".join(
            f"{q.get('q', '')} {q.get('a', '')}" for q in service.get("faq") or [] if isinstance(q, dict)
        )
        features = "; ".join(str(f) for f in service.get("features") or [])
        chunks.append(
            {
                "kind": "service",
                "service": service["id"],
                "url": service["url"],
                "title": service["name"],
                "heading": service["price_text"],
                "text": " ".join(p for p in (service.get("summary", ""), features, faq) if p),
            }
        )
    return chunks
