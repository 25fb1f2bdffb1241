"""site.json for edge tests, with the handler sections built by the real schema.

A test writes only what it cares about; every other key of the ``edge``,
``contact_form``, ``chat`` and ``portal`` sections comes from the schema's own
defaults (``sitegen.config``), exactly as ``sitegen build`` writes them, so a
test's site.json cannot drift from the real one.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

from sitegen.config import Chat, ContactForm, Edge, Portal
from sitegen.edgedata import plain

SECTIONS: dict[str, Any] = {"edge": Edge, "contact_form": ContactForm, "chat": Chat, "portal": Portal}


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return copy.deepcopy(over)


def edge_site(site: dict[str, Any] | None = None) -> dict[str, Any]:
    """``site`` with every handler section completed from the schema's defaults."""
    site = dict(site or {})
    for name, cls in SECTIONS.items():
        defaults = plain(cls())
        site[name] = _merge(defaults, site.get(name) or {})
    site.setdefault("production", True)
    site.setdefault("regions", {})
    return site


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


def write_one_region_edge(data: Path, **sections: Any) -> Path:
    """``data``/site.json for a one-region ("pk") site plus an empty search index; ``sections`` override."""
    import json

    (data / "search").mkdir(parents=True, exist_ok=True)
    (data / "search" / "pk.json").write_text("[]")
    site = {
        "production": True,
        "default_region": "pk",
        "regions": {"pk": {"label": "Pakistan", "countries": ["PK"], "urls": {"thanks": "/pk/thanks/"}}},
        "contact": {"email": "hello@example.com"},
        **sections,
    }
    (data / "site.json").write_text(json.dumps(edge_site(site)))
    return data
