"""Images: every raster image beside content or in a static folder, published once in responsive sizes.

An image is read with Pillow (see docs/decisions.md), turned the right way up
(EXIF orientation) and encoded again at each configured width no wider than
itself (``images.widths`` in site.yaml), in its own format (JPEG, or PNG for
PNG and GIF) and as WebP. Re-encoding drops EXIF and other metadata, GPS
positions included, which an editor rarely means to publish. The files go to
``assets/img/`` under names made of the file's stem, the width and a hash of
the file's bytes and the settings, so one file is published once for every
region and a changed image gets new names (assets are cached as immutable).

Encoding is the slow part: the results are kept in ``.sitegen-cache/images/``
under the same hash, so a build re-encodes only images that are new or changed
(``ImageSet.encoded`` counts them). A file Pillow cannot read is not an error
by itself; a page that uses it is, at the line that names it (``Broken``).

Pages refer to images by their path under ``content/`` (``key``); ``image_key``
turns what an editor wrote, relative to the page's file, into that path.
"""

from __future__ import annotations

import html as htmllib
import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sitegen import image_variants as encoding
from sitegen.cache import digest

if TYPE_CHECKING:
    from sitegen.config import SiteConfig
    from sitegen.errors import Problems
    from sitegen.pages import Draft, Page

SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif"})
PAGE_SUFFIXES = frozenset({".md", ".yaml", ".yml"})  # sources, never published as files
FORMATS = encoding.FORMATS
# Where rendering leaves the loading attributes of an image open: the page's first image is
# loaded at once, the others lazily (``finish_loading``), which only the whole page can tell.
LOADING = "\ue006"
_EAGER = ' fetchpriority="high"'
_LAZY = ' loading="lazy" decoding="async"'
_STEM = re.compile(r"[^a-z0-9]+")
# Part of every cache key and file name: output made by another layout or library is not reused.
_LAYOUT = "1"


@dataclass(frozen=True)
class Variant:
    """One encoded file of an image."""

    width: int
    height: int
    url: str  # "/assets/img/home.800.1a2b3c4d.jpg"
    mime: str


@dataclass(frozen=True)
class Picture:
    """A readable image and its published variants (``alt`` set where a page gives one)."""

    key: str  # "content/work/site/home.jpg", or "static/img/logo.png" for a static image
    width: int
    height: int
    variants: tuple[Variant, ...]  # by format, then width
    digest: str  # changes with the file's bytes and the settings
    alt: str | None = None

    @property
    def fallback(self) -> tuple[Variant, ...]:
        """The variants every browser shows (the file's own format), narrowest first."""
        own = tuple(v for v in self.variants if v.mime != "image/webp")
        return own or self.webp

    @property
    def webp(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.mime == "image/webp")

    @property
    def url(self) -> str:
        """The widest fallback variant: what ``src`` shows (and Open Graph takes)."""
        return self.fallback[-1].url

    def social(self) -> Variant:
        """The variant for Open Graph: the widest own-format one up to 1600 px (crawlers skip WebP)."""
        fitting = [v for v in self.fallback if v.width <= 1600]
        return fitting[-1] if fitting else self.fallback[0]


@dataclass(frozen=True)
class Broken:
    """An image file Pillow could not read: an error wherever a page uses it."""

    key: str
    reason: str
    digest: str


@dataclass(frozen=True)
class Attachment:
    """Another file beside content (a PDF, a ZIP) that a page links to: published as it is."""

    key: str
    url: str  # "/assets/files/brochure.1a2b3c4d.pdf"
    digest: str
    path: str  # absolute, read only when some page links to it


