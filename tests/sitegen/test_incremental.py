"""Incremental builds: after any change, a cached build writes exactly what a clean build writes.

Each test builds a small two-region site, builds it again with the cache after
a change (edit, rename, delete, template, catalog, config, static file, damaged
cache or output) and compares every output file, byte for byte, with a clean
build made without any cache.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, BuildResult, build
from sitegen.cache import DIRNAME, BuildCache
from sitegen.changes import LastBuild
from sitegen.edgedata import SEARCH_SHARDS, read_search, search_shard
from sitegen.errors import BuildFailed
from sitegen.links import region_url
from sitegen.output import Staging
from sitegen.searchentries import SECTION, shard_of
from tests.support.sitefactory import tree, write_site

THEME = Path(__file__).resolve().parents[2] / "themes" / "default" / "templates"

FILES = {
    "content/index.md": """
        ---
        title: Home
        menu: main
        weight: 1
        ---
        Welcome. Read [about us](about.md#team) or see [pricing](/pricing/).
    """,
    "content/about.md": """
        ---
        title: About
        menu: main
        weight: 2
        ---
        ## Team

        We are a small team.

        ::: region pk
        Call {{ region.params.phone }}.
        :::
    """,
    "content/blog/post-a.md": """
        ---
        title: Post A
        ---
        Some words, and `code`.

        ```python
        print("hello")
        ```
    """,
    "content/blog/post-b.md": """
        ---
        title: Post B
        ---
        Back to [post A](post-a.md).
    """,
    "content/pricing.md": """
        ---
        title: Pricing
        ---
        Websites start at {{ price("web") }}.
    """,
    "content/list.md": """
        ---
        title: All services
        ---
        {% for s in services %}
        - {{ s.name }}
        {% endfor %}
    """,
    "content/services/index.md": """
        ---
        title: Services
        template: services
        ---
        What we do.
    """,
    "content/services/web.yaml": """
        id: web
        name: Web
        summary: Websites.
        price:
          pk: {amount: 80000, currency: PKR}
          intl: {amount: 900, currency: USD}
    """,
    "content/services/seo.yaml": """
        id: seo
        name: SEO
        summary: Search.
        price:
          pk: {amount: 30000, currency: PKR}
          intl: {amount: 400, currency: USD}
    """,
    "static/css/extra.css": "body { color: #111; }\n",
}


def clean_build(site: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "clean"
    shutil.rmtree(out, ignore_errors=True)
    build(BuildOptions(root=site, out=out, cache=False))
    return tree(out)


def cached_build(site: Path) -> BuildResult:
    return build(BuildOptions(root=site, cache=True))


def same_as_clean(site: Path, tmp: Path) -> BuildResult:
    result = cached_build(site)
    assert tree(site / "dist") == clean_build(site, tmp)
    return result


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site", dict(FILES))
    first = cached_build(root)
    assert first.rendered > 0 and first.reused == 0
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_no_change_reuses_every_page_and_writes_nothing(site: Path, tmp_path: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (site / "dist").rglob("*") if p.is_file()}
    result = same_as_clean(site, tmp_path)
    assert result.written == 0 and result.rendered == 0
    assert result.reused == sum(result.pages.values())
    assert {p: p.stat().st_mtime_ns for p in (site / "dist").rglob("*") if p.is_file()} == before


def test_body_edit_rerenders_only_that_page(site: Path, tmp_path: Path) -> None:
    edit(site / "content/blog/post-a.md", "Some words", "Other words")
    result = same_as_clean(site, tmp_path)
    assert result.rendered == 2  # post A in both regions
    assert result.parsed == 1
    assert "Other words" in (site / "dist/pk/blog/post-a/index.html").read_text()


def test_same_size_edit_right_after_a_build_is_seen(site: Path, tmp_path: Path) -> None:
    # Same size, and within the file system's timestamp granularity of the last build:
    # only the content hash can tell, so a recently written file must be re-read.
    page = site / "content/blog/post-a.md"
    st = page.stat()
    edit(page, "Some words", "Same sizes")
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size
    same_as_clean(site, tmp_path)
    assert "Same sizes" in (site / "dist/intl/blog/post-a/index.html").read_text()


def test_menu_title_change_rerenders_every_page(site: Path, tmp_path: Path) -> None:
    edit(site / "content/about.md", "title: About", "title: About us")
    result = same_as_clean(site, tmp_path)
    assert result.reused == 0  # every page shows the menu
    assert ">About us</a>" in (site / "dist/pk/blog/post-b/index.html").read_text()


def test_new_page_deleted_page_and_renamed_page(site: Path, tmp_path: Path) -> None:
    (site / "content/blog/post-c.md").write_text("---\ntitle: Post C\n---\nNew.\n", encoding="utf-8")
    same_as_clean(site, tmp_path)
    assert (site / "dist/pk/blog/post-c/index.html").is_file()
    (site / "content/blog/post-c.md").unlink()
    result = same_as_clean(site, tmp_path)
    assert not (site / "dist/pk/blog/post-c/index.html").exists()
    assert result.removed == 2
    (site / "content/blog/post-b.md").rename(site / "content/blog/post-z.md")
    same_as_clean(site, tmp_path)
    assert (site / "dist/intl/blog/post-z/index.html").is_file()
    assert not (site / "dist/intl/blog/post-b/index.html").exists()


def test_deleting_a_linked_page_fails_even_though_the_linking_page_is_cached(site: Path) -> None:
    before = tree(site / "dist")
    (site / "content/blog/post-a.md").unlink()
    with pytest.raises(BuildFailed) as failed:
        cached_build(site)
    assert [str(e) for e in failed.value.errors] == [
        "content/blog/post-b.md:4: link to 'post-a.md': no such content file (looked for content/blog/post-a.md)"
    ]
    assert tree(site / "dist") == before


def test_removing_an_anchor_breaks_the_cached_page_that_links_to_it(site: Path, tmp_path: Path) -> None:
    before = tree(site / "dist")
    edit(site / "content/about.md", "## Team", "## People")
    with pytest.raises(BuildFailed) as failed:
        cached_build(site)
    messages = [str(e) for e in failed.value.errors]
    assert messages == [
        "content/index.md:6: link to 'about.md#team': that page has no heading or element with id 'team'; check the anchor"
    ]
    assert tree(site / "dist") == before
    edit(site / "content/about.md", "## People", "## Team")
    same_as_clean(site, tmp_path)


def test_template_edit_rerenders_the_pages_that_use_it(site: Path, tmp_path: Path) -> None:
    templates = site / "templates"
    templates.mkdir()
    shutil.copy(THEME / "page.html", templates / "page.html")  # a new file shadows the theme's
    result = same_as_clean(site, tmp_path)
    assert result.rendered == 0  # the same text under the same name: nothing to redo
    edit(templates / "page.html", '{% extends "base.html" %}', '{% extends "base.html" %}{# v2 #}')
    result = same_as_clean(site, tmp_path)
    page_pages = {"about", "blog/post-a", "blog/post-b", "pricing", "list"}
    assert result.rendered == 2 * len(page_pages)


def test_partial_included_by_the_base_template_rerenders_everything(site: Path, tmp_path: Path) -> None:
    templates = site / "templates"
    (templates / "partials").mkdir(parents=True)
    (templates / "partials" / "analytics.html").write_text("<!-- analytics off -->\n", encoding="utf-8")
    result = same_as_clean(site, tmp_path)
    assert result.reused == 0
    assert "<!-- analytics off -->" in (site / "dist/pk/index.html").read_text()


def test_catalog_change_rerenders_pages_that_read_it(site: Path, tmp_path: Path) -> None:
    edit(site / "content/services/web.yaml", "amount: 900", "amount: 950")
    result = same_as_clean(site, tmp_path)
    assert "$950" in (site / "dist/intl/pricing/index.html").read_text()
    # Post A's template and body never read the catalog.
    assert result.reused >= 2
    assert result.rendered < sum(result.pages.values())


def test_site_yaml_and_static_file_changes(site: Path, tmp_path: Path) -> None:
    edit(site / "site.yaml", '"+92 300 1234567"', '"+92 300 7654321"')
    result = same_as_clean(site, tmp_path)
    assert result.reused == 0
    assert "+92 300 7654321" in (site / "dist/pk/about/index.html").read_text()
    (site / "static/css/extra.css").write_text("body { color: #222; }\n", encoding="utf-8")
    result = same_as_clean(site, tmp_path)
    assert result.reused == 0  # every page links the stylesheets by hashed name


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "delete"])
def test_damaged_cache_never_gives_wrong_output(site: Path, tmp_path: Path, damage: str) -> None:
    edit(site / "content/blog/post-a.md", "Some words", "Changed words")
    for section in (site / DIRNAME).glob("*.bin"):
        data = section.read_bytes()
        if damage == "truncate":
            section.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            middle = len(data) // 2
            section.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
        elif damage == "garbage":
            section.write_bytes(os.urandom(len(data)))
        elif damage == "empty":
            section.write_bytes(b"")
        else:
            section.unlink()
    result = same_as_clean(site, tmp_path)
    assert result.reused == 0
    # And the cache is whole again afterwards.
    again = cached_build(site)
    assert again.rendered == 0


def test_output_changed_behind_the_builds_back_is_rebuilt(site: Path, tmp_path: Path) -> None:
    (site / "dist/pk/about/index.html").write_text("tampered", encoding="utf-8")
    (site / "dist/intl/blog/post-a/index.html").unlink()
    result = same_as_clean(site, tmp_path)
    assert result.rendered == 2


def test_stale_sections_from_other_sites_or_versions_are_ignored(site: Path, tmp_path: Path) -> None:
    # Swap in the cache of a different site: keys differ, nothing may be reused wrongly.
    other = write_site(
        tmp_path / "other", {**FILES, "content/about.md": "---\ntitle: Elsewhere\n---\n## Team\n"}
    )
    cached_build(other)
    shutil.rmtree(site / DIRNAME)
    shutil.copytree(other / DIRNAME, site / DIRNAME)
    same_as_clean(site, tmp_path)


def test_warnings_are_repeated_by_a_no_change_build_and_fatal_with_strict(site: Path) -> None:
    edit(site / "content/blog/post-a.md", "title: Post A", "title: Post A\ncolour: blue")
    first = cached_build(site)
    again = cached_build(site)
    assert again.rendered == 0
    assert [str(w) for w in again.warnings] == [str(w) for w in first.warnings]
    assert any("unknown front matter key 'colour'" in str(w) for w in again.warnings)
    with pytest.raises(BuildFailed):
        build(BuildOptions(root=site, strict=True))


def test_in_place_update_and_swap_give_the_same_tree(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitegen.write as write_module  # IN_PLACE is read by open_staging()

    # Force the "many pages changed" path (a new folder swapped in) for a small edit.
    monkeypatch.setattr(write_module, "IN_PLACE", 0)
    edit(site / "content/blog/post-a.md", "Some words", "Swapped words")
    result = same_as_clean(site, tmp_path)
    assert result.rendered == 2 and result.reused > 0


def test_a_bad_contact_link_added_to_one_page_fails_the_cached_build(site: Path, tmp_path: Path) -> None:
    """Only the edited page's links are followed again by the output check; they still all are."""
    before = tree(site / "dist")
    edit(site / "content/blog/post-a.md", "Some words", "Write to [us](mailto:not-an-address). Some words")
    with pytest.raises(BuildFailed) as failed:
        cached_build(site)
    messages = [str(e) for e in failed.value.errors]
    assert messages == [
        "content/blog/post-a.md: link 'mailto:not-an-address': 'not-an-address' is not an e-mail address "
        "(An email address must have an @-sign)"
    ]
    assert tree(site / "dist") == before
    edit(site / "content/blog/post-a.md", "Write to [us](mailto:not-an-address). ", "")
    same_as_clean(site, tmp_path)


def test_a_body_edit_rewrites_one_search_shard_per_region(site: Path, tmp_path: Path) -> None:
    search = site / "dist" / "_edge" / "search"
    before = tree(search)
    assert len([name for name in before if name.endswith(".json") and "/" in name]) == 2 * SEARCH_SHARDS
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    same_as_clean(site, tmp_path)
    after = tree(search)
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == sorted(f"{search_shard(rid, region_url(rid, '/about/'))}" for rid in ("intl", "pk"))
    assert any("careful" in e["text"] for e in read_search(site / "dist" / "_edge", "pk"))


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_an_edit_reads_and_rewrites_only_its_pages_search_shards(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = site / "dist" / "_edge" / "search"
    before = _stamps(search)
    loaded: list[int] = []
    original = BuildCache.load_map

    def spy(self: BuildCache, name: str, only: Collection[int] | None = None) -> dict[str, object]:
        if name == SECTION:
            assert only is not None, "an edit must not read every search entry"
            loaded.extend(only)
        return original(self, name, only)

    monkeypatch.setattr(BuildCache, "load_map", spy)
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    same_as_clean(site, tmp_path)
    after = _stamps(search)
    # The other shard files were not even written again (same inode and mtime), the index files
    # (rewritten with the same bytes) aside.
    touched = sorted(name for name in after if after[name] != before.get(name) and "/" in name)
    assert touched == sorted(search_shard(rid, region_url(rid, "/about/")) for rid in ("intl", "pk"))
    assert set(loaded) <= {shard_of(f"{rid}/about/index.html") for rid in ("intl", "pk")}
    assert loaded


def test_search_entries_lost_from_the_cache_are_made_again_from_the_output(
    site: Path, tmp_path: Path
) -> None:
    for section in (site / DIRNAME).glob(f"{SECTION}.*.bin"):
        section.unlink()
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    result = same_as_clean(site, tmp_path)
    assert result.rendered == 2  # the rendered pages' records were intact: only the entries were remade
    # The shards this build needed were saved whole again; the others are remade when first needed.
    assert {p.name for p in (site / DIRNAME).glob(f"{SECTION}.*.bin")} == {
        f"{SECTION}.{shard_of(f'{rid}/about/index.html')}.bin" for rid in ("intl", "pk")
    }
    edit(site / "content/blog/post-a.md", "Some words", "Other words")
    same_as_clean(site, tmp_path)


def test_a_search_shard_changed_behind_the_builds_back_is_written_again(site: Path, tmp_path: Path) -> None:
    shard = site / "dist" / "_edge" / "search" / search_shard("pk", region_url("pk", "/blog/post-a/"))
    shard.write_text("[]\n", encoding="utf-8")
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    same_as_clean(site, tmp_path)


def test_a_new_page_changes_the_search_layout_and_every_shard_is_made_again(
    site: Path, tmp_path: Path
) -> None:
    (site / "content/blog/post-c.md").write_text("---\ntitle: Post C\n---\nNew words.\n", encoding="utf-8")
    same_as_clean(site, tmp_path)
    assert any(e["url"] == "/pk/blog/post-c/" for e in read_search(site / "dist" / "_edge", "pk"))


def test_an_edit_takes_the_catalog_from_the_cache_with_its_warnings(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(site / "content/services/seo.yaml", "name: SEO", "name: SEO\ncolour: blue")
    first = same_as_clean(site, tmp_path)  # read again: the file changed
    assert any("unknown service key 'colour'" in str(w) for w in first.warnings)
    import sitegen.catalog

    def must_not_read(*args: object) -> None:
        raise AssertionError("the catalog did not change: it comes from the cache")

    monkeypatch.setattr(sitegen.catalog, "read_catalog", must_not_read)
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    again = cached_build(site)
    assert again.rendered == 2
    assert [str(w) for w in again.warnings] == [str(w) for w in first.warnings]
    monkeypatch.undo()
    assert tree(site / "dist") == clean_build(site, tmp_path)


def test_a_region_setting_in_site_yaml_reads_the_catalog_again(site: Path, tmp_path: Path) -> None:
    # The catalog files are as they were; a price's text depends on the region's locale too.
    before = (site / "dist/intl/pricing/index.html").read_text()
    assert "$900" in before
    edit(site / "site.yaml", "locale: en_US", "locale: de_DE")
    same_as_clean(site, tmp_path)
    after = (site / "dist/intl/pricing/index.html").read_text()
    assert "$900" not in after and "900" in after


def test_a_body_edit_leaves_the_sitemaps_and_a_front_matter_change_makes_them_again(
    site: Path, tmp_path: Path
) -> None:
    sitemaps = {rid: site / "dist" / rid / "sitemap.xml" for rid in ("intl", "pk")}
    before = {rid: (p.stat().st_ino, p.stat().st_mtime_ns) for rid, p in sitemaps.items()}
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    same_as_clean(site, tmp_path)
    assert {rid: (p.stat().st_ino, p.stat().st_mtime_ns) for rid, p in sitemaps.items()} == before
    # A date the sitemap shows: both regions' sitemaps are made again, with it.
    edit(site / "content/blog/post-a.md", "title: Post A", "title: Post A\nupdated: 2026-11-30")
    same_as_clean(site, tmp_path)
    assert all("<lastmod>2026-11-30</lastmod>" in p.read_text(encoding="utf-8") for p in sitemaps.values())


def test_a_sitemap_changed_behind_the_builds_back_is_written_again(site: Path, tmp_path: Path) -> None:
    (site / "dist" / "pk" / "sitemap.xml").write_text("<urlset/>\n", encoding="utf-8")
    edit(site / "content/about.md", "We are a small team.", "We are a small, careful team.")
    same_as_clean(site, tmp_path)


def test_a_swapped_in_build_stages_the_edge_files_as_made_and_links_the_unchanged_ones(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitegen.write as write_module

    monkeypatch.setattr(write_module, "IN_PLACE", 0)
    unchanged = site / "dist" / "pk" / "sitemap.xml"  # a body edit cannot change it
    changed = site / "dist" / "_edge" / "chat" / "pk.chunks.json"
    before = (unchanged.stat().st_ino, changed.read_bytes())
    staged: list[str] = []
    real = Staging.stager

    def spy(self: Staging, last: LastBuild) -> Callable[[str, bytes], str]:
        stage = real(self, last)

        def record(rel: str, data: bytes) -> str:
            staged.append(rel)
            return stage(rel, data)

        return record

    monkeypatch.setattr(Staging, "stager", spy)
    edit(site / "content/blog/post-a.md", "Some words", "Swapped words")
    same_as_clean(site, tmp_path)
    # The edge files and sitemaps went to the new folder as they were made; the pages' HTML did not.
    assert "_edge/chat/pk.chunks.json" in staged and "pk/sitemap.xml" in staged
    assert not any(rel.endswith(".html") for rel in staged)
    # The unchanged sitemap was linked from the old output (same inode), the chunks written anew.
    assert unchanged.stat().st_ino == before[0]
    assert changed.read_bytes() != before[1]


def test_front_matter_keys_that_are_no_strings_are_warned_about_not_a_crash(
    site: Path, tmp_path: Path
) -> None:
    # YAML makes `1:` an int key and `null:` a None key; the listing key must not compare them.
    edit(site / "content/blog/post-a.md", "title: Post A", "title: Post A\nnull: x\n1: one")
    result = same_as_clean(site, tmp_path)
    assert sum("unknown front matter key" in str(w) for w in result.warnings) == 2
