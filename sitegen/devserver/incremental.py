"""One-page rebuild for ``sitegen serve``: a body-only edit re-renders that page alone.

Nothing else in the output depends on a page's body. Other pages see its front
matter (titles in menus, the URL in the link index, its regions); sitemaps,
routing rules and edge data use front matter and URLs too, except the page's
own entry in ``_edge/search/<region>.json``, which is updated here. So the fast
path is taken only when the edited file is an existing Markdown page (not a
catalog entry) whose front matter, URL, regions and template are unchanged and
whose element ids (anchors other pages may link to) stay the same. Anything
else returns None and the caller runs the full build: correctness first.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sitegen.build import BuildResult
from sitegen.catalog import Service
from sitegen.chunks import page_chunks, search_entry
from sitegen.config import SiteConfig
from sitegen.edgedata import search_shard
from sitegen.errors import Problems, SitegenError, unique
from sitegen.images import ImageSet
from sitegen.linkcheck import report
from sitegen.links import Index, find_broken, region_url
from sitegen.pages import Draft, Page, read_page
from sitegen.render import Assets, Renderer
from sitegen.render_jobs import main_html

_ID = re.compile(r"""\sid=["']([^"']+)["']""")


@dataclass(frozen=True)
class Previous:
    """What the last good build produced, enough to redo one page of it."""

    config: SiteConfig
    sources: list[Page]
    services: list[Service]
    asset_urls: dict[str, str]
    files: dict[str, bytes]
    images: ImageSet | None = None
    drafts: list[Draft] = field(
        default_factory=list
    )  # left out (serve --no-drafts): links to them are errors
    # Reused between one-page rebuilds: compiled templates and menus stay valid while front matter,
    # templates and catalog are unchanged (anything else is a full build and a new Previous).
    cache: dict[str, Any] = field(default_factory=dict, compare=False)
    inputs: frozenset[str] = frozenset()  # every file the build read (BuildResult.inputs)

    @classmethod
    def of(cls, result: BuildResult) -> Previous | None:
        sources = getattr(result, "sources", None)
        if not sources:
            return None  # a generator without these fields: always rebuild everything
        return cls(
            result.config,
            list(sources),
            list(result.services),
            dict(result.asset_urls),
            dict(result.files),
            result.image_set,
            list(result.drafts),
            inputs=frozenset(getattr(result, "inputs", ())),
        )


class _Overlay(Mapping[str, str]):
    """The re-rendered pages (iterated, so only they are link-checked) over the rest of the output (looked up)."""

    def __init__(self, changed: dict[str, str], files: dict[str, bytes]) -> None:
        self.changed = changed
        self.files = files

    def __getitem__(self, key: str) -> str:
        if key in self.changed:
            return self.changed[key]
        return self.files[key].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return iter(self.changed)

    def __len__(self) -> int:
        return len(self.changed)


def _report(errors: list[SitegenError]) -> list[SitegenError]:
    """As a full build reports them: sorted, and a mistake shared by every region once."""
    return sorted(unique(errors), key=SitegenError.sort_key)


@dataclass
class Outcome:
    previous: Previous  # its files: the new pages, and (once ``edge_data`` ran) the new edge data
    pages: int  # HTML files re-rendered
    outputs: list[str]  # their names ("pk/about/index.html")
    # Updates ``previous.files``' search shards and chat chunks in place; returns the names rewritten.
    # Separate so the server can tell open pages to reload before this part (no page shows it).
    edge_data: Callable[[], set[str]]


def rebuild_pages(prev: Previous, changed: set[Path]) -> Outcome | list[SitegenError] | None:
    """New output after `changed` files were edited, the errors it has, or None: do a full build."""
    problems = Problems()
    reread = _reread(prev, changed, problems)
    if reread is None:
        return None
    sources, edited = reread
    renderer = prev.cache.get("renderer")
    if renderer is None:
        renderer = prev.cache["renderer"] = Renderer(
            prev.config,
            sources,
            prev.services,
            Assets(prev.asset_urls),
            images=prev.images,
            drafts=prev.drafts,
        )
    else:
        renderer.pages = sources
        renderer.index = Index.of(sources, prev.config.region_ids, prev.drafts)
    html = _render(prev, renderer, edited, problems)
    if html is None:
        return None
    if problems.errors:
        return _report(problems.errors)

    def file_of(out_path: str) -> str:
        return next(p.file for p in edited if out_path.endswith(f"{p.path}index.html"))

    # Reported as the full build reports them (sitegen.linkcheck).
    broken = find_broken(_Overlay(html, prev.files), prev.files.keys())
    report(broken, renderer.link_sources.get, file_of, problems)
    if problems.errors:
        return _report(problems.errors)
    files = dict(prev.files)
    for rel_out, text in html.items():
        files[rel_out] = text.encode("utf-8")
    return Outcome(
        replace(prev, sources=sources, files=files),
        len(html),
        sorted(html),
        lambda: _update_search(prev, files, html, edited),
    )


def never_read(prev: Previous, path: Path) -> bool:
    """``path`` is gone and the last build did not read it: an editor's temp file (vim's "4913",
    an atomic save's leftovers) that came and went. A deleted source the build read is not, nor
    a folder that held one (moving a folder away is one event, for the folder)."""
    if os.path.lexists(path):
        return False
    forms = (str(path), os.path.realpath(path))
    if _holds_input(prev.inputs, forms):
        return False
    # The watcher may name a file by its real path where the build named it through a symlinked
    # folder (macOS does), so the inputs' real paths are asked too (made once per build).
    real = prev.cache.get("real_inputs")
    if real is None:
        real = prev.cache["real_inputs"] = frozenset(os.path.realpath(p) for p in prev.inputs)
    return not _holds_input(real, forms)


def _holds_input(inputs: frozenset[str], forms: tuple[str, ...]) -> bool:
    """One of ``forms`` is an input, or a folder an input is in."""
    for form in forms:
        prefix = form + os.sep
        if form in inputs or any(p.startswith(prefix) for p in inputs):
            return True
    return False


def _reread(prev: Previous, changed: set[Path], problems: Problems) -> tuple[list[Page], list[Page]] | None:
    """(every source, the edited ones) when every change is a body-only edit of a Markdown page, else None."""
    config = prev.config
    content = config.root / "content"
    by_file = {page.file: i for i, page in enumerate(prev.sources)}
    sources = list(prev.sources)
    edited: list[Page] = []
    for path in changed:
        try:
            rel = path.resolve().relative_to(content.resolve())
        except ValueError:
            return None
        if never_read(prev, path):
            continue
        if (
            path.suffix != ".md"
            or not path.is_file()
            or rel.parts[0] == "services"
            or any(p.startswith(".") for p in rel.parts)
        ):
            return None
        # Read as a draft would be built: a draft the last build left out is not among the
        # sources (index None below), and one that was built stays comparable.
        new = read_page(config, content, path, problems, drafts=True)
        index = by_file.get(f"{content.name}/{rel.as_posix()}")
        if not isinstance(new, Page) or problems.errors or index is None:
            return None  # a new, removed, draft or broken page: the full build decides (and reports)
        old = sources[index]
        if (old.kind, old.path, old.meta, old.regions, old.template) != (
            new.kind,
            new.path,
            new.meta,
            new.regions,
            new.template,
        ):
            return None
        if new.images is not None and set(new.images) - set(old.images or ()):
            return None  # it may use an image no page used before: the full build publishes it
        sources[index] = new
        edited.append(new)
    return (sources, edited) if edited else None


def _render(
    prev: Previous, renderer: Renderer, edited: list[Page], problems: Problems
) -> dict[str, str] | None:
    """The edited pages' new HTML by output file; None when their anchors changed (links to them may break)."""
    html: dict[str, str] = {}
    for page in edited:
        for rid in page.regions:
            rendered = renderer.render_page(page, prev.config.regions[rid], problems)
            rel_out = f"{rid}{page.path}index.html"
            if rendered is None or rel_out not in prev.files:
                continue
            if set(_ID.findall(rendered)) != set(_ID.findall(prev.files[rel_out].decode("utf-8"))):
                return None
            html[rel_out] = rendered
    return html


