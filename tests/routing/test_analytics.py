"""Analytics scripts and the CSP follow site.yaml's analytics setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitegen import emulator
from tests.support.sitefactory import SITE_YAML, build_site, write_site

SCRIPTS = ("/_vercel/insights/script.js", "/_vercel/speed-insights/script.js")


def _build(root: Path, analytics: str) -> tuple[str, str]:
    write_site(root, {"content/index.md": "---\ntitle: Home\n---\nHi.\n"}, site_yaml=SITE_YAML + analytics)
    result = build_site(root)
    page = result.files["pk/index.html"].decode()
    host = result.config.hosting
    csp = emulator.resolve_files(result.files, host, "/pk/", "PK").headers["Content-Security-Policy"]  # type: ignore[arg-type]
    return page, csp


def _scripts(page: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="(/_vercel/[^"]+)"', page)


@pytest.mark.parametrize(
    ("analytics", "expected"),
    [
        ("hosting: vercel\nanalytics:\n  provider: vercel\n  speed_insights: true\n", list(SCRIPTS)),
        ("hosting: vercel\nanalytics:\n  provider: vercel\n  speed_insights: false\n", [SCRIPTS[0]]),
        ("hosting: netlify\nanalytics:\n  provider: netlify\n", []),
        ("hosting: vercel\nanalytics:\n  provider: none\n", []),
    ],
)
def test_scripts_follow_the_provider(tmp_path: Path, analytics: str, expected: list[str]) -> None:
    page, csp = _build(tmp_path, analytics)
    assert _scripts(page) == expected
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag, f"inline script: {tag}"  # the CSP allows no inline code
    script_src = next(d.strip() for d in csp.split(";") if d.strip().startswith("script-src"))
    # Vercel serves its scripts from the site's own origin: 'self' is enough, nothing else is allowed.
    assert script_src == "script-src 'self'"
