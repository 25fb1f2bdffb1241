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

import contextlib
import datetime as dt
import json
import os
import pickle
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen import __version__, workers
from sitegen.cache import DIRNAME, BuildCache, FileState, digest
from sitegen.config import SiteConfig, load_config
from sitegen.errors import BuildFailed, Problems, SitegenError
from sitegen.output import MANIFEST
from sitegen.progress import Progress
from sitegen.theme import template_dirs, theme_dir
from sitegen.yamlio import unreadable

# Markdown, Jinja2 and the rest load only when something has to be rebuilt:
# a no-change build never needs them (see _Build.run).
if TYPE_CHECKING:
    from sitegen.catalog import Service
    from sitegen.output import Output, Staging
    from sitegen.pages import Page
    from sitegen.render import Renderer

# Below these counts forking workers costs more than it saves.
PARALLEL_PARSE = 200
PARALLEL_RENDER = 200
# Up to this many re-rendered pages are held in memory and written in place;
# more are streamed into a new output folder that is swapped in.
IN_PLACE = 200


@dataclass
class BuildOptions:
    root: Path = Path(".")
    out: Path | None = None  # default: <root>/dist
    regions: list[str] | None = None  # None: every region
    drafts: bool = False
    strict: bool = False
    production: bool = True
    write: bool = True  # False for `sitegen check` and `sitegen serve` (files kept in memory)
    progress: Progress | None = None
    # Worker processes; None: one per core. 1 by default here because a library caller
    # (sitegen serve, tests) may have threads, and forking those is unsafe; the CLI defaults to None.
    jobs: int | None = 1
    cache: bool = True  # read and write .sitegen-cache/ (only when writing)


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
    asset_urls: dict[str, str] = field(default_factory=dict)
    rendered: int = 0  # pages rendered by this build
    reused: int = 0  # pages whose cached output was still right
    parsed: int = 0  # sources read and converted
    jobs: int = 1  # processes used for the largest stage
    cached: bool = False  # a cache was read or written

    def summary(self) -> str:
        per_region = ", ".join(f"{rid} {n}" for rid, n in self.pages.items())
        text = (
            f"built {sum(self.pages.values())} pages ({per_region}) in {self.seconds:.2f} s; "
            f"{self.written} files written, {self.removed} removed"
        )
        if self.cached:
            text += f"; cache: {self.reused} of {self.reused + self.rendered} pages unchanged"
        if self.jobs > 1:
            text += f"; {self.jobs} processes"
        return text


@dataclass
class PageRecord:
    """A source as the last build read it (``page`` None for a draft left out)."""

    key: str
    page: Page | None
    warnings: list[SitegenError]


@dataclass
class Rendered:
    """What the build keeps of one rendered page: enough to check links to and from it and index it."""

    key: tuple[str, ...]
    digest: str
    hrefs: tuple[str, ...]
    ids: frozenset[str]
    search: str  # its entry in _edge/search/<region>.json, serialised
    link_sources: dict[str, tuple[int, str]]  # href -> (source line, link as written)


@dataclass
class State:
    """Inputs and outputs of the last successful build, for telling whether anything changed."""

    key: str
    out: str
    started_ns: int
    inputs: dict[str, tuple[int, int, int, str]]
    outputs: dict[str, tuple[int, int, int, str]]  # rel -> size, mtime_ns, inode, digest
    pages: dict[str, int]
    warnings: list[SitegenError]
    templates: dict[str, Any]


def build(options: BuildOptions) -> BuildResult:
    run = _Build(options)
    try:
        return run.run()
    except BaseException:
        run.abort()
        raise


