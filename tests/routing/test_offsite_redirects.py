"""No redirect of the generated host rules leaves the site's origin (every rule file, both hosts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen import emulator
from sitegen.build import BuildOptions, BuildResult, build

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    "//pk",
    "//pk/",
    "///",
    "//evil.example",
    "//evil.example/x",
    "/\\evil.example",
    "/pk//about",
    "//intl/",
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(BuildOptions(root=ROOT, out=tmp_path_factory.mktemp("dist")))


def same_origin(location: str, base_url: str) -> bool:
    if location.startswith(base_url.rstrip("/") + "/"):
        return True
    return location.startswith("/") and not location.startswith(("//", "/\\"))


def text(result: BuildResult, name: str) -> str:
    data = result.files[name]
    return data.decode() if isinstance(data, bytes) else str(data)


def test_every_redirect_rule_targets_the_site(repo: BuildResult) -> None:
    base = repo.config.base_url
    if "_redirects" in repo.files:  # hosting: netlify
        rules = emulator.parse_redirects(text(repo, "_redirects"))
        redirects = [r for r in rules if 300 <= r.status < 400]
        assert redirects, "the geo redirects are expected in _redirects"
        for rule in redirects:
            assert same_origin(rule.target, base), rule
    if "vercel.json" in repo.files:  # hosting: vercel
        routes = json.loads(text(repo, "vercel.json"))["routes"]
        locations = [r["headers"]["Location"] for r in routes if "Location" in r.get("headers", {})]
        assert locations, "the geo redirects are expected in vercel.json"
        for location in locations:
            assert same_origin(location, base), location


@pytest.mark.parametrize("host", ["netlify", "vercel"])
@pytest.mark.parametrize("path", HOSTILE)
@pytest.mark.parametrize("country", [None, "PK", "US"])
def test_hostile_paths_stay_on_the_origin(
    repo: BuildResult, host: str, path: str, country: str | None
) -> None:
    answer = emulator.resolve_files(repo.files, host, path, country)  # type: ignore[arg-type]
    if answer.location is not None:
        assert same_origin(answer.location, repo.config.base_url), (host, path, answer.location)
