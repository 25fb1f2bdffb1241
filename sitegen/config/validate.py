"""Turning parsed ``site.yaml`` into a ``SiteConfig``: types, checks, cross-field rules.

Validation collects every problem and names the file, line and key path of
each (``site.yaml:18: regions.pk.currency: expected a 3-letter ISO code, got
'rupees'``). Unknown keys are warnings with a "did you mean"; ``--strict``
makes them fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import types
import typing
from pathlib import Path
from typing import Any, get_type_hints

from sitegen.config.checks import COUNTRY, REGION_ID
from sitegen.config.schema import SiteConfig
from sitegen.errors import Problems, SitegenError
from sitegen.yamlio import load_yaml, read_text


def type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (list,):
        return "a list"
    if origin in (dict,):
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(tp) if a is not type(None))
    return {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        dt.date: "a date (YYYY-MM-DD)",
    }.get(tp, str(tp))


class _Validator:
    def __init__(self, file: str, lines: dict[tuple[str, ...], int], problems: Problems) -> None:
        self.file = file
        self.lines = lines
        self.problems = problems

    def line(self, path: tuple[str, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, path: tuple[str, ...], message: str) -> None:
        self.problems.error(message, self.file, self.line(path), ".".join(path) or None)

    def convert(self, tp: Any, value: Any, path: tuple[str, ...]) -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.convert(args[0], value, path)
        if dataclasses.is_dataclass(tp):
            return self.dataclass(tp, value, path)
        if origin is list:
            (item_tp,) = typing.get_args(tp)
            if value is None:
                return []
            if not isinstance(value, list):
                self.error(path, f"expected a list, got {value!r}")
                return []
            return [self.convert(item_tp, v, (*path, str(i))) for i, v in enumerate(value)]
        if origin is dict:
            _, item_tp = typing.get_args(tp)
            if value is None:
                return {}
            if not isinstance(value, dict):
                self.error(path, f"expected a mapping, got {value!r}")
                return {}
            if item_tp is Any:
                return value
            return {str(k): self.convert(item_tp, v, (*path, str(k))) for k, v in value.items()}
        if tp is Any:
            return value
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if tp is dt.date and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return value
        self.error(path, f"expected {type_name(tp)}, got {value!r}")
        return None

    def dataclass(self, cls: Any, value: Any, path: tuple[str, ...]) -> Any:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {value!r}")
            value = {}
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        for key in value:
            if str(key) not in fields:
                hint = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
                sub = (*path, str(key))
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(fields)}"
                self.problems.warn(f"unknown key{suggestion}", self.file, self.line(sub), ".".join(sub))
        for name, f in fields.items():
            sub = (*path, name)
            if name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.error(path + (name,), "required key is missing")
                continue
            converted = self.convert(hints[name], value[name], sub)
            if converted is None and value[name] is not None:
                continue  # already reported
            check = f.metadata.get("check")
            if check is not None and converted is not None:
                message = check(converted)
                if message:
                    self.error(sub, message)
                    continue
            kwargs[name] = converted
        try:
            return cls(**kwargs)
        except TypeError:
            # A required key was missing or invalid (already reported): build a placeholder.
            placeholder = {
                name: kwargs.get(name, _zero(hints[name]))
                for name, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            }
            return cls(**{**placeholder, **kwargs})


def _zero(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if dataclasses.is_dataclass(tp):
        return None
    return {str: "", int: 0, float: 0.0, bool: False}.get(tp)


def validate(data: Any, file: str, lines: dict[tuple[str, ...], int], problems: Problems) -> SiteConfig:
    """Turn parsed YAML into a SiteConfig, recording every problem."""
    v = _Validator(file, lines, problems)
    if data is None:
        data = {}
    config: SiteConfig = v.dataclass(SiteConfig, data, ())
    regions = config.regions or {}
    if "regions" in (data if isinstance(data, dict) else {}) and not regions:
        v.error(("regions",), "define at least one region")
    defaults = [rid for rid, r in regions.items() if r is not None and r.default]
    for rid, region in regions.items():
        if not REGION_ID.match(rid):
            v.error(("regions", rid), f"region ids are lowercase letters, digits, '-' or '_', got {rid!r}")
        if region is not None:
            region.id = rid
            for i, code in enumerate(region.countries):
                if not isinstance(code, str) or not COUNTRY.match(code):
                    v.error(
                        ("regions", rid, "countries", str(i)),
                        f"expected an ISO 3166 alpha-2 code like 'PK', got {code!r}",
                    )
    if regions and len(defaults) != 1:
        if not defaults:
            v.error(("regions",), "mark exactly one region with 'default: true' (none is)")
        else:
            v.error(
                ("regions", defaults[1], "default"),
                f"exactly one region may be the default, found {', '.join(defaults)}",
            )
    seen: dict[str, str] = {}
    for rid, region in regions.items():
        for code in region.countries if region else []:
            if code in seen:
                v.error(
                    ("regions", rid, "countries"),
                    f"country {code} is already routed to region '{seen[code]}'",
                )
            seen[code] = rid
    ids = [p.id for p in config.chat.providers if p is not None]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        v.error(("chat", "providers"), f"provider id '{dup}' is used twice")
    _check_hosting(config, v)
    if isinstance(config.base_url, str):
        config.base_url = config.base_url.rstrip("/")
    return config


HOST_NAMES = {"vercel": "Vercel", "netlify": "Netlify"}


def _check_hosting(config: SiteConfig, v: _Validator) -> None:
    """Refuse settings that would make a page or the privacy policy false about the host."""
    host, provider = config.hosting, config.analytics.provider
    if provider in HOST_NAMES and provider != host:
        v.error(
            ("analytics", "provider"),
            f"{HOST_NAMES[provider]} Analytics only works on {HOST_NAMES[provider]}, but hosting is "
            f"{host!r}: set analytics.provider to {host if host in HOST_NAMES else 'none'!r} or 'none'",
        )
    if config.analytics.speed_insights and provider != "vercel":
        v.error(
            ("analytics", "speed_insights"),
            "Speed Insights is a Vercel script: it needs analytics.provider: vercel (and hosting: vercel); "
            "set speed_insights: false",
        )
    if host == "vercel" and config.edge.origin:
        v.error(
            ("edge", "origin"),
            "with hosting: vercel the edge handlers are deployed with the site as a Vercel function, so "
            "nothing is proxied to another origin: remove edge.origin",
        )
    hosts = [p.name for p in config.privacy.processors if p is not None and p.role == "hosting"]
    if host in HOST_NAMES and hosts and HOST_NAMES[host].lower() not in {h.lower() for h in hosts}:
        v.error(
            ("privacy", "processors"),
            f"hosting is {host!r} but no privacy.processors entry with role: hosting is named "
            f"{HOST_NAMES[host]}: add one, or the privacy policy would not name the host",
        )


def load_config(path: str | Path, problems: Problems | None = None) -> SiteConfig:
    """Read and validate site.yaml; raises BuildFailed listing every problem."""
    path = Path(path)
    own = problems is None
    problems = problems or Problems()
    name = path.name
    if not path.exists():
        raise SitegenError(
            "no site.yaml here: run sitegen in a site folder, or create one with `sitegen new DIR`", name
        )
    text = read_text(path, name)
    try:
        data, lines = load_yaml(text, name)
    except SitegenError as exc:
        problems.add(exc)
        problems.check()
        raise
    if data is not None and not isinstance(data, dict):
        problems.error("expected a mapping of keys at the top level", name, 1)
        problems.check()
    config = validate(data, name, lines, problems)
    config.root = path.parent.resolve()
    config.file = path
    config.lines = {".".join(key): line for key, line in lines.items() if key}
    if own:
        problems.check()
    return config
