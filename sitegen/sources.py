"""Reading the sources: Markdown pages (in worker processes when there are many) and the catalog.

A page is parsed again only when its key changed: its file's content hash,
its name, the region ids and whether drafts are built. Parsed Markdown is kept
pickled in the cache ("parsed") and loaded by whoever renders the page. Two
sources claiming one URL are an error here, before anything is rendered.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen import workers
from sitegen.cache import BuildCache, digest
from sitegen.changes import Inputs
from sitegen.config import SiteConfig
from sitegen.errors import Problems, SitegenError
from sitegen.progress import Progress

if TYPE_CHECKING:
    from sitegen.catalog import Service
    from sitegen.pages import Draft, Page

# Below this many sources to parse, forking workers costs more than it saves.
PARALLEL_PARSE = 200


@dataclass
class PageRecord:
    """A source as the last build read it (``page`` None for a draft left out, then in ``draft``)."""

    key: str
    page: Page | None
    warnings: list[SitegenError]
    draft: Draft | None = None


@dataclass
class Sources:
    """The site's pages and services, and what the cache needs to save them."""

    pages: list[Page]  # every page to render, catalog pages included, one per URL
    services: list[Service]
    drafts: list[Draft]  # sources left out as drafts (links to them are errors that say so)
    records: dict[str, PageRecord]  # source file -> its record
    parsed: dict[str, bytes]  # record key -> pickled parsed Markdown
    catalog_key: str  # changes when any catalog file does
    read: int  # sources read and converted by this build
    jobs: int  # processes used
    # For saving only what changed:
    reused: set[str] = field(default_factory=set)  # record keys taken from the cache
    old_records: set[str] = field(default_factory=set)
    old_parsed: set[str] = field(default_factory=set)
    # The catalog as read by this build, for the cache (pickled as read); None when it came from there.
    catalog_entry: tuple[str, bytes, list[SitegenError]] | None = None

    def save(self, cache: BuildCache) -> None:
        live = {record.key for record in self.records.values()}
        parsed = {k: v for k, v in self.parsed.items() if k in live}
        changed_files = {f for f, r in self.records.items() if r.key not in self.reused}
        cache.save_map("pages", self.records, changed_files | (self.old_records - set(self.records)))
        cache.save_map("parsed", parsed, (set(parsed) - self.old_parsed) | (self.old_parsed - set(parsed)))
        if self.catalog_entry is not None:
            cache.save("catalog", self.catalog_entry)


@dataclass(frozen=True)
class ParseContext:
    """What a worker needs to read sources."""

    config: SiteConfig
    content: Path
    drafts: bool


ParseTask = tuple[int, str, str, "bytes | None"]  # slot, path, record key, bytes already read


def read_sources(
    config: SiteConfig,
    root: Path,
    inputs: Inputs,
    cache: BuildCache,
    key: str,
    *,
    drafts: bool,
    strict: bool,
    jobs: int,
    progress: Progress,
    problems: Problems,
) -> Sources:
    """Every page and service; raises BuildFailed when any source is wrong (``key``: the build's)."""
    content = root / "content"
    if not content.is_dir():
        problems.error("no content folder: create content/index.md", "content")
        problems.check(strict, errors_only=True)
    records: dict[str, PageRecord] = cache.load_map("pages")
    parsed: dict[str, bytes] = cache.load_map("parsed")
    old_records, old_parsed = set(records), set(parsed)
    files, slots, todo, reused = _plan(config, content, inputs, records, parsed, drafts)
    warn_other_markdown(content, inputs, problems)
    jobs = jobs if len(todo) >= PARALLEL_PARSE else 1
    errors_at = _parse(ParseContext(config, content, drafts), todo, slots, parsed, jobs, progress)
    kept: dict[str, PageRecord] = {}
    pages: list[Page] = []
    left_out: list[Draft] = []
    for i, slot in enumerate(slots):
        assert slot is not None
        problems.warnings.extend(slot.warnings)
        if i in errors_at:
            problems.errors.extend(errors_at[i].errors)
            continue
        kept[files[i]] = slot
        if slot.page is not None:
            pages.append(slot.page)
        elif slot.draft is not None:
            left_out.append(slot.draft)
    catalog_dir = str(content / "services")
    catalog_key = digest(
        *sorted(f"{k}\0{v[3]}" for k, v in inputs.stamps.items() if os.path.dirname(k) == catalog_dir)
    )
    services, catalog_entry = _catalog(config, content, cache, digest(key, catalog_key), problems)
    unique = one_per_url(pages + [s.page for s in services if s.page is not None], problems)
    problems.check(strict, errors_only=True)
    return Sources(
        pages=unique,
        services=services,
        drafts=left_out,
        records=kept,
        parsed=parsed,
        catalog_key=catalog_key,
        catalog_entry=catalog_entry,
        read=len(todo),
        jobs=jobs,
        reused=reused,
        old_records=old_records,
        old_parsed=old_parsed,
    )


