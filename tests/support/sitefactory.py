"""Tiny sites written inline by tests (Hugo-style): a dict of path -> text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sitegen.build import BuildOptions, BuildResult, build

# The regions of a two-region site (pk and the default intl), for site.yaml texts built by tests.
REGIONS_YAML = """\
regions:
  pk:
    label: Pakistan
    countries: [PK]
    hreflang: en-PK
    locale: en_PK
    currency: PKR
  intl:
    label: International
    default: true
    hreflang: en
    locale: en_US
    currency: USD
"""

SITE_YAML = """\
title: Tiny
base_url: https://tiny.example
contact:
  company: Tiny Co
  email: hi@tiny.example
regions:
  pk:
    label: Pakistan
    countries: [PK]
    hreflang: en-PK
    locale: en_PK
    currency: PKR
    params:
      phone: "+92 300 1234567"
  intl:
    label: International
    default: true
    hreflang: en
    locale: en_US
    currency: USD
chat:
  enabled: false
"""


def write_site(root: Path, files: dict[str, str], site_yaml: str | None = SITE_YAML) -> Path:
    if site_yaml is not None and "site.yaml" not in files:
        files = {"site.yaml": site_yaml, **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def build_site(root: Path, **options: object) -> BuildResult:
    return build(BuildOptions(root=root, **options))  # type: ignore[arg-type]


def html(root: Path, rel: str) -> str:
    return (root / "dist" / rel).read_text(encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path: two builds compare equal when their trees do."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
