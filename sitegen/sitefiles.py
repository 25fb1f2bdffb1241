"""The files of a build besides its pages: sitemaps, 404 pages, robots.txt, edge data, routing rules.

Each comes from the configuration, the page list and what rendering kept of
each page (search entries). None is cached; an in-place update leaves a
search shard or sitemap file as it is when its bytes could not have changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sitegen.config import SiteConfig
from sitegen.errors import Problems

if TYPE_CHECKING:
    from sitegen.changes import LastBuild
    from sitegen.output import Output
    from sitegen.pages import Page
    from sitegen.render import Renderer
    from sitegen.render_jobs import Rendered
    from sitegen.searchentries import SearchEntries

# The pages the edge handlers link to by name (site.json's "urls"), when the site has them.
KNOWN_PAGES = {
    "home": "/",
    "contact": "/contact/",
    "thanks": "/contact/thanks/",
    "privacy": "/legal/privacy/",
    "cookies": "/legal/cookies/",
    "portal": "/portal/",
    "services": "/services/",
}


def site_files(
    config: SiteConfig,
    renderer: Renderer,
    pages: list[Page],
    region_ids: list[str],
    rendered: dict[str, Rendered],
    asset_urls: dict[str, str],
    production: bool,
    problems: Problems,
    searches: SearchEntries,
    static: Iterable[str] = (),
    kept: dict[str, str] | None = None,
    stage: Callable[[str, bytes], str] | None = None,
) -> tuple[Output, dict[str, int]]:
    """Every non-page output file, and how many pages each region has (``static``: the
    static/ files published at the root, which the geo routing leaves alone; ``kept``: search
    shard files and sitemaps left as the last build wrote them, see ``searchentries.kept_shards``
    and ``kept_sitemaps``; ``stage``: where files other than pages go as they are made, see
    ``Output.stage``)."""
    from sitegen import routing
    from sitegen.edgedata import search_shard, write_edge_data
    from sitegen.links import region_url
    from sitegen.output import Output, robots, sitemap, sitemap_index

    output = Output(stage=stage)
    counts: dict[str, int] = {}
    search: dict[str, list[tuple[str, bytes, bytes]]] = {rid: [] for rid in region_ids}
    services_by_region: dict[str, list[dict[str, Any]]] = {}
    urls: dict[str, dict[str, str]] = {}
    for rid in region_ids:
        built = [p for p in pages if rid in p.regions]
        for page in built:
            rel = f"{rid}{page.path}index.html"
            entry = rendered.get(rel)
            if entry is not None:
                url = region_url(rid, page.path)
                # A kept shard's entries are not needed: not read from the cache.
                text = b"" if kept and f"_edge/search/{search_shard(rid, url)}" in kept else searches.get(rel)
                search[rid].append((url, text, entry.chunks))
        if kept and f"{rid}/sitemap.xml" in kept:
            output.kept[f"{rid}/sitemap.xml"] = kept[f"{rid}/sitemap.xml"]
        else:
            output.add(f"{rid}/sitemap.xml", sitemap(config, rid, built))
        counts[rid] = len(built)
        services_by_region[rid] = renderer.service_views(rid)
        urls[rid] = known_urls(rid, {p.path for p in built})
        not_found = renderer.render_404(config.regions[rid], problems)
        if not_found is not None:
            output.add(f"{rid}/404.html", not_found)
    default = config.default_region.id
    if f"{default}/404.html" in output.files:
        output.files["404.html"] = output.files[f"{default}/404.html"]
    output.add("sitemap.xml", sitemap_index(config, region_ids))
    output.add("robots.txt", robots(config, production))
    write_edge_data(output, config, production, services_by_region, urls, search, kept)
    pages_by_region = {rid: {p.path for p in pages if rid in p.regions} for rid in region_ids}
    for name, rules in routing.files(config, pages_by_region, asset_urls, static).items():
        output.add(name, rules)
    return output, counts


def kept_sitemaps(last: LastBuild, listing: str, region_ids: list[str]) -> dict[str, str]:
    """The regions' sitemaps (``north/sitemap.xml`` -> digest) an in-place build leaves as they are.

    A sitemap shows each page's URL, regions, ``noindex`` and ``updated``, all front matter, and
    the settings in the build key: under the same key and the same ``listing`` (every page's
    front matter, ``deps.listing_key``) its bytes are the last build's, so only an intact file
    is needed. A body edit then neither makes nor hashes the sitemaps (1.3 MB per region at
    4000 pages).
    """
    state = last.state
    if state is None or not last.same_output or not listing or state.listing != listing:
        return {}
    return last.left_as_recorded(f"{rid}/sitemap.xml" for rid in region_ids)


def known_urls(rid: str, paths: set[str]) -> dict[str, str]:
    """The region's URL of each known page the site has."""
    from sitegen.links import region_url

    return {name: region_url(rid, path) for name, path in KNOWN_PAGES.items() if path in paths}