@dataclass
class ImageSet:
    """Every image (and other file) beside content by key, the files to publish, and how many
    images had to be encoded."""

    found: dict[str, Picture | Broken | Attachment] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # output path -> bytes, of those published
    variants: dict[str, dict[str, bytes]] = field(default_factory=dict)  # key -> its output files
    encoded: int = 0  # images encoded by this build (the rest came from the cache)

    def publish(self, keys: Iterable[str]) -> None:
        """Add the files of the images and attachments some built page uses (``keys``), and every
        static image (the theme's and site's static folders are public), to the files to publish.
        Any other file beside content stays unpublished: a draft's pictures, or a file left beside
        a page, are not made public by accident."""
        for key in {*keys, *self.static_keys()}:
            found = self.found.get(key)
            if isinstance(found, Attachment):
                self.files[found.url.lstrip("/")] = Path(found.path).read_bytes()
            elif isinstance(found, Picture):
                self.files.update(self.variants.get(key, {}))

    def key_for(self, keys: Sequence[str] | None) -> str:
        """What a page's render key takes from the images it uses (``None``: it may use any)."""
        chosen = sorted(self.found) if keys is None else keys
        parts = [f"{k}\0{self.found[k].digest}" if k in self.found else f"{k}\0missing" for k in chosen]
        return digest(*parts) if parts else ""

    def picture(self, key: str) -> Picture | Broken | None:
        found = self.found.get(key)
        return None if isinstance(found, Attachment) else found

    def linked(self, key: str) -> str | None:
        """The URL a link to the file ``key`` leads to: an attachment, or an image's widest variant."""
        found = self.found.get(key)
        if isinstance(found, Attachment):
            return found.url
        return found.url if isinstance(found, Picture) else None

    def static_keys(self) -> list[str]:
        return sorted(k for k in self.found if k.startswith("static/"))


@dataclass(frozen=True)
class Settings:
    widths: tuple[int, ...]
    quality: int

    @classmethod
    def of(cls, config: SiteConfig) -> Settings:
        return cls(tuple(sorted(set(config.images.widths))), config.images.quality)


def is_image(name: str) -> bool:
    lowered = name.lower()
    # Substring tests first: this runs on every input path of every build, and most are not images.
    return any(suffix in lowered for suffix in SUFFIXES) and PurePosixPath(name).suffix.lower() in SUFFIXES


def _suffix(key: str) -> str:
    """``PurePosixPath(key).suffix`` without making a path (done for every content file of every
    build: 15 ms at 4000 sources)."""
    name = key.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def image_key(source: str, target: str) -> str | None:
    """The key of an image a page at ``source`` (relative to content/) refers to, or None outside content/.

    Relative to the page's folder; a leading ``/`` means the content folder itself.
    """
    base = PurePosixPath() if target.startswith("/") else PurePosixPath(source).parent
    parts: list[str] = []
    for part in (*base.parts, *PurePosixPath(target.lstrip("/")).parts):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "content/" + "/".join(parts) if parts else None


def default_key(config: SiteConfig) -> list[str]:
    """The key of ``images.default`` (the site's Open Graph image), as a list of none or one."""
    key = image_key("", config.images.default) if config.images.default else None
    return [key] if key else []


def used_by(images: ImageSet, pages: Iterable[Page], drafts: Iterable[Draft], config: SiteConfig) -> set[str]:
    """The keys of the files beside content the built ``pages`` (and ``images.default``) use.

    A page whose body has Jinja statements (``images`` None) may show any picture in its own
    folder and below, except those in a draft's page folder: a draft's pictures are never
    published (with ``--drafts`` it is one of ``pages``). Such a page links no other files.
    """
    used = set(default_key(config))
    dynamic: list[str] = []
    for page in pages:
        if page.images is None:
            dynamic.append(_folder(page.source))
        else:
            used.update(page.images)
    if dynamic:
        hidden = tuple(_folder(d.source) for d in drafts if posixpath.basename(d.source) == "index.md")
        for key, found in images.found.items():
            if isinstance(found, Picture) and key.startswith(tuple(dynamic)) and not key.startswith(hidden):
                used.add(key)
    return used


def _folder(source: str) -> str:
    parent = posixpath.dirname(source)
    return f"content/{parent}/" if parent else "content/"


def check_default(config: SiteConfig, images: ImageSet, problems: Problems) -> None:
    """``images.default`` names a readable image under content/."""
    value = config.images.default
    if not value:
        return
    keys = default_key(config)
    found = images.picture(keys[0]) if keys else None
    if isinstance(found, Picture):
        return
    why = found.reason if isinstance(found, Broken) else f"there is no image content/{value.lstrip('/')}"
    problems.error(
        f"{why}; name a {FORMATS} file under content/",
        config.file.name,
        config.line_of("images.default"),
        key="images.default",
    )


