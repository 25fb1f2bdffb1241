"""Content pages: ``content/**/*.md`` with YAML front matter, read and checked.

``content/about.md`` becomes ``/about/`` (each region prefixes it), an
``index.md`` is its folder's page, ``slug`` replaces the last segment and
``url`` the whole path. The Markdown is converted once here; the render stage
only selects region blocks and fills values.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.blocks import closest_region, mark_heading_ids
from sitegen.config import SiteConfig
from sitegen.contentschema import FRONT_MATTER, Located, check_fields
from sitegen.errors import Problems, SitegenError
from sitegen.markdown import Link, Parsed, convert, protect_expressions
from sitegen.yamlio import load_yaml, read_text

_STATEMENT = re.compile(r"\{%|\{#")


@dataclass
class Page:
    """One source file and what the build needs to know about it."""

    file: str  # as shown in messages: "content/about.md"
    # Relative to content/, POSIX: "about.md". A string, not a PurePosixPath: a build unpickles
    # every page from the workers or the cache, and rebuilding 4000 paths took 18 of the 24 ms.
    source: str
    path: str  # region-less URL: "/about/"
    meta: dict[str, Any]
    body: str
    body_line: int  # line of the first body line in the file
    template: str
    regions: list[str]  # where the page is built
    kind: str = "page"  # page | service
    # Pages whose body uses Jinja statements are rendered per region before Markdown (dynamic);
    # for the others the Markdown is converted once (parsed; None until loaded from the cache).
    dynamic: bool = False
    parsed: Parsed | None = None
    expressions: list[tuple[str, int]] = field(default_factory=list)
    template_line: int = 1
    lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> line
    service_id: str | None = None
    # The images it uses (keys under content/, see sitegen.images); None: not known before rendering.
    images: tuple[str, ...] | None = None
    # Its digests in the site's listing and structure keys (deps.key_parts), made on first use.
    key_parts: tuple[str, str] | None = field(default=None, compare=False, repr=False)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True)
class Draft:
    """A source with ``draft: true`` that this build leaves out: a link to it says so."""

    file: str  # "content/wip.md"
    source: str  # "wip.md"
    path: str  # the URL it would have: "/wip/"


def split_front_matter(text: str, file: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Return (front matter, key lines, body, first body line)."""
    data, paths, body, body_line = _split(text, file)
    return data, _top_level(paths), body, body_line


def _top_level(paths: dict[tuple[str, ...], int]) -> dict[str, int]:
    return {path[0]: line for path, line in paths.items() if len(path) == 1}


