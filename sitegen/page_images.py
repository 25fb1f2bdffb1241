"""Images as pages and templates use them: in content, as ``page.image``, ``image()`` and Open Graph.

``sitegen.images`` makes the files; this module turns what an editor or a theme names into
markup, and names the mistake (with its fix) when a named image cannot be shown.
"""

from __future__ import annotations

import html as htmllib
from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

from sitegen.config import SiteConfig
from sitegen.errors import Problems
from sitegen.images import FORMATS, ImageSet, Picture, image_key, is_image, picture_html, with_alt
from sitegen.markdown import ImageRef
from sitegen.pages import Page, front_matter_images


class PageImages:
    """The build's images, looked up for one page at a time; one per renderer."""

    def __init__(self, config: SiteConfig, images: ImageSet) -> None:
        self.config = config
        self.images = images

    def problem(self, target: str, key: str | None) -> str | None:
        """Why an image a page names cannot be shown, in words with the fix; None when it can."""
        if key is None:
            return f"image '{target}' is outside the content folder; put it next to the page"
        if not is_image(target):
            return f"'{target}' is not an image ({FORMATS}); link to it instead of showing it"
        found = self.images.picture(key)
        if found is None:
            return f"image '{target}' not found: there is no file {key}; put the image there or fix the name"
        if not isinstance(found, Picture):
            return f"image '{target}' ({key}) cannot be read: {found.reason}; save it again as {FORMATS}"
        return None

    def check_front_matter(self, page: Page, problems: Problems) -> None:
        """The page's own ``image:`` (each region's, when it differs) can be shown (an error at its
        line if not)."""
        for image in front_matter_images(page):
            problem = self.problem(image, image_key(page.source, image))
            if problem:
                problems.error(problem, page.file, page.line_of("image"))

    def in_content(self, ref: ImageRef, page: Page, problems: Problems) -> str:
        """The markup of an image in a page's content (empty, with an error at its line, if unusable)."""
        key = image_key(page.source, ref.target)
        picture = self.images.picture(key) if key else None
        if not isinstance(picture, Picture):
            problem = self.problem(ref.target, key) or ref.target
            problems.error(problem, page.file, page.body_line + ref.line - 1)
            return ""
        return picture_html(picture, ref.alt, self.config.images.sizes, title=ref.title)

    def into_meta(self, page: Page, meta: dict[str, Any]) -> None:
        """``page.image`` for templates: the image itself with its alt text, or None (a missing
        one is reported by its own page, so a listing of other pages just shows none)."""
        image = meta.get("image")
        if isinstance(image, str):
            key = image_key(page.source, image.strip())
            found = self.images.picture(key) if key else None
            alt = str(meta.get("image_alt") or "")
            meta["image"] = with_alt(found, alt) if isinstance(found, Picture) else None

    def helper(self) -> Callable[..., Markup]:
        """``image(page.image)`` or ``image("img/team.jpg", alt="…")`` (a file in static/) in templates."""

        def image(
            img: Any,
            alt: str | None = None,
            sizes: str | None = None,
            lazy: bool | None = None,
            cls: str = "",
        ) -> Markup:
            if img is None or img == "" or isinstance(img, jinja2.Undefined):
                return Markup("")
            if isinstance(img, str):
                found = self.images.picture(f"static/{img.lstrip('/')}")
                if not isinstance(found, Picture):
                    why = (
                        found.reason if found is not None else "no such image in static/ of the site or theme"
                    )
                    raise jinja2.TemplateRuntimeError(f"image('{img}'): {why}")
                img = found
            if not isinstance(img, Picture):
                raise jinja2.TemplateRuntimeError("image() takes page.image or the name of a file in static/")
            text = htmllib.escape(str(alt if alt is not None else img.alt or ""))
            return Markup(picture_html(img, text, sizes or self.config.images.sizes, lazy=lazy, cls=cls))

        return image

    def open_graph(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        """The page's Open Graph image (its own, else the site's default), with an absolute URL."""
        picture = meta.get("image")
        if not isinstance(picture, Picture) and self.config.images.default:
            found = self.images.picture(image_key("", self.config.images.default) or "")
            picture = found if isinstance(found, Picture) else None
        if not isinstance(picture, Picture):
            return None
        shown = picture.social()
        return {
            "url": self.config.base_url + shown.url,
            "width": shown.width,
            "height": shown.height,
            "type": shown.mime,
            "alt": picture.alt or "",
        }
