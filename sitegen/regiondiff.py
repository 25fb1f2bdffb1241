"""What differs between regions, page by page: ``sitegen diff`` and the dev server's side-by-side view.

Made from a real build (in memory), not from a text diff of HTML, so each
difference is said the way an editor wrote it:

- **pages** built in only some of the compared regions (``regions:`` of a page
  or a service);
- **blocks**: ``::: region`` blocks (as :mod:`sitegen.blocks` reads them) shown
  in only some of them, with the file and line of the block;
- **values**: per-region values of the page's front matter (or service) keys
  and of the ``{{ … }}`` expressions its text shows in more than one region;
- **prices**: the catalog prices the rendered page shows, per region;
- **links**: the links of the rendered ``<main>`` that are not in every region
  (a link into the page's own region is compared without its region prefix).

``--json`` prints :meth:`Report.as_json`; its schema is in docs/editors.md.
Pages that use Jinja statements (``{% … %}``) are rendered as a whole per
region, so their values are compared through their blocks, prices and links only.
"""

from __future__ import annotations

import difflib
import html as htmllib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sitegen.blocks import REGION_CLOSE, REGION_OPEN, Scan, scan
from sitegen.errors import SitegenError
from sitegen.links import region_url
from sitegen.regions import is_region_map, resolve

if TYPE_CHECKING:
    import jinja2

    from sitegen.catalog import Service
    from sitegen.config import Region, SiteConfig
    from sitegen.pages import Page
    from sitegen.template_context import TemplateContext

SCHEMA_VERSION = 1
_ANCHOR = re.compile(r"<a\b[^>]*?\shref=\"([^\"]*)\"", re.I)
_OPEN = re.compile(f"<!--{REGION_OPEN}(\\d+)")
_CLOSE = f"<!--{REGION_CLOSE}-->"
_PRICE_CALL = re.compile(r"""\b(?:price|service)\(\s*["']([a-z0-9-]+)["']""")


class BuiltSite(Protocol):
    """What the diff reads from a build: ``BuildResult`` and the dev server's last build both have it."""

    @property
    def config(self) -> SiteConfig: ...
    @property
    def sources(self) -> list[Page]: ...
    @property
    def services(self) -> list[Service]: ...
    @property
    def asset_urls(self) -> dict[str, str]: ...
    @property
    def files(self) -> Mapping[str, bytes]: ...


@dataclass
class BlockDiff:
    file: str
    line: int
    block: str  # as written after ':::', e.g. "region not pk"
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


@dataclass
class PageDiff:
    path: str  # region-less URL
    file: str
    regions: list[str]  # of the compared regions, those it is built in
    blocks: list[BlockDiff] = field(default_factory=list)
    values: list[ValueDiff] = field(default_factory=list)
    prices: list[PriceDiff] = field(default_factory=list)
    links: list[LinkDiff] = field(default_factory=list)

    def only_in(self, compared: Sequence[str]) -> list[str] | None:
        return None if len(self.regions) == len(compared) else list(self.regions)

    def differs(self, compared: Sequence[str]) -> bool:
        return bool(
            self.only_in(compared) is not None or self.blocks or self.values or self.prices or self.links
        )


@dataclass
class Report:
    regions: list[str]
    pages: list[PageDiff]

    def differing(self) -> list[PageDiff]:
        return [p for p in self.pages if p.differs(self.regions)]

    def summary(self) -> str:
        n, total = len(self.differing()), len(self.pages)
        return f"pages that differ between {', '.join(self.regions)}: {n} of {total}"

    def as_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "regions": self.regions,
            "pages": [
                {
                    "path": p.path,
                    "file": p.file,
                    "regions": p.regions,
                    "only_in": p.only_in(self.regions),
                    "differs": p.differs(self.regions),
                    "blocks": [vars(b) for b in p.blocks],
                    "values": [vars(v) for v in p.values],
                    "prices": [vars(v) for v in p.prices],
                    "links": [vars(link) for link in p.links],
                }
                for p in self.pages
            ],
        }


# ---------------------------------------------------------------------------------------- choosing


def compared_regions(config: SiteConfig, wanted: Sequence[str] | None) -> list[str]:
    """The regions to compare, in site.yaml's order; at least two known ids."""
    known = list(config.region_ids)
    if wanted is None:
        chosen = known
    else:
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise SitegenError(
                f"--regions: no region {', '.join(unknown)} in site.yaml (known: {', '.join(known)})",
                "site.yaml",
            )
        chosen = [r for r in known if r in wanted]
    if len(chosen) < 2:
        raise SitegenError(
            f"--regions: name two or more regions to compare, e.g. {','.join(known[:2])}, or all", "site.yaml"
        )
    return chosen