def _split(text: str, file: str) -> tuple[dict[str, Any], dict[tuple[str, ...], int], str, int]:
    """(front matter, line of every key path, body, first body line)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        raise SitegenError(
            "missing front matter: start the file with '---', a 'title:' line and '---'", file, 1
        )
    end = re.search(r"^(---|\.\.\.)[ \t]*$", text[3:], re.M)
    first_nl = text.find("\n")
    if end is None or first_nl < 0:
        raise SitegenError("front matter is not closed: add a line '---' after it", file, 1)
    raw = text[first_nl + 1 : 3 + end.start()]
    body_start = 3 + end.end()
    if body_start < len(text) and text[body_start] == "\n":
        body_start += 1
    body_line = text.count("\n", 0, body_start) + 1
    # offset 1: the front matter starts on the file's second line.
    data, paths = load_yaml(raw, file, "front matter", offset=1) if raw.strip() else ({}, {})
    if not isinstance(data, dict):
        raise SitegenError("front matter must be 'key: value' lines", file, 2)
    return data, paths, text[body_start:], body_line


def slug(text: str) -> str:
    """The URL segment made from a file or folder name: python-slugify's rule (lowercase,
    transliterated to ASCII, every run of other characters one hyphen): "Our Work" -> "our-work"."""
    if _SLUG.match(text):
        return text  # already one (nearly every file name): python-slugify would return it unchanged
    from slugify import slugify

    return slugify(text)


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def slug_url(path: str) -> str:
    """A URL written from file names ("/our work/") with each segment made a slug ("/our-work/")."""
    from urllib.parse import unquote

    return "/" + "".join(f"{slug(unquote(seg))}/" for seg in path.split("/") if seg)


def url_for_source(source: str, meta: dict[str, Any]) -> str:
    """Region-less URL of a content file: its folders and name, each made a slug.

    ``url`` (the whole path) and ``slug`` (the last segment) are used as written;
    ``url_problems`` refuses values that are not slugs. A name that leaves no
    slug (``!!!.md``) keeps its place empty; ``url_problems`` reports it.
    """
    url = meta.get("url")
    if isinstance(url, str) and url.strip():
        u = "/" + url.strip().strip("/") + "/"
        return "/" if u == "//" else u
    path = PurePosixPath(source)
    parts = [slug(p) for p in path.with_suffix("").parts]
    if parts and path.stem == "index":
        parts.pop()
    given = meta.get("slug")
    if isinstance(given, str) and given.strip() and parts:
        parts[-1] = given.strip().strip("/")
    return "/" + "".join(f"{p}/" for p in parts)


def url_problems(source: str, meta: dict[str, Any], file: str, lines: dict[str, int]) -> list[SitegenError]:
    """What keeps this source's URL from following the one rule (every segment a slug)."""
    problems: list[SitegenError] = []
    for key in ("url", "slug"):
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        segments = [seg for seg in value.strip().strip("/").split("/") if seg]
        fixed = [slug(seg) for seg in segments]
        if segments != fixed or (key == "slug" and len(segments) > 1):
            shown = (
                "/" + "/".join(f for f in fixed if f) + "/"
                if key == "url"
                else "-".join(f for f in fixed if f)
            )
            problems.append(
                SitegenError(
                    f"'{key}: {value}' is not made of slugs (lowercase letters, digits and hyphens); "
                    f"write '{key}: {shown}'",
                    file,
                    lines.get(key, 1),
                )
            )
        if key == "url":
            return problems  # the whole path: file and folder names play no part
    path = PurePosixPath(source)
    named = list(path.with_suffix("").parts)
    if path.stem == "index":
        named.pop()
    if isinstance(meta.get("slug"), str) and meta["slug"].strip() and named:
        named.pop()
    for part in named:
        if not slug(part):
            problems.append(
                SitegenError(
                    f"the name '{part}' has no letter or digit to make a URL from; rename it, or set 'slug:'",
                    file,
                    1,
                )
            )
    return problems


def check_regions(
    value: Any, config: SiteConfig, file: str, line: int, problems: Problems, what: str = "regions"
) -> list[str]:
    ids = config.region_ids
    if value is None:
        return list(ids)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.error(f"'{what}' must be a list of region ids, e.g. [{ids[0]}]", file, line)
        return list(ids)
    unknown = [v for v in value if v not in ids]
    for v in unknown:
        hint = closest_region(v, ids)
        did = f"; did you mean '{hint}'?" if hint else ""
        problems.error(f"unknown region id '{v}' in {what}{did} (known: {', '.join(ids)})", file, line)
    return [v for v in ids if v in value]


