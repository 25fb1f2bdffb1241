"""Building for another origin than ``base_url``: deploy previews and ``sitegen serve``.

``sitegen build --base-url URL`` (or ``SITEGEN_BASE_URL``) makes every absolute
URL of the build (canonical, hreflang, Open Graph, sitemaps, robots.txt, the
edge data) name that origin instead of site.yaml's ``base_url``, so a preview
never points search engines or visitors at production.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from sitegen.config.schema import SiteConfig
from sitegen.errors import SitegenError

SOURCE = "--base-url / SITEGEN_BASE_URL"


def parse_origin(value: str, source: str = SOURCE) -> str:
    """``value`` as ``scheme://host[:port]`` without a trailing slash; a SitegenError says what is wrong."""
    text = value.strip()
    example = "e.g. https://preview.example.com"
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise SitegenError(f"'{value}' is not a URL ({exc}); {example}", source) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SitegenError(
            f"'{value}' is not an absolute http(s) URL with a host; {example}",
            source,
        )
    if parts.username is not None or parts.password is not None:
        raise SitegenError(f"'{value}' carries a user name or password; give only scheme and host", source)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SitegenError(
            f"'{value}' has a path, query or fragment; the site is served at the root of its origin, "
            f"so give only scheme and host ({example})",
            source,
        )
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def at_origin(config: SiteConfig, origin: str) -> SiteConfig:
    """The configuration of a build served at ``origin`` instead of ``base_url``.

    ``edge.allowed_origins`` entries on the production host (or its subdomains,
    such as www.) are left out: a preview's handlers accept posts from the
    preview itself (always allowed) and from unrelated origins the site lists,
    never from production pages.
    """
    production = urlsplit(config.base_url).hostname or ""
    kept = [
        o
        for o in config.edge.allowed_origins
        if (host := urlsplit(o).hostname or "") != production and not host.endswith("." + production)
    ]
    edge = dataclasses.replace(config.edge, allowed_origins=kept)
    return dataclasses.replace(config, base_url=origin, edge=edge)
