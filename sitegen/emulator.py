"""Routing emulator: what a visitor gets from Netlify or Vercel for a request.

It reads the deploy files the build wrote (``_redirects`` and ``_headers`` for
Netlify, ``vercel.json`` for Vercel) and applies each host's documented
matching rules to them. It holds no routing policy of its own, so a test of
the emulator is a test of the generated files.

Host behaviour modelled:

- Netlify: rules top to bottom, first match wins; ``Country=`` conditions
  compare the visitor's country, which the ``nf_country`` cookie overrides;
  a rule without ``!`` does not shadow a file that exists; status 200 to an
  absolute URL is a proxy; custom headers from every matching ``_headers``
  block. Pretty URLs: ``/about`` with ``about/index.html`` is a 301 to ``/about/``.
- Vercel: files listed in ``.vercelignore`` are not published as static files;
  ``routes`` in order (:func:`resolve_routes`), with ``has``/``missing``
  conditions on headers and cookies and the ``filesystem`` phase; functions
  are the ``functions`` of ``vercel.json``. The same function reads the
  ``config.json`` that ``vercel build`` writes.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sitegen.hosts import COOKIE, VERCEL_COUNTRY_HEADER

Host = Literal["netlify", "vercel"]


@dataclass(frozen=True)
class Response:
    """What the host answers: status, redirect location, headers, and what it serves."""

    status: int
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    file: str | None = None  # output-relative file served (200/404)
    proxy: str | None = None  # upstream URL for a proxied request
    function: str | None = None  # the host's function answering the request (Vercel: /api/index)


class RulesError(ValueError):
    """A generated deploy file the emulator cannot read (a bug in the generator)."""


# --------------------------------------------------------------------- files


def _exists(files: Mapping[str, object], path: str) -> str | None:
    """The output file a clean request path maps to, if any."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel if rel in files else None


def _dir_index(files: Mapping[str, object], path: str) -> bool:
    return not path.endswith("/") and f"{path.lstrip('/')}/index.html" in files


# ------------------------------------------------------------------- netlify


@dataclass(frozen=True)
class NetlifyRule:
    source: str
    target: str
    status: int
    force: bool
    countries: frozenset[str]
    cookies: frozenset[str]
    line: int


def parse_redirects(text: str) -> list[NetlifyRule]:
    rules: list[NetlifyRule] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            raise RulesError(f"_redirects:{number}: expected 'from to [status] [conditions]', got {raw!r}")
        source, target, rest = parts[0], parts[1], parts[2:]
        status, force = 301, False
        if rest and re.fullmatch(r"\d{3}!?", rest[0]):
            status, force = int(rest[0][:3]), rest[0].endswith("!")
            rest = rest[1:]
        countries: set[str] = set()
        cookies: set[str] = set()
        for cond in rest:
            key, _, value = cond.partition("=")
            values = {v.strip() for v in value.split(",") if v.strip()}
            if key.lower() in ("country", "cookie") and not values:
                # Netlify documents these as lists of values; an empty one is a generator bug.
                raise RulesError(f"_redirects:{number}: condition without a value {cond!r}")
            if key.lower() == "country":
                countries |= {v.upper() for v in values}
            elif key.lower() == "cookie":
                cookies |= values
            elif key == "Sign" and value:
                pass  # signs a proxy (X-Nf-Sign for the edge); the emulator does not proxy
            else:
                raise RulesError(f"_redirects:{number}: unsupported condition {cond!r}")
        rules.append(
            NetlifyRule(source, target, status, force, frozenset(countries), frozenset(cookies), number)
        )
    return rules


def _netlify_pattern(source: str) -> re.Pattern[str]:
    out = ""
    for i, segment in enumerate(source.split("/")):
        if i:
            out += "/"
        if segment == "*":
            # "/pk/*" also matches "/pk" itself, as on Netlify.
            out = out[:-1] + "(?:/(?P<splat>.*))?"
        elif segment.startswith(":"):
            out += f"(?P<{segment[1:]}>[^/]+)"
        else:
            out += re.escape(segment)
    return re.compile(out)


