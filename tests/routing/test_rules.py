"""What visitors get from the deploy rules generated for a site.yaml, on both hosts, without a build.

Each test writes a site.yaml, generates the host's rule files with ``sitegen.routing.files`` for a
set of pages (and static files), and asks the emulator, which reads those files back with each
host's documented matching. The site is the region table below (three regions, the default last)
unless a test needs another shape of regions: the default declared first, a default with countries
of its own, a region no country is routed to.
"""

from __future__ import annotations

import json
import locale
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from sitegen import emulator, routing
from sitegen.config.schema import SiteConfig
from sitegen.config.validate import load_config

HOSTS = ["netlify", "vercel"]

HEAD = """\
title: Rules
base_url: https://rules.example
contact:
  company: Rules Co
  email: hi@rules.example
chat:
  enabled: false
"""


def region(rid: str, countries: str = "", default: bool = False) -> str:
    return (
        f"  {rid}:\n    label: {rid.title()}\n    hreflang: en\n    locale: en_US\n    currency: USD\n"
        + (f"    countries: [{countries}]\n" if countries else "")
        + ("    default: true\n" if default else "")
    )


THREE = region("pk", "PK") + region("gulf", "AE, SA, QA") + region("world", default=True)


def site(tmp_path: Path, host: str, regions: str = THREE, extra: str = "") -> SiteConfig:
    (tmp_path / "site.yaml").write_text(
        HEAD + f"hosting: {host}\n" + extra + "regions:\n" + regions, encoding="utf-8"
    )
    return load_config(tmp_path / "site.yaml")


def published(
    config: SiteConfig, pages: Mapping[str, set[str]] | None = None, static: Iterable[str] = ()
) -> dict[str, object]:
    """The output folder as the host gets it: the rule files, each region's pages and 404 page,
    the root 404, robots.txt, the sitemaps, one stylesheet and the static files."""
    if pages is None:
        # /local/ is missing from the last region, so the rules for such pages are always there.
        pages = {rid: {"/", "/about/", "/local/"} for rid in config.region_ids}
        pages[config.region_ids[-1]].remove("/local/")
    files: dict[str, object] = dict(routing.files(config, pages, static=static))
    for rid, paths in pages.items():
        files.update({f"{rid}{path}index.html": b"" for path in paths})
        files[f"{rid}/404.html"] = b""
        files[f"{rid}/sitemap.xml"] = b""
    for rel in ["404.html", "robots.txt", "sitemap.xml", "assets/app.css", "_edge/site.json", *static]:
        files[rel] = b""
    return files


def ask(
    files: Mapping[str, object], config: SiteConfig, path: str, country: str | None = None, cookie: str = ""
) -> emulator.Response:
    cookies = {"nf_country": cookie} if cookie else {}
    return emulator.resolve_files(files, config.hosting, path, country, cookies)  # type: ignore[arg-type]


def where(files: Mapping[str, object], config: SiteConfig, path: str, *who: str | None) -> list[str | None]:
    """Where visitors from each country (None: no country known) are sent for ``path``."""
    return [ask(files, config, path, country).location for country in who]


# ------------------------------------------------------------------ headers

