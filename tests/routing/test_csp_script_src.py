"""script-src never allows inline code or eval, whatever integrations site.yaml switches on.

Every optional integration that adds to the CSP is on here (Vercel Web Analytics and Speed
Insights, Turnstile, the chat assistant, the portal, Search Console), on both hosts, and the
edge's own HTML page is checked too. Before this test only an analytics test that compared the
whole header would notice 'unsafe-inline' in script-src.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from edge.app import create_app
from edge.settings import load_settings
from sitegen import emulator
from tests.support.sitefactory import SITE_YAML, build_site, write_site

EVERYTHING_ON = """\
hosting: {hosting}
analytics:
  provider: {analytics}
  speed_insights: {speed_insights}
search_console:
  verification: token-123
edge:
{edge_origin}  allowed_origins: [https://tiny.example]
contact_form:
  turnstile:
    site_key: 0x4AAAAAAAtestsitekey
    secret_env: TURNSTILE_SECRET_KEY
chat:
  enabled: true
  providers:
    - id: groq
      name: Groq
      api: openai
      base_url: https://api.groq.com/openai/v1
      model: llama-3.3-70b-versatile
      api_key_env: GROQ_API_KEY
      privacy_url: https://groq.com/privacy-policy/
portal:
  bucket: portal-files
"""
# Keywords and sources that let a page run script it did not load from a listed origin.
FORBIDDEN = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "blob:", "http:", "https:"}


def script_sources(csp: str) -> dict[str, list[str]]:
    """The sources each script directive allows (default-src stands in for a missing script-src)."""
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    base = directives.get("script-src", directives.get("default-src"))
    assert base is not None, f"no script-src or default-src: {csp}"
    return {
        "script-src": base,
        "script-src-elem": directives.get("script-src-elem", base),
        "script-src-attr": directives.get("script-src-attr", base),
    }


def assert_no_inline_or_eval(csp: str, where: str) -> None:
    for directive, sources in script_sources(csp).items():
        bad = FORBIDDEN & {s.lower() for s in sources}
        assert not bad, f"{where}: {directive} allows {sorted(bad)}"


def test_script_src_helper_sees_inline_eval_and_fallbacks() -> None:
    with pytest.raises(AssertionError):
        assert_no_inline_or_eval("default-src 'self'; script-src 'self' 'unsafe-inline'", "x")
    with pytest.raises(AssertionError):
        assert_no_inline_or_eval("default-src 'self' 'unsafe-eval'", "x")
    with pytest.raises(AssertionError):
        assert_no_inline_or_eval("script-src 'self'; script-src-attr 'unsafe-inline'", "x")
    assert_no_inline_or_eval("default-src 'none'; style-src 'unsafe-inline'", "x")


@pytest.mark.parametrize(("hosting", "analytics"), [("vercel", "vercel"), ("netlify", "netlify")])
def test_script_src_never_allows_inline_or_eval_with_every_integration_on(
    tmp_path: Path, hosting: str, analytics: str
) -> None:
    base = SITE_YAML.replace("chat:\n  enabled: false\n", "")
    # Speed Insights is a Vercel script: the build refuses it with any other provider.
    speed_insights = "true" if analytics == "vercel" else "false"
    # On Vercel the edge is a function of the same deploy: no other origin to proxy to.
    edge_origin = "" if hosting == "vercel" else "  origin: https://edge.example\n"
    yaml_text = base + EVERYTHING_ON.format(
        hosting=hosting, analytics=analytics, speed_insights=speed_insights, edge_origin=edge_origin
    )
    write_site(tmp_path, {"content/index.md": "---\ntitle: Home\n---\nHi.\n"}, site_yaml=yaml_text)
    result = build_site(tmp_path)
    seen = 0
    for host in ("netlify", "vercel"):
        for path, country in (("/pk/", "PK"), ("/intl/", "US"), ("/", "PK"), ("/no-such-page/", "US")):
            headers = emulator.resolve_files(result.files, host, path, country).headers
            csp = headers.get("Content-Security-Policy")
            if csp is not None:
                seen += 1
                assert "challenges.cloudflare.com" in csp, "Turnstile is on: its script must be allowed"
                assert_no_inline_or_eval(csp, f"{host} {path}")
    assert seen >= 4, "the generated headers carry no CSP"


@pytest.mark.anyio
async def test_edge_html_pages_allow_no_script(tmp_path: Path) -> None:
    """The no-JavaScript contact form's error page carries its own CSP."""
    write_site(tmp_path, {"content/index.md": "---\ntitle: Home\n---\nHi.\n"})
    build_site(tmp_path)
    settings = load_settings(environ={}, data_dir=tmp_path / "dist" / "_edge", local_dir=tmp_path / "local")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/api/contact", data={"name": "", "region": "pk"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert_no_inline_or_eval(response.headers["Content-Security-Policy"], "edge contact page")
