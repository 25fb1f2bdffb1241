"""Preview builds: --base-url / SITEGEN_BASE_URL, the hosts' preview variables in build.py, serve's own address."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from sitegen.build import BuildOptions, BuildResult, build
from sitegen.cli import main
from sitegen.config import load_config
from sitegen.serve import local_origin
from tests.support.sitefactory import run_build_py, write_site

REPO = Path(__file__).resolve().parents[2]
PREVIEW = "https://preview.example"
HOME = "---\ntitle: Home\n---\nHello.\n"


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """This repository's site built for a preview deploy (its cache and dist/ untouched)."""
    out = tmp_path_factory.mktemp("preview") / "dist"
    return build(BuildOptions(root=REPO, out=out, base_url=PREVIEW, cache=False))


def test_a_preview_build_contains_no_production_url(preview: BuildResult) -> None:
    host = urlsplit(load_config(REPO / "site.yaml").base_url).hostname
    assert host
    # Any scheme, and the www. name the site also answers on (edge.allowed_origins).
    needles = [f"//{host}".encode(), f"//www.{host}".encode()]
    found = [rel for rel in preview.files if any(n in preview.files[rel] for n in needles)]
    assert found == []
    assert len(preview.files) > 40, "the whole output was searched"


def test_a_preview_build_names_the_preview_everywhere(preview: BuildResult) -> None:
    page = preview.files["pk/about/index.html"].decode()
    assert f'<link rel="canonical" href="{PREVIEW}/pk/about/">' in page
    assert f'hreflang="en" href="{PREVIEW}/intl/about/"' in page
    assert f'property="og:url" content="{PREVIEW}/pk/about/"' in page
    assert f"<loc>{PREVIEW}/pk/about/</loc>" in preview.files["pk/sitemap.xml"].decode()
    assert f"<loc>{PREVIEW}/pk/sitemap.xml</loc>" in preview.files["sitemap.xml"].decode()
    assert f"Sitemap: {PREVIEW}/sitemap.xml" in preview.files["robots.txt"].decode()
    site = json.loads(preview.files["_edge/site.json"])
    assert site["base_url"] == PREVIEW
    # The preview accepts posts from itself (always) and never from production's pages.
    assert site["edge"]["allowed_origins"] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("preview.example", "'preview.example' is not an absolute http(s) URL with a host"),
        ("ftp://preview.example", "'ftp://preview.example' is not an absolute http(s) URL with a host"),
        ("https://", "'https://' is not an absolute http(s) URL with a host"),
        ("https://preview.example/docs", "'https://preview.example/docs' has a path, query or fragment"),
        ("https://preview.example/?x=1", "has a path, query or fragment"),
        ("https://user:pw@preview.example", "carries a user name or password"),
        ("https://preview.example:99999", "is not a URL (Port out of range"),
    ],
)
def test_a_base_url_that_is_not_an_origin_is_refused(tmp_path: Path, value: str, message: str) -> None:
    root = write_site(tmp_path / "site", {"content/index.md": HOME})
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--base-url", value])
    assert result.exit_code == 1
    assert f"error: --base-url / SITEGEN_BASE_URL: '{value}'" in result.output
    assert message in result.output
    assert "Traceback" not in result.output and not (root / "dist").exists()


def test_the_environment_variable_and_a_trailing_slash(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"content/index.md": HOME})
    env = {"SITEGEN_BASE_URL": "http://localhost:8080/"}
    result = CliRunner().invoke(main, ["build", "--root", str(root), "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert "<loc>http://localhost:8080/pk/</loc>" in (root / "dist/pk/sitemap.xml").read_text()
    # The option wins over the variable; a rebuild for another origin renders every page again.
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--base-url", PREVIEW], env=env)
    assert result.exit_code == 0, result.output
    assert f"<loc>{PREVIEW}/pk/</loc>" in (root / "dist/pk/sitemap.xml").read_text()
    assert "cache: 0 of 2 pages unchanged" in result.output


def _build_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("host_build", REPO / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NETLIFY = {"NETLIFY": "true", "DEPLOY_PRIME_URL": "https://deploy-preview-7--tiny.netlify.app"}
VERCEL = {"VERCEL": "1", "VERCEL_URL": "tiny-abc123.vercel.app", "VERCEL_BRANCH_URL": "tiny-git-x.vercel.app"}


@pytest.mark.parametrize(
    ("env", "origin"),
    [
        ({**NETLIFY, "CONTEXT": "deploy-preview"}, "https://deploy-preview-7--tiny.netlify.app"),
        ({**NETLIFY, "CONTEXT": "branch-deploy"}, "https://deploy-preview-7--tiny.netlify.app"),
        ({**NETLIFY, "CONTEXT": "production"}, None),
        ({**VERCEL, "VERCEL_ENV": "preview"}, "https://tiny-git-x.vercel.app"),
        ({**VERCEL, "VERCEL_ENV": "preview", "VERCEL_BRANCH_URL": ""}, "https://tiny-abc123.vercel.app"),
        ({**VERCEL, "VERCEL_ENV": "production"}, None),
        ({}, None),
    ],
)
def test_build_py_names_the_hosts_preview_address(env: dict[str, str], origin: str | None) -> None:
    host_build = _build_py()
    assert host_build.preview_origin(env) == origin
    args = host_build.arguments(["-q"], env)
    assert (args[-2:] == ["--base-url", origin]) if origin else "--base-url" not in args
    # An explicit choice wins over the host's variables.
    assert "--base-url" not in host_build.arguments([], {**env, "SITEGEN_BASE_URL": PREVIEW})
    assert host_build.arguments(["--base-url", PREVIEW], env).count("--base-url") == 1


def test_build_py_on_a_netlify_deploy_preview(tmp_path: Path) -> None:
    """The host's build command, run as Netlify runs it for a pull request."""
    env = {**NETLIFY, "CONTEXT": "deploy-preview"}
    checkout, proc = run_build_py(tmp_path, {"content/index.md": HOME}, ["-q", "--jobs", "1"], env)
    assert proc.returncode == 0, proc.stderr
    page = (checkout / "dist/pk/index.html").read_text(encoding="utf-8")
    assert 'rel="canonical" href="https://deploy-preview-7--tiny.netlify.app/pk/"' in page
    assert "tiny.example" not in (checkout / "dist/robots.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("host", "port", "origin"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("localhost", 3000, "http://localhost:3000"),
        ("::", 8000, "http://[::1]:8000"),
        ("::1", 8001, "http://[::1]:8001"),
    ],
)
def test_serve_names_its_own_address(host: str, port: int, origin: str) -> None:
    assert local_origin(host, port) == origin
