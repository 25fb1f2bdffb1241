"""The build: runs the stages in order and nothing else.

config -> inputs (what changed since the cached build) -> pages + catalog
(parsed only when changed) -> assets -> render each region (only pages whose
inputs changed; in worker processes when there are many) -> sitemaps, 404s,
edge data, routing -> check every link -> write -> save the cache. A problem
anywhere stops the build before the output folder changes.

What a rendered page depends on, and so when it is rendered again:
- the build's settings: sitegen version, site.yaml, options, today's date,
  static assets (their hashed names appear in every page);
- its own source; the template files its template may use (``deps``);
- the site's structure: every page's URL, regions, source and menu entry;
- the catalog, when its template or body reads catalog values.
Anything else in a page comes from these, so an unchanged key means unchanged
bytes (checked by tests that compare with clean builds).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen import workers
from sitegen.cache import DIRNAME, BuildCache, digest
from sitegen.changes import Inputs, LastBuild, State, build_key, input_paths, output_stamps
from sitegen.config import SiteConfig, at_origin, load_config, parse_origin
from sitegen.errors import BuildFailed, Problems, SitegenError
from sitegen.progress import Progress
from sitegen.theme import theme_dir
from sitegen.write import open_staging, write_output

# Markdown, Jinja2 and the rest load only when something has to be rebuilt:
# a no-change build never needs them (see build()).
if TYPE_CHECKING:
    from sitegen.catalog import Service
    from sitegen.images import ImageSet
    from sitegen.output import Output, Staging
    from sitegen.pages import Draft, Page
    from sitegen.render_jobs import RenderJob, RenderOutcome
    from sitegen.searchentries import SearchEntries
    from sitegen.sources import Sources


@dataclass
class BuildOptions:
    root: Path = Path(".")
    out: Path | None = None  # default: <root>/dist
    regions: list[str] | None = None  # None: every region
    drafts: bool = False
    strict: bool = False
    # The origin every absolute URL names instead of site.yaml's base_url (deploy previews, serve).
    base_url: str | None = None
    production: bool = True
    write: bool = True  # False for `sitegen check` and `sitegen serve` (files kept in memory)
    progress: Progress | None = None
    # Worker processes; None: one per core. 1 by default here because a library caller
    # (sitegen serve, tests) may have threads, and forking those is unsafe; the CLI defaults to None.
    jobs: int | None = 1
    cache: bool = True  # read and write .sitegen-cache/ (only when writing)
    # The process ends after this build (the CLI): cyclic garbage collection is switched off while
    # it runs. Nearly everything a build allocates lives until its end, so the collector's passes
    # freed nothing and cost ~15 % of the CPU (docs/performance.md, peak memory unchanged).
    one_shot: bool = False


@dataclass
class BuildResult:
    config: SiteConfig
    out: Path
    pages: dict[str, int] = field(default_factory=dict)  # region -> HTML pages
    written: int = 0
    removed: int = 0
    seconds: float = 0.0
    warnings: list[SitegenError] = field(default_factory=list)
    # Every output file: in memory when not writing, else read from the output folder on access.
    files: Mapping[str, bytes] = field(default_factory=dict)
    # What `sitegen serve` needs to re-render one edited page without reading every source again.
    sources: list[Page] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)  # sources left out as drafts
    asset_urls: dict[str, str] = field(default_factory=dict)
    rendered: int = 0  # pages rendered by this build
    reused: int = 0  # pages whose cached output was still right
    parsed: int = 0  # sources read and converted
    jobs: int = 1  # processes used for the largest stage
    cached: bool = False  # a cache was read or written
    images: int = 0  # images beside content and in static folders
    images_encoded: int = 0  # of them, encoded by this build (the others came from the cache)
    image_set: ImageSet | None = None  # for `sitegen serve`'s one-page rebuild
    kept: list[str] = field(default_factory=list)  # files in the output folder no build made, left there
    # Every file this build read (site.yaml too), as absolute paths: what `sitegen serve` tells an
    # editor's vanished temp file from a deleted source by.
    inputs: frozenset[str] = frozenset()

    def summary(self) -> str:
        per_region = ", ".join(f"{rid} {n}" for rid, n in self.pages.items())
        text = (
            f"built {sum(self.pages.values())} pages ({per_region}) in {self.seconds:.2f} s; "
            f"{self.written} files written, {self.removed} removed"
        )
        if self.cached:
            text += f"; cache: {self.reused} of {self.reused + self.rendered} pages unchanged"
        if self.images:
            text += f"; {self.images} images ({self.images_encoded} encoded)"
        if self.jobs > 1:
            text += f"; {self.jobs} processes"
        if self.kept:
            shown = ", ".join(self.kept[:3]) + (", …" if len(self.kept) > 3 else "")
            text += (
                f"; {len(self.kept)} file{'s' if len(self.kept) != 1 else ''} in {self.out.name}/ not made "
                f"by sitegen, left as they are: {shown} (to publish a file, put it in static/)"
            )
        return text


@dataclass(frozen=True)
class Site:
    """The checked settings of one build: what every later stage reads."""

    config: SiteConfig
    root: Path
    theme: Path
    out: Path
    region_ids: list[str]  # the regions this build makes (--region, else all)


def build(options: BuildOptions) -> BuildResult:
    """Run the stages in order; a problem anywhere raises BuildFailed before the output folder changes."""
    collect = options.one_shot and gc.isenabled()
    if collect:
        gc.disable()
    try:
        return _build(options)
    except BaseException:
        if options.progress is not None:
            options.progress.done()  # problems are printed next, each on a line of its own
        raise
    finally:
        if collect:
            gc.enable()


def _build(options: BuildOptions) -> BuildResult:
    started, started_ns = time.perf_counter(), time.time_ns()
    problems = Problems()
    progress = options.progress or Progress()
    site = configure(options, problems)
    cache = BuildCache(site.root / DIRNAME, enabled=options.write and options.cache)
    result = BuildResult(config=site.config, out=site.out, cached=cache.enabled, jobs=1)

    key = build_key(
        site.root, site.theme, site.region_ids, options.production, options.drafts, site.config.base_url
    )
    last = LastBuild.load(cache, key, site.out)
    try:
        paths = input_paths(site.root, site.theme, site.config)
        result.inputs = frozenset([*paths, str(site.root / "site.yaml")])
        jobs = worker_count(options)
        last.scan(parallel=jobs > 1)
        # Every input stat-ed (and hashed when its stamp changed) once, for both questions: did
        # anything change, and what.
        inputs = Inputs.track(paths, last.files, site.root, problems)
        foreign = last.unchanged(inputs)
        if foreign is not None:
            return nothing_to_do(last, foreign, result, problems, options.strict, started)

        from sitegen.sources import read_sources

        sources = read_sources(
            site.config,
            site.root,
            inputs,
            cache,
            key,
            drafts=options.drafts,
            strict=options.strict,
            jobs=jobs,
            progress=progress,
            problems=problems,
        )
        result.parsed, result.jobs = sources.read, max(result.jobs, sources.jobs)
        from sitegen.render_jobs import prepare

        job = prepare(site, sources, inputs, key, last, cache, options, problems)
        # The bytes read while hashing the inputs have been parsed or published by now: let go of
        # them before the render workers fork (6 MB at 4000 sources, 30 MB at 20 000).
        inputs.data.clear()
        result.reused, result.rendered = len(job.plan.reused), len(job.plan.tasks)
        result.images, result.images_encoded = len(job.images.found), job.images.encoded
        staging = open_staging(site.out, options.write, len(job.plan.tasks), last)
        try:
            outcome, output, searches = render_and_check(
                site, sources, job, staging, last, cache, jobs, options, progress, problems, result
            )
            if not options.write:
                result.files = {**outcome.in_memory, **output.files}
                return finish(result, progress, started)
            names, digests, kept = write_output(site.out, output, outcome, staging, last, result)
        except BaseException:
            if staging is not None:
                staging.abort()  # the old output was never touched
            raise
        # Written: the edge files and pages held in memory (35 MB at 4000 sources) are not
        # needed while the cache is saved, the build's last peak of memory.
        output.files.clear()
        outcome.in_memory.clear()
        if cache.enabled:
            sources.save(cache)
            outcome.save(cache, job.plan, last.state is None, searches)
            state = State(
                key=key,
                out=str(site.out),
                started_ns=started_ns,
                inputs=inputs.stamps,
                outputs=output_stamps(site.out, names, digests, kept),
                pages=dict(result.pages),
                warnings=list(problems.warnings),
                templates=job.plan.templates,
                search_layout=job.plan.search_layout,
                listing=job.plan.listing,
            )
            cache.save("state", state)
        return finish(result, progress, started)

    finally:
        last.close()  # the children scanning the output folder, if their answers were not needed


def render_and_check(
    site: Site,
    sources: Sources,
    job: RenderJob,
    staging: Staging | None,
    last: LastBuild,
    cache: BuildCache,
    jobs: int,
    options: BuildOptions,
    progress: Progress,
    problems: Problems,
    result: BuildResult,
) -> tuple[RenderOutcome, Output, SearchEntries]:
    """Render the pages, make the other files, check every link; raises BuildFailed on any problem."""
    from sitegen import render_jobs
    from sitegen.linkcheck import check_build, known_good
    from sitegen.searchentries import SearchEntries, kept_shards, remake_from
    from sitegen.sitefiles import kept_sitemaps, site_files
    from sitegen.staticfiles import check_static

    pages = sources.pages
    folder = staging.folder if staging is not None else None
    context = render_jobs.RenderContext(job.renderer, pages, sources.parsed, sources.records, folder)
    outcome = render_jobs.render(job.plan, context, jobs, progress, problems)
    result.jobs = max(result.jobs, outcome.jobs)
    if staging is not None:
        staging.written += outcome.written
    remake = remake_from(site.out, render_jobs.entry_maker(job.renderer, pages))
    searches = SearchEntries(outcome.rendered, cache, remake)
    # Search shards none of whose pages changed stay as they are, when the output is updated in place.
    in_place = staging is None and options.write
    kept = kept_shards(outcome, site.region_ids, last, job.plan.search_layout) if in_place else {}
    if in_place:
        kept.update(kept_sitemaps(last, job.plan.listing, site.region_ids))
    output, result.pages = site_files(
        site.config,
        job.renderer,
        pages,
        site.region_ids,
        outcome.rendered,
        job.asset_urls,
        options.production,
        problems,
        searches,
        static=job.static_files,
        kept=kept,
        stage=staging.stager(last) if staging is not None else None,
    )
    check_static(job.static_files, [*output.names(), *outcome.rendered, *job.asset_files], problems)
    # Links are checked once every page rendered; a failed page would only add noise.
    problems.check(options.strict, errors_only=True)
    output.files.update(job.static_files)  # links may lead to them; the set of names includes them
    html_files = {rel: digest(data) for rel, data in output.files.items() if rel.endswith(".html")}
    names = {*output.names(), *job.asset_files, *outcome.rendered}
    known = known_good(
        outcome.rendered, outcome.fresh, job.plan.previous_ids, names, job.last_outputs, html_files
    )
    check_build(
        outcome.rendered,
        output,
        job.asset_files,
        pages,
        site.region_ids,
        site.config.region_ids,
        problems,
        known,
    )
    # Only here do warnings alone stop the build (--strict): earlier stages stop on errors,
    # so a warning never hides the problems later stages would find.
    problems.check(options.strict)
    output.files.update(job.asset_files)
    result.sources, result.services, result.asset_urls = pages, sources.services, job.asset_urls
    result.image_set = job.images
    result.drafts = sources.drafts
    result.warnings = problems.warnings
    return outcome, output, searches


def configure(options: BuildOptions, problems: Problems) -> Site:
    """Load site.yaml and check the options against it."""
    root = options.root.resolve()
    config = load_config(root / "site.yaml", problems)
    if problems.errors:
        problems.check(options.strict, errors_only=True)
    if options.base_url:
        try:
            config = at_origin(config, parse_origin(options.base_url))
        except SitegenError as exc:
            problems.add(exc)
    for rid in options.regions or []:
        if rid not in config.regions:
            problems.error(
                f"--region {rid}: no such region in site.yaml (known: {', '.join(config.region_ids)})",
                "site.yaml",
            )
    theme = Path()
    try:
        theme = theme_dir(config)
    except SitegenError as exc:
        problems.add(exc)
    problems.check(options.strict, errors_only=True)
    out = (options.out or root / "dist").resolve()
    return Site(config, root, theme, out, options.regions or config.region_ids)


def worker_count(options: BuildOptions) -> int:
    if not options.write or not workers.can_fork():
        return 1  # in-memory builds serve `sitegen serve`, which runs threads
    return options.jobs or workers.default_jobs()


def nothing_to_do(
    last: LastBuild, kept: list[str], result: BuildResult, problems: Problems, strict: bool, started: float
) -> BuildResult:
    """The result of a build that found every input and output as the last one left them
    (``kept``: the files in the output folder no build made)."""
    from sitegen.output import OutputFiles

    state = last.state
    assert state is not None
    problems.warnings.extend(state.warnings)
    problems.check(strict)
    result.pages = dict(state.pages)
    result.warnings = list(state.warnings)
    result.reused = sum(state.pages.values())
    result.files = OutputFiles(Path(last.out), state.outputs)
    result.kept = kept
    result.seconds = time.perf_counter() - started
    return result


def finish(result: BuildResult, progress: Progress, started: float) -> BuildResult:
    result.seconds = time.perf_counter() - started
    progress.done()
    return result


__all__ = ["BuildFailed", "BuildOptions", "BuildResult", "build"]
