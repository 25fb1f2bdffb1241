"""What site.yaml configures is what the deployed /api/contact enforces.

Each test builds a tiny site with the real generator, loads the edge settings from its
dist/_edge/ the way the deployed function does, and talks HTTP to the whole edge app. They pin
behaviour an attacker or a visitor sees (mutation testing found these paths unguarded), so they
do not depend on how edge/contact.py is arranged inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.app import create_app
from edge.settings import load_settings
from tests.support.sitefactory import SITE_YAML, build_site, write_site

pytestmark = pytest.mark.anyio

HOME = {"content/index.md": "---\ntitle: Home\n---\nHi.\n"}
JSON = {"Accept": "application/json"}


def _edge_app(root: Path, extra_yaml: str) -> Any:
    write_site(root, dict(HOME), site_yaml=SITE_YAML + extra_yaml)
    build_site(root)
    settings = load_settings(environ={}, data_dir=root / "dist" / "_edge", local_dir=root / "local")
    return create_app(settings)


def _form(**overrides: str) -> dict[str, str]:
    fields = {
        "name": "Ayesha Khan",
        "email": "ayesha@example.com",
        "phone": "0336 6532777",
        "message": "We need a new website for our textile shop in Karachi.",
        "consent": "on",
        "region": "pk",
        "website": "",
    }
    fields.update(overrides)
    return fields


async def _post(app: Any, base: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        return await client.post("/api/contact", json=_form(), headers={**JSON, **headers})


@pytest.fixture(scope="module")
def origins_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _edge_app(
        tmp_path_factory.mktemp("origins"), "edge:\n  allowed_origins:\n    - https://7expertspk.com\n"
    )


@pytest.mark.parametrize(
    ("base", "origin"),
    [
        ("http://testserver", "http://eviltestserver"),  # the host as a suffix of another name
        ("https://7expertspk.com", "https://evil7expertspk.com"),
        ("https://7expertspk.com", "https://7expertspk.com.evil.example"),  # the host as a prefix
        ("https://shop.example", "ftp://shop.example"),  # right host, wrong scheme
        ("https://shop.example", "null"),  # sandboxed frame or file:// page
        ("https://shop.example", "https://shop.example:8443"),  # same name, another origin
    ],
)
async def test_same_host_origin_check_rejects_other_origins(origins_app: Any, base: str, origin: str) -> None:
    response = await _post(origins_app, base, {"Origin": origin})
    assert response.status_code == 403, (origin, response.text)
    assert "Cross-site" in response.json()["error"]


async def test_same_host_origin_is_accepted(origins_app: Any) -> None:
    response = await _post(origins_app, "https://shop.example", {"Origin": "https://shop.example"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil7expertspk.com",  # an allowed origin as a suffix
        "https://www.7expertspk.com",  # a subdomain of an allowed origin is another origin
        "https://7expertspk.com.evil.example",
        "http://7expertspk.com",  # allowed host, other scheme
        "https://7expertspk.com:444",
    ],
)
async def test_allowed_origins_match_exactly(origins_app: Any, origin: str) -> None:
    # The edge runs on its own host; the site's origin is allowed only by the list.
    response = await _post(origins_app, "https://edge.example", {"Origin": origin})
    assert response.status_code == 403, (origin, response.text)


async def test_allowed_origin_from_site_yaml_is_accepted_cross_host(origins_app: Any) -> None:
    response = await _post(origins_app, "https://edge.example", {"Origin": "https://7expertspk.com/"})
    assert response.status_code == 200, response.text


async def test_contact_app_from_site_yaml_enforces_its_per_minute_limit(tmp_path: Path) -> None:
    app = _edge_app(tmp_path, "contact_form:\n  rate_limit_per_minute: 3\n")
    statuses = [(await _post(app, "http://testserver", {})).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await _post(app, "http://testserver", {})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
