"""Checking every internal link of the output, and the one wording of a broken link.

Links are checked on the output (what a visitor follows), but reported at the
source: a link written in a page's Markdown is named as written, at its line,
without the region, so the same mistake in every region is reported once. A
link from a template has no source line and is named by the href it became.
The build checks every page; ``sitegen serve`` checks the pages it re-rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from sitegen.errors import Problems

if TYPE_CHECKING:
    from sitegen.links import OutputProblem
    from sitegen.output import Output
    from sitegen.pages import Page
    from sitegen.render_jobs import LinkSources, Rendered


def describe(broken: OutputProblem, written: str | None = None) -> str:
    """What is wrong with a link: ``written`` is the link as its source wrote it, when known."""
    if broken.reason:  # a malformed mailto:/tel: link
        return (
            f"link {broken.href!r}: {broken.reason}"
            if written is None
            else f"link to '{written}': {broken.reason}"
        )
    if written is None:
        if broken.fragment:
            return f"broken anchor {broken.href!r}: no element with id '{broken.fragment}' on {broken.url or 'this page'}"
        return f"broken link {broken.href!r}: {broken.url} does not exist in the output"
    if broken.fragment:
        return f"link to '{written}': that page has no heading or element with id '{broken.fragment}'; check the anchor"
    return f"link to '{written}': no such file in the output; check the path"


def report(
    broken: Iterable[OutputProblem],
    sources: Callable[[str], LinkSources | None],
    file_of: Callable[[str], str],
    problems: Problems,
) -> None:
    """Record each broken link at its source: ``sources(out_path)`` gives where each href was written."""
    for link in broken:
        where = sources(link.out_path)
        source = where.get(link.href) if where is not None else None
        if source is None:  # a link from a template
            problems.error(describe(link), file_of(link.out_path))
            continue
        line, written = source
        problems.error(describe(link, written), file_of(link.out_path), line)


def check_build(
    rendered: Mapping[str, Rendered],
    output: Output,
    asset_files: Mapping[str, bytes],
    pages: list[Page],
    region_ids: list[str],
    all_region_ids: list[str],
    problems: Problems,
) -> None:
    """Every link of every page and 404 page of a build; ``region_ids`` are the regions built."""
    from sitegen.links import check_links, extract

    links: dict[str, tuple[str, ...]] = {}
    ids: dict[str, frozenset[str]] = {}
    for rid in region_ids:
        for page in pages:
            rel = f"{rid}{page.path}index.html"
            entry = rendered.get(rel) if rid in page.regions else None
            if entry is not None:
                links[rel], ids[rel] = entry.hrefs, entry.ids
    for rel in [f"{rid}/404.html" for rid in region_ids] + ["404.html"]:
        if rel in output.files:
            links[rel], ids[rel] = extract(output.files[rel].decode("utf-8"))
    # Regions left out with --region still exist on the deployed site.
    elsewhere = [
        f"{rid}{p.path}index.html"
        for rid in all_region_ids
        if rid not in region_ids
        for p in pages
        if rid in p.regions
    ]
    present = {*links, *asset_files, *output.files, *elsewhere}

    def sources(rel: str) -> LinkSources | None:
        entry = rendered.get(rel)
        return entry.link_sources if entry is not None else None

    report(check_links(links, ids, present), sources, lambda rel: source_of(rel, pages, region_ids), problems)


def source_of(rel: str, pages: list[Page], region_ids: list[str]) -> str:
    """The source file of an output file (the output file itself when no page made it)."""
    parts = rel.split("/", 1)
    if len(parts) == 2 and parts[0] in region_ids:
        path = "/" + parts[1].removesuffix("index.html")
        for page in pages:
            if page.path == path:
                return page.file
    return f"dist/{rel}"
