"""The search entries of a build's pages, and which ``_edge/search/`` shard files stay as they are.

A page's search entry (its line in ``_edge/search/<region>/NN.json``) is most of what the build
keeps of it: 20 MB of the 35 MB the cache held for 8014 pages. It lives in its own cache section,
sharded like the search files, so a one-page edit reads only the shards its page is in, and a
shard file none of whose pages changed is left in the output folder untouched (the site's pages,
their order and the shard files themselves as the last build left them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.cache import SHARDS, BuildCache, digest
from sitegen.changes import LastBuild
from sitegen.edgedata import SEARCH_SHARDS, search_shard_number

if TYPE_CHECKING:
    from sitegen.pages import Page
    from sitegen.render_jobs import Rendered, RenderOutcome

SECTION = "search"


def shard_of(rel: str) -> int:
    """The cache shard of a page's entry (``north/pages/a/index.html``): its search file's number."""
    return search_shard_number("/" + rel.removesuffix("index.html")) % SHARDS


def layout(pages: list[Page], region_ids: list[str]) -> str:
    """Which pages each region's search files list, in their order: equal layouts mean a shard
    file none of whose pages was rendered again would be written with the same bytes."""
    return digest(*(f"{rid}{page.path}" for rid in region_ids for page in pages if rid in page.regions))


def kept_shards(
    outcome: RenderOutcome, region_ids: list[str], last: LastBuild, this_layout: str
) -> dict[str, str]:
    """The search shard files (``_edge/search/north/03.json`` -> digest) an in-place build leaves
    as they are: none of their pages rendered again, same layout as the last build, file intact."""
    state = last.state
    if state is None or not last.same_output or state.search_layout != this_layout:
        return {}
    touched = {
        (rel.partition("/")[0], search_shard_number("/" + rel.removesuffix("index.html")))
        for rel in outcome.fresh
        if rel in outcome.rendered
    }
    return last.left_as_recorded(
        f"_edge/search/{rid}/{n:02d}.json"
        for rid in region_ids
        for n in range(SEARCH_SHARDS)
        if (rid, n) not in touched
    )


class SearchEntries:
    """Every rendered page's entry, serialised: a page rendered by this build carries its own; a
    reused page's is read from the cache by shard when first needed, or made again from its output
    file when the cache lost it (a deleted or damaged shard)."""

    def __init__(
        self, rendered: Mapping[str, Rendered], cache: BuildCache, remake: Callable[[str], bytes]
    ) -> None:
        self.rendered = rendered
        self.cache = cache
        self.remake = remake  # output file -> its entry, from the page's output as written
        self.loaded: dict[str, bytes] = {}
        self.shards: set[int] = set()

    def get(self, rel: str) -> bytes:
        entry = self.rendered[rel].search
        if entry:
            return entry
        shard = shard_of(rel)
        if shard not in self.shards:
            self.shards.add(shard)
            self.loaded.update(self.cache.load_map(SECTION, only=[shard]))
        found = self.loaded.get(rel)
        if found is None:
            found = self.loaded[rel] = self.remake(rel)
        return found

    def save(self, dirty: set[str] | None) -> None:
        """Save the shards holding a ``dirty`` page (every shard when None), and unreadable ones."""
        shards = None if dirty is None else {shard_of(rel) for rel in dirty} | self.cache.bad_shards(SECTION)
        mapping = {rel: self.get(rel) for rel in self.rendered if shards is None or shard_of(rel) in shards}
        self.cache.save_map(SECTION, mapping, dirty, shard=shard_of)


def remake_from(out: Path, make: Callable[[str, str], bytes]) -> Callable[[str], bytes]:
    """``remake`` for ``SearchEntries``: the page's output file read from ``out``, given to ``make``."""

    def remake(rel: str) -> bytes:
        return make(rel, (out / rel).read_text(encoding="utf-8"))

    return remake