class _Build:
    """One run of the pipeline; attributes carry what each stage hands to the next."""

    def __init__(self, options: BuildOptions) -> None:
        self.options = options
        self.started = time.perf_counter()
        self.started_ns = time.time_ns()
        self.problems = Problems()
        self.progress = options.progress or Progress()
        self.root = options.root.resolve()
        self.jobs = options.jobs or workers.default_jobs()
        if not options.write or not workers.can_fork():
            self.jobs = 1  # in-memory builds serve `sitegen serve`, which runs threads
        self.cache = BuildCache(self.root / DIRNAME, enabled=options.write and options.cache)
        self.inputs: dict[str, tuple[int, int, int, str]] = {}

    # ------------------------------------------------------------------ stages

    def run(self) -> BuildResult:
        options, problems = self.options, self.problems
        config = load_config(self.root / "site.yaml", problems)
        if problems.errors:
            problems.check(options.strict, errors_only=True)
        self.config = config
        self.out = out = (options.out or self.root / "dist").resolve()
        self.out_str = str(out)
        self.region_ids = region_ids = options.regions or config.region_ids
        for rid in options.regions or []:
            if rid not in config.regions:
                problems.error(
                    f"--region {rid}: no such region in site.yaml (known: {', '.join(config.region_ids)})",
                    "site.yaml",
                )
        try:
            self.theme = theme_dir(config)
        except SitegenError as exc:
            problems.add(exc)
        problems.check(options.strict, errors_only=True)
        result = BuildResult(config=config, out=out, cached=self.cache.enabled, jobs=1)

        self.key = digest(
            __version__,
            _code_stamp(),
            (self.root / "site.yaml").read_bytes(),
            repr(
                (options.production, options.drafts, region_ids, str(self.theme), dt.date.today().isoformat())
            ),
        )
        loaded: State | None = self.cache.load("state")
        # Even under another build key, the last build's file hashes spare reading unchanged files.
        self.files_before = FileState(loaded.inputs, loaded.started_ns) if loaded else FileState()
        self.template_infos: dict[str, Any] = loaded.templates if loaded else {}
        self.state = loaded if loaded is not None and loaded.key == self.key else None
        if self.state is not None and self.state.out == str(out) and self._unchanged(self.state):
            return self._nothing_to_do(result, self.state)
        self._track_all(self._input_paths())

        from sitegen import routing
        from sitegen.edgedata import write_edge_data
        from sitegen.links import extract
        from sitegen.output import Output, collect_assets, robots, sitemap, sitemap_index
        from sitegen.render import Assets, Renderer

        pages, services = self._read(result)
        static_dirs = [self.theme / "static", self.root / "static"]
        asset_urls, asset_files = collect_assets(static_dirs)
        renderer = Renderer(
            config,
            pages,
            services,
            Assets(asset_urls),
            production=options.production,
            bytecode_cache=self.cache.jinja_folder(),
        )
        output = Output()
        rendered = self._render(renderer, pages, services, asset_urls, result)

        search: dict[str, list[str]] = {rid: [] for rid in region_ids}
        services_by_region: dict[str, list[dict[str, Any]]] = {}
        urls: dict[str, dict[str, str]] = {}
        html_links: dict[str, tuple[str, ...]] = {}
        html_ids: dict[str, frozenset[str]] = {}
        for rid in region_ids:
            built = [p for p in pages if rid in p.regions]
            for page in built:
                rel = f"{rid}{page.path}index.html"
                entry = rendered.get(rel)
                if entry is not None:
                    search[rid].append(entry.search)
                    html_links[rel], html_ids[rel] = entry.hrefs, entry.ids
            output.add(f"{rid}/sitemap.xml", sitemap(config, rid, built))
            result.pages[rid] = len(built)
            services_by_region[rid] = renderer.service_views(rid)
            urls[rid] = _known_urls(rid, {p.path for p in built})
            not_found = renderer.render_404(config.regions[rid], problems)
            if not_found is not None:
                output.add(f"{rid}/404.html", not_found)
        default = config.default_region.id
        if f"{default}/404.html" in output.files:
            output.files["404.html"] = output.files[f"{default}/404.html"]
        for rel in [f"{rid}/404.html" for rid in region_ids] + ["404.html"]:
            if rel in output.files:
                html_links[rel], html_ids[rel] = extract(output.files[rel].decode("utf-8"))
        output.add("sitemap.xml", sitemap_index(config, region_ids))
        output.add("robots.txt", robots(config, options.production))
        write_edge_data(output, config, options.production, services_by_region, urls, search)
        pages_by_region = {rid: {p.path for p in pages if rid in p.regions} for rid in region_ids}
        for name, text in routing.files(config, pages_by_region, asset_urls).items():
            output.add(name, text)

        # Links are checked once every page rendered; a failed page would only add noise.
        self.problems.check(options.strict, errors_only=True)
        self._check_links(html_links, html_ids, rendered, pages, output, asset_files)
        # Only here do warnings alone stop the build (--strict): earlier stages stop on errors,
        # so a warning never hides the problems later stages would find.
        self.problems.check(options.strict)

        output.files.update(asset_files)
        result.sources, result.services, result.asset_urls = pages, services, asset_urls
        result.warnings = problems.warnings
        self._write(output, rendered, result)
        result.seconds = time.perf_counter() - self.started
        self.progress.done()
        return result

    # ------------------------------------------------------------------ inputs

    def _unchanged(self, state: State) -> bool:
        """Every input and output file as the last build left it (the no-change fast path)."""
        paths = self._input_paths()
        if len(paths) != len(state.inputs):
            return False
        for path in paths:
            known = state.inputs.get(path)
            if known is None:
                return False
            try:
                st = os.stat(path)
            except OSError:
                return False
            if self.files_before.hash_of(path, path, st)[0] != known[3]:
                return False
        out = str(self.out)
        if not os.path.isfile(os.path.join(out, MANIFEST)):
            return False
        for rel, (size, mtime, ino, _) in state.outputs.items():
            try:
                st = os.stat(os.path.join(out, rel))
            except OSError:
                return False
            if st.st_size != size or st.st_mtime_ns != mtime or st.st_ino != ino:
                return False
        return True

    def _input_paths(self) -> list[str]:
        """Every file the build reads besides site.yaml (which is in the build key)."""
        found: list[str] = []
        folders = [
            self.root / "content",
            self.theme / "static",
            self.root / "static",
            *template_dirs(self.config),
        ]
        for folder in folders:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                found.extend(os.path.join(dirpath, name) for name in filenames if not name.startswith("."))
        return found

    def _track_all(self, paths: list[str]) -> None:
        """Hash every input before anything reads it (so an edit made during the build is seen next time).

        Bytes that had to be read for hashing are kept for the reader.
        """
        self.data: dict[str, bytes] = {}
        for path in paths:
            try:
                st = os.stat(path)
            except OSError as exc:  # a dangling link or a link to itself
                self.problems.error(unreadable(exc), os.path.relpath(path, self.root))
                continue
            h, data = self.files_before.hash_of(path, path, st)
            self.inputs[path] = (st.st_size, st.st_mtime_ns, st.st_ino, h)
            if data is not None:
                self.data[path] = data

    def _nothing_to_do(self, result: BuildResult, state: State) -> BuildResult:
        self.problems.warnings.extend(state.warnings)
        self.problems.check(self.options.strict)
        result.pages = dict(state.pages)
        result.warnings = list(state.warnings)
        result.reused = sum(state.pages.values())
        from sitegen.output import OutputFiles

        result.files = OutputFiles(self.out, state.outputs)
        result.seconds = time.perf_counter() - self.started
        return result

    # ------------------------------------------------------------------ pages and catalog

    def _read(self, result: BuildResult) -> tuple[list[Page], list[Service]]:
        from sitegen.catalog import read_catalog

        options, problems, config = self.options, self.problems, self.config
        content = self.root / "content"
        if not content.is_dir():
            problems.error("no content folder: create content/index.md", "content")
            problems.check(options.strict, errors_only=True)
        records: dict[str, PageRecord] = self.cache.load_map("pages")
        self.parsed_store: dict[str, bytes] = self.cache.load_map("parsed")
        self.old_records, self.old_parsed = set(records), set(self.parsed_store)
        prefix = str(content) + os.sep
        # Sorted as paths (by segment), the order pages and problems have always come in.
        sources = sorted(
            (
                p[len(prefix) :].replace(os.sep, "/")
                for p in self.inputs
                if p.startswith(prefix) and p.endswith(".md")
            ),
            key=lambda rel: rel.split("/"),
        )
        files = [f"content/{rel}" for rel in sources]
        slots: list[PageRecord | None] = []
        self.reused_keys: set[str] = set()
        todo: list[tuple[int, str, str, bytes | None]] = []
        for i, rel in enumerate(sources):
            path = prefix + rel.replace("/", os.sep)
            key = digest(self.inputs[path][3], files[i], repr(config.region_ids), repr(options.drafts))
            record = records.get(files[i])
            if (
                record is not None
                and record.key == key
                and (record.page is None or record.page.dynamic or key in self.parsed_store)
            ):
                slots.append(record)
                self.reused_keys.add(key)
            else:
                slots.append(None)
                todo.append((i, path, key, self.data.get(path)))
        self.progress.stage("reading", len(todo))
        jobs = self.jobs if len(todo) >= PARALLEL_PARSE else 1
        shared = {"config": config, "content": content, "drafts": options.drafts}
        errors_at: dict[int, Problems] = {}
        for part in workers.run(_parse_part, workers.chunks(todo, jobs), jobs, shared):
            for i, key, page, blob, found in part:
                slots[i] = PageRecord(key, page, found.warnings)
                if blob is not None:
                    self.parsed_store[key] = blob
                if found.errors:
                    errors_at[i] = found
            self.progress.advance(len(part))
        result.parsed = len(todo)
        result.jobs = max(result.jobs, jobs)
        self.records: dict[str, PageRecord] = {}
        pages: list[Page] = []
        for i, record in enumerate(slots):
            assert record is not None
            problems.warnings.extend(record.warnings)
            if i in errors_at:
                problems.errors.extend(errors_at[i].errors)
                continue
            self.records[files[i]] = record
            if record.page is not None:
                pages.append(record.page)
        services = read_catalog(config, content, problems)
        catalog_dir = str(content / "services")
        self.catalog_key = digest(
            *sorted(f"{k}\0{v[3]}" for k, v in self.inputs.items() if os.path.dirname(k) == catalog_dir)
        )
        all_pages = pages + [s.page for s in services if s.page is not None]
        by_path: dict[str, Page] = {}
        unique: list[Page] = []
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
            unique.append(page)
        self.problems.check(options.strict, errors_only=True)
        return unique, services

    # ------------------------------------------------------------------ render

    def _render(
        self,
        renderer: Renderer,
        pages: list[Page],
        services: list[Service],
        asset_urls: dict[str, str],
        result: BuildResult,
    ) -> dict[str, Rendered]:
        from sitegen.deps import TemplateDeps, body_reads_catalog, structure_key

        options, state = self.options, self.state
        deps = TemplateDeps.scan(
            renderer.theme, template_dirs(self.config), state.templates if state is not None else None
        )
        self.template_infos = deps.parsed()
        base = digest(self.key, repr(sorted(asset_urls.items())), structure_key(pages))
        previous: dict[str, Rendered] = self.cache.load_map("rendered") if state is not None else {}
        self.old_rendered = set(previous)
        reusable = state is not None and state.out == str(self.out)
        self.rendered_keys: dict[str, tuple[str, ...]] = {}
        rendered: dict[str, Rendered] = {}
        tasks: list[tuple[int, str]] = []
        for rid in self.region_ids:
            for index, page in enumerate(pages):
                if rid not in page.regions:
                    continue
                template_hash, template_reads_catalog = deps.closure(f"{page.template}.html")
                record = self.records.get(page.file)
                # A tuple, compared as is: hashing 8000 keys would cost more than comparing them.
                key = (
                    base,
                    rid,
                    record.key if record is not None else page.file,
                    template_hash,
                    self.catalog_key if template_reads_catalog or body_reads_catalog(page) else "",
                )
                rel = f"{rid}{page.path}index.html"
                self.rendered_keys[rel] = key
                old = previous.get(rel)
                if reusable and old is not None and old.key == key and self._output_intact(rel, old.digest):
                    rendered[rel] = old
                else:
                    tasks.append((index, rid))
        result.reused = len(rendered)
        result.rendered = len(tasks)

        parallel = len(tasks) >= PARALLEL_RENDER and self.jobs > 1
        from sitegen.output import Staging

        self.staging: Staging | None = None
        self.in_memory: dict[str, bytes] = {}
        if options.write and (len(tasks) > IN_PLACE or not reusable or not (self.out / MANIFEST).is_file()):
            self.staging = Staging(self.out)
        jobs = self.jobs if parallel else 1
        result.jobs = max(result.jobs, jobs)
        if parallel:
            # Compile every template once here, so forked workers start with them compiled.
            for name in renderer.theme.list_templates(filter_func=lambda n: n.endswith(".html")):
                with contextlib.suppress(Exception):  # reported where the template is used
                    renderer.theme.get_template(name)
        shared = {
            "renderer": renderer,
            "pages": pages,
            "blobs": self.parsed_store,
            "records": self.records,
            "staging": self.staging.folder if self.staging else None,
        }
        self.progress.stage("rendering", len(tasks))
        self.fresh: set[str] = set()
        for part, found in workers.run(_render_part, workers.chunks(tasks, jobs), jobs, shared):
            self.problems.extend(found)
            counts: dict[str, int] = {}
            for rel, rid, data, entry in part:
                rendered[rel] = Rendered(self.rendered_keys[rel], *entry)
                self.fresh.add(rel)
                if data is not None:
                    self.in_memory[rel] = data
                elif self.staging is not None:
                    self.staging.written += 1  # written by the worker
                counts[rid] = counts.get(rid, 0) + 1
            for rid, n in counts.items():
                self.progress.advance(n, rid)
        return rendered

    def _output_intact(self, rel: str, expected: str) -> bool:
        """The output file is still what the last build wrote, with digest ``expected``."""
        known = (
            self.state.outputs.get(rel) if self.state is not None and self.state.out == self.out_str else None
        )
        if known is None or known[3] != expected:
            return False
        try:
            st = os.stat(os.path.join(self.out_str, rel))
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, st.st_ino) == known[:3]

    # ------------------------------------------------------------------ check and write

    def abort(self) -> None:
        """After a failure: drop the half-made output folder (the old one was never touched)."""
        staging: Staging | None = getattr(self, "staging", None)
        if staging is not None:
            staging.abort()

    def _check_links(
        self,
        links: dict[str, tuple[str, ...]],
        ids: dict[str, frozenset[str]],
        rendered: dict[str, Rendered],
        pages: list[Page],
        output: Output,
        asset_files: dict[str, bytes],
    ) -> None:
        from sitegen.links import check_links

        config = self.config
        # Regions left out with --region still exist on the deployed site.
        elsewhere = [
            f"{rid}{p.path}index.html"
            for rid in config.region_ids
            if rid not in self.region_ids
            for p in pages
            if rid in p.regions
        ]
        present = {*links, *asset_files, *output.files, *elsewhere}
        for broken in check_links(links, ids, present):
            entry = rendered.get(broken.out_path)
            source = entry.link_sources.get(broken.href) if entry is not None else None
            if source is None:  # a link from a template
                self.problems.error(broken.message, _source_of(broken.out_path, pages, self.region_ids))
                continue
            # Worded without the region, so the same mistake in every region is reported once.
            line, written = source
            if broken.reason:
                message = f"link to '{written}': {broken.reason}"
            elif broken.fragment:
                message = f"link to '{written}': that page has no heading or element with id '{broken.fragment}'; check the anchor"
            else:
                message = f"link to '{written}': no such file in the output; check the path"
            self.problems.error(message, _source_of(broken.out_path, pages, self.region_ids), line)

    def _write(self, output: Output, rendered: dict[str, Rendered], result: BuildResult) -> None:
        from sitegen.output import OutputFiles, update

        options = self.options
        names = [*output.files, *rendered]
        if not options.write:
            files = dict(self.in_memory)
            files.update(output.files)
            result.files = files
            return
        digests = {rel: entry.digest for rel, entry in rendered.items()}
        for rel, data in output.files.items():
            digests[rel] = digest(data)
        if self.staging is not None:
            staging = self.staging
            try:
                for rel, data in self.in_memory.items():
                    staging.put(rel, data)
                for rel, data in output.files.items():
                    if not (self._output_intact(rel, digests[rel]) and staging.keep(rel)):
                        staging.put(rel, data)
                for rel in rendered:
                    if rel not in self.fresh and not staging.keep(rel):
                        raise SitegenError(
                            f"could not carry {rel} over from the previous output", str(self.out)
                        )
                result.removed = staging.commit(names)
            except BaseException:
                staging.abort()
                raise
            finally:
                self.staging = None  # committed or aborted: nothing left for build() to clean up
            result.written = staging.written
        else:
            # Written unless the file on disk is already exactly this (re-rendered pages too:
            # their output may be what was damaged).
            changed = {
                rel: data
                for files in (self.in_memory, output.files)
                for rel, data in files.items()
                if not self._output_intact(rel, digests[rel])
            }
            result.removed = update(self.out, changed, names)
            result.written = len(changed)
        self._save(names, digests, rendered, result)
        result.files = OutputFiles(self.out, names)

    def _save(
        self, names: list[str], digests: dict[str, str], rendered: dict[str, Rendered], result: BuildResult
    ) -> None:
        if not self.cache.enabled:
            return
        outputs: dict[str, tuple[int, int, int, str]] = {}
        for rel in names:
            st = os.stat(os.path.join(self.out_str, rel))
            outputs[rel] = (st.st_size, st.st_mtime_ns, st.st_ino, digests[rel])
        live = {record.key for record in self.records.values()}
        parsed = {k: v for k, v in self.parsed_store.items() if k in live}
        changed_files = {f for f, r in self.records.items() if r.key not in self.reused_keys}
        self.cache.save_map("pages", self.records, changed_files | (self.old_records - set(self.records)))
        self.cache.save_map(
            "parsed", parsed, (set(parsed) - self.old_parsed) | (self.old_parsed - set(parsed))
        )
        fresh_start = self.state is None  # nothing was loaded: rewrite every shard
        self.cache.save_map(
            "rendered", rendered, None if fresh_start else self.fresh | (self.old_rendered - set(rendered))
        )
        self.cache.save(
            "state",
            State(
                key=self.key,
                out=str(self.out),
                started_ns=self.started_ns,
                inputs=self.inputs,
                outputs=outputs,
                pages=dict(result.pages),
                warnings=list(self.problems.warnings),
                templates=self.template_infos,
            ),
        )


