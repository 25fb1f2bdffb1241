"""Tiny sites written inline by tests (Hugo-style): a dict of path -> text."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
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


REPO = Path(__file__).resolve().parents[2]


def run_build_py(
    tmp_path: Path, files: dict[str, str], args: list[str], env: Mapping[str, str] | None = None
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The host's build command (build.py) run as a host runs it: from a plain checkout of a tiny
    site (sitegen not installed, no PYTHONPATH), from another folder; ``env`` is added to ours."""
    checkout = tmp_path / "clone"
    write_site(checkout, files)
    (checkout / "build.py").write_bytes((REPO / "build.py").read_bytes())
    (checkout / "sitegen").symlink_to(REPO / "sitegen", target_is_directory=True)
    (checkout / "themes").symlink_to(REPO / "themes", target_is_directory=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SITEGEN_BASE_URL")}
    proc = subprocess.run(
        [sys.executable, str(checkout / "build.py"), *args],
        cwd=tmp_path,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return checkout, proc
