"""Checking every internal link of the output, and the one wording of a broken link.

Links are checked on the output (what a visitor follows), but reported at the
source: a link written in a page's Markdown is named as written, at its line,
without the region, so the same mistake in every region is reported once. A
link from a template has no source line and is named by the href it became.
The build checks every page; ``sitegen serve`` checks the pages it re-rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
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
    known: Collection[str] = (),
) -> None:
    """Every link of every page and 404 page of a build; ``region_ids`` are the regions built.

    ``known``: pages whose links are known to be good (see ``known_good``): their hrefs and
    ids still count as targets, their own links are not followed again.
    """
    from sitegen.links import check_links, extract

    links: dict[str, tuple[str, ...]] = {}
    ids: dict[str, frozenset[str]] = {}
    for rid in region_ids:
        for page in pages:
            rel = f"{rid}{page.path}index.html"
            entry = rendered.get(rel) if rid in page.regions else None
            if entry is not None:
                ids[rel] = entry.ids
                if rel not in known:
                    links[rel] = entry.hrefs
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
    present = {*ids, *asset_files, *output.names(), *elsewhere}

    def sources(rel: str) -> LinkSources | None:
        entry = rendered.get(rel)
        return entry.link_sources if entry is not None else None

    good = _contact_links_of(links, rendered, known)
    broken = check_links(links, ids, present, good)
    report(broken, sources, lambda rel: source_of(rel, pages, region_ids), problems)


def known_good(
    rendered: Mapping[str, Rendered],
    fresh: Collection[str],
    previous_ids: Mapping[str, frozenset[str]],
    names: Collection[str],
    last: Mapping[str, str] | None,
    digests: Mapping[str, str],
) -> Collection[str]:
    """The pages whose links need no check again: all not rendered again, when the site's shape is the same.

    The last build checked every link of the pages it is reusing, and a link's verdict depends only
    on the href, on which files exist and on the ids of the page it points to. So when this
    build's output files are the last one's (``last``: file -> digest; None when it wrote
    elsewhere or other regions), every re-rendered page kept its ids and every other HTML
    file (404 pages) its bytes, those verdicts still stand. Otherwise every page is checked.
    """
    if last is None or len(names) != len(last) or any(rel not in last for rel in names):
        return ()
    for rel in fresh:
        if previous_ids.get(rel) != rendered[rel].ids:
            return ()
    for rel, digest in digests.items():
        if rel.endswith(".html") and last[rel] != digest:
            return ()
    return rendered.keys() - set(fresh)


def _contact_links_of(
    links: Mapping[str, tuple[str, ...]], rendered: Mapping[str, Rendered], known: Collection[str]
) -> set[str]:
    """The mailto:/tel: links of the pages checked that a known-good page has too (already checked)."""
    from sitegen.links import CONTACT

    wanted = {h for hrefs in links.values() for h in hrefs if h.startswith(CONTACT)}
    good: set[str] = set()
    for rel in known:
        if not wanted:
            break
        found = wanted.intersection(rendered[rel].hrefs)
        good |= found
        wanted -= found
    return good


def source_of(rel: str, pages: list[Page], region_ids: list[str]) -> str:
    """The source file of an output file (the output file itself when no page made it)."""
    parts = rel.split("/", 1)
    if len(parts) == 2 and parts[0] in region_ids:
        path = "/" + parts[1].removesuffix("index.html")
        for page in pages:
            if page.path == path:
                return page.file
    return f"dist/{rel}"
