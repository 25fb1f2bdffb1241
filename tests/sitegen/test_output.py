"""output: safe writing, hashed assets, sitemaps and robots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitegen.config import load_config
from sitegen.errors import SitegenError
from sitegen.output import collect_assets, robots, sitemap_index, write
from tests.support.sitefactory import SITE_YAML, write_site


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_rebuild_writes_changed_files_and_drops_stale_ones(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert write(out, {"a/index.html": b"A", "b/index.html": b"B", "old.txt": b"x"}) == (3, 0)
    a_inode = (out / "a/index.html").stat().st_ino
    written, removed = write(out, {"a/index.html": b"A", "b/index.html": b"B2", "c.txt": b"C"})
    assert (written, removed) == (2, 1)
    tree = _tree(out)
    tree.pop(".sitegen-manifest")
    assert tree == {"a/index.html": b"A", "b/index.html": b"B2", "c.txt": b"C"}
    # The unchanged file was carried over (hard link), not rewritten.
    assert (out / "a/index.html").stat().st_ino == a_inode
    # No temporary folders are left next to the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


def test_a_write_that_fails_halfway_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    write(out, {"index.html": b"old", "keep/page.html": b"k"})
    before = _tree(out)
    # "x" is a file and also a folder: the second entry cannot be written.
    with pytest.raises(OSError):
        write(out, {"index.html": b"new", "x": b"file", "x/y.html": b"nested"})
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


def test_assets_hashed_by_content_site_static_overrides_theme(tmp_path: Path) -> None:
    theme, site = tmp_path / "theme", tmp_path / "site"
    for folder, text in ((theme, "theme"), (site, "site")):
        (folder / "css").mkdir(parents=True)
        (folder / "css/site.css").write_text(f"/* {text} */")
    (theme / "js").mkdir()
    (theme / "js/app.js").write_text("1;")
    (theme / ".hidden").write_text("no")
    urls, files = collect_assets([theme, site])
    assert set(urls) == {"css/site.css", "js/app.js", "css/highlight.css"}
    assert re.fullmatch(r"/assets/css/site\.[0-9a-f]{8}\.css", urls["css/site.css"])
    assert files[urls["css/site.css"].lstrip("/")] == b"/* site */"
    # Same bytes, same name; different bytes, different name.
    assert collect_assets([theme, site])[0] == urls
    (site / "css/site.css").write_text("/* changed */")
    assert collect_assets([theme, site])[0]["css/site.css"] != urls["css/site.css"]


def test_robots_and_sitemap_index(tmp_path: Path) -> None:
    write_site(tmp_path, {}, SITE_YAML)
    config = load_config(tmp_path / "site.yaml")
    assert robots(config, production=True).splitlines() == [
        "User-agent: *",
        "Allow: /",
        "Disallow: /api/",
        "",
        "Sitemap: https://tiny.example/sitemap.xml",
    ]
    assert robots(config, production=False) == "User-agent: *\nDisallow: /\n"
    index = sitemap_index(config, config.region_ids)
    assert re.findall(r"<loc>([^<]+)</loc>", index) == [
        "https://tiny.example/pk/sitemap.xml",
        "https://tiny.example/intl/sitemap.xml",
    ]


def test_a_folder_not_made_by_sitegen_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(SitegenError) as err:
        write(out, {"index.html": b"x"})
    assert str(err.value) == (
        f"{out}: the output folder exists and was not made by sitegen (no .sitegen-manifest in it); "
        "empty or remove it, or choose another --out"
    )
    assert (out / "thesis.docx").read_bytes() == b"precious" and sorted(p.name for p in out.iterdir()) == [
        "thesis.docx"
    ]
    # An empty folder is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write(empty, {"index.html": b"x"}) == (1, 0)