SECURITY = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'; upgrade-insecure-requests",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize("host", HOSTS)
def test_every_answer_carries_the_full_security_policy(tmp_path: Path, host: str) -> None:
    config = site(tmp_path, host)
    files = published(config)
    answers = {
        "page": ask(files, config, "/gulf/about/", "PK"),
        "region 404": ask(files, config, "/pk/nope/", "PK"),
        "asset": ask(files, config, "/assets/app.css", "PK"),
        "missing asset": ask(files, config, "/assets/nope.css", "PK"),
        "redirect": ask(files, config, "/about/", "AE"),
    }
    assert answers["redirect"].location == "/gulf/about/"
    for what, answer in answers.items():
        sent = {name: answer.headers.get(name) for name in SECURITY}
        assert sent == SECURITY, what


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("extra", "script", "connect", "frame"),
    [
        (
            "contact_form:\n  turnstile:\n    site_key: 0x4AAAAAAAB\n",
            "'self' https://challenges.cloudflare.com",
            "'self'",
            "https://challenges.cloudflare.com",
        ),
        (
            "portal:\n  supabase_url: https://abcd1234.supabase.co/some/path\n",
            "'self'",
            "'self' https://abcd1234.supabase.co",
            "'none'",
        ),
        (
            "portal:\n  supabase_url: http://127.0.0.1:54321/\n"
            "contact_form:\n  turnstile:\n    site_key: 0x4AAAAAAAB\n",
            "'self' https://challenges.cloudflare.com",
            "'self' http://127.0.0.1:54321",
            "https://challenges.cloudflare.com",
        ),
    ],
    ids=["turnstile", "supabase", "both"],
)
def test_the_policy_opens_exactly_the_origins_the_integrations_use(
    tmp_path: Path, host: str, extra: str, script: str, connect: str, frame: str
) -> None:
    config = site(tmp_path, host, extra=extra)
    files = published(config)
    policy = ask(files, config, "/pk/", "PK").headers["Content-Security-Policy"]
    want = (
        SECURITY["Content-Security-Policy"]
        .replace("script-src 'self'", f"script-src {script}")
        .replace("connect-src 'self'", f"connect-src {connect}")
        .replace("frame-src 'none'", f"frame-src {frame}")
    )
    assert policy == want


@pytest.mark.parametrize("host", HOSTS)
def test_assets_are_cached_for_good_and_every_regions_pages_revalidated(tmp_path: Path, host: str) -> None:
    config = site(tmp_path, host)
    files = published(config)
    asset = ask(files, config, "/assets/app.css", "PK")
    assert (asset.file, asset.headers["Cache-Control"]) == (
        "assets/app.css",
        "public, max-age=31536000, immutable",
    )
    for rid in config.region_ids:
        for path in (f"/{rid}/", f"/{rid}/about/", f"/{rid}/nope/"):
            answer = ask(files, config, path, "PK")
            assert answer.headers.get("Cache-Control") == "public, max-age=0, must-revalidate", path


# ---------------------------------------------------- who goes to which region


@pytest.mark.parametrize("host", HOSTS)
def test_a_default_region_declared_first_gets_only_the_countries_no_other_region_lists(
    tmp_path: Path, host: str
) -> None:
    config = site(tmp_path, host, region("world", default=True) + region("pk", "PK") + region("gulf", "AE"))
    files = published(config)
    for path in ("/", "/about/"):
        assert where(files, config, path, "PK", "AE", "FR", None) == [
            f"/pk{path}",
            f"/gulf{path}",
            f"/world{path}",
            f"/world{path}",
        ]


@pytest.mark.parametrize("host", HOSTS)
def test_a_default_region_with_countries_of_its_own_also_gets_every_unlisted_country(
    tmp_path: Path, host: str
) -> None:
    config = site(tmp_path, host, region("pk", "PK") + region("intl", "US, GB", default=True))
    files = published(config)
    for path in ("/", "/about/"):
        assert where(files, config, path, "PK", "US", "GB", "FR", None) == [
            f"/pk{path}",
            *[f"/intl{path}"] * 4,
        ]
    # The switcher's cookie for the default region (its first country) wins over the detected one.
    assert ask(files, config, "/", "PK", cookie="US").location == "/intl/"
    assert ask(files, config, "/about/", "US", cookie="PK").location == "/pk/about/"


@pytest.mark.parametrize("host", HOSTS)
def test_a_region_without_countries_is_reached_only_by_its_own_urls(tmp_path: Path, host: str) -> None:
    # A region no country is routed to (a campaign or staff edition, say) must not catch the
    # visitors of the default region: they are the default's, on both hosts.
    config = site(tmp_path, host, region("pk", "PK") + region("staff") + region("intl", default=True))
    files = published(config)
    for path in ("/", "/about/"):
        assert where(files, config, path, "PK", "FR", None) == [f"/pk{path}", f"/intl{path}", f"/intl{path}"]
    assert ask(files, config, "/", "FR", cookie="ZZ").location == "/intl/"
    assert ask(files, config, "/staff/about/", "FR").file == "staff/about/index.html"


