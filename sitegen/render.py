"""Rendering: page content per region, then the theme's Jinja2 templates.

Two kinds of Jinja2 environment:

- the theme environment (here) renders layouts (the site's ``templates/`` first, then
  ``themes/<theme>/templates/``, so a site overrides a theme template by name);
- sandboxed environments with StrictUndefined render the values editors put in Markdown
  (`page_content.py`), where an undefined name is an error naming file and line.

What templates see is built by `template_context.py`; the messages for mistakes found while
rendering are worded in `template_errors.py`. ``Assets`` and ``strip_tags`` are importable from
here as before.
"""

from __future__ import annotations

import html as htmllib
import re
from collections import ChainMap
from collections.abc import KeysView, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from sitegen.catalog import Service
from sitegen.config import Region, SiteConfig
from sitegen.errors import Problems
from sitegen.fragments import SharedExtension
from sitegen.images import ImageSet, finish_loading
from sitegen.leakguard import BUG, raw_block_lines
from sitegen.links import region_url
from sitegen.markdown import Parsed, convert
from sitegen.page_content import ContentRenderer, LinkSources
from sitegen.pages import Draft, Page
from sitegen.template_context import Assets, TemplateContext
from sitegen.template_errors import PageError, layout_error, relative, syntax_error
from sitegen.theme import template_dirs
from sitegen.yamlio import unreadable

__all__ = ["Assets", "Renderer", "ShownUndefined", "strip_tags"]

# The inline elements' names, any ASCII case as in HTML. Written with [Aa] classes, not re.I:
# case-insensitive matching made the pattern twice as slow (75 of a page's ~140 µs of search text).
_INLINE_NAMES = "a(?:bbr)?|b|code|em|i|kbd|mark|q|s(?:mall|pan|trong|ub|up)?|time|u"
_INLINE_TAGS = re.compile(
    r"</?(?:" + re.sub(r"[a-z]", lambda m: f"[{m[0].upper()}{m[0]}]", _INLINE_NAMES) + r")\b[^>]*>"
)
_TAGS = re.compile(r"<[^>]+>")


def strip_tags(html: str) -> str:
    # Inline tags vanish without a space ("<em>Tiny</em>." stays "Tiny."); others separate words.
    text = _INLINE_TAGS.sub("", html)
    return " ".join(htmllib.unescape(_TAGS.sub(" ", text)).split())


class ShownUndefined(jinja2.ChainableUndefined):
    """Theme templates may test a missing value (``{% if page.params.hero %}``, ``| default``),
    but printing or looping over one is an error naming the template's file and line, as in content."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        self._fail_with_undefined_error()

    __str__ = __html__ = __iter__ = __len__ = _fail


# What `getattr(some_dict, name)` finds: a plain dict has no instance attributes, so any other
# name is an AttributeError and Jinja2 then looks the key up.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class ThemeEnvironment(jinja2.Environment):
    """Jinja2's environment with `page.title` on a plain dict looked up without the failed
    attribute lookup first (raising and catching that AttributeError cost ~15 % of the layouts'
    CPU: pages, menu items, switcher entries and params are dicts). Same result as Jinja2's
    own `getattr` for every name: a dict's methods (`page.items`) still win over its keys."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        # Jinja2's own lookup, inlined: super() would add a call to every lookup on an object.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)


