"""Serving the last good build: files, pretty URLs, 404 pages, country emulation, the dev client tag.

Everything here is a function of one ``Snapshot`` and the request, so a
rebuild swapping the snapshot mid-request cannot mix two builds in a response.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sitegen import emulator, routing
from sitegen.devserver.builder import Snapshot
from sitegen.errors import SitegenError

RESERVED = "/__sitegen/"
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
# assets/css/site.1a983db7.css, assets/img/home.800.1a2b3c4d.jpg: named after their content.
_HASHED_ASSET = re.compile(r"^assets/.+\.[0-9a-f]{8}\.[A-Za-z0-9]+$")
CLIENT_DIR = Path(__file__).resolve().parent  # reload.js, dev.css, diff.js, diff.css


def client_url(name: str) -> str:
    """The URL of a dev-client file, versioned by its content so browsers may cache it (``app._reserved``)."""
    return f"{RESERVED}{name}?v={client_version(name)}"


def client_version(name: str) -> str:
    # Hashed on every page served (a few kilobytes): an edited client file is picked up at once.
    return hashlib.blake2b((CLIENT_DIR / name).read_bytes(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class View:
    """How this preview serves: the emulated country and the build generation pages reload on."""

    country: str | None  # --country, upper case
    generation: int
    log: Callable[[str], None]


def respond(request: Request, snap: Snapshot, view: View) -> Response:
    """The response to a GET or HEAD of the static site (not /api/, not /__sitegen/)."""
    # Repeated slashes are one: a Location built from "//pk" would be "//pk/", a protocol-relative
    # URL that leaves the site's origin.
    path = re.sub(r"/{2,}", "/", request.url.path)
    if request.method not in ("GET", "HEAD"):
        return Response(
            f"{request.method} is not allowed on the static site; the handlers live under /api/\n",
            status_code=405,
            media_type="text/plain",
            headers={"Allow": "GET, HEAD"},
        )
    if "\x00" in path or any(part == ".." for part in path.split("/")):
        return Response("bad path\n", status_code=400, media_type="text/plain")
    rel = path.lstrip("/")
    first = rel.split("/", 1)[0]
    if first == "_edge":
        return not_found(snap, view, None, path)
    candidate = rel + "index.html" if rel == "" or rel.endswith("/") else rel
    if rel and candidate in snap.files:
        region = first if first in snap.regions else None
        if candidate.endswith(".html"):
            view.log(f"{request.method} {path} -> 200 region {region or snap.default_region}")
        return file(snap, view, candidate, 200, region)
    if rel and not rel.endswith("/") and f"{rel}/index.html" in snap.files:
        return RedirectResponse(
            path + "/" + (f"?{request.url.query}" if request.url.query else ""), status_code=301
        )
    if first in snap.regions:
        view.log(f"{request.method} {path} -> 404 region {first}")
        return not_found(snap, view, first, path)
    return route(request, snap, view, path)


def visitor(request: Request, country: str | None) -> tuple[str | None, dict[str, str], str]:
    """(country, cookies, where the choice came from) of a request."""
    cookies = dict(request.cookies)
    query = request.query_params.get("country", "")
    if query and not COUNTRY.match(query):
        raise ValueError(f"?country={query}: give a two-letter country code such as PK or US")
    chosen = query.upper() if query else country
    source = "?country" if query else "--country" if country else "no country"
    if cookies.get(routing.COOKIE):
        source = f"cookie {routing.COOKIE}={cookies[routing.COOKIE]}"
    return chosen, cookies, source


def route(request: Request, snap: Snapshot, view: View, path: str) -> Response:
    """An un-prefixed path, answered by the routing emulator over the rules this build generated."""
    try:
        country, cookies, source = visitor(request, view.country)
    except ValueError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    answer = emulator.resolve_files(snap.files, host=snap.host, path=path, country=country, cookies=cookies)
    status, location = int(answer.status), answer.location
    view.log(f"{request.method} {path} [{country or '--'}, {source}] -> {status} {location or ''}".rstrip())
    if location and 300 <= status < 400:
        return RedirectResponse(location, status_code=status, headers={"Cache-Control": "no-store"})
    return not_found(snap, view, None, path)


def not_found(snap: Snapshot, view: View, region: str | None, path: str) -> Response:
    page = f"{region}/404.html" if region and f"{region}/404.html" in snap.files else "404.html"
    if page in snap.files:
        return file(snap, view, page, 404, region)
    return Response(f"{path}: not found\n", status_code=404, media_type="text/plain")


def file(snap: Snapshot, view: View, rel: str, status: int, region: str | None) -> Response:
    data = snap.files[rel]
    media = mimetypes.guess_type(rel)[0] or "application/octet-stream"
    # A content-hashed asset never changes under its name (a new build names new content anew), so the
    # browser may keep it as production lets it: a reload then fetches the page and nothing else.
    cache = routing.ASSET_CACHE if _HASHED_ASSET.match(rel) else "no-store"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if media == "text/html":
        headers["Content-Security-Policy"] = snap.csp
        data = inject(data, region or snap.default_region, snap, view.generation, draft=rel in snap.drafts)
        media = "text/html; charset=utf-8"
    elif media.startswith("text/") or media in (
        "application/javascript",
        "application/json",
        "application/xml",
    ):
        media += "; charset=utf-8"
    return Response(data, status_code=status, media_type=media, headers=headers)


def inject(html: bytes, region: str, snap: Snapshot, generation: int, draft: bool = False) -> bytes:
    """Add the dev client (external script and stylesheet: the page's CSP forbids inline code).

    ``draft``: the page has ``draft: true``; the client shows a "draft" badge on it. The badge
    exists only here: a build never contains it (nor, without --drafts, the page).
    """
    label = str(snap.regions.get(region, {}).get("label", region))
    tag = (
        f'<link rel="stylesheet" href="{client_url("dev.css")}">'
        f'<script src="{client_url("reload.js")}" defer data-generation="{generation}"'
        f' data-region="{attr(region)}" data-label="{attr(label)}"'
        f' data-regions="{attr(" ".join(snap.regions))}"'
        f"{' data-draft=' + chr(34) + 'true' + chr(34) if draft else ''}></script>"
    ).encode()
    match = _HEAD_END.search(html)
    if match is None:
        return tag + html
    return html[: match.start()] + tag + html[match.start() :]


def no_build(errors: list[SitegenError]) -> Response:
    """The page shown while the site has never built: its errors, and the client that reloads it."""
    items = "".join(f"<li><code>{attr(e.location())}</code> {attr(e.message)}</li>" for e in errors)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Build failed</title>'
        f'<link rel="stylesheet" href="{RESERVED}dev.css">'
        f'<script src="{RESERVED}reload.js" defer data-generation="0" data-region="" data-label=""></script>'
        f"</head><body><h1>The site has not built yet</h1><ul>{items}</ul></body></html>"
    )
    # 503: the server is fine and the request too; the site is not available until the build succeeds.
    return Response(
        html,
        status_code=503,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
