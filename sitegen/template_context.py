"""What templates see: the values and helpers of a page in one region.

`TemplateContext` builds the context of content (``site``, ``region``, ``page``, the catalog,
``price()``, ``service()``) and of layouts (those plus canonical and alternate URLs, the region
switcher, menus, ``url_for()``, ``asset()``, ``image()``, ``og_image``, ``section_pages()``). Per-region data is computed
once per build (per worker process) and kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2

from sitegen.catalog import Service, price_text
from sitegen.config import Region, SiteConfig
from sitegen.errors import SitegenError
from sitegen.images import ImageSet
from sitegen.links import Index, region_url
from sitegen.markdown import Parsed
from sitegen.page_images import PageImages
from sitegen.pages import Draft, Page
from sitegen.regions import resolve
from sitegen.template_errors import PageError


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


class TemplateContext:
    """The template values of every page of the site; ``pages`` and ``index`` may be replaced
    together (the dev server's one-page rebuild does) as long as the site structure is unchanged."""

    def __init__(
        self,
        config: SiteConfig,
        pages: list[Page],
        services: list[Service],
        assets: Assets,
        production: bool,
        images: ImageSet | None = None,
        drafts: Sequence[Draft] = (),
    ) -> None:
        self.config = config
        self.images = PageImages(config, images or ImageSet())
        self.production = production
        self.pages = pages
        self.services = services
        self.assets = assets
        self.drafts = drafts  # left out of this build: links to them are errors that say so
        self.index = Index.of(pages, config.region_ids, drafts)
        self.service_by_id = {s.id: s for s in services}
        self.build_date = dt.date.today()
        self._service_views: dict[str, list[dict[str, Any]]] = {}
        self._menus: dict[str, dict[str, list[dict[str, Any]]]] = {}

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

    # ------------------------------------------------------------------ helpers templates call

    def price(self, rid: str, page: Page) -> Callable[[str], str]:
        def price(service_id: str) -> str:
            service = self.service_by_id.get(service_id)
            if service is None:
                raise PageError(
                    SitegenError(
                        f"price('{service_id}'): no service with that id in content/services/", page.file
                    )
                )
            if rid not in service.regions:
                raise PageError(
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

    # ------------------------------------------------------------------ contexts

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
        self.images.into_meta(page, meta)
        return meta

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
                "image": self.images.helper(),
                "og_image": self.images.open_graph(meta),
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
