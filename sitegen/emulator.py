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
- Vercel: files listed in ``.vercelignore`` are not uploaded; ``trailingSlash`` (if set) first, then ``redirects`` in order (before the
  filesystem) with ``has``/``missing`` conditions on headers and cookies,
  then the filesystem, then ``rewrites``, then ``404.html`` with status 404;
  ``headers`` from every matching source.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Host = Literal["netlify", "vercel"]
COOKIE = "nf_country"
VERCEL_COUNTRY_HEADER = "x-vercel-ip-country"


@dataclass(frozen=True)
class Response:
    """What the host answers: status, redirect location, headers, and what it serves."""

    status: int
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    file: str | None = None  # output-relative file served (200/404)
    proxy: str | None = None  # upstream URL for a proxied request


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


def _vercel_pattern(source: str) -> re.Pattern[str]:
    """path-to-regexp as Vercel uses it: ``:name``, ``:name*``, ``:name(re)``, ``(re)``."""
    out, i = "", 0
    while i < len(source):
        if source.startswith("/:", i) and re.match(r"/:\w+\*", source[i:]):
            name = re.match(r"/:(\w+)\*", source[i:])
            assert name
            out += f"(?:/(?P<{name.group(1)}>.*))?"
            i += len(name.group(0))
        elif source[i] == ":":
            m = re.match(r":(\w+)", source[i:])
            if not m:
                raise RulesError(f"vercel.json: bad source {source!r}")
            i += len(m.group(0))
            if i < len(source) and source[i] == "(":
                body, i = _group(source, i)
                out += f"(?P<{m.group(1)}>{body})"
            else:
                out += f"(?P<{m.group(1)}>[^/]+)"
        elif source[i] == "(":
            body, i = _group(source, i)
            out += f"({body})"
        else:
            out += re.escape(source[i])
            i += 1
    return re.compile(out)


def _group(source: str, start: int) -> tuple[str, int]:
    depth = 0
    for j in range(start, len(source)):
        if source[j] == "\\":
            continue
        if source[j] == "(" and (j == 0 or source[j - 1] != "\\"):
            depth += 1
        elif source[j] == ")" and source[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return source[start + 1 : j], j + 1
    raise RulesError(f"vercel.json: unbalanced parentheses in {source!r}")


def _substitute(destination: str, match: re.Match[str]) -> str:
    out = destination
    for name, value in sorted(match.groupdict().items(), key=lambda kv: -len(kv[0])):
        out = out.replace(f":{name}*", value or "").replace(f":{name}", value or "")
    for n, value in enumerate(match.groups(), 1):
        out = out.replace(f"${n}", value or "")
    return out


def _condition(cond: Mapping[str, Any], headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    kind, key = cond.get("type"), str(cond.get("key", ""))
    if kind == "header":
        actual = headers.get(key.lower())
    elif kind == "cookie":
        actual = cookies.get(key)
    else:
        raise RulesError(f"vercel.json: unsupported condition type {kind!r}")
    if actual is None:
        return False
    value = cond.get("value")
    return value is None or re.fullmatch(str(value), actual) is not None


def _vercel_uploaded(files: Mapping[str, object], ignore: str) -> Mapping[str, object]:
    """The files a deploy uploads: .vercelignore entries (names, folders, globs) left out."""
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


def _vercel_headers(config: Mapping[str, Any], path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in config.get("headers", []):
        if _vercel_pattern(block["source"]).fullmatch(path):
            out.update({h["key"]: h["value"] for h in block["headers"]})
    return out


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
    files = _vercel_uploaded(files, text.get(".vercelignore", ""))
    request_headers = {VERCEL_COUNTRY_HEADER: country.upper()} if country else {}
    headers = _vercel_headers(config, path)
    last = path.rsplit("/", 1)[-1]
    if config.get("trailingSlash") and not path.endswith("/") and "." not in last:
        return Response(308, location=path + "/", headers=headers)
    for rule in config.get("redirects", []):
        match = _vercel_pattern(rule["source"]).fullmatch(path)
        if not match:
            continue
        if not all(_condition(c, request_headers, cookies) for c in rule.get("has", [])):
            continue
        if any(_condition(c, request_headers, cookies) for c in rule.get("missing", [])):
            continue
        status = int(rule.get("statusCode") or (308 if rule.get("permanent", True) else 307))
        return Response(status, location=_substitute(rule["destination"], match), headers=headers)
    # Without trailingSlash, Vercel serves a folder's index.html at both /x and /x/.
    existing = _exists(files, path) or (_exists(files, path + "/") if _dir_index(files, path) else None)
    if existing:
        return Response(200, headers=headers, file=existing)
    for rule in config.get("rewrites", []):
        match = _vercel_pattern(rule["source"]).fullmatch(path)
        if match:
            target = _substitute(rule["destination"], match)
            if re.match(r"https?://", target):
                return Response(200, proxy=target)
            served = _exists(files, target)
            if served:
                return Response(200, headers=headers, file=served)
    return Response(404, headers=headers, file="404.html" if "404.html" in files else None)


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


def resolve(
    host: Host,
    path: str,
    country: str | None = None,
    cookies: Mapping[str, str] | None = None,
    *,
    out_dir: Path = Path("dist"),
) -> Response:
    """Answer a request from a build on disk (``dist/`` by default)."""
    files: dict[str, object] = {}
    for file in out_dir.rglob("*"):
        if file.is_file():
            rel = file.relative_to(out_dir).as_posix()
            files[rel] = file.read_text(encoding="utf-8") if rel in RULE_FILES else True
    return resolve_files(files, host, path, country, cookies)


__all__ = ["Response", "RulesError", "parse_headers", "parse_redirects", "resolve", "resolve_files"]
