"""The edge's data (``dist/_edge/``) for edge tests, made by the real build.

``built_edge(site_yaml)`` builds a small two-region site (pk and intl, with the pages the edge
links to and three services) through ``sitegen build`` and returns its site.json, so a test's
data is exactly what the build writes for that ``site.yaml`` and cannot drift from it.
``write_edge`` copies the whole built ``_edge/`` folder where a test wants it. Each distinct
site is built once per test session.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sitegen.config import Chat, ContactForm, Edge, Portal
from tests.support.sitefactory import REGIONS_YAML

SECTIONS: dict[str, Any] = {"edge": Edge, "contact_form": ContactForm, "chat": Chat, "portal": Portal}


def schema_default(section: str, key: str) -> Any:
    """The schema's default for ``section.key`` (what a site omitting the key gets)."""
    for f in dataclasses.fields(SECTIONS[section]):
        if f.name == key:
            return f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
    raise KeyError(key)


PROXY_SECRET = "netlify-proxy-signature-secret-for-tests-0123456789"


def netlify_signature(secret: str = PROXY_SECRET, **changes: Any) -> str:
    """An ``X-Nf-Sign`` value as Netlify's signed proxy rule sends it (HS256, iss netlify, 5 minutes)."""
    import time

    import jwt

    claims = {"deploy_context": "production", "netlify_id": "site-id", "site_url": "https://example.com"}
    claims |= {"iss": "netlify", "exp": int(time.time()) + 300, **changes}
    return jwt.encode(claims, secret, algorithm="HS256")


# A two-region site like 7Experts: what the edge handlers read of it (regions, their pages,
# services and prices, contact details) and nothing more.
EDGE_SITE_YAML = (
    """\
title: 7Experts
base_url: https://7expertspk.com
contact:
  company: 7Experts
  email: info@7expertspk.com
  phone: "+92 336 6532777"
"""
    + REGIONS_YAML
)

_PAGE = "---\ntitle: {title}\n---\n{title}.\n"
EDGE_SITE_FILES: dict[str, str] = {
    "content/index.md": _PAGE.format(title="Home"),
    "content/contact/index.md": _PAGE.format(title="Contact"),
    "content/contact/thanks.md": _PAGE.format(title="Thank you"),
    "content/legal/privacy.md": _PAGE.format(title="Privacy"),
    "content/portal/index.md": _PAGE.format(title="Client portal"),
    "content/services/web-development.yaml": (
        "name: Web Development\norder: 1\nsummary: Fast websites.\nregions: [pk, intl]\n"
        "price:\n  pk: {amount: 80000, currency: PKR, unit: project, from: true}\n"
        "  intl: {amount: 900, currency: USD, unit: project, from: true}\n"
    ),
    "content/services/branding.yaml": (
        "name: Branding\norder: 2\nsummary: Logos and stationery.\nregions: [pk]\n"
        "price:\n  pk: {amount: 45000, currency: PKR, unit: project, from: true}\n"
    ),
    "content/services/ecommerce-management.yaml": (
        "name: E-commerce Management\norder: 3\nsummary: Online stores run for you.\nregions: [intl]\n"
        "price:\n  intl: {amount: 1500, currency: USD, unit: project, from: true}\n"
    ),
}


@functools.cache
def _built(site_yaml: str, files: tuple[tuple[str, str], ...], production: bool) -> Path:
    from tests.support.sitefactory import build_site, write_site

    root = Path(tempfile.mkdtemp(prefix="sitegen-edge-site-"))
    atexit.register(shutil.rmtree, root, True)
    write_site(root, dict(files), site_yaml=site_yaml)
    build_site(root, production=production, cache=False)
    return root / "dist" / "_edge"


def built_edge(
    site_yaml: str = EDGE_SITE_YAML, files: dict[str, str] | None = None, *, production: bool = True
) -> dict[str, Any]:
    """site.json as ``sitegen build`` writes it for this site.yaml (pages: ``EDGE_SITE_FILES``);
    a fresh copy the caller may change."""
    data = _built(site_yaml, tuple(sorted((files or EDGE_SITE_FILES).items())), production)
    site: dict[str, Any] = json.loads((data / "site.json").read_text(encoding="utf-8"))
    return site


def write_edge(
    target: Path,
    site_yaml: str = EDGE_SITE_YAML,
    files: dict[str, str] | None = None,
    *,
    production: bool = True,
) -> Path:
    """``target`` made a copy of the built ``_edge/`` folder (site.json, search, chat data)."""
    data = _built(site_yaml, tuple(sorted((files or EDGE_SITE_FILES).items())), production)
    shutil.copytree(data, target, dirs_exist_ok=True)
    return target


ONE_REGION_SITE_YAML = """\
title: 7Experts
base_url: https://7expertspk.com
contact:
  email: hello@example.com
regions:
  pk:
    label: Pakistan
    countries: [PK]
    default: true
    hreflang: en-PK
    locale: en_PK
    currency: PKR
"""
ONE_REGION_SITE_FILES = {
    "content/index.md": _PAGE.format(title="Home"),
    "content/contact/thanks.md": _PAGE.format(title="Thank you"),
}


def write_one_region_edge(data: Path, site_yaml: str = "", *, production: bool = True) -> Path:
    """``data`` made the built ``_edge/`` of a one-region ("pk") site; ``site_yaml`` adds keys."""
    return write_edge(data, ONE_REGION_SITE_YAML + site_yaml, ONE_REGION_SITE_FILES, production=production)
