"""One table of routing cases for this repository's site, checked against every router.

The emulator (both hosts), ``sitegen serve``, the Netlify CLI and the routes in the Vercel
Build Output all answer these same requests, so none of them can drift from the others.

A case names a request (path, detected country, the ``nf_country`` cookie) and what the
visitor gets: a redirect to ``location``, a file (with its status: a region's 404 page has
status 404), or the edge app answering the path (``edge``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Case:
    path: str
    country: str | None = None
    cookie: str | None = None
    status: int = 200
    location: str | None = None
    file: str | None = None
    edge: bool = False

    @property
    def id(self) -> str:
        who = "+".join(x for x in (self.country or "", f"cookie={self.cookie}" if self.cookie else "") if x)
        return f"{self.path}[{who or 'no country'}]"


def redirect(path: str, location: str, country: str | None = None, cookie: str | None = None) -> Case:
    return Case(path, country, cookie, 302, location=location)


CASES: list[Case] = [
    redirect("/", "/pk/", "PK"),
    redirect("/", "/intl/", "US"),
    redirect("/", "/intl/", None),
    redirect("/", "/intl/", "PK", cookie="US"),
    redirect("/", "/pk/", "US", cookie="PK"),
    redirect("/about/", "/pk/about/", None, cookie="PK"),
    redirect("/about/", "/pk/about/", "PK"),
    redirect("/services/", "/intl/services/", "US"),
    # Branding is offered in Pakistan only, eCommerce management internationally only.
    redirect("/services/branding/", "/pk/services/branding/", "US"),
    redirect("/services/ecommerce-management/", "/intl/services/ecommerce-management/", "PK"),
    Case("/pk/about/", "US", file="pk/about/index.html"),
    Case("/intl/", "PK", cookie="PK", file="intl/index.html"),
    Case("/pk/", "US", file="pk/index.html"),
    Case("/robots.txt", "PK", file="robots.txt"),
    # static/ is published at the root and never geo-routed; /.well-known/ is site-wide (RFC 8615).
    Case("/.well-known/security.txt", "PK", file=".well-known/security.txt"),
    Case("/.well-known/security.txt", "US", cookie="PK", file=".well-known/security.txt"),
    Case("/.well-known/nope", "PK", status=404, file="404.html"),
    Case("/pk/no-such-page/", "US", status=404, file="pk/404.html"),
    Case("/intl/services/branding/", "PK", status=404, file="intl/404.html"),
    Case("/assets/css/nope.css", "PK", status=404, file="404.html"),
    Case("/_edge/site.json", "PK", status=404, file="404.html"),
    Case("/api/health", "PK", edge=True),
]


def copy_sources(root: Path, dest: Path) -> None:
    """This repository's content and static files into ``dest`` (site.yaml is written by the caller)."""
    shutil.copytree(root / "content", dest / "content")
    shutil.copytree(root / "static", dest / "static")


def hosted_site_yaml(root: Path, hosting: str, edge_origin: str = "https://edge.7expertspk.com") -> str:
    """This repository's site.yaml set up for ``hosting`` (analytics and processors follow)."""
    data = yaml.safe_load((root / "site.yaml").read_text(encoding="utf-8"))
    data["hosting"] = hosting
    if hosting == "netlify":
        data["analytics"] = {"provider": "netlify"}
        data.setdefault("edge", {})["origin"] = edge_origin
    else:
        data["analytics"] = {"provider": "vercel", "speed_insights": True}
        (data.get("edge") or {}).pop("origin", None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