@pytest.mark.parametrize("host", HOSTS)
def test_a_page_some_regions_lack_sends_their_visitors_where_it_is(tmp_path: Path, host: str) -> None:
    config = site(tmp_path, host)
    pages = {
        "pk": {"/", "/local/"},
        "gulf": {"/", "/local/", "/offices/"},
        "world": {"/"},
    }
    files = published(config, pages)
    assert where(files, config, "/offices/", "PK", "AE", "FR") == ["/gulf/offices/"] * 3
    assert where(files, config, "/local/", "PK", "SA", "FR") == ["/pk/local/", "/gulf/local/", "/pk/local/"]
    # The cookie chooses the region first; a region without the page still sends to one that has it.
    assert ask(files, config, "/local/", "PK", cookie="QA").location == "/gulf/local/"
    assert ask(files, config, "/offices/", "AE", cookie="PK").location == "/gulf/offices/"
    # A page every region has is each visitor's own region's.
    assert where(files, config, "/", "PK", "AE", "FR") == ["/pk/", "/gulf/", "/world/"]


@pytest.mark.parametrize("host", HOSTS)
def test_only_the_bare_root_and_unprefixed_paths_are_routed(tmp_path: Path, host: str) -> None:
    config = site(tmp_path, host)
    files = published(config)
    # A path that only starts like a region id, or like /api, is an un-prefixed page path.
    for path in ("/pkg/", "/worldwide/", "/apiary/", "/assets-guide/"):
        assert ask(files, config, path, "AE").location == f"/gulf{path}", path
    assert ask(files, config, "/pk", "AE").location in (None, "/pk/")


# ------------------------------------------------ what is served as it is


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("country", ["PK", "FR", None])
def test_root_and_static_files_are_served_as_they_are(tmp_path: Path, host: str, country: str | None) -> None:
    config = site(tmp_path, host)
    static = ["ads.txt", "CNAME", "favicon.ico", ".well-known/security.txt", "docs/brochure.pdf"]
    files = published(config, static=static)
    for rel in ["robots.txt", "sitemap.xml", "404.html", *static]:
        answer = ask(files, config, f"/{rel}", country)
        assert (answer.status, answer.location, answer.file) == (200, None, rel)


@pytest.mark.parametrize("host", HOSTS)
def test_a_missing_file_under_a_site_wide_folder_is_a_404_not_a_redirect(tmp_path: Path, host: str) -> None:
    config = site(tmp_path, host)
    files = published(config)
    for path in ("/assets/nope.css", "/.well-known/nope", "/_edge/site.json", "/_edge/nope.json"):
        answer = ask(files, config, path, "AE")
        assert (answer.status, answer.location, answer.file) == (404, None, "404.html"), path
    for rid in config.region_ids:
        answer = ask(files, config, f"/{rid}/nope/", "AE")
        assert (answer.status, answer.location, answer.file) == (404, None, f"{rid}/404.html")


def test_vercel_serves_its_own_paths_and_the_edge_function_without_a_redirect(tmp_path: Path) -> None:
    config = site(tmp_path, "vercel")
    files = published(config)
    for path in ("/api", "/api/contact", "/api/chat/stream"):
        answer = ask(files, config, path, "AE")
        assert (answer.status, answer.function) == (200, "/api/index"), path
    # Web Analytics and Speed Insights answer under /_vercel/ on the site's own origin.
    for path in ("/_vercel/insights/script.js", "/_vercel/speed-insights/vitals"):
        assert ask(files, config, path, "AE").location is None, path


def test_vercel_publishes_neither_the_build_data_nor_the_project_files(tmp_path: Path) -> None:
    config = site(tmp_path, "vercel")
    files = published(config)
    files[".sitegen-manifest"] = b""
    for path in ("/_edge/site.json", "/vercel.json", "/.vercelignore", "/.sitegen-manifest"):
        for country in ("PK", "AE", "FR"):
            assert ask(files, config, path, country).file in (None, "404.html"), (path, country)


