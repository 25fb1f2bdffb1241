"""The build: runs the stages in order and nothing else.

config -> pages + catalog (read and validate everything, collecting every
problem) -> assets -> render each region -> sitemaps, 404s, edge data,
routing -> check every link -> write. A problem anywhere stops the build
before the write, so the output folder is left as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen import routing
from sitegen.catalog import Service, read_catalog
from sitegen.config import SiteConfig, load_config
from sitegen.edgedata import write_edge_data
from sitegen.errors import BuildFailed, Problems, SitegenError
from sitegen.links import find_broken, region_url
from sitegen.output import Output, collect_assets, robots, sitemap, sitemap_index, write
from sitegen.pages import Page, read_pages
from sitegen.render import Assets, Renderer, strip_tags, theme_dir


@dataclass
class BuildOptions:
    root: Path = Path(".")
    out: Path | None = None  # default: <root>/dist
    regions: list[str] | None = None  # None: every region
    drafts: bool = False
    strict: bool = False
    production: bool = True
    write: bool = True  # False for `sitegen check`
    progress: Callable[[str], None] | None = None


@dataclass
class BuildResult:
    config: SiteConfig
    out: Path
    pages: dict[str, int] = field(default_factory=dict)  # region -> HTML pages
    written: int = 0
    removed: int = 0
    seconds: float = 0.0
    warnings: list[SitegenError] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    # What `sitegen serve` needs to re-render one edited page without reading every source again.
    sources: list[Page] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    asset_urls: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        per_region = ", ".join(f"{rid} {n}" for rid, n in self.pages.items())
        return (
            f"built {sum(self.pages.values())} pages ({per_region}) in {self.seconds:.2f} s; "
            f"{self.written} files written, {self.removed} removed"
        )


def load(options: BuildOptions, problems: Problems) -> tuple[SiteConfig, list[Page], list[Service]]:
    """Stage 1-2: read and validate config, pages and catalog."""
    root = options.root.resolve()
    config = load_config(root / "site.yaml", problems)
    if problems.errors:
        problems.check(options.strict)
    content = root / "content"
    pages = read_pages(config, content, problems, drafts=options.drafts)
    services = read_catalog(config, content, problems)
    all_pages = pages + [s.page for s in services if s.page is not None]
    by_path: dict[str, Page] = {}
    for page in all_pages:
        other = by_path.get(page.path)
        if other is not None:
            problems.error(
                f"two sources for the URL {page.path}: {other.file} and {page.file}; rename one or set 'slug'/'url'",
                page.file,
                1,
            )
            continue
        by_path[page.path] = page
    if options.regions:
        for rid in options.regions:
            if rid not in config.regions:
                problems.error(
                    f"--region {rid}: no such region in site.yaml (known: {', '.join(config.region_ids)})",
                    "site.yaml",
                )
    try:
        theme_dir(config)
    except SitegenError as exc:
        problems.add(exc)
    problems.check(options.strict)
    return config, all_pages, services


def build(options: BuildOptions) -> BuildResult:
    started = time.perf_counter()
    problems = Problems()
    say = options.progress or (lambda message: None)
    config, pages, services = load(options, problems)
    root = config.root
    out = (options.out or root / "dist").resolve()
    region_ids = options.regions or config.region_ids
    say(f"read {len(pages)} sources ({len(services)} services)")

    static_dirs = [theme_dir(config) / "static", root / "static"]
    asset_urls, asset_files = collect_assets(static_dirs)
    renderer = Renderer(config, pages, services, Assets(asset_urls), production=options.production)
    output = Output()
    html_files: dict[str, str] = {}
    result = BuildResult(config=config, out=out)
    search: dict[str, list[dict[str, str]]] = {}
    services_by_region: dict[str, list[dict[str, Any]]] = {}
    urls: dict[str, dict[str, str]] = {}

    for rid in region_ids:
        region = config.regions[rid]
        built = [p for p in pages if rid in p.regions]
        search[rid] = []
        for page in built:
            html = renderer.render_page(page, region, problems)
            if html is None:
                continue
            rel = f"{rid}{page.path}index.html"
            html_files[rel] = html
            search[rid].append(
                {
                    "url": region_url(rid, page.path),
                    "title": str(renderer.page_meta(page, rid).get("title", "")),
                    "text": strip_tags(_main(html)),
                }
            )
        not_found = renderer.render_404(region, problems)
        if not_found is not None:
            html_files[f"{rid}/404.html"] = not_found
        output.add(f"{rid}/sitemap.xml", sitemap(config, rid, built))
        result.pages[rid] = len(built)
        services_by_region[rid] = renderer.service_views(rid)
        urls[rid] = _known_urls(rid, {p.path for p in built})
        say(f"rendered {len(built)} pages for region {rid}")

    default = config.default_region.id
    if f"{default}/404.html" in html_files:
        html_files["404.html"] = html_files[f"{default}/404.html"]
    output.add("sitemap.xml", sitemap_index(config, region_ids))
    output.add("robots.txt", robots(config, options.production))
    write_edge_data(output, config, options.production, services_by_region, urls, search)
    pages_by_region = {rid: {p.path for p in pages if rid in p.regions} for rid in region_ids}
    for name, text in routing.files(config, pages_by_region, asset_urls).items():
        output.add(name, text)

    # Links are checked once every page rendered; a failed page would only add noise.
    problems.check(options.strict)
    # Regions left out with --region still exist on the deployed site.
    elsewhere = [
        f"{rid}{p.path}index.html"
        for rid in config.region_ids
        if rid not in region_ids
        for p in pages
        if rid in p.regions
    ]
    for broken in find_broken(html_files, [*asset_files, *output.files, *elsewhere]):
        source = renderer.link_sources.get(broken.out_path, {}).get(broken.href)
        if source is None:  # a link from a template
            problems.error(broken.message, _source_of(broken.out_path, pages, region_ids))
            continue
        # Worded without the region, so the same mistake in every region is reported once.
        line, written = source
        if broken.fragment:
            message = f"link to '{written}': that page has no heading or element with id '{broken.fragment}'; check the anchor"
        else:
            message = f"link to '{written}': no such file in the output; check the path"
        problems.error(message, _source_of(broken.out_path, pages, region_ids), line)
    problems.check(options.strict)

    for rel, html in html_files.items():
        output.add(rel, html)
    output.files.update(asset_files)
    result.files = output.files
    result.sources, result.services, result.asset_urls = pages, services, asset_urls
    result.warnings = problems.warnings
    if options.write:
        result.written, result.removed = write(out, output.files)
    result.seconds = time.perf_counter() - started
    return result


def _main(html: str) -> str:
    start = html.find("<main")
    end = html.rfind("</main>")
    return html[start:end] if start >= 0 and end > start else html


def _known_urls(rid: str, paths: set[str]) -> dict[str, str]:
    known = {
        "home": "/",
        "contact": "/contact/",
        "thanks": "/contact/thanks/",
        "privacy": "/legal/privacy/",
        "cookies": "/legal/cookies/",
        "portal": "/portal/",
        "services": "/services/",
    }
    return {name: region_url(rid, path) for name, path in known.items() if path in paths}


def _source_of(rel: str, pages: list[Page], region_ids: list[str]) -> str:
    parts = rel.split("/", 1)
    if len(parts) == 2 and parts[0] in region_ids:
        path = "/" + parts[1].removesuffix("index.html")
        for page in pages:
            if page.path == path:
                return page.file
    return f"dist/{rel}"


__all__ = ["BuildFailed", "BuildOptions", "BuildResult", "build", "load"]
