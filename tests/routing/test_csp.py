"""The Content-Security-Policy lists exactly the origins the configuration makes the pages use.

The expected policy is worked out here from the raw YAML (not through sitegen's schema), so a
change to what the pages load that the CSP does not follow fails one of these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from sitegen import emulator
from tests.support.sitefactory import SITE_YAML, build_site, write_site

ROOT = Path(__file__).resolve().parents[2]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def expected_policy(data: dict[str, Any]) -> dict[str, list[str]]:
    """The policy site.yaml calls for, directive -> sources."""
    turnstile = ((data.get("contact_form") or {}).get("turnstile") or {}).get("site_key")
    supabase = (data.get("portal") or {}).get("supabase_url")
    cloudflare = ["https://challenges.cloudflare.com"] if turnstile else []
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'", *cloudflare],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *([_origin(supabase)] if supabase else [])],
        "frame-src": cloudflare or ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "upgrade-insecure-requests": [],
    }


def parse_policy(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert name not in out, f"{name} twice in {policy}"
        out[name] = sources
    return out


def _deployed(files: dict[str, bytes], hosting: str) -> list[str]:
    """The CSP on a page, a 404 and an asset, as the host would send it."""
    policies = []
    for path in ("/pk/", "/intl/portal/", "/pk/nope/", "/assets/nope.css"):
        response = emulator.resolve_files(files, hosting, path, "PK")  # type: ignore[arg-type]
        policies.append(response.headers["Content-Security-Policy"])
    return policies


def test_this_sites_policy_follows_its_site_yaml(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))
    from sitegen.config import load_config
    from sitegen.routing import csp

    assert parse_policy(csp(load_config(ROOT / "site.yaml"))) == expected_policy(data)


PORTAL = "---\ntitle: Portal\ntemplate: portal\n---\nSign in.\n"


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "portal:\n  supabase_url: https://abcd1234.supabase.co\n",
        "portal:\n  supabase_url: http://127.0.0.1:54321/\n",
        "contact_form:\n  turnstile:\n    site_key: 0x4AAAAAAAB\n",
        "contact_form:\n  turnstile:\n    site_key: 0x4AAAAAAAB\nportal:\n  supabase_url: https://x.supabase.co\n",
    ],
)
@pytest.mark.parametrize("hosting", ["netlify", "vercel"])
def test_deployed_policy_is_derived_from_site_yaml(tmp_path: Path, extra: str, hosting: str) -> None:
    site_yaml = SITE_YAML + f"hosting: {hosting}\n" + extra
    write_site(
        tmp_path, {"content/index.md": "---\ntitle: Home\n---\nHi.\n", "content/portal.md": PORTAL}, site_yaml
    )
    result = build_site(tmp_path)
    want = expected_policy(yaml.safe_load(site_yaml))
    for policy in _deployed(result.files, hosting):
        assert parse_policy(policy) == want