def _update_search(
    prev: Previous, files: dict[str, bytes], html: dict[str, str], edited: list[Page]
) -> set[str]:
    """The edited pages' entries in their ``_edge/search/`` shard and the chat's chunks made from them.

    The same bytes as the full build writes (one shard per edited page; the chunks file whole).
    Returns the names of the files rewritten.
    """
    rewritten: set[str] = set()
    arrays: dict[str, _Array] = prev.cache.setdefault("arrays", {})
    for page in edited:
        for rid in page.regions:
            rel_out = f"{rid}{page.path}index.html"
            url = region_url(rid, page.path)
            name = f"_edge/search/{search_shard(rid, url)}"
            if rel_out not in html or name not in files:
                continue
            shard = _array(arrays, files, name, _search_key)
            old = shard.get(url)
            if old is None:
                continue
            new = search_entry(url, old["title"], main_html(html[rel_out]))
            shard.replace(url, [new])
            rewritten.add(name)
            chunks_name = f"_edge/chat/{rid}.chunks.json"
            if chunks_name in files:
                chunks = _array(arrays, files, chunks_name, _chunk_key)
                # The page's run of chunks replaced by its new sections.
                if chunks.replace(url, page_chunks([new])):
                    rewritten.add(chunks_name)
    for name in rewritten:  # joined once per file, however many of its pages were edited
        files[name] = arrays[name].data()
    return rewritten


