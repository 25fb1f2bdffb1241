"""Rendering every (page, region) whose inputs changed, in worker processes when there are many.

A page's render key (see ``sitegen.build``) is compared with the one its
output was last rendered under; an equal key and an intact output file mean
the page is reused as is. The rest are rendered by ``render_part`` with a
frozen ``RenderContext``: written straight into the staging folder, or handed
back to be written in place. What the build keeps of each page (``Rendered``)
is enough to check links to and from it and to index it for search.
"""

from __future__ import annotations

import contextlib
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from sitegen import workers
from sitegen.cache import DIRNAME, BuildCache, digest
from sitegen.changes import Inputs, LastBuild
from sitegen.errors import Problems
from sitegen.progress import Progress
from sitegen.sources import PageRecord, Sources

if TYPE_CHECKING:
    from sitegen.build import BuildOptions, Site
    from sitegen.chunks import QuotedText
    from sitegen.deps import TemplateDeps
    from sitegen.images import ImageSet
    from sitegen.page_content import LinkSources
    from sitegen.pages import Page
    from sitegen.render import Renderer
    from sitegen.searchentries import SearchEntries

# Below this many pages to render, forking workers costs more than it saves.
PARALLEL_RENDER = 200


@dataclass
class Rendered:
    """What the build keeps of one rendered page: enough to check links to and from it and index it."""

    key: tuple[str, ...]
    digest: str
    hrefs: tuple[str, ...]
    ids: frozenset[str]
    # Its entry in _edge/search/<region>/NN.json, serialised in UTF-8; b"" when loaded from the
    # cache, which keeps entries in a section of their own (see sitegen.searchentries).
    search: bytes
    link_sources: LinkSources
    chunks: bytes  # its chunks in _edge/chat/<region>.chunks.json, in UTF-8 (chunks.entry_and_chunks_json)


@dataclass
class RenderPlan:
    """Every (page, region) of this build: reused from the last one, or to be rendered."""

    keys: dict[str, tuple[str, ...]]  # output file -> render key
    reused: dict[str, Rendered]  # output file -> what the last build kept of it
    tasks: list[tuple[int, str]]  # (index into pages, region id) to render
    previous: set[str]  # output files the cache held (to drop the ones gone)
    templates: dict[str, Any]  # parsed template dependencies, for the next build
    # The element ids the last build's output of each page to render had (for the link check).
    previous_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    listing: str = ""  # deps.listing_key of the pages (what a sitemap shows of them)
    search_layout: str = ""  # searchentries.layout of the pages (which shard files may be kept)


@dataclass
class RenderOutcome:
    """Every rendered page of this build, and the bytes of those not yet written."""

    rendered: dict[str, Rendered]
    in_memory: dict[str, bytes] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # rendered by this build
    written: int = 0  # written straight into the staging folder by the workers
    jobs: int = 1

    def save(self, cache: BuildCache, plan: RenderPlan, fresh_start: bool, searches: SearchEntries) -> None:
        """The "rendered" and "search" sections; ``fresh_start``: nothing was loaded, so every shard
        is rewritten."""
        dirty = None if fresh_start else self.fresh | (plan.previous - set(self.rendered))
        searches.save(dirty)
        # The entries went to their own section above (the last use of them in this build), so
        # the "rendered" section is saved without them: cleared in place, not copied, as copying
        # 8000 records costs more than the rest of saving them.
        for kept in self.rendered.values():
            kept.search = b""
        cache.save_map("rendered", self.rendered, dirty)


@dataclass(frozen=True)
class RenderContext:
    """What a worker needs to render: shared by fork, read only."""

    renderer: Renderer
    pages: list[Page]
    blobs: dict[str, bytes]  # record key -> pickled parsed Markdown
    records: dict[str, PageRecord]
    staging: Path | None  # write pages here, or hand them back when None


