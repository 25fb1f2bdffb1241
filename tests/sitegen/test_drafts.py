"""Drafts: left out of a build unless --drafts; a published page linking to one fails and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.errors import BuildFailed
from tests.support.sitefactory import build_site, write_site

HOME = "---\ntitle: Home\n---\nHello.\n\nSee [what comes next](blog/wip.md) and [the plan](/plan/).\n"
FILES = {
    "content/index.md": HOME,
    "content/blog/wip.md": "---\ntitle: Work in progress\ndraft: true\n---\nNot yet. [Home](../index.md)\n",
    "content/plan.md": "---\ntitle: Plan\ndraft: true\n---\nSecret plan.\n",
}
WIP_MESSAGE = (
    "content/index.md:6: links to a draft: 'blog/wip.md' is content/blog/wip.md, which has 'draft: true'; "
    "publish it (remove 'draft: true'), preview both with `sitegen serve` or `sitegen build --drafts`, "
    "or remove the link"
)


def test_a_link_to_a_draft_fails_and_names_it(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", FILES)
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    messages = sorted({str(e) for e in failed.value.errors})
    assert messages == [
        "content/index.md:6: links to a draft: '/plan/' is content/plan.md, which has 'draft: true'; "
        "publish it (remove 'draft: true'), preview both with `sitegen serve` or `sitegen build --drafts`, "
        "or remove the link",
        WIP_MESSAGE,
    ]
    assert not (root / "dist").exists()


def test_drafts_are_built_with_the_flag_and_left_out_without(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", FILES)
    result = build_site(root, drafts=True)
    assert (root / "dist/pk/blog/wip/index.html").is_file() and (root / "dist/pk/plan/index.html").is_file()
    assert result.pages == {"pk": 3, "intl": 3}
    (root / "content/index.md").write_text("---\ntitle: Home\n---\nHello.\n", encoding="utf-8")
    result = build_site(root)
    assert result.pages == {"pk": 1, "intl": 1}
    assert not (root / "dist/pk/blog").exists() and not (root / "dist/pk/plan").exists()
    # A draft's own links are not checked while it is left out (it links to a published page here).


def test_the_message_survives_the_cache(tmp_path: Path) -> None:
    """The draft's record comes from the cache on the second build: it still knows the URL."""
    root = write_site(tmp_path / "site", {**FILES, "content/index.md": "---\ntitle: Home\n---\nHello.\n"})
    build_site(root)
    (root / "content/index.md").write_text(HOME, encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    assert WIP_MESSAGE in {str(e) for e in failed.value.errors}