def parse_headers(text: str) -> list[tuple[str, dict[str, str]]]:
    blocks: list[tuple[str, dict[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            # Netlify documents a block's path as a path or a full URL; anything else is a generator bug.
            if not raw.startswith("/") and not re.match(r"https?://", raw):
                raise RulesError(f"_headers:{number}: expected a path or URL, got {raw!r}")
            blocks.append((raw.strip(), {}))
            continue
        if not blocks:
            raise RulesError(f"_headers:{number}: header line before any path")
        name, sep, value = raw.strip().partition(":")
        if not sep:
            raise RulesError(f"_headers:{number}: expected 'Name: value', got {raw!r}")
        current = blocks[-1][1]
        current[name.strip()] = (
            f"{current[name.strip()]}, {value.strip()}" if name.strip() in current else value.strip()
        )
    return blocks


def _netlify_headers(blocks: list[tuple[str, dict[str, str]]], path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pattern, values in blocks:
        if _netlify_pattern(pattern).fullmatch(path):
            out.update(values)
    return out


def _netlify(
    files: Mapping[str, object],
    text: Mapping[str, str],
    path: str,
    country: str | None,
    cookies: Mapping[str, str],
) -> Response:
    rules = parse_redirects(text.get("_redirects", ""))
    blocks = parse_headers(text.get("_headers", ""))
    # Netlify lets the nf_country cookie stand in for the GeoIP country.
    visitor = (cookies.get(COOKIE) or country or "").upper()
    existing = _exists(files, path)
    for rule in rules:
        match = _netlify_pattern(rule.source).fullmatch(path)
        if not match:
            continue
        if rule.countries and visitor not in rule.countries:
            continue
        if rule.cookies and not rule.cookies & set(cookies):
            continue
        if not rule.force and (existing or _dir_index(files, path)):
            continue  # no shadowing of existing files without "!"
        target = rule.target
        for name, value in match.groupdict().items():
            target = target.replace(f":{name}", value or "")
        if rule.status in (301, 302, 303, 307, 308):
            return Response(rule.status, location=target, headers=_netlify_headers(blocks, path))
        if re.match(r"https?://", target):
            return Response(rule.status, proxy=target)
        served = _exists(files, target)
        headers = _netlify_headers(blocks, path)
        if served is None:
            return _netlify_404(files, blocks, path)
        return Response(rule.status, headers=headers, file=served)
    if existing:
        return Response(200, headers=_netlify_headers(blocks, path), file=existing)
    if _dir_index(files, path):
        return Response(301, location=path + "/", headers=_netlify_headers(blocks, path))
    return _netlify_404(files, blocks, path)


def _netlify_404(
    files: Mapping[str, object], blocks: list[tuple[str, dict[str, str]]], path: str
) -> Response:
    return Response(
        404, headers=_netlify_headers(blocks, path), file="404.html" if "404.html" in files else None
    )


# -------------------------------------------------------------------- vercel


def _condition(cond: Mapping[str, Any], headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    kind, key = cond.get("type"), str(cond.get("key", ""))
    if kind == "header":
        actual = headers.get(key.lower())
    elif kind == "cookie":
        actual = cookies.get(key)
    else:
        raise RulesError(f"vercel routes: unsupported condition type {kind!r}")
    if actual is None:
        return False
    value = cond.get("value")
    return value is None or re.fullmatch(str(value), actual) is not None


def _vercel_uploaded(files: Mapping[str, object], ignore: str) -> Mapping[str, object]:
    """The files published as static: .vercelignore entries (names, folders, globs) left out."""
    patterns = [
        line.strip().strip("/") for line in ignore.splitlines() if line.strip() and not line.startswith("#")
    ]
    if not patterns:
        return files

    def ignored(rel: str) -> bool:
        parts = rel.split("/")
        return any(
            fnmatch.fnmatchcase(rel, pat)
            or any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), pat) for i in range(len(parts)))
            for pat in patterns
        )

    return {rel: data for rel, data in files.items() if not ignored(rel)}


def _substitute(dest: str, match: re.Match[str]) -> str:
    out = dest
    for n in range(len(match.groups()), 0, -1):
        out = out.replace(f"${n}", match.group(n) or "")
    return out


def resolve_routes(
    routes: list[Mapping[str, Any]],
    static: Mapping[str, object],
    functions: set[str],
    path: str,
    country: str | None,
    cookies: Mapping[str, str],
) -> Response:
    """Vercel's routing over a list of routes (``vercel.json`` ``routes`` or the Build Output
    ``config.json`` ``routes``): sources are regular expressions over the path; a route with
    ``continue`` adds its headers and matching goes on; a redirect (3xx with ``Location``) or a
    ``dest`` ends it; ``{"handle": "filesystem"}`` serves an existing static file or function
    there; ``status`` on a ``dest`` route answers with that status."""
    request_headers = {VERCEL_COUNTRY_HEADER: country.upper()} if country else {}
    headers: dict[str, str] = {}
    for route in routes:
        handle = route.get("handle")
        if handle == "filesystem":
            existing = _exists(static, path) or (
                _exists(static, path + "/") if _dir_index(static, path) else None
            )
            if existing:
                return Response(200, headers=headers, file=existing)
            if path in functions:
                return Response(200, headers=headers, function=path)
            continue
        if handle is not None:
            continue  # other phases (hit, miss, error…) hold nothing in the routes we generate
        try:
            match = re.search(str(route["src"]), path)
        except (KeyError, re.error) as exc:
            raise RulesError(f"vercel routes: bad route {route!r}: {exc}") from exc
        if not match:
            continue
        if not all(_condition(c, request_headers, cookies) for c in route.get("has", [])):
            continue
        if any(_condition(c, request_headers, cookies) for c in route.get("missing", [])):
            continue
        route_headers = {k: _substitute(str(v), match) for k, v in (route.get("headers") or {}).items()}
        location = route_headers.pop("Location", None)
        headers.update(route_headers)
        if route.get("continue"):
            continue
        status = int(route.get("status") or 200)
        if location and 300 <= status < 400:
            return Response(status, location=location, headers=headers)
        dest = route.get("dest")
        if dest is None:
            return Response(status, headers=headers)
        target = _substitute(str(dest), match).split("?", 1)[0]
        if re.match(r"https?://", target):
            return Response(status, proxy=target)
        if target in functions:
            return Response(status, headers=headers, function=target)
        served = _exists(static, target)
        if served:
            return Response(status, headers=headers, file=served)
        return Response(404, headers=headers)
    return Response(404, headers=headers)


def _vercel(
    files: Mapping[str, object],
    text: Mapping[str, str],
    path: str,
    country: str | None,
    cookies: Mapping[str, str],
) -> Response:
    try:
        config = json.loads(text.get("vercel.json", "{}"))
    except json.JSONDecodeError as exc:
        raise RulesError(f"vercel.json: {exc}") from exc
    static = _vercel_uploaded(files, text.get(".vercelignore", ""))
    # A function's route is its file's path without the extension (api/index.py -> /api/index).
    functions = {"/" + name.rsplit(".", 1)[0] for name in config.get("functions", {})}
    return resolve_routes(config.get("routes", []), static, functions, path, country, cookies)


# ----------------------------------------------------------------------- API

RULE_FILES = ("_redirects", "_headers", "vercel.json", ".vercelignore")


def resolve_files(
    files: Mapping[str, object],
    host: Host,
    path: str,
    country: str | None = None,
    cookies: Mapping[str, str] | None = None,
) -> Response:
    """Answer a request from an in-memory build (output path -> content)."""
    text: dict[str, str] = {}
    for name in RULE_FILES:
        if name in files:
            data = files[name]
            text[name] = data.decode() if isinstance(data, bytes) else str(data)
    # Repeated slashes count as one, so no Location is ever built as "//host/...".
    path = re.sub(r"/{2,}", "/", path.split("?", 1)[0]) or "/"
    if host == "netlify":
        return _netlify(files, text, path, country, cookies or {})
    if host == "vercel":
        return _vercel(files, text, path, country, cookies or {})
    raise ValueError(f"unknown host {host!r}: expected 'netlify' or 'vercel'")


def read_build(out_dir: Path) -> dict[str, object]:
    """A build on disk as :func:`resolve_files` takes it: rule files as text, others as present."""
    files: dict[str, object] = {}
    for file in out_dir.rglob("*"):
        if file.is_file():
            rel = file.relative_to(out_dir).as_posix()
            files[rel] = file.read_text(encoding="utf-8") if rel in RULE_FILES else True
    return files


def host_of(files: Mapping[str, object]) -> Host:
    """The host a build's rule files are for."""
    return "vercel" if "vercel.json" in files else "netlify"


def resolve(
    host: Host,
    path: str,
    country: str | None = None,
    cookies: Mapping[str, str] | None = None,
    *,
    out_dir: Path = Path("dist"),
) -> Response:
    """Answer a request from a build on disk (``dist/`` by default)."""
    return resolve_files(read_build(out_dir), host, path, country, cookies)


__all__ = [
    "Response",
    "RulesError",
    "parse_headers",
    "host_of",
    "parse_redirects",
    "read_build",
    "resolve",
    "resolve_files",
    "resolve_routes",
]
