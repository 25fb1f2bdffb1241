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


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = write_site(
        tmp_path_factory.mktemp("three"),
        {
            "content/index.md": "---\ntitle: Home\n---\nHello.\n",
            "content/about.md": "---\ntitle: About\n---\nAbout us.\n",
            "content/offices.md": "---\ntitle: Offices\nregions: [gulf]\n---\nDubai and Riyadh.\n",
            "content/local.md": "---\ntitle: Local\nregions: [pk, gulf]\n---\nNear you.\n",
        },
        site_yaml=THREE_REGIONS,
    )
    return build_site(root)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """This repository's site, built into a temporary folder."""
    from sitegen.build import BuildOptions, build

    return build(BuildOptions(root=ROOT, out=tmp_path_factory.mktemp("dist")))


def ask(
    result: BuildResult, host: str, path: str, country: str | None = None, **cookies: str
) -> emulator.Response:
    return emulator.resolve_files(result.files, host, path, country, cookies)  # type: ignore[arg-type]


# ------------------------------------------------------------ the real site


@pytest.mark.parametrize("host", HOSTS)
def test_pk_visitor_on_root_goes_to_pk(repo: BuildResult, host: str) -> None:
    answer = ask(repo, host, "/", "PK")
    assert (answer.status, answer.location) == (302, "/pk/")


@pytest.mark.parametrize("host", HOSTS)
def test_us_visitor_on_services_goes_to_intl(repo: BuildResult, host: str) -> None:
    answer = ask(repo, host, "/services/", "US")
    assert (answer.status, answer.location) == (302, "/intl/services/")


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("country", "cookie", "region"), [("PK", "US", "intl"), ("US", "PK", "pk"), (None, "PK", "pk")]
)
def test_override_cookie_beats_country(
    repo: BuildResult, host: str, country: str | None, cookie: str, region: str
) -> None:
    for path in ("/", "/about/"):
        answer = ask(repo, host, path, country, nf_country=cookie)
        assert (answer.status, answer.location) == (302, f"/{region}{path}")


@pytest.mark.parametrize("host", HOSTS)
def test_unknown_or_missing_country_goes_to_default_region(repo: BuildResult, host: str) -> None:
    assert ask(repo, host, "/", "DE").location == "/intl/"
    assert ask(repo, host, "/", None).location == "/intl/"


@pytest.mark.parametrize("host", HOSTS)
def test_assets_and_prefixed_paths_are_served_untouched(repo: BuildResult, host: str) -> None:
    asset = next(rel for rel in repo.files if rel.startswith("assets/") and rel.endswith(".css"))
    for country in ("PK", "US"):
        answer = ask(repo, host, f"/{asset}", country)
        assert (answer.status, answer.location, answer.file) == (200, None, asset)
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        for path, file in [("/pk/about/", "pk/about/index.html"), ("/intl/", "intl/index.html")]:
            page = ask(repo, host, path, country, nf_country="US" if country == "PK" else "PK")
            assert (page.status, page.location, page.file) == (200, None, file)
            assert "max-age=0" in page.headers["Cache-Control"]


@pytest.mark.parametrize("host", HOSTS)
def test_missing_assets_and_prefixed_pages_are_404_not_redirects(repo: BuildResult, host: str) -> None:
    for path in ("/assets/css/nope.123.css", "/pk/no-such-page/", "/intl/services/branding/"):
        answer = ask(repo, host, path, "PK")
        assert answer.status == 404 and answer.location is None, path


@pytest.mark.parametrize("host", HOSTS)
def test_page_in_one_region_only_routes_where_it_exists(repo: BuildResult, host: str) -> None:
    # Branding is offered in Pakistan only, eCommerce management internationally only.
    assert ask(repo, host, "/services/branding/", "US").location == "/pk/services/branding/"
    assert ask(repo, host, "/services/branding/", "PK").location == "/pk/services/branding/"
    assert (
        ask(repo, host, "/services/ecommerce-management/", "PK").location
        == "/intl/services/ecommerce-management/"
    )
    assert ask(repo, host, "/services/ecommerce-management/", "US", nf_country="PK").location == (
        "/intl/services/ecommerce-management/"
    )


@pytest.mark.parametrize("host", HOSTS)
def test_api_is_proxied_to_the_edge_origin(repo: BuildResult, host: str) -> None:
    answer = ask(repo, host, "/api/contact", "PK")
    assert answer.status == 200 and answer.location is None
    assert answer.proxy == f"{repo.config.edge.origin}/api/contact"


