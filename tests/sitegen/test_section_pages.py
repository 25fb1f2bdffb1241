"""section_pages(folder): templates list a folder's pages (case studies under /work/), per region,
and a cached build re-renders a listing when a listed page's front matter changes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.sitefactory import build_site, html, write_site

LISTING = """\
{% extends "base.html" %}
{% block content %}{% for p in section_pages(page.path) %}[{{ p.title }}|{{ p.url }}|{{ p.params.client | default("") }}]{% endfor %}{% endblock %}
"""

FILES = {
    "content/index.md": "---\ntitle: Home\n---\nHi.\n",
    "content/work/index.md": "---\ntitle: Work\ntemplate: listing\n---\nOur work.\n",
    "content/work/b-shop.md": "---\ntitle: Shop\nweight: 2\nparams: {client: Shop Co}\n---\nA shop.\n",
    "content/work/a-clinic.md": "---\ntitle: Clinic\nweight: 1\n---\nA clinic.\n",
    "content/work/local.md": "---\ntitle: Local only\nweight: 3\nregions: [pk]\n---\nLocal.\n",
    "content/work/deep/nested.md": "---\ntitle: Nested\n---\nNot a direct child.\n",
    "content/work/draft.md": "---\ntitle: Draft\ndraft: true\n---\nNot yet.\n",
    "templates/listing.html": LISTING,
}


def listed(root: Path, region: str) -> list[str]:
    return re.findall(r"\[([^\]]*)\]", html(root, f"{region}/work/index.html"))


def test_lists_direct_children_by_weight_in_each_region(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", dict(FILES))
    build_site(root, cache=False)
    assert listed(root, "pk") == [
        "Clinic|/pk/work/a-clinic/|",
        "Shop|/pk/work/b-shop/|Shop Co",
        "Local only|/pk/work/local/|",
    ]
    assert listed(root, "intl") == ["Clinic|/intl/work/a-clinic/|", "Shop|/intl/work/b-shop/|Shop Co"]


def test_cached_build_rerenders_the_listing_when_a_listed_page_changes(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", dict(FILES))
    build_site(root, cache=True)
    shop = root / "content/work/b-shop.md"
    shop.write_text(shop.read_text().replace("title: Shop", "title: Web shop"), encoding="utf-8")
    result = build_site(root, cache=True)
    assert "Web shop|/intl/work/b-shop/|Shop Co" in listed(root, "intl")
    # The shop page, the listing and the theme's home page (its proof section lists /work/), in
    # both regions; the other pages are reused.
    assert result.rendered == 6
    # A body-only edit of a listed page leaves the listing alone.
    clinic = root / "content/work/a-clinic.md"
    clinic.write_text(clinic.read_text().replace("A clinic.", "A dental clinic."), encoding="utf-8")
    assert build_site(root, cache=True).rendered == 2
