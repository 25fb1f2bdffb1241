"""static/: published unchanged at the output root; files nobody built are kept and reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen import emulator
from sitegen.cli import main
from sitegen.errors import BuildFailed
from tests.support.sitefactory import build_site, write_site

HOME = "---\ntitle: Home\n---\nHello. [Security contact](/.well-known/security.txt)\n"
STATIC = {
    "static/CNAME": "www.tiny.example\n",
    "static/ads.txt": "google.com, pub-0000000000000000, DIRECT, f08c47fec0942fa0\n",
    "static/.well-known/security.txt": "Contact: mailto:security@tiny.example\n",
    "static/.well-known/.hidden-note": "not published\n",
    "static/.DS_Store": "junk\n",
    "static/google1234567890abcdef.html": "google-site-verification: google1234567890abcdef.html\n",
    "static/img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "content/index.md": HOME,
    "content/about.md": "---\ntitle: About\n---\nAbout us.\n",
}


def site(tmp_path: Path, hosting: str = "netlify", **extra: str) -> Path:
    root = write_site(tmp_path / "site", {**STATIC, **extra})
    if hosting == "vercel":
        yaml = (root / "site.yaml").read_text(encoding="utf-8")
        (root / "site.yaml").write_text(yaml + "hosting: vercel\n", encoding="utf-8")
    return root


def test_static_files_reach_the_output_root_unchanged(tmp_path: Path) -> None:
    root = site(tmp_path)
    result = build_site(root)
    dist = root / "dist"
    for rel in ("CNAME", "ads.txt", ".well-known/security.txt", "google1234567890abcdef.html"):
        assert (dist / rel).read_bytes() == (root / "static" / rel).read_bytes(), rel
    assert not (dist / ".DS_Store").exists() and not (dist / ".well-known/.hidden-note").exists()
    # Still available to templates as hashed assets (asset('img/logo.svg')), as before.
    assert result.asset_urls["img/logo.svg"].startswith("/assets/img/logo.")
    assert "pk/CNAME" not in result.files, "published once, at the root, not per region"
    # A page may link to a published static file.
    assert 'href="/.well-known/security.txt"' in (dist / "pk/index.html").read_text(encoding="utf-8")


def test_a_changed_static_file_is_published_by_the_next_build(tmp_path: Path) -> None:
    root = site(tmp_path)
    build_site(root)
    (root / "static/CNAME").write_text("tiny.example\n", encoding="utf-8")
    (root / "static/.well-known/security.txt").write_text(
        "Contact: mailto:s@tiny.example\n", encoding="utf-8"
    )
    build_site(root)
    assert (root / "dist/CNAME").read_text(encoding="utf-8") == "tiny.example\n"
    assert "s@tiny.example" in (root / "dist/.well-known/security.txt").read_text(encoding="utf-8")
    (root / "static/ads.txt").unlink()
    result = build_site(root)
    # Gone from the root and as its hashed copy under /assets/.
    assert not (root / "dist/ads.txt").exists() and result.removed == 2
    assert not any(name.startswith("assets/ads.") for name in result.files)


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        (
            "robots.txt",
            "static/robots.txt: the build makes /robots.txt itself, so this file would replace it",
        ),
        ("_redirects", "static/_redirects: the build makes /_redirects itself"),
        ("pk/about/index.html", "static/pk/about/index.html: the build makes /pk/about/index.html itself"),
        ("pk", "static/pk: the build makes a folder /pk/; rename static/pk"),
        (
            "sitemap.xml/x",
            "static/sitemap.xml/x: the build makes a file /sitemap.xml, so it cannot be a folder",
        ),
        ("_edge/site.json", "static/_edge/site.json: _edge/ holds the edge handlers' private build data"),
    ],
)
def test_a_static_file_in_place_of_a_built_one_is_an_error(tmp_path: Path, rel: str, message: str) -> None:
    root = site(tmp_path, **{f"static/{rel}": "x\n"})
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert any(str(e).startswith(message) for e in failed.value.errors), [str(e) for e in failed.value.errors]
    assert not (root / "dist").exists(), "nothing written"


@pytest.mark.parametrize("hosting", ["netlify", "vercel"])
def test_geo_routing_never_redirects_static_files(tmp_path: Path, hosting: str) -> None:
    result = build_site(site(tmp_path, hosting))
    for path in ("/CNAME", "/ads.txt", "/.well-known/security.txt", "/google1234567890abcdef.html"):
        answer = emulator.resolve_files(result.files, hosting, path, "PK", {})  # type: ignore[arg-type]
        assert (answer.status, answer.location, answer.file) == (200, None, path[1:]), (hosting, path)
    # A missing /.well-known/ file is a 404 on both hosts, never a redirect into a region.
    answer = emulator.resolve_files(result.files, hosting, "/.well-known/nope", "PK", {})  # type: ignore[arg-type]
    assert (answer.status, answer.location) == (404, None)
    # Other un-prefixed paths are still routed.
    answer = emulator.resolve_files(result.files, hosting, "/about/", "PK", {})  # type: ignore[arg-type]
    assert (answer.status, answer.location) == (302, "/pk/about/")


def _summary(root: Path, *args: str) -> str:
    out = CliRunner().invoke(main, ["build", "--root", str(root), "--jobs", "1", *args])
    assert out.exit_code == 0, out.output
    return out.output.strip().splitlines()[-1]


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_files_nobody_built_are_kept_and_reported_the_same_with_and_without_cache(
    tmp_path: Path, cache: bool
) -> None:
    root = site(tmp_path)
    flags = [] if cache else ["--no-cache"]
    _summary(root, *flags)
    (root / "dist/by-hand.txt").write_text("copied in by hand\n", encoding="utf-8")
    (root / "dist/pk/extra").mkdir()
    (root / "dist/pk/extra/note.txt").write_text("also by hand\n", encoding="utf-8")
    expected = (
        "2 files in dist/ not made by sitegen, left as they are: by-hand.txt, pk/extra/note.txt "
        "(to publish a file, put it in static/)"
    )
    unchanged = _summary(root, *flags)  # with the cache: the no-change path
    (root / "content/about.md").write_text("---\ntitle: About\n---\nChanged.\n", encoding="utf-8")
    changed = _summary(root, *flags)  # with the cache: pages updated in place
    (root / "content/new.md").write_text("---\ntitle: New\n---\nNew.\n", encoding="utf-8")
    restructured = _summary(root, *flags)  # every page again: a new folder swapped in
    for summary in (unchanged, changed, restructured):
        assert expected in summary and "0 removed" in summary, summary
    assert (root / "dist/by-hand.txt").read_text(encoding="utf-8") == "copied in by hand\n"
    assert (root / "dist/pk/extra/note.txt").is_file()