def plan(
    renderer: Renderer,
    sources: Sources,
    region_ids: list[str],
    base: str,
    last: LastBuild,
    cache: BuildCache,
    deps: TemplateDeps,
    images: ImageSet,
) -> RenderPlan:
    """Which pages to render again: those whose key or output file changed."""
    from sitegen.deps import body_reads_catalog, listing_key
    from sitegen.searchentries import layout

    listing = listing_key(sources.pages)
    previous: dict[str, Rendered] = cache.load_map("rendered") if last.state is not None else {}
    reusable = last.same_output
    keys: dict[str, tuple[str, ...]] = {}
    reused: dict[str, Rendered] = {}
    tasks: list[tuple[int, str]] = []
    previous_ids: dict[str, frozenset[str]] = {}
    # What a page's key takes from its source, template, catalog and images: the same in every
    # region, so made once per page.
    per_page: list[tuple[str, ...] | None] = [None] * len(sources.pages)
    for rid in region_ids:
        for index, page in enumerate(sources.pages):
            if rid not in page.regions:
                continue
            common = per_page[index]
            if common is None:
                template = f"{page.template}.html"
                template_hash, template_reads_catalog = deps.closure(template)
                lists = deps.lists_pages(template)
                record = sources.records.get(page.file)
                common = per_page[index] = (
                    record.key if record is not None else page.file,
                    template_hash,
                    sources.catalog_key if template_reads_catalog or body_reads_catalog(page) else "",
                    listing if lists else "",
                    # Its images (a listing may show any page's): an edited image re-renders its pages.
                    images.key_for(None if lists else page.images),
                )
            # A tuple, compared as is: hashing 8000 keys would cost more than comparing them.
            key = (base, rid, *common)
            rel = f"{rid}{page.path}index.html"
            keys[rel] = key
            old = previous.get(rel)
            if reusable and old is not None and old.key == key and last.intact(rel, old.digest):
                reused[rel] = old
            else:
                tasks.append((index, rid))
                if old is not None:
                    previous_ids[rel] = old.ids
    search_layout = layout(sources.pages, region_ids)
    return RenderPlan(keys, reused, tasks, set(previous), deps.parsed(), previous_ids, listing, search_layout)


def render(
    the_plan: RenderPlan,
    context: RenderContext,
    jobs: int,
    progress: Progress,
    problems: Problems,
) -> RenderOutcome:
    """Render the plan's tasks (in ``jobs`` processes when there are enough of them).

    Workers get the tasks page by page (every region of a source in one worker, so the search
    text of a source is made once when its regions show the same text); what comes back is put
    in the plan's order (region by region), so results and problems do not depend on ``jobs``.
    """
    parallel = len(the_plan.tasks) >= PARALLEL_RENDER and jobs > 1
    jobs = jobs if parallel else 1
    if parallel:
        # Compile every template once here, so forked workers start with them compiled.
        theme = context.renderer.theme
        for name in theme.list_templates(filter_func=lambda n: n.endswith(".html")):
            with contextlib.suppress(Exception):  # reported where the template is used
                theme.get_template(name)
    progress.stage("rendering", len(the_plan.tasks))
    by_page = sorted(the_plan.tasks, key=lambda task: task[0])  # stable: regions keep their order
    done: dict[str, tuple[bytes | None, Entry]] = {}
    found_in: dict[str, Problems] = {rid: Problems() for _, rid in the_plan.tasks}
    # Parts of ~250 pages (16 per worker, not 4): a worker holds a part's results until it sends
    # them, which at ~1000 pages was the peak of a cold build's memory (PSS 166 -> 150 MiB at
    # 4000 sources, with no measurable cost in time).
    parts = workers.chunks(by_page, jobs, per_job=16)
    for part, found in workers.run(render_part, parts, jobs, context):
        counts: dict[str, int] = {}
        for rel, rid, data, entry in part:
            done[rel] = (data, entry)
            counts[rid] = counts.get(rid, 0) + 1
        for rid, region_problems in found.items():
            found_in[rid].extend(region_problems)
        for rid, n in counts.items():
            progress.advance(n, rid)
    for region_problems in found_in.values():
        problems.extend(region_problems)
    return _outcome(the_plan, done, jobs, context.pages)


