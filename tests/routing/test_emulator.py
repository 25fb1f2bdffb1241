"""The routing emulator over deploy files generated from site.yaml regions.

Two builds: a small inline three-region site (regions are data, not pk/intl)
and this repository's own site. Every answer comes from the generated
``_redirects``/``_headers``/``vercel.json``, read back by the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen import emulator
from sitegen.build import BuildResult
from tests.support.routing_cases import CASES, Case, copy_sources, hosted_site_yaml
from tests.support.sitefactory import build_site, write_site

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ["netlify", "vercel"]

THREE_REGIONS = """\
title: Three
base_url: https://three.example
contact:
  company: Three Co
  email: hi@three.example
edge:
  origin: https://edge.three.example
regions:
  pk:
    label: Pakistan
    countries: [PK]
    hreflang: en-PK
    locale: en_PK
    currency: PKR
  gulf:
    label: Gulf
    countries: [AE, SA, QA]
    hreflang: en-AE
    locale: en_AE
    currency: AED
  world:
    label: World
    default: true
    hreflang: en
    locale: en_US
    currency: USD
chat:
  enabled: false
"""


@pytest.fixture(scope="module", params=HOSTS)
def inline(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    site_yaml = THREE_REGIONS
    if request.param == "vercel":  # one deploy: the edge runs as the project's function
        site_yaml = site_yaml.replace("edge:\n  origin: https://edge.three.example\n", "hosting: vercel\n")
    root = write_site(
        tmp_path_factory.mktemp("three"),
        {
            "content/index.md": "---\ntitle: Home\n---\nHello.\n",
            "content/about.md": "---\ntitle: About\n---\nAbout us.\n",
            "content/offices.md": "---\ntitle: Offices\nregions: [gulf]\n---\nDubai and Riyadh.\n",
            "content/local.md": "---\ntitle: Local\nregions: [pk, gulf]\n---\nNear you.\n",
        },
        site_yaml=site_yaml,
    )
    return build_site(root)


def build_repo_site(root: Path, hosting: str) -> BuildResult:
    """This repository's content built with ``hosting`` set (a copy of site.yaml in ``root``)."""

    from sitegen.build import BuildOptions, build

    copy_sources(ROOT, root)
    (root / "site.yaml").write_text(hosted_site_yaml(ROOT, hosting), encoding="utf-8")
    return build(BuildOptions(root=root, out=root / "dist"))


@pytest.fixture(scope="module", params=HOSTS)
def repo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """This repository's site as each host gets it."""
    return build_repo_site(tmp_path_factory.mktemp(request.param), request.param)


def ask(
    result: BuildResult, host: str, path: str, country: str | None = None, **cookies: str
) -> emulator.Response:
    return emulator.resolve_files(result.files, host, path, country, cookies)  # type: ignore[arg-type]


# ------------------------------------------------------------ the real site


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_table(repo: BuildResult, case: Case) -> None:
    host = repo.config.hosting
    cookies = {"nf_country": case.cookie} if case.cookie else {}
    answer = ask(repo, host, case.path, case.country, **cookies)
    if case.edge:
        assert answer.status == 200 and answer.location is None
        if host == "netlify":
            assert answer.proxy == f"{repo.config.edge.origin}{case.path}"
        else:
            assert answer.function == "/api/index"
        return
    assert (answer.status, answer.location, answer.file) == (case.status, case.location, case.file)
    assert answer.headers["Content-Security-Policy"], "every response carries the security headers"


def test_only_the_hosts_rule_files_are_written(repo: BuildResult) -> None:
    rules = {"_redirects", "_headers", "vercel.json", ".vercelignore"} & set(repo.files)
    expected = (
        {"vercel.json", ".vercelignore"} if repo.config.hosting == "vercel" else {"_redirects", "_headers"}
    )
    assert rules == expected


def test_caching_headers(repo: BuildResult) -> None:
    host = repo.config.hosting
    asset = next(rel for rel in repo.files if rel.startswith("assets/") and rel.endswith(".css"))
    answer = ask(repo, host, f"/{asset}", "PK")
    assert (answer.status, answer.file) == (200, asset)
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    page = ask(repo, host, "/pk/about/", "US")
    assert "max-age=0" in page.headers["Cache-Control"]


def test_security_headers_on_pages(repo: BuildResult) -> None:
    headers = ask(repo, repo.config.hosting, "/pk/", "PK").headers
    csp = headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'none'" in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    assert "camera=()" in headers["Permissions-Policy"]


