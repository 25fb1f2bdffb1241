"""One page compared across regions: its blocks, values, prices and links (for :mod:`sitegen.regiondiff`).

Each comparison takes what the build made of the page and returns only what is
not the same in every compared region, in a stable order.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.blocks import REGION_CLOSE, REGION_OPEN, Scan
from sitegen.links import region_url
from sitegen.regions import is_region_map, resolve

if TYPE_CHECKING:
    import jinja2

    from sitegen.catalog import Service
    from sitegen.config import Region, SiteConfig
    from sitegen.pages import Page
    from sitegen.template_context import TemplateContext

_ANCHOR = re.compile(r"<a\b[^>]*?\shref=\"([^\"]*)\"", re.I)
_OPEN = re.compile(f"<!--{REGION_OPEN}(\\d+)")
_CLOSE = f"<!--{REGION_CLOSE}-->"


@dataclass
class BlockDiff:
    file: str
    line: int
    block: str  # as written after ':::', e.g. "region not ID"
    shown_in: list[str]
    text: str  # the block's first line of text, as written


@dataclass
class ValueDiff:
    file: str
    line: int
    what: str  # "title", "params.eyebrow" or "{{ region.params.hours }}"
    values: dict[str, str | None]  # region -> value (None: no value there)


@dataclass
class PriceDiff:
    service: str
    file: str
    line: int
    values: dict[str, str | None]  # region -> price as the page shows it (None: not shown there)


@dataclass
class LinkDiff:
    href: str
    shown_in: list[str]


@dataclass(frozen=True)
class Values:
    """What a ``{{ … }}`` in content shows in a region, evaluated as the build evaluates it."""

    context: TemplateContext
    env: jinja2.Environment

    def shown(self, page: Page, source: str, region: Region) -> str | None:
        try:
            return _short(self.env.from_string(source).render(self.context.content_context(page, region)))
        except Exception:  # a value the build never needed in this region: shown as none
            return None


# ---------------------------------------------------------------------------------------- blocks


def block_at_lines(body: Scan) -> list[int | None]:
    """For each body line, the innermost region block it is in (None: outside every block)."""
    stack: list[int] = []
    where: list[int | None] = []
    for line in body.text.split("\n"):
        opened = _OPEN.search(line)
        if opened:
            stack.append(int(opened.group(1)))
        where.append(stack[-1] if stack else None)
        if _CLOSE in line and stack:
            stack.pop()
    return where


def shown_in(body: Scan, index: int | None, regions: Sequence[str]) -> list[str]:
    return list(regions) if index is None else [r for r in regions if body.shown(index, r)]


def block_diffs(page: Page, text: str, body: Scan, regions: Sequence[str]) -> list[BlockDiff]:
    lines = text.split("\n")
    out: list[BlockDiff] = []
    for index, block in enumerate(body.blocks):
        where = shown_in(body, index, regions)
        if len(where) == len(regions):
            continue
        text = next(
            (t.strip() for t in lines[block.line :] if t.strip() and not t.strip().startswith(":::")), ""
        )
        out.append(BlockDiff(page.file, page.body_line + block.line - 1, block.info, where, _short(text)))
    return out


# ---------------------------------------------------------------------------------------- values


def key_diffs(
    root: Path, page: Page, service: Service | None, config: SiteConfig, regions: Sequence[str]
) -> list[ValueDiff]:
    """Front-matter (or catalog) keys whose value is given per region and differs between them."""
    data = service.data if service is not None else page.meta
    out: list[ValueDiff] = []
    for key, value in sorted(_region_maps(data, config.region_ids)):
        if key.split(".")[0] in ("price", "regions", "body"):
            continue  # prices are compared as the page shows them; regions and body by pages and blocks
        values = {rid: _text(resolve(value, rid, config.region_ids)) for rid in regions}
        if len(set(values.values())) > 1:
            out.append(ValueDiff(page.file, _key_line(root, page, service, key), key, values))
    return out


def _region_maps(data: Any, region_ids: Sequence[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    if is_region_map(data, region_ids):
        yield prefix, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _region_maps(value, region_ids, f"{prefix}.{key}" if prefix else str(key))


def _key_line(root: Path, page: Page | None, service: Service | None, key: str) -> int:
    """The line of a top-level key: the page's front matter, else the service's YAML file."""
    top = key.split(".")[0]
    if service is None:
        return page.line_of(top) if page is not None else 1
    try:
        text = (root / service.file).read_text(encoding="utf-8")
    except OSError:
        text = ""
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith(f"{top}:"):
            return number
    return 1


def expression_diffs(
    page: Page, body: Scan, values: Values, config: SiteConfig, regions: Sequence[str]
) -> list[ValueDiff]:
    """``{{ … }}`` expressions shown in more than one region whose values differ there."""
    if page.dynamic or not page.expressions:
        return []
    at = block_at_lines(body)
    out: list[ValueDiff] = []
    seen: set[tuple[str, int]] = set()
    for source, line in page.expressions:
        where = shown_in(body, at[line - 1] if 0 < line <= len(at) else None, regions)
        if len(where) < 2 or (source, line) in seen:
            continue
        seen.add((source, line))
        shown = {rid: values.shown(page, source, config.regions[rid]) for rid in where}
        if len(set(shown.values())) > 1:
            out.append(ValueDiff(page.file, page.body_line + line - 1, source, shown))
    return out


# ---------------------------------------------------------------------------------------- prices, links


def price_diffs(
    root: Path,
    mains: Mapping[str, str],
    services: Sequence[Service],
    own: Service | None,
    regions: Sequence[str],
) -> list[PriceDiff]:
    """The catalog prices the rendered page shows, per region (a service's own page always)."""
    from sitegen.catalog import price_text
    from sitegen.render import strip_tags

    texts = {rid: strip_tags(html) for rid, html in mains.items()}
    out: list[PriceDiff] = []
    for service in services:
        shown: dict[str, str | None] = {}
        for rid in regions:
            price = service.prices.get(rid) if rid in service.regions else None
            text = price_text(price) if price is not None else None
            on_page = text is not None and (
                service is own or re.search(re.escape(text) + r"(?!\d)", texts[rid])
            )
            shown[rid] = text if on_page else None
        if any(shown.values()) and len(set(shown.values())) > 1:
            out.append(PriceDiff(service.id, service.file, _key_line(root, None, service, "price"), shown))
    return out


def link_diffs(mains: Mapping[str, str], region_ids: Sequence[str], regions: Sequence[str]) -> list[LinkDiff]:
    """Links of the rendered ``<main>`` that are not in every compared region."""
    found: dict[str, list[str]] = {}
    for rid in regions:
        hrefs = {_own_region_removed(htmllib.unescape(h), rid) for h in _ANCHOR.findall(mains[rid])}
        for href in hrefs:
            found.setdefault(href, []).append(rid)
    return [LinkDiff(href, where) for href, where in sorted(found.items()) if len(where) < len(regions)]


def _own_region_removed(href: str, rid: str) -> str:
    prefix = region_url(rid, "/")
    return "/" + href[len(prefix) :] if href.startswith(prefix) else href


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return _short("; ".join(str(v) for v in value))
    return _short(str(value))


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