def _catalog(
    config: SiteConfig, content: Path, cache: BuildCache, wanted: str, problems: Problems
) -> tuple[list[Service], tuple[str, bytes, list[SitegenError]] | None]:
    """The services, and what to cache of them when they were read by this build.

    ``wanted`` covers what reading depends on: the catalog files, site.yaml and sitegen and its
    libraries (the build key). Reading formats every price with Babel (its import and locale data
    were ~40 ms of a one-page edit), so an unchanged catalog is taken from the cache, with the
    warnings reading it gave.
    """
    cached = cache.load("catalog")
    if isinstance(cached, tuple) and len(cached) == 3 and cached[0] == wanted:
        problems.warnings.extend(cached[2])
        services: list[Service] = pickle.loads(cached[1])
        return services, None
    from sitegen.catalog import read_catalog

    errors, warnings = len(problems.errors), len(problems.warnings)
    services = read_catalog(config, content, problems)
    if len(problems.errors) > errors:
        return services, None  # the build stops: nothing to keep
    # Pickled now: pages get their parsed Markdown attached while rendering.
    return services, (wanted, pickle.dumps(services), problems.warnings[warnings:])


# Names other tools give Markdown files. A page is a ".md" file (lower case, as in the links
# editors write and on case-sensitive hosts); one of these is never read, so the build says so.
_OTHER_MARKDOWN = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")


def warn_other_markdown(content: Path, inputs: Inputs, problems: Problems) -> None:
    """A warning for each content file that looks like a page but is not one (``Notes.MD``)."""
    prefix = str(content) + os.sep
    for path in sorted(inputs.stamps):
        if path.startswith(prefix) and path.lower().endswith(_OTHER_MARKDOWN) and not path.endswith(".md"):
            rel = path[len(prefix) :].replace(os.sep, "/")
            stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            problems.warn(
                f"not read as a page: a page's file name ends in '.md' (lower case); rename it to '{stem}.md'",
                f"content/{rel}",
            )


def _plan(
    config: SiteConfig,
    content: Path,
    inputs: Inputs,
    records: dict[str, PageRecord],
    parsed: dict[str, bytes],
    drafts: bool,
) -> tuple[list[str], list[PageRecord | None], list[ParseTask], set[str]]:
    """The sources in order, each one's record when still valid (else None), what to parse, the reused keys."""
    prefix = str(content) + os.sep
    # Sorted as paths (by segment), the order pages and problems have always come in.
    names = sorted(
        (
            p[len(prefix) :].replace(os.sep, "/")
            for p in inputs.stamps
            if p.startswith(prefix) and p.endswith(".md")
        ),
        key=lambda rel: rel.split("/"),
    )
    files = [f"content/{rel}" for rel in names]
    slots: list[PageRecord | None] = []
    reused: set[str] = set()
    todo: list[ParseTask] = []
    for i, rel in enumerate(names):
        path = prefix + rel.replace("/", os.sep)
        key = digest(inputs.stamps[path][3], files[i], repr(config.region_ids), repr(drafts))
        record = records.get(files[i])
        if (
            record is not None
            and record.key == key
            and (record.draft is not None if record.page is None else record.page.dynamic or key in parsed)
        ):
            slots.append(record)
            reused.add(key)
        else:
            slots.append(None)
            todo.append((i, path, key, inputs.data.get(path)))
    return files, slots, todo, reused


def _parse(
    context: ParseContext,
    todo: list[ParseTask],
    slots: list[PageRecord | None],
    parsed: dict[str, bytes],
    jobs: int,
    progress: Progress,
) -> dict[int, Problems]:
    """Parse ``todo`` into ``slots`` (their Markdown into ``parsed``); the problems of each failed slot."""
    from sitegen.pages import Draft

    progress.stage("reading", len(todo))
    errors_at: dict[int, Problems] = {}
    for part in workers.run(parse_part, workers.chunks(todo, jobs), jobs, context):
        for i, key, page, blob, found in part:
            if isinstance(page, Draft):
                slots[i] = PageRecord(key, None, found.warnings, page)
            else:
                slots[i] = PageRecord(key, page, found.warnings)
            if blob is not None:
                parsed[key] = blob
            if found.errors:
                errors_at[i] = found
        progress.advance(len(part))
    return errors_at


def one_per_url(pages: list[Page], problems: Problems) -> list[Page]:
    """The pages with a URL no earlier page claimed; each later claimant is an error."""
    by_path: dict[str, Page] = {}
    unique: list[Page] = []
    for page in pages:
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
    return unique


def parse_part(
    context: ParseContext, items: list[ParseTask]
) -> list[tuple[int, str, Page | Draft | None, bytes | None, Problems]]:
    """Read and convert sources (in a worker); the Markdown comes back pickled, for the cache."""
    from sitegen.deps import key_parts
    from sitegen.pages import Page, read_page

    out = []
    for i, path, key, data in items:
        found = Problems()
        page = read_page(context.config, context.content, Path(path), found, context.drafts, data)
        blob = None
        if isinstance(page, Page):
            key_parts(page)  # here, in parallel, rather than by the parent for every page
        if isinstance(page, Page) and not page.dynamic and page.parsed is not None:
            blob = pickle.dumps(page.parsed, protocol=pickle.HIGHEST_PROTOCOL)
            # The parent keeps the blob; whoever renders the page loads it. The Markdown source is
            # only needed again for bodies rendered per region (dynamic), so it is not carried around.
            page.parsed, page.body = None, ""
        out.append((i, key, page, blob, found))
    return out