def find_page(pages: Sequence[Page], wanted: str) -> Page:
    """A page by its region-less URL (/about/, about) or its source (content/about.md, about.md)."""
    text = wanted.strip()
    path = "/" + text.strip("/") + "/" if text.strip("/") else "/"
    for page in pages:
        if page.path == path or text in (page.file, str(page.source)):
            return page
    choices = sorted(p.path for p in pages)
    hint = difflib.get_close_matches(path, choices, n=1)
    did = f"; did you mean {hint[0]}?" if hint else f" (pages: {', '.join(choices[:8])}…)"
    raise SitegenError(f"--page {wanted}: no page has this URL or source file{did}")


# ---------------------------------------------------------------------------------------- building


def diff_site(
    root: Path, regions: Sequence[str] | None = None, page: str | None = None, drafts: bool = False
) -> Report:
    """Build the site at ``root`` in memory (nothing written) and compare its regions."""
    from sitegen.build import BuildOptions, build

    result = build(BuildOptions(root=root, write=False, drafts=drafts))
    return diff(result, root, regions, page)


def diff(
    site: BuiltSite, root: Path, regions: Sequence[str] | None = None, page: str | None = None
) -> Report:
    """Compare the regions of a finished build (``root``: the site folder its sources are in)."""
    from sitegen.page_content import ContentRenderer
    from sitegen.template_context import Assets, TemplateContext

    compared = compared_regions(site.config, regions)
    pages = sorted(site.sources, key=lambda p: (p.path, p.file))
    if page is not None:
        pages = [find_page(pages, page)]
    values = Values(
        TemplateContext(site.config, site.sources, site.services, Assets(site.asset_urls), False),
        ContentRenderer(site.config).html_env,
    )
    services = {s.id: s for s in site.services}
    return Report(compared, [page_diff(site, root, values, services, p, compared) for p in pages])


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


def body_of(page: Page, service: Service | None, root: Path) -> str:
    """The Markdown body as written (the build keeps it only for pages rendered per region)."""
    if page.body:
        return page.body
    if service is not None:
        body = service.data.get("body")
        return body if isinstance(body, str) else ""
    try:
        text = (root / page.file).read_text(encoding="utf-8")
    except OSError:
        return ""
    return "\n".join(text.removeprefix("\ufeff").split("\n")[page.body_line - 1 :])


def page_diff(
    site: BuiltSite,
    root: Path,
    values: Values,
    services: dict[str, Service],
    page: Page,
    compared: Sequence[str],
) -> PageDiff:
    built = [r for r in compared if r in page.regions and main_of(site.files, r, page.path) is not None]
    result = PageDiff(page.path, page.file, built)
    if len(built) < 2:
        return result  # nothing to compare it with
    service = services.get(page.service_id or "")
    text = body_of(page, service, root)
    body = scan(text, site.config.region_ids)
    result.blocks = block_diffs(page, text, body, built)
    result.values = key_diffs(root, page, service, site.config, built) + expression_diffs(
        page, body, values, site.config, built
    )
    mains = {rid: main_of(site.files, rid, page.path) or "" for rid in built}
    result.prices = price_diffs(root, mains, site.services, text, service, built)
    result.links = link_diffs(mains, site.config.region_ids, built)
    return result


def main_of(files: Mapping[str, bytes], rid: str, path: str) -> str | None:
    """The rendered ``<main>`` of a page in one region, or None when it is not built there."""
    from sitegen.render_jobs import main_html

    data = files.get(f"{rid}{path}index.html")
    return None if data is None else main_html(data.decode("utf-8"))


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
    body: str,
    own: Service | None,
    regions: Sequence[str],
) -> list[PriceDiff]:
    """The catalog prices the rendered page shows, per region (a service's own page always)."""
    from sitegen.catalog import price_text
    from sitegen.render import strip_tags

    texts = {rid: strip_tags(html) for rid, html in mains.items()}
    named = set(_PRICE_CALL.findall(body))
    out: list[PriceDiff] = []
    for service in services:
        shown: dict[str, str | None] = {}
        for rid in regions:
            price = service.prices.get(rid) if rid in service.regions else None
            text = price_text(price) if price is not None else None
            on_page = text is not None and (
                service is own or service.id in named or re.search(re.escape(text) + r"(?!\d)", texts[rid])
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