def _outcome(
    the_plan: RenderPlan, done: dict[str, tuple[bytes | None, Entry]], jobs: int, pages: list[Page]
) -> RenderOutcome:
    """The reused pages, then the rendered ones in the plan's order."""
    outcome = RenderOutcome(dict(the_plan.reused), jobs=jobs)
    for index, rid in the_plan.tasks:
        rel = f"{rid}{pages[index].path}index.html"
        if rel not in done:
            continue  # failed: its problem is reported
        data, entry = done[rel]
        outcome.rendered[rel] = Rendered(the_plan.keys[rel], *entry)
        outcome.fresh.add(rel)
        if data is not None:
            outcome.in_memory[rel] = data
        else:
            outcome.written += 1  # written by the worker
    return outcome


# Rendered without its key (a string: LinkSources is only imported for type checking, keeping
# Jinja2 and Markdown out of builds that render nothing).
Entry: TypeAlias = "tuple[str, tuple[str, ...], frozenset[str], bytes, LinkSources, bytes]"


def render_part(
    context: RenderContext, tasks: list[tuple[int, str]]
) -> tuple[list[tuple[str, str, bytes | None, Entry]], dict[str, Problems]]:
    """Render (page, region) pairs (in a worker): write them out or hand them back, with what the parent keeps.

    Problems come back by region, so the parent can list them region by region.
    """
    from sitegen.links import extract, region_url
    from sitegen.output import put

    renderer = context.renderer
    problems: dict[str, Problems] = {}
    out: list[tuple[str, str, bytes | None, Entry]] = []
    search = SearchText()
    # A worker lets go of a page's parsed Markdown once its regions are rendered (they come one
    # after the other): kept, they were ~20 MiB per worker at 4000 sources, the build's peak.
    # The parent keeps what it loads (sitegen serve renders again from it).
    release = workers.in_worker()
    loaded: Page | None = None
    for index, rid in tasks:
        page = context.pages[index]
        if loaded is not None and loaded is not page:
            loaded.parsed = None
            loaded = None
        if not page.dynamic and page.parsed is None:
            page.parsed = pickle.loads(context.blobs[context.records[page.file].key])
            loaded = page if release else None
        html = renderer.render_page(page, renderer.config.regions[rid], problems.setdefault(rid, Problems()))
        if html is None:
            continue
        rel = f"{rid}{page.path}index.html"
        data = html.encode("utf-8")
        hrefs, ids = extract(html)
        title = str(renderer.page_meta(page, rid).get("title", ""))
        entry, chunks = search.entry(index, rid, region_url(rid, page.path), title, main_html(html))
        sources = renderer.link_sources.pop(rel, {})
        kept: Entry = (digest(data), hrefs, ids, entry, sources, chunks)
        if context.staging is not None:
            put(context.staging, rel, data)
            out.append((rel, rid, None, kept))
        else:
            out.append((rel, rid, data, kept))
    if loaded is not None:
        loaded.parsed = None
    return out, problems


class SearchText:
    """Search entries of consecutive renders, the text made once per source when its regions agree.

    The text and sections come only from what is outside tags (and heading ids), so two
    regions' ``<main>`` that differ only in their links' region prefixes give the same text.
    """

    def __init__(self) -> None:
        self.last: tuple[int, str, QuotedText] | None = None

    def entry(self, index: int, rid: str, url: str, title: str, main: str) -> tuple[bytes, bytes]:
        """The page's search entry and its chat chunks, serialised in UTF-8 (joined as bytes)."""
        from sitegen.chunks import QuotedText, entry_and_chunks_json, search_text

        same = _REGION_HREF.sub(lambda m: m.group(1) if m.group(2) == rid else m.group(0), main)
        if self.last is not None and self.last[0] == index and self.last[1] == same:
            quoted = self.last[2]
        else:
            quoted = QuotedText.of(*search_text(main))
            self.last = (index, same, quoted)
        return entry_and_chunks_json(url, title, quoted)


