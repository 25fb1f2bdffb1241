"""Settings shared by the edge handlers: environment plus the build's edge data.

The handlers' sections of ``site.json`` are read into typed, frozen
dataclasses (:class:`ContactFormSettings`, :class:`ChatSettings`,
:class:`PortalSettings`, :class:`EdgeSection`, :class:`RetentionSettings`). They declare no defaults: the
schema (``sitegen.config``) declares every default once and ``sitegen build``
writes every key, so a missing key means a ``site.json`` from another version
and is reported as such instead of being papered over with a second default.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar


class EdgeDataMissing(RuntimeError):
    """Raised when ``site.json`` has not been built yet, or lacks a key the handlers need."""


@dataclass(frozen=True)
class EdgeSection:
    origin: str
    allowed_origins: tuple[str, ...]
    proxy_signature_env: str


@dataclass(frozen=True)
class TurnstileSettings:
    site_key: str
    secret_env: str


@dataclass(frozen=True)
class ContactFormSettings:
    max_body_bytes: int
    rate_limit_per_minute: int
    notify_webhook_env: str
    turnstile: TurnstileSettings


@dataclass(frozen=True)
class ProviderSettings:
    id: str
    name: str
    api: str
    base_url: str
    model: str
    api_key_env: str
    timeout: float
    max_tokens: int


@dataclass(frozen=True)
class ChatLimitSettings:
    max_messages: int
    max_message_chars: int
    max_total_chars: int
    rate_per_minute: int
    max_concurrent: int
    daily_requests: int
    daily_tokens: int


@dataclass(frozen=True)
class ChatSettings:
    enabled: bool
    bot_name: str
    providers: tuple[ProviderSettings, ...]
    limits: ChatLimitSettings


@dataclass(frozen=True)
class PortalSettings:
    bucket: str
    upload_max_bytes: int
    upload_types: tuple[str, ...]
    signed_url_seconds: int


@dataclass(frozen=True)
class RetentionSettings:
    """How long personal data is kept (the privacy policy's periods, from site.yaml's
    ``privacy.retention``)."""

    inquiries_months: int
    portal_months_after_close: int


T = TypeVar("T")


def typed(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``data`` (a site.json section), requiring every field.

    Keys the edge does not read are ignored (the schema may document more).
    """
    if not isinstance(data, dict):
        raise EdgeDataMissing(f"site.json: {where} is missing; rebuild with `sitegen build`")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            raise EdgeDataMissing(
                f"site.json: {where}.{f.name} is missing (a site.json from another sitegen version?); "
                "rebuild with `sitegen build`"
            )
        values[f.name] = _value(hints[f.name], data[f.name], f"{where}.{f.name}")
    return cls(**values)


def _value(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return typed(hint, value, where)
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_value(item, v, f"{where}[{i}]") for i, v in enumerate(value or []))
    # Types as the build writes them: a whole number is an int (never a bool, text or fraction).
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = hint not in (str, bool) or isinstance(value, hint)
    if not ok:
        raise EdgeDataMissing(f"site.json: {where} must be {hint.__name__}; rebuild with `sitegen build`")
    return float(value) if hint is float else value


@dataclass(frozen=True)
class Settings:
    """Everything a handler needs, loaded once per app."""

    data_dir: Path
    local_dir: Path
    site: dict[str, Any]
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return bool(self.site.get("production", True))

    @property
    def regions(self) -> dict[str, Any]:
        regions: dict[str, Any] = self.site.get("regions", {})
        return regions

    @property
    def default_region(self) -> str:
        return str(self.site.get("default_region", next(iter(self.regions), "")))

    @cached_property
    def edge(self) -> EdgeSection:
        return typed(EdgeSection, self.site.get("edge"), "edge")

    @cached_property
    def contact_form(self) -> ContactFormSettings:
        return typed(ContactFormSettings, self.site.get("contact_form"), "contact_form")

    @cached_property
    def chat(self) -> ChatSettings:
        return typed(ChatSettings, self.site.get("chat"), "chat")

    @cached_property
    def portal(self) -> PortalSettings:
        return typed(PortalSettings, self.site.get("portal"), "portal")

    @cached_property
    def retention(self) -> RetentionSettings:
        return typed(RetentionSettings, self.site.get("retention"), "retention")

    def section(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = self.site.get(name) or {}
        return value

    def secret(self, name: str | None) -> str | None:
        """The value of an environment variable named in site.yaml, or None when unset/empty."""
        if not name:
            return None
        value = self.env.get(name, "").strip()
        return value or None

    @property
    def supabase_url(self) -> str | None:
        return self.secret("SUPABASE_URL")

    @property
    def supabase_key(self) -> str | None:
        # The publishable key (formerly "anon key"); both names are accepted.
        return self.secret("SUPABASE_PUBLISHABLE_KEY") or self.secret("SUPABASE_ANON_KEY")

    @property
    def uses_supabase(self) -> bool:
        return bool(self.supabase_url and self.supabase_key)

    def read_text(self, relative: str) -> str:
        return (self.data_dir / relative).read_text(encoding="utf-8")


def load_settings(
    environ: Mapping[str, str] | None = None,
    data_dir: str | Path | None = None,
    local_dir: str | Path | None = None,
) -> Settings:
    """Load settings from the environment and ``<data_dir>/site.json``."""
    env = dict(os.environ if environ is None else environ)
    data = Path(data_dir or env.get("SITEGEN_EDGE_DATA") or Path.cwd() / "dist" / "_edge")
    local = Path(local_dir or env.get("SITEGEN_LOCAL_DIR") or Path.cwd() / ".sitegen-local")
    site_file = data / "site.json"
    try:
        site = json.loads(site_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EdgeDataMissing(f"{site_file} not found: run `sitegen build` first") from exc
    return Settings(data_dir=data, local_dir=local, site=site, env=env)