# ---------------------------------------------------------------------- worker tasks


def _parse_part(
    items: list[tuple[int, str, str, bytes | None]],
) -> list[tuple[int, str, Page | None, bytes | None, Problems]]:
    """Read and convert sources (in a worker); the Markdown comes back pickled, for the cache."""
    from sitegen.pages import read_page

    shared = workers.shared
    out = []
    for i, path, key, data in items:
        found = Problems()
        page = read_page(shared["config"], shared["content"], Path(path), found, shared["drafts"], data)
        blob = None
        if page is not None and not page.dynamic and page.parsed is not None:
            blob = pickle.dumps(page.parsed, protocol=pickle.HIGHEST_PROTOCOL)
            # The parent keeps the blob; whoever renders the page loads it. The Markdown source is
            # only needed again for bodies rendered per region (dynamic), so it is not carried around.
            page.parsed, page.body = None, ""
        out.append((i, key, page, blob, found))
    return out


def _render_part(
    tasks: list[tuple[int, str]],
) -> tuple[list[tuple[str, str, bytes | None, tuple[Any, ...]]], Problems]:
    """Render (page, region) pairs (in a worker): write them out or hand them back, with what the parent keeps."""
    from sitegen.chunks import search_entry
    from sitegen.links import extract, region_url
    from sitegen.output import put

    shared = workers.shared
    renderer: Renderer = shared["renderer"]
    pages: list[Page] = shared["pages"]
    blobs: dict[str, bytes] = shared["blobs"]
    records: dict[str, PageRecord] = shared["records"]
    staging: Path | None = shared["staging"]
    problems = Problems()
    out: list[tuple[str, str, bytes | None, tuple[Any, ...]]] = []
    for index, rid in tasks:
        page = pages[index]
        if not page.dynamic and page.parsed is None:
            page.parsed = pickle.loads(blobs[records[page.file].key])
        html = renderer.render_page(page, renderer.config.regions[rid], problems)
        if html is None:
            continue
        rel = f"{rid}{page.path}index.html"
        data = html.encode("utf-8")
        hrefs, ids = extract(html)
        title = str(renderer.page_meta(page, rid).get("title", ""))
        entry = json.dumps(search_entry(region_url(rid, page.path), title, _main(html)), ensure_ascii=False)
        sources = renderer.link_sources.pop(rel, {})
        if staging is not None:
            put(staging, rel, data)
            out.append((rel, rid, None, (digest(data), hrefs, ids, entry, sources)))
        else:
            out.append((rel, rid, data, (digest(data), hrefs, ids, entry, sources)))
    return out, problems


# ---------------------------------------------------------------------- helpers


def _code_stamp() -> str:
    """Python, sitegen's own modules and the libraries that shape the output, as installed now.

    A changed sitegen (a developer's edit) or an upgraded library must not reuse
    pages rendered by the old one; stat data is enough to notice either.
    """
    import importlib.util

    parts = [sys.version]
    here = Path(__file__).resolve().parent
    files = sorted(here.rglob("*.py"))
    for name in ("jinja2", "markdown_it", "mdit_py_plugins", "pygments", "babel", "yaml"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return digest(*parts)


def _main(html: str) -> str:
    start = html.find("<main")
    end = html.rfind("</main>")
    return html[start:end] if start >= 0 and end > start else html


def _known_urls(rid: str, paths: set[str]) -> dict[str, str]:
    from sitegen.links import region_url

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


__all__ = ["BuildFailed", "BuildOptions", "BuildResult", "build"]
