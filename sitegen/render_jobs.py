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
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen import workers
from sitegen.cache import BuildCache, digest
from sitegen.changes import LastBuild
from sitegen.errors import Problems
from sitegen.page_content import LinkSources
from sitegen.progress import Progress
from sitegen.sources import PageRecord, Sources

if TYPE_CHECKING:
    from sitegen.deps import TemplateDeps
    from sitegen.pages import Page
    from sitegen.render import Renderer

# Below this many pages to render, forking workers costs more than it saves.
PARALLEL_RENDER = 200


@dataclass
class Rendered:
    """What the build keeps of one rendered page: enough to check links to and from it and index it."""

    key: tuple[str, ...]
    digest: str
    hrefs: tuple[str, ...]
    ids: frozenset[str]
    search: str  # its entry in _edge/search/<region>.json, serialised
    link_sources: LinkSources


@dataclass
class RenderPlan:
    """Every (page, region) of this build: reused from the last one, or to be rendered."""

    keys: dict[str, tuple[str, ...]]  # output file -> render key
    reused: dict[str, Rendered]  # output file -> what the last build kept of it
    tasks: list[tuple[int, str]]  # (index into pages, region id) to render
    previous: set[str]  # output files the cache held (to drop the ones gone)
    templates: dict[str, Any]  # parsed template dependencies, for the next build


@dataclass
class RenderOutcome:
    """Every rendered page of this build, and the bytes of those not yet written."""

    rendered: dict[str, Rendered]
    in_memory: dict[str, bytes] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # rendered by this build
    written: int = 0  # written straight into the staging folder by the workers
    jobs: int = 1

    def save(self, cache: BuildCache, plan: RenderPlan, fresh_start: bool) -> None:
        """The "rendered" section; ``fresh_start``: nothing was loaded, so every shard is rewritten."""
        dirty = None if fresh_start else self.fresh | (plan.previous - set(self.rendered))
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
) -> RenderPlan:
    """Which pages to render again: those whose key or output file changed."""
    from sitegen.deps import body_reads_catalog, listing_key

    listing = listing_key(sources.pages)
    previous: dict[str, Rendered] = cache.load_map("rendered") if last.state is not None else {}
    reusable = last.same_output
    keys: dict[str, tuple[str, ...]] = {}
    reused: dict[str, Rendered] = {}
    tasks: list[tuple[int, str]] = []
    for rid in region_ids:
        for index, page in enumerate(sources.pages):
            if rid not in page.regions:
                continue
            template_hash, template_reads_catalog = deps.closure(f"{page.template}.html")
            record = sources.records.get(page.file)
            # A tuple, compared as is: hashing 8000 keys would cost more than comparing them.
            key = (
                base,
                rid,
                record.key if record is not None else page.file,
                template_hash,
                sources.catalog_key if template_reads_catalog or body_reads_catalog(page) else "",
                listing if deps.lists_pages(f"{page.template}.html") else "",
            )
            rel = f"{rid}{page.path}index.html"
            keys[rel] = key
            old = previous.get(rel)
            if reusable and old is not None and old.key == key and last.intact(rel, old.digest):
                reused[rel] = old
            else:
                tasks.append((index, rid))
    return RenderPlan(keys, reused, tasks, set(previous), deps.parsed())


def render(
    the_plan: RenderPlan,
    context: RenderContext,
    jobs: int,
    progress: Progress,
    problems: Problems,
) -> RenderOutcome:
    """Render the plan's tasks (in ``jobs`` processes when there are enough of them)."""
    parallel = len(the_plan.tasks) >= PARALLEL_RENDER and jobs > 1
    jobs = jobs if parallel else 1
    outcome = RenderOutcome(dict(the_plan.reused), jobs=jobs)
    if parallel:
        # Compile every template once here, so forked workers start with them compiled.
        theme = context.renderer.theme
        for name in theme.list_templates(filter_func=lambda n: n.endswith(".html")):
            with contextlib.suppress(Exception):  # reported where the template is used
                theme.get_template(name)
    progress.stage("rendering", len(the_plan.tasks))
    for part, found in workers.run(render_part, workers.chunks(the_plan.tasks, jobs), jobs, context):
        problems.extend(found)
        counts: dict[str, int] = {}
        for rel, rid, data, entry in part:
            outcome.rendered[rel] = Rendered(the_plan.keys[rel], *entry)
            outcome.fresh.add(rel)
            if data is not None:
                outcome.in_memory[rel] = data
            else:
                outcome.written += 1  # written by the worker
            counts[rid] = counts.get(rid, 0) + 1
        for rid, n in counts.items():
            progress.advance(n, rid)
    return outcome


Entry = tuple[str, tuple[str, ...], frozenset[str], str, LinkSources]  # Rendered without its key


def render_part(
    context: RenderContext, tasks: list[tuple[int, str]]
) -> tuple[list[tuple[str, str, bytes | None, Entry]], Problems]:
    """Render (page, region) pairs (in a worker): write them out or hand them back, with what the parent keeps."""
    from sitegen.chunks import search_entry
    from sitegen.links import extract, region_url
    from sitegen.output import put

    renderer = context.renderer
    problems = Problems()
    out: list[tuple[str, str, bytes | None, Entry]] = []
    for index, rid in tasks:
        page = context.pages[index]
        if not page.dynamic and page.parsed is None:
            page.parsed = pickle.loads(context.blobs[context.records[page.file].key])
        html = renderer.render_page(page, renderer.config.regions[rid], problems)
        if html is None:
            continue
        rel = f"{rid}{page.path}index.html"
        data = html.encode("utf-8")
        hrefs, ids = extract(html)
        title = str(renderer.page_meta(page, rid).get("title", ""))
        entry = json.dumps(
            search_entry(region_url(rid, page.path), title, main_html(html)), ensure_ascii=False
        )
        sources = renderer.link_sources.pop(rel, {})
        kept: Entry = (digest(data), hrefs, ids, entry, sources)
        if context.staging is not None:
            put(context.staging, rel, data)
            out.append((rel, rid, None, kept))
        else:
            out.append((rel, rid, data, kept))
    return out, problems


def main_html(html: str) -> str:
    """A page's ``<main>`` element (the whole page without one): what its search entry is made of."""
    start = html.find("<main")
    end = html.rfind("</main>")
    return html[start:end] if start >= 0 and end > start else html