def collect(
    root: Path,
    static_dirs: Sequence[Path],
    hashes: dict[str, str],
    settings: Settings,
    cache_dir: Path | None,
) -> ImageSet:
    """Read (or take from the cache) every image under content/ and the static folders; note the
    other files beside content (published by ``publish`` when a built page uses them).

    ``hashes``: absolute path -> content digest of every input file (the build hashed them already).
    """
    images = ImageSet()
    content = str(root / "content") + os.sep
    sources: dict[str, str] = {}  # key -> absolute path
    for path in sorted(hashes):
        if not path.startswith(content):
            continue
        key = "content/" + path[len(content) :].replace(os.sep, "/")
        suffix = _suffix(key).lower()
        if is_image(path):
            sources[key] = path
        elif suffix not in PAGE_SUFFIXES:
            stem = _STEM.sub("-", PurePosixPath(key).stem.lower()).strip("-") or "file"
            url = f"/assets/files/{stem}.{hashes[path][:8]}{suffix}"
            images.found[key] = Attachment(key, url, hashes[path], path)
    # Later folders win, as for assets: the site's static/ over the theme's.
    for folder in static_dirs:
        prefix = str(folder) + os.sep
        for path in sorted(hashes):
            if is_image(path) and path.startswith(prefix):
                name = path[len(prefix) :].replace(os.sep, "/")
                sources[f"static/{name}"] = path
    for key, path in sources.items():
        images.found[key] = _one(key, Path(path), hashes[path], settings, cache_dir, images)
    return images


def _one(
    key: str, path: Path, file_hash: str, settings: Settings, cache_dir: Path | None, images: ImageSet
) -> Picture | Broken:
    """One image: its variants from the cache when there, else encoded (and cached)."""
    h = digest(_LAYOUT, file_hash, repr(settings), encoding.pillow_version())
    stem = _STEM.sub("-", PurePosixPath(key).stem.lower()).strip("-") or "image"
    folder = cache_dir / h if cache_dir is not None else None
    cached = encoding.load_cached(folder, stem, h[:8]) if folder is not None else None
    if cached is None:
        try:
            made = encoding.encode(path, settings)
        except encoding.Unreadable as exc:
            return Broken(key, str(exc), h)
        images.encoded += 1
        cached = encoding.name_variants(made, stem, h[:8])
        if folder is not None:
            encoding.save_cached(folder, cached)
    width, height, files = cached
    variants = []
    for (w, vh, mime), (rel, data) in files:
        images.variants.setdefault(key, {})[rel] = data
        variants.append(Variant(w, vh, "/" + rel, mime))
    return Picture(key, width, height, tuple(variants), h)


# ---------------------------------------------------------------------------------------- markup


def picture_html(
    picture: Picture,
    alt: str,
    sizes: str,
    *,
    lazy: bool | None = None,
    title: str = "",
    cls: str = "",
) -> str:
    """``<picture>`` with a WebP source and the file's own format as ``<img>`` (``alt`` already escaped).

    ``lazy`` None: decided for the whole page by ``finish_loading`` (the first image eager).
    """

    def srcset(variants: Iterable[Variant]) -> str:
        return ", ".join(f"{v.url} {v.width}w" for v in variants)

    fallback = picture.fallback
    loading = LOADING if lazy is None else (_LAZY if lazy else _EAGER)
    responsive = f' srcset="{srcset(fallback)}" sizes="{htmllib.escape(sizes)}"' if len(fallback) > 1 else ""
    extra = (f' title="{title}"' if title else "") + (f' class="{htmllib.escape(cls)}"' if cls else "")
    img = (
        f'<img src="{picture.url}"{responsive} width="{picture.width}" height="{picture.height}" '
        f'alt="{alt}"{extra}{loading}>'
    )
    webp = picture.webp if fallback[0].mime != "image/webp" else ()
    if not webp:
        return img
    return f'<picture><source type="image/webp" srcset="{srcset(webp)}" sizes="{htmllib.escape(sizes)}">{img}</picture>'


def finish_loading(html: str) -> str:
    """The page's first image (left open by ``picture_html``) loads at once; every later one lazily."""
    if LOADING not in html:
        return html
    first, _, rest = html.partition(LOADING)
    return first + _EAGER + rest.replace(LOADING, _LAZY)


def with_alt(picture: Picture, alt: str | None) -> Picture:
    return replace(picture, alt=alt)