def test_vercel_project_builds_nothing_and_keeps_the_static_site_out_of_the_function(tmp_path: Path) -> None:
    # Vercel reads these settings before any route: the site is built by sitegen before upload, so the
    # project has no framework preset, build or install step, serves public/, and the function
    # bundle leaves the static files out. Vercel refuses a vercel.json with a key it does not know.
    config = site(tmp_path, "vercel")
    project = json.loads(str(routing.files(config, {rid: {"/"} for rid in config.region_ids})["vercel.json"]))
    routes = project.pop("routes")
    assert routes and all(isinstance(route, dict) for route in routes)
    assert project == {
        "$schema": "https://openapi.vercel.sh/vercel.json",
        "framework": None,
        "buildCommand": "",
        "installCommand": "",
        "outputDirectory": "public",
        "functions": {"api/index.py": {"excludeFiles": "public/**"}},
    }


# ------------------------------------------------------------------ netlify


@pytest.mark.parametrize("secret", ["", "EDGE_PROXY_SECRET"])
def test_netlify_proxies_api_to_the_edge_signed_with_the_named_secret(tmp_path: Path, secret: str) -> None:
    extra = "edge:\n  origin: https://edge.rules.example\n" + (
        f"  proxy_signature_env: {secret}\n" if secret else ""
    )
    config = site(tmp_path, "netlify", extra=extra)
    files = published(config)
    for path in ("/api/contact", "/api/chat/stream"):
        answer = ask(files, config, path, "AE")
        assert (answer.status, answer.proxy) == (200, f"https://edge.rules.example{path}")
    # Netlify adds X-Nf-Sign only to a rule with Sign=; the edge believes the client address only then.
    proxy = [line.split() for line in str(files["_redirects"]).splitlines() if line.startswith("/api/")]
    assert proxy == [
        ["/api/*", "https://edge.rules.example/api/:splat", "200!", *([f"Sign={secret}"] if secret else [])]
    ]


def test_written_rules_are_utf8_whatever_the_locale(tmp_path: Path) -> None:
    # A host's build may run under a locale whose encoding is not UTF-8 (here the C locale's ASCII);
    # the rules must still reach the host as the UTF-8 it reads, an IDN edge origin included.
    config = site(tmp_path, "netlify", extra="edge:\n  origin: https://édge.rules.example\n")
    pages = {rid: {"/"} for rid in config.region_ids}
    out = tmp_path / "dist"
    out.mkdir()
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        written = routing.write_routing(out, config, pages)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert sorted(p.name for p in written) == ["_headers", "_redirects"]
    files = {p.name: p.read_bytes().decode("utf-8") for p in written}
    answer = emulator.resolve_files(files, "netlify", "/api/contact", "AE")
    assert answer.proxy == "https://édge.rules.example/api/contact"


@pytest.mark.parametrize("host", HOSTS)
def test_region_redirects_are_temporary(tmp_path: Path, host: str) -> None:
    # 302, never a cacheable or method-changing kind: a visitor who switches region or travels
    # must be sent again, and browsers must not remember where the bare root sent them.
    config = site(tmp_path, host)
    files = published(config)
    for path, country in [("/", "PK"), ("/", "FR"), ("/about/", "AE"), ("/local/", "FR"), ("/x/", None)]:
        answer = ask(files, config, path, country)
        assert (answer.status, answer.location is not None) == (302, True), (path, country)
        answer = ask(files, config, path, "FR", cookie="SA")
        assert (answer.status, answer.location is not None) == (302, True), (path, "cookie")


@pytest.mark.parametrize("host", HOSTS)
def test_a_build_of_one_region_sends_every_visitor_there(tmp_path: Path, host: str) -> None:
    # `sitegen build --region pk` leaves the default region out: nobody is sent to a region not built.
    config = site(tmp_path, host)
    files = published(config, {"pk": {"/", "/about/"}})
    for path in ("/", "/about/"):
        assert where(files, config, path, "PK", "AE", "FR", None) == [f"/pk{path}"] * 4


@pytest.mark.parametrize("host", HOSTS)
def test_a_page_named_api_does_not_take_the_edge_away(tmp_path: Path, host: str) -> None:
    # An editor's content/api.md is a page at /api/ in every region; /api/ stays the edge's.
    config = site(
        tmp_path, host, extra="edge:\n  origin: https://edge.rules.example\n" if host == "netlify" else ""
    )
    files = published(config, {rid: {"/", "/api/"} for rid in config.region_ids})
    for country in ("PK", "AE", "FR"):
        answer = ask(files, config, "/api/", country)
        assert answer.location is None and (answer.function or answer.proxy), country
