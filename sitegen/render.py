"""Rendering: page content per region, then the theme's Jinja2 templates.

Two Jinja2 environments:

- the theme environment renders layouts (the site's ``templates/`` first, then
  ``themes/<theme>/templates/``, so a site overrides a theme template by name);
- a sandboxed environment with StrictUndefined renders the values editors put
  in Markdown (``{{ region.currency }}``, ``{{ price("web-development") }}``),
  where an undefined name is an error naming file and line.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from sitegen.blocks import mark_heading_ids
from sitegen.catalog import Service, price_text
from sitegen.config import Region, SiteConfig
from sitegen.errors import Problems, SitegenError
from sitegen.leakguard import BUG, leaked, raw_block_lines
from sitegen.links import Index, region_url, resolve_link
from sitegen.markdown import (
    EXPR_CLOSE,
    EXPR_OPEN,
    LINK_CLOSE,
    LINK_OPEN,
    LINK_VALUE,
    Parsed,
    convert,
    fill,
    fill_link_values,
    protect_expressions,
    select_region,
)
from sitegen.pages import Page, check_parsed
from sitegen.regions import NotText, format_value, resolve
from sitegen.theme import template_dirs
from sitegen.yamlio import unreadable

_INLINE_TAGS = re.compile(
    r"</?(?:a|abbr|b|code|em|i|kbd|mark|q|s|small|span|strong|sub|sup|time|u)\b[^>]*>", re.I
)
_TAGS = re.compile(r"<[^>]+>")


def strip_tags(html: str) -> str:
    # Inline tags vanish without a space ("<em>Tiny</em>." stays "Tiny."); others separate words.
    text = _INLINE_TAGS.sub("", html)
    return " ".join(htmllib.unescape(_TAGS.sub(" ", text)).split())


@dataclass
class Assets:
    """Hashed asset URLs by logical name ("css/site.css" -> "/assets/css/site.1a2b3c4d.css")."""

    urls: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        try:
            return self.urls[name.lstrip("/")]
        except KeyError:
            raise jinja2.TemplateRuntimeError(
                f"asset('{name}'): no such file in static/ of the site or theme"
            ) from None


class ShownUndefined(jinja2.ChainableUndefined):
    """Theme templates may test a missing value (``{% if page.params.hero %}``, ``| default``),
    but printing or looping over one is an error naming the template's file and line, as in content."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        self._fail_with_undefined_error()

    __str__ = __html__ = __iter__ = __len__ = _fail


class _PageError(Exception):
    """Carries a SitegenError out of a template callback."""

    def __init__(self, error: SitegenError) -> None:
        super().__init__(str(error))
        self.error = error