def read_page(
    config: SiteConfig,
    content_dir: Path,
    path: Path,
    problems: Problems,
    drafts: bool,
    data: bytes | None = None,
) -> Page | Draft | None:
    """Read and check one source; ``data`` is its bytes when the caller already read them.

    A draft left out (``drafts`` false) is returned as a ``Draft``, unchecked: only its URL is kept.
    """
    source = path.relative_to(content_dir).as_posix()
    file = f"{content_dir.name}/{source}"
    try:
        text = read_text(path, file, data)
    except SitegenError as exc:
        problems.add(exc)
        return None
    try:
        meta, paths, body, body_line = _split(text, file)
    except SitegenError as exc:
        problems.add(exc)
        return None
    lines = _top_level(paths)
    if meta.get("draft") is True and not drafts:
        return Draft(file, source, url_for_source(source, meta))
    for problem in url_problems(source, meta, file, lines):
        problems.add(problem)
    for key in meta:
        if key not in FRONT_MATTER:
            hint = difflib.get_close_matches(str(key), list(FRONT_MATTER), n=1, cutoff=0.6)
            did = f"did you mean '{hint[0]}'?" if hint else "put free values under 'params:'"
            problems.warn(f"unknown front matter key '{key}'; {did}", file, lines.get(str(key), 1))
    title = meta.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        problems.error("missing 'title' in front matter", file, 1)
    # A value of the wrong type is reported here; the build stops after reading, before any use of it.
    check_fields(meta, FRONT_MATTER, Located(file, paths, text.split("\n")), config.region_ids, problems)
    regions = check_regions(meta.get("regions"), config, file, lines.get("regions", 1), problems)
    default_template = "home" if source == "index.md" else "page"
    template = meta.get("template") or default_template
    if not isinstance(template, str):
        template = default_template
    page = Page(
        file=file,
        source=source,
        path=url_for_source(source, meta),
        meta=meta,
        body=body,
        body_line=body_line,
        template=template.removesuffix(".html"),
        regions=regions,
        template_line=lines.get("template", 1),
        lines=lines,
    )
    prepare_body(page, problems, config.region_ids)
    check_image(page, problems)
    return page


def check_image(page: Page, problems: Problems) -> None:
    """The front-matter image needs its alt text; note every image the page uses."""
    from sitegen.images import image_key

    used = []
    for image in front_matter_images(page):
        if not page.meta.get("image_alt"):
            problems.warn(
                f"'image: {image}' has no 'image_alt': add one saying what the image shows, "
                "for people who cannot see it",
                page.file,
                page.line_of("image"),
            )
        used.append(image_key(page.source, image))
    if page.dynamic:
        page.images = None
    elif page.parsed is not None:
        used.extend(image_key(page.source, ref.target) for ref in page.parsed.images)
        # Links to files beside the page (a PDF, a full-size picture): published when linked.
        used.extend(image_key(page.source, link.target) for link in page.parsed.links if file_link(link))
        page.images = tuple(sorted({k for k in used if k is not None}))


def front_matter_images(page: Page) -> list[str]:
    """Every file the page's ``image:`` names: one, or one per region (checked as a region map)."""
    image = page.meta.get("image")
    values = image.values() if isinstance(image, dict) else [image]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def file_link(link: Link) -> bool:
    """A link to a file beside the page rather than to a page: relative, with a file suffix."""
    target = link.target
    if link.is_source or not target or target.startswith("/") or target.endswith("/"):
        return False
    suffix = PurePosixPath(target).suffix
    return bool(suffix) and suffix.lower() not in (".html", ".htm")


def prepare_body(page: Page, problems: Problems, region_ids: list[str]) -> None:
    """Convert the Markdown once, unless it needs Jinja statements first."""
    page.body = mark_heading_ids(page.body)
    if _STATEMENT.search(page.body):
        page.dynamic, page.parsed = True, None
        return
    text, page.expressions = protect_expressions(page.body)
    page.parsed = convert(text, region_ids)
    check_parsed(page, page.parsed, problems)


def check_parsed(page: Page, parsed: Parsed, problems: Problems) -> None:
    """Report region block and heading id mistakes, with their lines."""
    for line, message in parsed.errors:
        problems.error(message, page.file, page.body_line + line - 1)
    for ref in parsed.images:
        if not ref.alt.strip():
            problems.warn(
                f"image '{ref.target}' has no alt text: say what it shows in the brackets, "
                f"![what it shows]({ref.target}), for people who cannot see it",
                page.file,
                page.body_line + ref.line - 1,
            )


def read_pages(config: SiteConfig, content_dir: Path, problems: Problems, drafts: bool = False) -> list[Page]:
    pages: list[Page] = []
    if not content_dir.is_dir():
        problems.error("no content folder: create content/index.md", "content")
        return pages
    for path in sorted(content_dir.rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(content_dir).parts):
            continue
        page = read_page(config, content_dir, path, problems, drafts)
        if isinstance(page, Page):
            pages.append(page)
    return pages
