"""Page content: the HTML of a page's body for one region.

Content is rendered in a sandboxed Jinja2 environment with StrictUndefined, so a value an
editor writes in Markdown (``{{ region.currency }}``, ``{{ price("web-development") }}``) that
is undefined or unsafe is an error naming file and line. A page is parsed once for all regions;
here its region blocks are chosen, its images filled in (``page_images``), its values filled (inside link destinations first, as plain
text, since the URL is made from the result) and its internal links resolved. A page with Jinja
statements (``{% for %}``) is rendered as Markdown source per region, then converted.
"""

from __future__ import annotations

import html as htmllib
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from sitegen.blocks import mark_heading_ids
from sitegen.config import Region, SiteConfig
from sitegen.errors import Problems
from sitegen.images import ImageSet, image_key
from sitegen.leakguard import BUG, leaked
from sitegen.links import Index, region_url, resolve_link
from sitegen.markdown import (
    EXPR_CLOSE,
    EXPR_OPEN,
    IMG_CLOSE,
    IMG_OPEN,
    LINK_CLOSE,
    LINK_OPEN,
    LINK_VALUE,
    Link,
    Parsed,
    convert,
    fill,
    fill_link_values,
    protect_expressions,
    select_region,
)
from sitegen.page_images import PageImages
from sitegen.pages import Page, check_parsed, file_link
from sitegen.regions import NotText, format_value, resolve
from sitegen.template_errors import PageError, content_error, expression_error

LinkSources = dict[str, tuple[int, str]]  # href -> (source line, link as the editor wrote it)

Expressions = list[tuple[str, int]]


class ContentRenderer:
    """Renders page bodies; one per build (per worker process). ``link_sources`` lets the output
    check name the source line of a link that turns out broken."""

    def __init__(self, config: SiteConfig, images: PageImages | None = None) -> None:
        self.config = config
        self.images = images or PageImages(config, ImageSet())
        self.html_env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, autoescape=True, finalize=_shown
        )
        # trim/lstrip blocks: a {% for %} line inside a Markdown table or list leaves no blank line behind.
        self.markdown_env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_shown,
        )
        self._expr_cache: dict[tuple[str, bool], jinja2.Template] = {}
        self.link_sources: dict[str, LinkSources] = {}  # by output file

    def render(
        self, page: Page, region: Region, ctx: dict[str, Any], index: Index, problems: Problems
    ) -> tuple[str, Parsed | None]:
        """The page's HTML for one region (region blocks chosen, values and links filled)."""
        rid = region.id
        if page.dynamic or page.parsed is None:
            if not page.dynamic:
                raise AssertionError(f"{page.file}: parsed Markdown not loaded before rendering")
            made = self._from_statements(page, rid, ctx, problems)
            if made is None:
                return "", None
            parsed, expressions = made
        else:
            parsed, expressions = page.parsed, page.expressions
        html = select_region(parsed.html, rid, parsed.blocks)
        for line, words in leaked(parsed, rid, html):
            problems.error(
                f"leak guard: {region_url(rid, page.path)} shows '{words[:60]}', written only for other "
                f"regions in the block opened here; {BUG}",
                page.file,
                page.body_line + line - 1,
            )
        html = fill(
            html, IMG_OPEN, IMG_CLOSE, lambda i: self.images.in_content(parsed.images[i], page, problems)
        )
        values = _Values(self, page, rid, ctx, expressions, problems)
        html = fill_link_values(html, values.as_text, values.refused, values.made)
        html = fill(html, EXPR_OPEN, EXPR_CLOSE, values.as_html)
        html = fill(html, LINK_OPEN, LINK_CLOSE, lambda i: values.link(parsed.links[i], index))
        return html, parsed

    def expression(self, source: str, env: SandboxedEnvironment) -> jinja2.Template:
        key = (source, env is self.html_env)
        tpl = self._expr_cache.get(key)
        if tpl is None:
            tpl = self._expr_cache[key] = env.from_string(source)
        return tpl

    def _from_statements(
        self, page: Page, rid: str, ctx: dict[str, Any], problems: Problems
    ) -> tuple[Parsed, Expressions] | None:
        """Jinja statements: render the Markdown source for this region, then convert it."""
        body = page.meta.get("body_by_region")
        source = resolve(body, rid, self.config.region_ids) if body is not None else page.body
        try:
            text = self.markdown_env.from_string(mark_heading_ids(source or "")).render(ctx)
        except (jinja2.TemplateError, PageError, NotText) as exc:
            problems.add(content_error(exc, page))
            return None
        text, expressions = protect_expressions(text)
        parsed = convert(text, self.config.region_ids)
        check_parsed(page, parsed, problems)
        return parsed, expressions


class _Values:
    """Fills one page's values and links in one region, reporting each mistake at its line."""

    def __init__(
        self,
        renderer: ContentRenderer,
        page: Page,
        rid: str,
        ctx: dict[str, Any],
        expressions: Expressions,
        problems: Problems,
    ) -> None:
        self.renderer = renderer
        self.page = page
        self.ctx = ctx
        self.expressions = expressions
        self.problems = problems
        self.rid = rid
        self.output = f"{rid}{page.path}index.html"

    def evaluate(self, i: int, env: SandboxedEnvironment) -> str:
        source, line = self.expressions[i]
        try:
            return str(self.renderer.expression(source, env).render(self.ctx))
        except (PageError, NotText, jinja2.TemplateError) as exc:
            self.problems.add(expression_error(exc, source, self.page, line))
        return ""

    def as_text(self, i: int) -> str:
        return self.evaluate(i, self.renderer.markdown_env)

    def as_html(self, i: int) -> str:
        return self.evaluate(i, self.renderer.html_env)

    def refused(self, url: str) -> None:
        self.problems.error(
            f"a link built from site values leads to '{url}', which is not allowed in a link; "
            "check the value in site.yaml",
            self.page.file,
            self.page.body_line,
        )

    def made(self, href: str, written: str) -> None:
        """A link destination made from values: remember it as the editor wrote it."""
        first = int(LINK_VALUE.findall(written)[0])
        source = LINK_VALUE.sub(lambda m: self.expressions[int(m.group(1))][0], written)
        self._remember(href, self.page.body_line + self.expressions[first][1] - 1, source)

    def link(self, ref: Link, index: Index) -> str:
        href, error = resolve_link(index, ref, self.page, self.rid)
        line = self.page.body_line + ref.line - 1
        if file_link(ref):  # a file beside the page, published under /assets/
            key = image_key(self.page.source, ref.target)
            href = (self.renderer.images.images.linked(key) if key else None) or href
        if error:
            self.problems.error(error, self.page.file, line)
        escaped = htmllib.escape(href, quote=True)
        self._remember(escaped, line, ref.target + (f"#{ref.fragment}" if ref.fragment else ""))
        return escaped

    def _remember(self, href: str, line: int, written: str) -> None:
        self.renderer.link_sources.setdefault(self.output, {})[href] = (line, written)


@jinja2.pass_context
def _shown(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every ``{{ … }}`` in content goes through here: formatted for the region, never a repr."""
    if isinstance(value, (str, jinja2.Undefined)):
        return value  # an undefined value fails when printed, with its own message
    region = context.get("region")
    return format_value(value, getattr(region, "locale", "en"))
