"""Settings shared by the edge handlers: environment plus the build's edge data."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EdgeDataMissing(RuntimeError):
    """Raised when ``site.json`` has not been built yet."""


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