class Renderer:
    """Renders every page of every region; one per build (per worker process)."""

    def __init__(
        self,
        config: SiteConfig,
        pages: list[Page],
        services: list[Service],
        assets: Assets,
        production: bool = True,
        bytecode_cache: Path | None = None,
    ) -> None:
        self.config = config
        self.production = production
        self.pages = pages
        self.services = services
        self.assets = assets
        self.index = Index.of(pages, config.region_ids)
        self.service_by_id = {s.id: s for s in services}
        self.build_date = dt.date.today()
        self.theme = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(config)]),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=ShownUndefined,
            auto_reload=False,
            cache_size=400,
            # Compiled templates kept between builds (Jinja2 checks each against its source).
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(bytecode_cache)) if bytecode_cache else None,
        )
        self.content_html = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, autoescape=True, finalize=_shown
        )
        # trim/lstrip blocks: a {% for %} line inside a Markdown table or list leaves no blank line behind.
        self.content_md = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_shown,
        )
        self._expr_cache: dict[tuple[str, bool], jinja2.Template] = {}
        self._service_views: dict[str, list[dict[str, Any]]] = {}
        self._menus: dict[str, dict[str, list[dict[str, Any]]]] = {}
        # output file -> href -> (source line, link as the editor wrote it)
        self.link_sources: dict[str, dict[str, tuple[int, str]]] = {}

    # ------------------------------------------------------------------ per region data

    def service_views(self, rid: str) -> list[dict[str, Any]]:
        if rid not in self._service_views:
            self._service_views[rid] = [
                s.view(rid, self.config, region_url(rid, f"/services/{s.id}/"))
                for s in self.services
                if rid in s.regions
            ]
        return self._service_views[rid]

    def menus(self, rid: str) -> dict[str, list[dict[str, Any]]]:
        if rid not in self._menus:
            menus: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
            for page in self.pages:
                if rid not in page.regions:
                    continue
                menu = resolve(page.meta.get("menu"), rid, self.config.region_ids)
                names = menu if isinstance(menu, list) else [menu] if menu else []
                for name in names:
                    title = resolve(
                        page.meta.get("linktitle") or page.meta.get("title"), rid, self.config.region_ids
                    )
                    entry = {"title": str(title), "url": region_url(rid, page.path), "path": page.path}
                    menus.setdefault(str(name), []).append(
                        (int(page.meta.get("weight") or 0), page.path, entry)
                    )
            self._menus[rid] = {
                k: [e for _, _, e in sorted(v, key=lambda t: (t[0], t[1]))] for k, v in menus.items()
            }
        return self._menus[rid]

    def price(self, rid: str, page: Page) -> Callable[[str], str]:
        def price(service_id: str) -> str:
            service = self.service_by_id.get(service_id)
            if service is None:
                raise _PageError(
                    SitegenError(
                        f"price('{service_id}'): no service with that id in content/services/", page.file
                    )
                )
            if rid not in service.regions:
                raise _PageError(
                    SitegenError(
                        f"price('{service_id}'): the service is not offered in region '{rid}'; wrap it in '::: region {' '.join(service.regions)}'",
                        page.file,
                    )
                )
            p = service.prices.get(rid)
            return price_text(p) if p else "price on request"

        return price

    def service_lookup(self, rid: str) -> Callable[[str], dict[str, Any]]:
        views = {v["id"]: v for v in self.service_views(rid)}

        def service(service_id: str) -> dict[str, Any]:
            if service_id not in views:
                raise jinja2.UndefinedError(f"service('{service_id}') is not offered in region '{rid}'")
            return views[service_id]

        return service

    def section_pages(self, rid: str) -> Callable[[str], list[dict[str, Any]]]:
        """Templates list a folder's pages with it (e.g. case studies under /work/)."""

        def section_pages(folder: str) -> list[dict[str, Any]]:
            # Direct children only, the folder's own index page excluded; built in this region.
            prefix = folder if folder.endswith("/") else folder + "/"
            found = [
                p
                for p in self.pages
                if p.kind == "page"
                and rid in p.regions
                and p.path.startswith(prefix)
                and p.path != prefix
                and "/" not in p.path[len(prefix) :].rstrip("/")
            ]
            found.sort(key=lambda p: (int(p.meta.get("weight") or 0), p.path))
            return [self.page_meta(p, rid) for p in found]

        return section_pages

    def content_context(self, page: Page, region: Region) -> dict[str, Any]:
        rid = region.id
        return {
            "site": self.config,
            "region": region,
            "regions": list(self.config.regions.values()),
            "page": self.page_meta(page, rid),
            "services": self.service_views(rid),
            "price": self.price(rid, page),
            "service": self.service_lookup(rid),
        }

    def page_meta(self, page: Page, rid: str) -> dict[str, Any]:
        meta = resolve(page.meta, rid, self.config.region_ids)
        meta.setdefault("params", {})
        meta["url"] = region_url(rid, page.path)
        meta["path"] = page.path
        meta["kind"] = page.kind
        meta["template"] = page.template
        meta["source"] = str(page.source)
        return meta

    # ------------------------------------------------------------------ content

    def _expr(self, source: str, env: SandboxedEnvironment) -> jinja2.Template:
        key = (source, env is self.content_html)
        tpl = self._expr_cache.get(key)
        if tpl is None:
            tpl = self._expr_cache[key] = env.from_string(source)
        return tpl

    def content(self, page: Page, region: Region, problems: Problems) -> tuple[str, Parsed | None]:
        """The page's HTML for one region (region blocks chosen, values and links filled)."""
        rid = region.id
        ctx = self.content_context(page, region)
        parsed = page.parsed
        expressions = page.expressions
        if page.dynamic or parsed is None:
            if not page.dynamic:
                raise AssertionError(f"{page.file}: parsed Markdown not loaded before rendering")
            # Jinja statements: render the Markdown source for this region, then convert it.
            body = page.meta.get("body_by_region")
            source = resolve(body, rid, self.config.region_ids) if body is not None else page.body
            try:
                text = self.content_md.from_string(mark_heading_ids(source or "")).render(ctx)
            except (jinja2.TemplateError, _PageError, NotText) as exc:
                problems.add(self._template_error(exc, page))
                return "", None
            text, expressions = protect_expressions(text)
            parsed = convert(text, self.config.region_ids)
            check_parsed(page, parsed, problems)
        html = select_region(parsed.html, rid, parsed.blocks)
        for line, words in leaked(parsed, rid, html):
            problems.error(
                f"leak guard: {region_url(rid, page.path)} shows '{words[:60]}', written only for other "
                f"regions in the block opened here; {BUG}",
                page.file,
                page.body_line + line - 1,
            )

        def evaluate(i: int, env: SandboxedEnvironment) -> str:
            source, line = expressions[i]
            try:
                return str(self._expr(source, env).render(ctx))
            except _PageError as exc:
                problems.add(SitegenError(exc.error.message, page.file, page.body_line + line - 1))
            except NotText as exc:
                problems.error(f"{source} {exc}", page.file, page.body_line + line - 1)
            except jinja2.TemplateSyntaxError as exc:
                problems.error(
                    f"template syntax error in {source}: {exc.message}", page.file, page.body_line + line - 1
                )
            except SecurityError as exc:
                problems.error(_unsafe_message(exc, source), page.file, page.body_line + line - 1)
            except jinja2.TemplateError as exc:
                problems.error(
                    f"{_undefined_message(exc)} in {source}; check the spelling, or define it in site.yaml",
                    page.file,
                    page.body_line + line - 1,
                )
            return ""

        def refused(url: str) -> None:
            problems.error(
                f"a link built from site values leads to '{url}', which is not allowed in a link; "
                "check the value in site.yaml",
                page.file,
                page.body_line,
            )

        # Values inside link destinations first, as plain text: the URL is made from the result.
        def made(href: str, written: str) -> None:
            first = int(LINK_VALUE.findall(written)[0])
            source = LINK_VALUE.sub(lambda m: expressions[int(m.group(1))][0], written)
            self.link_sources.setdefault(f"{rid}{page.path}index.html", {})[href] = (
                page.body_line + expressions[first][1] - 1,
                source,
            )

        html = fill_link_values(html, lambda i: evaluate(i, self.content_md), refused, made)
        html = fill(html, EXPR_OPEN, EXPR_CLOSE, lambda i: evaluate(i, self.content_html))

        def link(i: int) -> str:
            ref = parsed.links[i]
            href, error = resolve_link(self.index, ref, page, rid)
            if error:
                problems.error(error, page.file, page.body_line + ref.line - 1)
            escaped = htmllib.escape(href, quote=True)
            # Lets the output check name the source line of a link that turns out broken.
            written = ref.target + (f"#{ref.fragment}" if ref.fragment else "")
            self.link_sources.setdefault(f"{rid}{page.path}index.html", {})[escaped] = (
                page.body_line + ref.line - 1,
                written,
            )
            return escaped

        html = fill(html, LINK_OPEN, LINK_CLOSE, link)
        return html, parsed

    def _template_error(self, exc: BaseException, page: Page) -> SitegenError:
        if isinstance(exc, _PageError):
            return exc.error
        line = getattr(exc, "lineno", None) or _template_line(exc)
        file_line = page.body_line + line - 1 if line else None
        if isinstance(exc, NotText):
            return SitegenError(f"a value shown here {exc}", page.file, file_line)
        if isinstance(exc, SecurityError):
            return SitegenError(_unsafe_message(exc, None), page.file, file_line)
        if isinstance(exc, jinja2.UndefinedError):
            return SitegenError(
                f"{_undefined_message(exc)}; check the spelling, or define it in site.yaml",
                page.file,
                file_line,
            )
        message = getattr(exc, "message", None) or str(exc)
        if "end of comment" in message:
            message += " ('{#' starts a hidden note that must end with '#}'; an id goes at the end of a '#' heading line)"
        return SitegenError(f"template error: {message}", page.file, file_line)

    # ------------------------------------------------------------------ layout

    def alternates(self, page: Page) -> list[dict[str, str]]:
        base = self.config.base_url
        out = [
            {
                "hreflang": self.config.regions[rid].hreflang,
                "href": f"{base}{region_url(rid, page.path)}",
                "region": rid,
            }
            for rid in self.config.region_ids
            if rid in page.regions
        ]
        default = self.config.default_region.id
        if default in page.regions:
            out.append(
                {
                    "hreflang": "x-default",
                    "href": f"{base}{region_url(default, page.path)}",
                    "region": default,
                }
            )
        return out

    def switcher(self, page: Page | None, rid: str) -> list[dict[str, Any]]:
        out = []
        for other in self.config.regions.values():
            has = page is not None and other.id in page.regions
            out.append(
                {
                    "id": other.id,
                    "label": other.label,
                    "url": region_url(other.id, page.path if (has and page is not None) else "/"),
                    "current": other.id == rid,
                    "country": other.override_country,
                    "same_page": has,
                }
            )
        return out

    def layout_context(
        self, page: Page, region: Region, content: str, parsed: Parsed | None
    ) -> dict[str, Any]:
        rid = region.id
        ctx = self.content_context(page, region)
        meta = ctx["page"]
        meta["content"] = content
        meta["toc"] = [
            {"level": lvl, "id": hid, "text": text} for lvl, hid, text in (parsed.headings if parsed else [])
        ]
        ctx.update(
            {
                "content": content,
                "canonical": f"{self.config.base_url}{region_url(rid, page.path)}",
                "alternates": self.alternates(page),
                "switcher": self.switcher(page, rid),
                "menus": self.menus(rid),
                "url_for": self.url_for(page, rid),
                "asset": self.assets.url,
                "build_date": self.build_date,
                "service": self.service_lookup(rid),
                "home_url": region_url(rid, "/"),
                "section_pages": self.section_pages(rid),
                "production": self.production,
                "has_page": lambda path: (
                    (found := self.index.by_path.get(path)) is not None and rid in found.regions
                ),
            }
        )
        if page.service_id:
            ctx["service_page"] = next(
                (v for v in self.service_views(rid) if v["id"] == page.service_id), None
            )
        return ctx

    def url_for(self, page: Page | None, rid: str) -> Callable[[str], str]:
        def url_for(target: str) -> str:
            base = page if page is not None else self.pages[0]
            found, normalised = self.index.find(target, base)
            if found is None:
                if target.endswith("/") or target.endswith(".md"):
                    raise jinja2.TemplateRuntimeError(f"url_for('{target}'): no page has that URL or source")
                return normalised
            if rid not in found.regions:
                raise jinja2.TemplateRuntimeError(
                    f"url_for('{target}'): {found.file} is not built in region '{rid}'"
                )
            return region_url(rid, found.path)

        return url_for

    def render_page(self, page: Page, region: Region, problems: Problems) -> str | None:
        n_errors = len(problems.errors)
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
            problems.error(
                f"template syntax error: {(exc.message or '').rstrip('.')}; fix the template",
                _rel(exc.filename, self.config.root) or name,
                exc.lineno,
            )
            return None
        except UnicodeDecodeError:
            self._report_undecodable(problems)
            return None
        try:
            return template.render(ctx)
        except _PageError as exc:
            problems.add(exc.error)
        except jinja2.TemplateSyntaxError as exc:  # in a template this one includes or imports
            problems.error(
                f"template syntax error: {(exc.message or '').rstrip('.')}; fix the template",
                _rel(exc.filename, self.config.root) or name,
                exc.lineno,
            )
        except UnicodeDecodeError:
            self._report_undecodable(problems)
        except jinja2.TemplateError as exc:
            tline = _template_line(exc)
            tfile = _template_file(exc) or template.filename
            message = getattr(exc, "message", None) or str(exc)
            if isinstance(exc, jinja2.UndefinedError):
                message += "; check the spelling, or test it first: {% if name is defined %}"
            problems.error(f"while rendering {file}: {message}", _rel(tfile, self.config.root), tline)
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
                        "not UTF-8 text: save the file as UTF-8", _rel(str(path), self.config.root), line
                    )
                except OSError as exc:
                    problems.error(unreadable(exc), _rel(str(path), self.config.root))

    def render_404(self, region: Region, problems: Problems) -> str | None:
        page = Page(
            file="404",
            source=Path("404.md"),  # type: ignore[arg-type]
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


@jinja2.pass_context
def _shown(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every ``{{ … }}`` in content goes through here: formatted for the region, never a repr."""
    if isinstance(value, (str, jinja2.Undefined)):
        return value  # an undefined value fails when printed, with its own message
    region = context.get("region")
    return format_value(value, getattr(region, "locale", "en"))


def _rel(path: str | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


def _template_line(exc: BaseException) -> int | None:
    """Line of the innermost template frame in a Jinja2-rewritten traceback."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".html") or code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _template_file(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    name = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".html"):
            name = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return name


def _unsafe_message(exc: SecurityError, source: str | None) -> str:
    where = f" in {source}" if source else ""
    return f"not allowed in content{where}: {str(exc.message or exc).rstrip('.')}; use only site, region, page and the catalog"


def _undefined_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    m = re.match(r"'(\w+)' is undefined", message)
    if m:
        return f"undefined name '{m.group(1)}'"
    m = re.match(r"'(.+?)' has no attribute '(\w+)'", message)
    if m:
        return f"undefined value '{m.group(2)}'"
    return f"undefined value: {message}"