def test_bare_region_prefix_is_that_regions_home(repo: BuildResult) -> None:
    for region in ("pk", "intl"):
        answer = ask(repo, repo.config.hosting, f"/{region}", "US" if region == "pk" else "PK")
        assert answer.location in (None, f"/{region}/"), answer
        assert answer.file in (None, f"{region}/index.html"), answer


# --------------------------------------------------------- the inline site


def test_every_country_of_a_region_routes_there(inline: BuildResult) -> None:
    host = inline.config.hosting
    for country, region in [("AE", "gulf"), ("SA", "gulf"), ("QA", "gulf"), ("PK", "pk"), ("FR", "world")]:
        assert ask(inline, host, "/", country).location == f"/{region}/"
        assert ask(inline, host, "/about/", country).location == f"/{region}/about/"


def test_partial_pages_prefer_the_visitors_region(inline: BuildResult) -> None:
    host = inline.config.hosting
    # /local/ exists in pk and gulf: each keeps its own; the world falls back to the first that has it.
    assert ask(inline, host, "/local/", "AE").location == "/gulf/local/"
    assert ask(inline, host, "/local/", "PK").location == "/pk/local/"
    assert ask(inline, host, "/local/", "FR").location == "/pk/local/"
    assert ask(inline, host, "/offices/", "PK").location == "/gulf/offices/"


def test_emulator_reads_the_generated_files(inline: BuildResult) -> None:
    # Change the generated rules and the answer follows: no second copy of the logic.
    files = dict(inline.files)
    if inline.config.hosting == "netlify":
        files["_redirects"] = files["_redirects"].replace(b"Country=ae,sa,qa", b"Country=fr")
        assert emulator.resolve_files(files, "netlify", "/", "FR").location == "/gulf/"
        return
    config = json.loads(files["vercel.json"])
    for route in config["routes"]:
        if "Location" in route.get("headers", {}):
            route["headers"]["Location"] = route["headers"]["Location"].replace("/world/", "/pk/")
    files["vercel.json"] = json.dumps(config).encode()
    assert emulator.resolve_files(files, "vercel", "/", "FR").location == "/pk/"


def test_malformed_rules_are_reported() -> None:
    with pytest.raises(emulator.RulesError, match="_redirects:2"):
        emulator.resolve_files({"_redirects": "/a /b 302\n/lonely\n"}, "netlify", "/x")
    with pytest.raises(emulator.RulesError, match="_redirects:1: condition without a value"):
        emulator.resolve_files({"_redirects": "/  /world/  302!  Country=\n"}, "netlify", "/")
    with pytest.raises(emulator.RulesError, match="_headers:2: expected a path or URL"):
        emulator.resolve_files({"_headers": "/*\nXXXX\n  X-Frame-Options: DENY\n"}, "netlify", "/x")
    with pytest.raises(emulator.RulesError, match="vercel.json"):
        emulator.resolve_files({"vercel.json": "{not json"}, "vercel", "/x")
    with pytest.raises(ValueError, match="unknown host"):
        emulator.resolve_files({}, "apache", "/")  # type: ignore[arg-type]


def test_resolve_reads_a_build_on_disk(inline: BuildResult) -> None:
    host = inline.config.hosting
    answer = emulator.resolve(host, "/", "AE", out_dir=inline.out)  # type: ignore[arg-type]
    assert (answer.status, answer.location) == (302, "/gulf/")
    assert (
        emulator.resolve(host, "/gulf/offices/", "PK", out_dir=inline.out).file  # type: ignore[arg-type]
        == "gulf/offices/index.html"
    )


def test_write_routing_matches_the_build(inline: BuildResult, tmp_path: Path) -> None:
    from sitegen.routing import write_routing

    pages = {
        rid: {
            "/" + rel.removeprefix(f"{rid}/").removesuffix("index.html")
            for rel in inline.files
            if rel.startswith(f"{rid}/") and rel.endswith("index.html")
        }
        for rid in inline.config.region_ids
    }
    written = write_routing(tmp_path, inline.config, pages)
    assert {p.name for p in written} == (
        {"vercel.json", ".vercelignore"} if inline.config.hosting == "vercel" else {"_redirects", "_headers"}
    )
    for path in written:
        assert path.read_bytes() == inline.files[path.name], path.name