@pytest.mark.parametrize("host", HOSTS)
def test_edge_build_data_is_never_served(repo: BuildResult, host: str) -> None:
    assert "_edge/site.json" in repo.files
    answer = ask(repo, host, "/_edge/site.json", "PK")
    assert (answer.status, answer.location, answer.file) == (404, None, "404.html")
    # The other host's rule files are not public on Vercel either.
    if host == "vercel":
        for name in ("/_redirects", "/_headers"):
            other = ask(repo, host, name, "PK")
            assert other.status != 200 and other.file is None, name


@pytest.mark.parametrize("host", HOSTS)
def test_security_headers_on_pages(repo: BuildResult, host: str) -> None:
    headers = ask(repo, host, "/pk/", "PK").headers
    csp = headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "frame-ancestors 'none'" in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    assert "camera=()" in headers["Permissions-Policy"]


def test_root_files_are_served(repo: BuildResult) -> None:
    for host in HOSTS:
        answer = ask(repo, host, "/robots.txt", "PK")
        assert (answer.status, answer.file) == (200, "robots.txt")


# --------------------------------------------------------- the inline site


@pytest.mark.parametrize("host", HOSTS)
def test_every_country_of_a_region_routes_there(inline: BuildResult, host: str) -> None:
    for country, region in [("AE", "gulf"), ("SA", "gulf"), ("QA", "gulf"), ("PK", "pk"), ("FR", "world")]:
        assert ask(inline, host, "/", country).location == f"/{region}/"
        assert ask(inline, host, "/about/", country).location == f"/{region}/about/"


@pytest.mark.parametrize("host", HOSTS)
def test_partial_pages_prefer_the_visitors_region(inline: BuildResult, host: str) -> None:
    # /local/ exists in pk and gulf: each keeps its own; the world falls back to the first that has it.
    assert ask(inline, host, "/local/", "AE").location == "/gulf/local/"
    assert ask(inline, host, "/local/", "PK").location == "/pk/local/"
    assert ask(inline, host, "/local/", "FR").location == "/pk/local/"
    assert ask(inline, host, "/offices/", "PK").location == "/gulf/offices/"


def test_emulator_reads_the_generated_files(inline: BuildResult) -> None:
    # Change the generated rules and the answer follows: no second copy of the logic.
    files = dict(inline.files)
    files["_redirects"] = files["_redirects"].replace(b"Country=ae,sa,qa", b"Country=fr")
    assert emulator.resolve_files(files, "netlify", "/", "FR").location == "/gulf/"
    config = json.loads(files["vercel.json"])
    for rule in config["redirects"]:
        rule["destination"] = rule["destination"].replace("/world/", "/pk/")
    files["vercel.json"] = json.dumps(config).encode()
    assert emulator.resolve_files(files, "vercel", "/", "FR").location == "/pk/"


def test_malformed_rules_are_reported() -> None:
    with pytest.raises(emulator.RulesError, match="_redirects:2"):
        emulator.resolve_files({"_redirects": "/a /b 302\n/lonely\n"}, "netlify", "/x")
    with pytest.raises(emulator.RulesError, match="vercel.json"):
        emulator.resolve_files({"vercel.json": "{not json"}, "vercel", "/x")
    with pytest.raises(ValueError, match="unknown host"):
        emulator.resolve_files({}, "apache", "/")  # type: ignore[arg-type]


def test_resolve_reads_a_build_on_disk(inline: BuildResult) -> None:
    answer = emulator.resolve("netlify", "/", "AE", out_dir=inline.out)
    assert (answer.status, answer.location) == (302, "/gulf/")
    assert (
        emulator.resolve("vercel", "/gulf/offices/", "PK", out_dir=inline.out).file
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
    assert {p.name for p in written} == {"_redirects", "_headers", "vercel.json", ".vercelignore"}
    for path in written:
        assert path.read_bytes() == inline.files[path.name], path.name


@pytest.mark.parametrize("host", HOSTS)
def test_bare_region_prefix_is_that_regions_home(repo: BuildResult, host: str) -> None:
    for region in ("pk", "intl"):
        answer = ask(repo, host, f"/{region}", "US" if region == "pk" else "PK")
        assert answer.location in (None, f"/{region}/"), answer
        assert answer.file in (None, f"{region}/index.html"), answer
