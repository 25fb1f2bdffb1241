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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sitegen.blocks import scan
from sitegen.errors import SitegenError
from sitegen.regioncompare import (
    BlockDiff,
    LinkDiff,
    PriceDiff,
    ValueDiff,
    Values,
    block_diffs,
    expression_diffs,
    key_diffs,
    link_diffs,
    price_diffs,
)

if TYPE_CHECKING:
    from sitegen.catalog import Service
    from sitegen.config import SiteConfig
    from sitegen.pages import Draft, Page

SCHEMA_VERSION = 1


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


def find_page(pages: Sequence[Page], wanted: str, left_out: Sequence[Draft] = ()) -> Page:
    """A page by its region-less URL (/about/, about) or its source (content/about.md, about.md).

    ``left_out``: drafts the build left out; asking for one says how to include it.
    """
    text = wanted.strip()
    path = "/" + text.strip("/") + "/" if text.strip("/") else "/"
    for page in pages:
        if page.path == path or text in (page.file, str(page.source)):
            return page
    for draft in left_out:
        if draft.path == path or text in (draft.file, str(draft.source)):
            raise SitegenError(
                f"--page {wanted}: {draft.file} is a draft ('draft: true'), left out; add --drafts to compare it"
            )
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
    return diff(result, root, regions, page, result.drafts)


def diff(
    site: BuiltSite,
    root: Path,
    regions: Sequence[str] | None = None,
    page: str | None = None,
    left_out: Sequence[Draft] = (),
) -> Report:
    """Compare the regions of a finished build (``root``: the site folder its sources are in;
    ``left_out``: the drafts it left out)."""
    from sitegen.page_content import ContentRenderer
    from sitegen.template_context import Assets, TemplateContext

    compared = compared_regions(site.config, regions)
    pages = sorted(site.sources, key=lambda p: (p.path, p.file))
    if page is not None:
        pages = [find_page(pages, page, left_out)]
    values = Values(
        TemplateContext(site.config, site.sources, site.services, Assets(site.asset_urls), False),
        ContentRenderer(site.config).html_env,
    )
    services = {s.id: s for s in site.services}
    return Report(compared, [page_diff(site, root, values, services, p, compared) for p in pages])


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
    result.prices = price_diffs(root, mains, site.services, service, built)
    result.links = link_diffs(mains, site.config.region_ids, built)
    return result


def main_of(files: Mapping[str, bytes], rid: str, path: str) -> str | None:
    """The rendered ``<main>`` of a page in one region, or None when it is not built there."""
    from sitegen.render_jobs import main_html

    data = files.get(f"{rid}{path}index.html")
    return None if data is None else main_html(data.decode("utf-8"))


__all__ = [
    "BlockDiff",
    "BuiltSite",
    "LinkDiff",
    "PageDiff",
    "PriceDiff",
    "Report",
    "ValueDiff",
    "diff",
    "diff_site",
]
