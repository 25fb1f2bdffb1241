"""The contact form's page for browsers without JavaScript.

A plain form post that fails (a field to fix, a rate limit, storage down) is
answered with this page: the form again with everything the visitor typed,
escaped, and what went wrong. It carries its own tiny stylesheet and no script.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from edge.contact_fields import FIELDS, LIMITS, TURNSTILE_FIELD
from edge.http import BadRequest
from edge.settings import Settings

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("edge", "templates"), autoescape=True)

LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "service": "Service",
    "message": "Message",
    "consent": "Consent",
    "region": "Region",
    TURNSTILE_FIELD: "Spam check",
}

HEADINGS = {
    422: "Please check your message",
    429: "Please wait a moment",
    503: "Your message could not be saved yet",
}

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def form_action(request: Request) -> str:
    path = str(request.scope.get("path") or "/")
    root = str(request.scope.get("root_path") or "")
    # Starlette keeps the full path in ``path``; other servers may split it off into root_path.
    return path if path.startswith(root) else root + path


def _values(raw: Mapping[str, Any]) -> dict[str, str]:
    values = {k: (v if isinstance(v, str) else "") for k, v in raw.items() if k in FIELDS}
    values = {k: values.get(k, "") for k in FIELDS}
    if isinstance(raw.get("consent"), bool):
        values["consent"] = "on" if raw["consent"] else ""
    return values


def render(
    settings: Settings, request: Request, error: BadRequest, raw: Mapping[str, Any] | None
) -> HTMLResponse:
    """The page for ``error``; with the submitted fields ``raw`` the form is shown again, filled in."""
    context: dict[str, Any] = {
        "heading": "Your message was not sent",
        "title": "",
        "error": error.reason,
        "errors": error.errors,
        "labels": LABELS,
        "show_form": False,
        "action": "",
        "values": {},
        "services": [],
        "privacy_url": "/",
        "contact_url": "/",
        "email": "",
        "limits": {},
    }
    if raw is not None:
        values = _values(raw)
        region_id = values["region"] if values["region"] in settings.regions else ""
        region = settings.regions.get(region_id or settings.default_region, {})
        urls = region.get("urls") or {}
        context |= {
            "heading": HEADINGS.get(error.status_code, context["heading"]),
            "title": settings.site.get("title", ""),
            "show_form": True,
            "action": form_action(request),
            "values": {**values, "region": region_id or settings.default_region},
            "services": region.get("services") or [],
            "privacy_url": urls.get("privacy", "/"),
            "contact_url": urls.get("contact", "/"),
            "email": settings.section("contact").get("email", ""),
            "limits": LIMITS,
        }
    page = _ENV.get_template("contact_page.html").render(**context)
    return HTMLResponse(page, status_code=error.status_code, headers=PAGE_HEADERS)
