"""Serve a built ``dist/`` on loopback the way the host serves it.

- The security and caching headers come from the generated ``dist/_headers``
  (the file Netlify reads; ``vercel.json`` carries the same values), so the
  browser enforces the exact Content-Security-Policy that will be deployed.
- A missing page under ``/<region>/`` answers 404 with that region's
  ``404.html``, anything else missing with the top-level ``404.html``, as the
  generated ``_redirects`` says; ``/_edge/``, ``_headers`` and ``_redirects``
  are not public.
- ``mounts`` answer their path prefixes before the static files (``/api/`` for
  the edge app, stubs for scripts that only exist on the host). Like proxied
  content on Netlify, their responses do not get the ``_headers`` values.

Used by the browser tests (``tests/browser/conftest.py``) and by
``bench/lighthouse.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

ASGIApp = Any  # (scope, receive, send) -> awaitable; starlette's alias needs no import here


@dataclass(frozen=True)
class HeaderRule:
    """One block of a ``_headers`` file: a path pattern and the headers under it, in file order."""

    pattern: str
    headers: tuple[tuple[str, str], ...]

    def matches(self, path: str) -> bool:
        return _pattern_regex(self.pattern).fullmatch(path) is not None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Netlify's syntax: "*" (a splat) matches the rest of the path, even nothing; ":name" one segment.
    parts = []
    for piece in re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", pattern):
        if piece == "*":
            parts.append(".*")
        elif piece.startswith(":"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def parse_headers_file(text: str) -> list[HeaderRule]:
    """The blocks of a Netlify ``_headers`` file (a path line, then indented ``Name: value`` lines)."""
    rules: list[HeaderRule] = []
    pattern: str | None = None
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            if pattern is not None:
                rules.append(HeaderRule(pattern, tuple(headers)))
            pattern, headers = stripped, []
            continue
        name, sep, value = stripped.partition(":")
        if pattern is None or not sep:
            raise ValueError(f"_headers line {number}: expected 'Name: value' under a path: {line!r}")
        headers.append((name.strip(), value.strip()))
    if pattern is not None:
        rules.append(HeaderRule(pattern, tuple(headers)))
    return rules


def headers_for(rules: Iterable[HeaderRule], path: str) -> dict[str, str]:
    """Headers for ``path``: every matching block applies, in file order (``/*`` first, then the
    more specific ones). As in Netlify's own dev server, a name repeated inside one block is joined
    with ", " and a later matching block overrides an earlier one's value for the same name."""
    result: dict[str, str] = {}
    names: dict[str, str] = {}  # lower-case -> the spelling kept
    for rule in rules:
        if not rule.matches(path):
            continue
        block: dict[str, str] = {}
        for name, value in rule.headers:
            key = name.lower()
            block[key] = f"{block[key]}, {value}" if key in block else value
            names.setdefault(key, name)
        for key, value in block.items():
            result[names[key]] = value
    return result


def load_rules(dist: Path) -> list[HeaderRule]:
    return parse_headers_file((dist / "_headers").read_text(encoding="utf-8"))


def csp_for(dist: Path, path: str = "/") -> str:
    """The Content-Security-Policy the generated ``_headers`` gives ``path``."""
    for name, value in headers_for(load_rules(dist), path).items():
        if name.lower() == "content-security-policy":
            return value
    raise AssertionError(f"no Content-Security-Policy for {path} in {dist / '_headers'}")


HIDDEN = ("/_edge/", "/_headers", "/_redirects")


def site_app(dist: Path, mounts: Mapping[str, ASGIApp] | None = None) -> ASGIApp:
    """An ASGI app serving ``dist`` with its ``_headers`` applied (see the module docstring)."""
    rules = load_rules(dist)
    mounts = dict(mounts or {})
    root = StaticFiles(directory=dist, html=True)
    # StaticFiles(html=True) answers a missing file with <its directory>/404.html and status 404.
    regions = {
        f"/{folder.name}/": StaticFiles(directory=folder, html=True)
        for folder in sorted(dist.iterdir())
        if folder.is_dir() and (folder / "404.html").is_file()
    }

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "/")
        for prefix, mounted in mounts.items():
            if path.startswith(prefix):
                await mounted(scope, receive, send)
                return
        extra = headers_for(rules, path)

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in lowered]
                message = {**message, "headers": kept + [(k.encode(), v.encode()) for k, v in extra.items()]}
            await send(message)

        lowered = {name.lower() for name in extra}
        if path.startswith(HIDDEN):
            await _not_found(dist, scope, receive, send_with_headers)
            return
        for prefix, static in regions.items():
            if path.startswith(prefix):
                # The folder's own StaticFiles resolves the rest of the path (as a Mount would).
                inner = {**scope, "root_path": scope.get("root_path", "") + prefix.rstrip("/")}
                await static(inner, receive, send_with_headers)
                return
        await root(scope, receive, send_with_headers)

    return app


async def _not_found(dist: Path, scope: dict[str, Any], receive: Any, send: Any) -> None:
    page = dist / "404.html"
    body = page.read_bytes() if page.is_file() else b"Not Found"
    await Response(body, status_code=404, media_type="text/html")(scope, receive, send)


def empty_script() -> ASGIApp:
    """An app answering every request with an empty JavaScript file (200)."""
    return Response(b"", media_type="text/javascript; charset=utf-8")