def _search_key(entry: dict[str, Any]) -> str | None:
    return str(entry["url"])


def _chunk_key(chunk: dict[str, Any]) -> str | None:
    """The page a chunk was cut from (its URL without the section's anchor); None for a service."""
    return str(chunk["url"]).split("#", 1)[0] if chunk.get("kind") == "page" else None


def _array(
    arrays: dict[str, _Array], files: dict[str, bytes], name: str, key: Callable[[dict[str, Any]], str | None]
) -> _Array:
    if name not in arrays:
        arrays[name] = _Array(files[name], key)
    return arrays[name]


class _Array:
    """An edge data file (a JSON array) kept as one serialised item per element, by page URL.

    ``json.dumps`` of a region's whole chunks file (megabytes at 4000 pages) was most of a one-page
    rebuild; joining the items as ``json.dumps`` joins them (``", "``, no indent, as
    ``chunks.chunks_json`` and ``edgedata.write_search`` do) gives the same bytes.
    """

    def __init__(self, data: bytes, key: Callable[[dict[str, Any]], str | None]) -> None:
        values = json.loads(data)
        self.key = key
        self.items = [_item(v) for v in values]
        self.keys = [key(v) for v in values]

    def get(self, key: str) -> dict[str, Any] | None:
        """The first element of ``key``, decoded; None when there is none."""
        try:
            value: dict[str, Any] = json.loads(self.items[self.keys.index(key)])
        except ValueError:
            return None
        return value

    def replace(self, key: str, values: list[dict[str, Any]]) -> bool:
        """The run of elements of ``key`` (first to last) replaced by ``values``; False when there is none."""
        try:
            first = self.keys.index(key)
        except ValueError:
            return False
        last = len(self.keys) - 1 - self.keys[::-1].index(key)
        self.items[first : last + 1] = [_item(v) for v in values]
        self.keys[first : last + 1] = [self.key(v) for v in values]
        return True

    def data(self) -> bytes:
        return b"[" + b", ".join(self.items) + b"]\n"


def _item(value: dict[str, Any]) -> bytes:
    # Encoded once: joining bytes is a copy, encoding megabytes of non-ASCII text is not.
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
