"""docs/configuration.md, generated from the schema's ``doc`` strings (a test fails on drift)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, get_type_hints

from sitegen.config.schema import SiteConfig
from sitegen.config.validate import type_name


def schema_markdown() -> str:
    """docs/configuration.md, generated from the docstrings of the schema."""
    out = [
        "# Configuration reference (`site.yaml`)",
        "",
        "Generated from `sitegen/config/schema.py` by `sitegen config-docs`; do not edit by hand.",
        "",
    ]

    def walk(cls: Any, prefix: str, depth: int) -> None:
        hints = get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            tp = hints[f.name]
            key = f"{prefix}{f.name}"
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            default = (
                ""
                if required or f.default_factory is not dataclasses.MISSING
                else f" (default: `{f.default!r}`)"
            )
            req = " **required**" if required else ""
            out.append(
                f"{'  ' * depth}- `{key}` — {type_name(tp)}{req}{default}. {f.metadata.get('doc', '')}"
            )
            inner = tp
            origin = typing.get_origin(tp)
            if origin in (list, dict):
                inner = typing.get_args(tp)[-1]
            if dataclasses.is_dataclass(inner):
                sub = f"{key}.<id>." if origin is dict else f"{key}[]." if origin is list else f"{key}."
                out.append(f"{'  ' * (depth + 1)}- {(inner.__doc__ or '').strip()}")
                walk(inner, sub, depth + 1)

    walk(SiteConfig, "", 0)
    return "\n".join(out) + "\n"