class _Globals(ChainMap[str, Any]):
    """A template's globals as Jinja2 makes them (its own over the environment's), with ``keys()``
    a dict's view: every ``{% import %}`` computes ``context globals - template.globals.keys()``,
    which for a ChainMap runs in Python over every global (~7 µs; three imports per page)."""

    def keys(self) -> KeysView[str]:
        merged: dict[str, Any] = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class Renderer(TemplateContext):
    """Renders every page of every region; one per build (per worker process)."""

    def __init__(
        self,
        config: SiteConfig,
        pages: list[Page],
        services: list[Service],
        assets: Assets,
        production: bool = True,
        bytecode_cache: Path | None = None,
        images: ImageSet | None = None,
        drafts: Sequence[Draft] = (),
    ) -> None:
        super().__init__(config, pages, services, assets, production, images, drafts)
        self.theme = ThemeEnvironment(
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(config)]),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=ShownUndefined,
            auto_reload=False,
            cache_size=400,
            extensions=[SharedExtension],
            # Compiled templates kept between builds (Jinja2 checks each against its source).
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(bytecode_cache)) if bytecode_cache else None,
        )
        self.contents = ContentRenderer(config, self.images)
        self.link_sources: dict[str, LinkSources] = self.contents.link_sources

    def content(self, page: Page, region: Region, problems: Problems) -> tuple[str, Parsed | None]:
        """The page's HTML for one region (region blocks chosen, values and links filled)."""
        ctx = self.content_context(page, region)
        return self.contents.render(page, region, ctx, self.index, problems)

    def render_page(self, page: Page, region: Region, problems: Problems) -> str | None:
        n_errors = len(problems.errors)
        self.images.check_front_matter(page, problems)
        content, parsed = self.content(page, region, problems)
        if len(problems.errors) > n_errors:
            return None
        ctx = self.layout_context(page, region, content, parsed)
        html = self.render_template(page.template, ctx, page.file, page.template_line, problems)
        for line in raw_block_lines(html or ""):
            problems.error(
                f"leak guard: {region_url(region.id, page.path)} shows the block line '{line}' as text; {BUG}",
                page.file,
            )
        return html

    def render_template(
        self, name: str, ctx: dict[str, Any], file: str, line: int, problems: Problems
    ) -> str | None:
        root = self.config.root
        try:
            template = self.theme.get_template(f"{name}.html")
        except jinja2.TemplateNotFound as exc:
            missing = exc.name or f"{name}.html"
            problems.error(
                f"template '{missing}' not found in templates/ or theme '{self.config.theme}'; "
                "create it or pick an existing template",
                file,
                line,
            )
            return None
        except jinja2.TemplateSyntaxError as exc:
            problems.add(syntax_error(exc, name, root))
            return None
        except UnicodeDecodeError:
            self._report_undecodable(problems)
            return None
        try:
            # The first image of the page loads at once, the rest lazily: only the whole page can tell.
            return finish_loading(template.render(ctx))
        except PageError as exc:
            problems.add(exc.error)
        except jinja2.TemplateSyntaxError as exc:  # in a template this one includes or imports
            problems.add(syntax_error(exc, name, root))
        except UnicodeDecodeError:
            self._report_undecodable(problems)
        except jinja2.TemplateError as exc:
            problems.add(layout_error(exc, file, template.filename, root))
        return None

    def _report_undecodable(self, problems: Problems) -> None:
        """Which template files are not UTF-8 (Jinja2's loader does not say)."""
        for folder in template_dirs(self.config):
            for path in sorted(folder.rglob("*.html")):
                try:
                    data = path.read_bytes()
                    data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = data.count(b"\n", 0, exc.start) + 1
                    problems.error(
                        "not UTF-8 text: save the file as UTF-8", relative(str(path), self.config.root), line
                    )
                except OSError as exc:
                    problems.error(unreadable(exc), relative(str(path), self.config.root))

    def render_404(self, region: Region, problems: Problems) -> str | None:
        page = Page(
            file="404",
            source="404.md",
            path="/404.html",
            meta={"title": "Page not found", "description": "", "noindex": True},
            body="",
            body_line=1,
            template="404",
            regions=[region.id],
        )
        page.parsed = convert("", self.config.region_ids)
        ctx = self.layout_context(page, region, "", page.parsed)
        ctx["canonical"] = None
        ctx["alternates"] = []
        ctx["switcher"] = self.switcher(None, region.id)
        return self.render_template("404", ctx, "404", 1, problems)
