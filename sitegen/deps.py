"""Dependencies: which template files and which site data a rendered page was made from.

The incremental build re-renders a page only when something it depends on
changed, so this errs on the side of "everything": a template that includes,
extends or imports a name computed at render time depends on every template,
and one that fails to parse is reported by the render stage, which always runs
for it. Data use is read from the templates' syntax trees (names the template
reads from its context), never guessed from the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.cache import digest

if TYPE_CHECKING:  # this module is unpickled with the build state, before Jinja2 is needed
    import jinja2

    from sitegen.pages import Page

# Context names whose values come from the service catalog.
CATALOG_NAMES = frozenset({"services", "service", "service_page", "price"})
# Context names that show other pages' front matter (listings such as case studies).
LISTING_NAMES = frozenset({"section_pages"})
_CATALOG_WORD = re.compile(r"\b(?:services?|service_page|price)\b")


@dataclass
class TemplateInfo:
    """What one template file refers to, as parsed."""

    refs: tuple[str, ...] | None  # names it includes/extends/imports; None: a name known only at render time
    names: frozenset[str]  # context names it reads


@dataclass
class TemplateDeps:
    """Template files by name (first folder wins, as in the loader), and their dependency closures."""

    files: dict[str, Path]  # "page.html" -> file
    sources: dict[str, str]  # "page.html" -> text
    infos: dict[str, TemplateInfo] = field(default_factory=dict)
    _closures: dict[str, tuple[str, bool]] = field(default_factory=dict)
    _listing: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def scan(
        cls, env: jinja2.Environment, folders: list[Path], known: dict[str, TemplateInfo] | None = None
    ) -> TemplateDeps:
        """Read every template under ``folders``; ``known`` maps content hashes to earlier parses."""
        files: dict[str, Path] = {}
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files.setdefault(path.relative_to(folder).as_posix(), path)
        sources = {name: path.read_text(encoding="utf-8", errors="replace") for name, path in files.items()}
        deps = cls(files, sources)
        known = known or {}
        for name, text in sources.items():
            key = digest(text)
            info = known.get(key)
            if info is None:
                info = _parse(env, text)
            deps.infos[name] = info
        return deps

    def parsed(self) -> dict[str, TemplateInfo]:
        """Parses by content hash, for the cache."""
        return {digest(self.sources[name]): info for name, info in self.infos.items()}

    def closure(self, name: str) -> tuple[str, bool]:
        """(hash of every template file ``name`` may use, whether any of them reads the catalog)."""
        if name not in self._closures:
            seen: set[str] = set()
            stack = [name]
            uncertain = False
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                info = self.infos.get(current)
                if info is None:
                    continue  # missing: the render stage reports it; the name is in the hash below
                if info.refs is None:
                    uncertain = True
                    break
                stack.extend(info.refs)
            if uncertain:
                seen = set(self.files)
            parts = [f"{n}\0{self.sources.get(n, '<missing>')}" for n in sorted(seen)]
            catalog = uncertain or any(self.infos[n].names & CATALOG_NAMES for n in seen if n in self.infos)
            self._closures[name] = (digest(*parts), bool(catalog))
            self._listing[name] = uncertain or any(
                self.infos[n].names & LISTING_NAMES for n in seen if n in self.infos
            )
        return self._closures[name]

    def lists_pages(self, name: str) -> bool:
        """Whether ``name`` (or a template it may use) lists other pages, so it shows their front matter."""
        self.closure(name)
        return self._listing[name]


def _parse(env: jinja2.Environment, text: str) -> TemplateInfo:
    import jinja2
    from jinja2 import meta

    try:
        ast = env.parse(text)
        refs = list(meta.find_referenced_templates(ast))
        names = frozenset(meta.find_undeclared_variables(ast))  # compiles: unknown filters fail here
    except jinja2.TemplateSyntaxError:
        # Reported with file and line where the template is rendered; until then depend on everything.
        return TemplateInfo(None, frozenset(CATALOG_NAMES))
    if any(r is None for r in refs):
        return TemplateInfo(None, names)
    return TemplateInfo(tuple(str(r) for r in refs), names)


def body_reads_catalog(page: Page) -> bool:
    """The page's own content uses catalog values (or may: bodies with Jinja statements)."""
    if page.dynamic or page.kind == "service":
        return True
    return any(_CATALOG_WORD.search(source) for source, _ in page.expressions)


def listing_key(pages: list[Page]) -> str:
    """Every page's front matter: what a listing (``section_pages``) may show of other pages."""
    return digest(*(key_parts(page)[0] for page in pages))


def structure_key(pages: list[Page]) -> str:
    """What every page may see of the other pages: URLs, regions, sources and menu entries.

    Menus show other pages' titles, so a page in a menu adds its titles; a
    change to any of this re-renders every page.
    """
    return digest(*(key_parts(page)[1] for page in pages))


def key_parts(page: Page) -> tuple[str, str]:
    """The page's share of ``listing_key`` and ``structure_key``, made once per read of its source.

    Kept on the page, so with its record in the cache: a one-page edit digests one page's front
    matter, not 4000 (29 of the edit's ~500 ms). A page is not changed once read (sources.py
    reads it again when its file changes); a change to what goes in here needs a new cache layout.
    """
    if page.key_parts is None:
        # Sorted by the key's str() (never comparing values, nor keys of different types: YAML
        # makes `1:` and `null:` keys, only warned about), not by each whole item's.
        m = page.meta
        menu = (m.get("menu"), m.get("linktitle"), m.get("title"), m.get("weight")) if m.get("menu") else None
        page.key_parts = (
            digest(repr((page.path, page.regions, sorted(m.items(), key=_key_str)))),
            digest(repr((page.file, page.source, page.path, page.regions, page.kind, page.service_id, menu))),
        )
    return page.key_parts


def _key_str(item: tuple[Any, Any]) -> str:
    return str(item[0])
