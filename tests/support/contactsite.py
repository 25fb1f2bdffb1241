"""The contact handler's test site: edge data built by the real build, settings, a valid form.

Shared by the contact, inquiry and limit tests (tests/edge) and the browser tests of the form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.settings import Settings, load_settings
from tests.support.edgesite import EDGE_SITE_YAML, built_edge, write_edge

BASE = "http://testserver"
JSON_HEADERS = {"Accept": "application/json"}


def contact_site_yaml(rate_per_minute: int = 1000, max_body: int = 16384, retention_months: int = 12) -> str:
    """The two-region site hosted on Netlify with the edge on its own origin, as deployed there."""
    return EDGE_SITE_YAML + (
        "hosting: netlify\n"
        "edge:\n"
        "  origin: https://edge.7expertspk.com\n"
        "  allowed_origins: [https://7expertspk.com]\n"
        "  proxy_signature_env: NETLIFY_PROXY_SIGNATURE\n"
        "contact_form:\n"
        f"  max_body_bytes: {max_body}\n"
        f"  rate_limit_per_minute: {rate_per_minute}\n"
        "privacy:\n"
        "  retention:\n"
        f"    inquiries_months: {retention_months}\n"
    )


def site_data(**options: Any) -> dict[str, Any]:
    """site.json of a development build (``sitegen serve``) of that site; ``options`` as
    for :func:`contact_site_yaml`."""
    return built_edge(contact_site_yaml(**options), production=False)


def write_edge_data(directory: Path, **options: Any) -> Path:
    """``directory`` made the built ``_edge/`` folder of that site."""
    return write_edge(directory, contact_site_yaml(**options), production=False)


def make_settings(tmp_path: Path, env: dict[str, str] | None = None, **options: Any) -> Settings:
    data = write_edge_data(tmp_path / "edge-data", **options)
    return load_settings(environ=env or {}, data_dir=data, local_dir=tmp_path / "local")


def valid(**overrides: Any) -> dict[str, Any]:
    """A contact form a visitor in Pakistan filled in correctly."""
    fields: dict[str, Any] = {
        "name": "Ayesha Khan",
        "email": "ayesha@example.com",
        "phone": "0336 6532777",
        "company": "Khan Textiles",
        "service": "web-development",
        "message": "We need a new website for our textile shop in Karachi.",
        "consent": "on",
        "region": "pk",
        "website": "",
    }
    fields.update(overrides)
    return fields
