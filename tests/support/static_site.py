"""Serve a built ``dist/`` on loopback the way its host serves it.

Every answer comes from :mod:`sitegen.emulator` over the build's own rule files (``_headers`` and
``_redirects`` for Netlify, ``vercel.json`` for Vercel, whichever ``hosting`` made the build
write): the redirects, the file served, the status (a region's 404 page for a missing page in
that region) and the security and caching headers, so the browser enforces the exact
Content-Security-Policy that will be deployed.

``mounts`` answer their path prefixes first (``/api/`` for the edge app, stubs for scripts that
only exist on the host). Like proxied content on Netlify, their responses do not get the rule
files' headers.

Used by the browser tests (``tests/browser/conftest.py``) and by ``bench/lighthouse.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, RedirectResponse, Response

from sitegen import emulator

ASGIApp = Any  # (scope, receive, send) -> awaitable; starlette's alias needs no import here


def headers_for(dist: Path, path: str) -> dict[str, str]:
    """The headers the host adds to the response for ``path``."""
    files = emulator.read_build(dist)
    return emulator.resolve_files(files, emulator.host_of(files), path).headers


def csp_for(dist: Path, path: str = "/") -> str:
    """The Content-Security-Policy the generated rule files give ``path``."""
    for name, value in headers_for(dist, path).items():
        if name.lower() == "content-security-policy":
            return value
    raise AssertionError(f"no Content-Security-Policy for {path} in the rule files of {dist}")


def site_app(dist: Path, mounts: Mapping[str, ASGIApp] | None = None, country: str | None = None) -> ASGIApp:
    """An ASGI app serving ``dist`` as its host would (see the module docstring)."""
    files = emulator.read_build(dist)
    host = emulator.host_of(files)
    mounts = dict(mounts or {})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "/")
        for prefix, mounted in mounts.items():
            if path.startswith(prefix):
                await mounted(scope, receive, send)
                return
        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, val = part.strip().partition("=")
                    cookies[key] = val
        answer = emulator.resolve_files(files, host, path, country, cookies)
        response: Response
        if answer.location:
            response = RedirectResponse(answer.location, status_code=answer.status, headers=answer.headers)
        elif answer.file:
            response = FileResponse(dist / answer.file, status_code=answer.status, headers=answer.headers)
        else:
            response = Response(
                b"Not Found", status_code=404, media_type="text/plain", headers=answer.headers
            )
        await response(scope, receive, send)

    return app


def empty_script() -> ASGIApp:
    """An app answering every request with an empty JavaScript file (200)."""
    return Response(b"", media_type="text/javascript; charset=utf-8")