# An <a> tag's href up to its region prefix: group 1 the tag so far, group 2 the region id.
_REGION_HREF = re.compile(r'(<a\s[^>]*?href="/)([^/"]+)/')


def entry_maker(renderer: Renderer, pages: list[Page]) -> Callable[[str, str], bytes]:
    """(output file, its HTML) -> the page's search entry, as rendering made it (for a reused page
    whose entry the cache lost: see ``searchentries.SearchEntries``)."""
    from sitegen.links import region_url

    by_rel: dict[str, tuple[Page, str]] = {}

    def make(rel: str, html: str) -> bytes:
        if not by_rel:
            by_rel.update({f"{rid}{p.path}index.html": (p, rid) for p in pages for rid in p.regions})
        page, rid = by_rel[rel]
        title = str(renderer.page_meta(page, rid).get("title", ""))
        return SearchText().entry(0, rid, region_url(rid, page.path), title, main_html(html))[0]

    return make


def main_html(html: str) -> str:
    """A page's ``<main>`` element (the whole page without one): what its search entry is made of."""
    start = html.find("<main")
    end = html.rfind("</main>")
    return html[start:end] if start >= 0 and end > start else html


@dataclass
class RenderJob:
    """What rendering needs besides the sources, and the non-page files it adds to."""

    renderer: Renderer
    asset_urls: dict[str, str]
    asset_files: dict[str, bytes]
    plan: RenderPlan
    images: ImageSet
    static_files: dict[str, bytes]  # static/, published unchanged at the output root
    # The last build's output files and digests, when it built every region into this folder.
    last_outputs: dict[str, str] | None = None


def prepare(
    site: Site,
    sources: Sources,
    inputs: Inputs,
    key: str,
    last: LastBuild,
    cache: BuildCache,
    options: BuildOptions,
    problems: Problems,
) -> RenderJob:
    """The build's stage before rendering: assets and images, the renderer, and which pages must
    be rendered again."""
    from sitegen import images as imaging
    from sitegen.deps import TemplateDeps, structure_key
    from sitegen.output import collect_assets
    from sitegen.render import Assets, Renderer
    from sitegen.staticfiles import read_static
    from sitegen.theme import template_dirs

    static_dirs = [site.theme / "static", site.root / "static"]
    asset_urls, asset_files = collect_assets(static_dirs)
    # Kept for `sitegen serve` too (it builds in memory): encoding is what a rebuild must not repeat.
    image_cache = site.root / DIRNAME / "images" if options.cache else None
    hashes = {path: stamp[3] for path, stamp in inputs.stamps.items()}
    images = imaging.collect(site.root, static_dirs, hashes, imaging.Settings.of(site.config), image_cache)
    imaging.check_default(site.config, images, problems)
    # Only what the built pages use is published: not a draft's pictures, not a forgotten file.
    images.publish(imaging.used_by(images, sources.pages, sources.drafts, site.config))
    problems.check(options.strict, errors_only=True)
    asset_files.update(images.files)
    renderer = Renderer(
        site.config,
        sources.pages,
        sources.services,
        Assets(asset_urls),
        production=options.production,
        bytecode_cache=cache.jinja_folder(),
        images=images,
        drafts=sources.drafts,
    )
    known = last.state.templates if last.state is not None else None
    deps = TemplateDeps.scan(renderer.theme, template_dirs(site.config), known)
    # Every page shows the theme's static images and the default Open Graph image: in every key.
    shared_images = images.key_for([*images.static_keys(), *imaging.default_key(site.config)])
    base = digest(key, repr(sorted(asset_urls.items())), structure_key(sources.pages), shared_images)
    the_plan = plan(renderer, sources, site.region_ids, base, last, cache, deps, images)
    outputs = None
    if last.state is not None and last.same_output and site.region_ids == site.config.region_ids:
        outputs = {rel: stamp[3] for rel, stamp in last.state.outputs.items()}
    return RenderJob(
        renderer, asset_urls, asset_files, the_plan, images, read_static(site.root, inputs.data), outputs
    )
