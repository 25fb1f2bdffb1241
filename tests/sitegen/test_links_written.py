"""Links as editors write them: queries, dot segments, source and static files, and what a wrong one says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitegen.errors import BuildFailed
from tests.support.sitefactory import SITE_YAML, build_site, html, write_site

ABOUT = "---\ntitle: About\n---\n## Team\n"


def _links(root: Path, rel: str) -> dict[str, str]:
    """Label -> href of every link in the page's main content."""
    main = html(root, rel).split("<main", 1)[1].split("</main>", 1)[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]*)">([^<]*)</a>', main)}


def _errors(root: Path) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    return [str(e) for e in failed.value.errors]


def _home(tmp_path: Path, body: str, **files: str) -> Path:
    return write_site(tmp_path, {"content/index.md": f"---\ntitle: Home\n---\n{body}\n", **files})


def test_a_query_is_kept_on_the_link_and_is_not_part_of_the_page_linked_to(tmp_path: Path) -> None:
    root = _home(
        tmp_path,
        "[a](/about/?service=seo) [b](about?x=1) [c](about.md?ref=home) [d](about.md?a=1?b=2#team) "
        "[e](/content/about.md?v=2)",
        **{"content/about.md": ABOUT},
    )
    build_site(root)
    assert _links(root, "pk/index.html") == {
        "a": "/pk/about/?service=seo",
        "b": "/pk/about/?x=1",
        "c": "/pk/about/?ref=home",
        "d": "/pk/about/?a=1?b=2#team",
        "e": "/pk/about/?v=2",
    }
    (root / "content/index.md").write_text("---\ntitle: Home\n---\n[x](/nope/?a=1)\n", encoding="utf-8")
    assert _errors(root) == [
        "content/index.md:4: link to '/nope/?a=1': no page has the URL /nope/; check the path"
    ]


def test_dot_segments_are_resolved_as_a_browser_does(tmp_path: Path) -> None:
    root = _home(
        tmp_path,
        "[a](/blog/../about/) [b](/content/./about.md) [c](/blog/../about.md)",
        **{"content/about.md": ABOUT},
    )
    build_site(root)
    assert _links(root, "intl/index.html") == {"a": "/intl/about/", "b": "/intl/about/", "c": "/intl/about/"}


def test_a_url_with_a_dot_only_in_a_folder_is_a_page_url(tmp_path: Path) -> None:
    # "/v1.0/pricing" names a page (the dot is in a folder), so the message names the page URL.
    root = _home(tmp_path, "[x](/v1.0/pricing)", **{"content/about.md": ABOUT})
    assert _errors(root) == [
        "content/index.md:4: link to '/v1.0/pricing': no page has the URL /v1.0/pricing/; check the path"
    ]


def test_links_to_static_files_are_kept_as_written_and_checked_in_the_output(tmp_path: Path) -> None:
    # A .yaml/.yml that is not a catalog entry is a file like any other.
    root = _home(
        tmp_path,
        "[pdf](/files/Brochure.pdf) [yaml](/data/feed.yaml) [yml](/data/feed.yml) [x](/Xmas.pdf)",
        **{
            "static/files/Brochure.pdf": "%PDF-1.4\n",
            "static/data/feed.yaml": "a: 1\n",
            "static/data/feed.yml": "a: 1\n",
            "static/Xmas.pdf": "%PDF-1.4\n",
        },
    )
    build_site(root)
    assert _links(root, "pk/index.html") == {
        "pdf": "/files/Brochure.pdf",
        "yaml": "/data/feed.yaml",
        "yml": "/data/feed.yml",
        "x": "/Xmas.pdf",
    }
    (root / "static/data/feed.yml").unlink()
    assert _errors(root) == [
        "content/index.md:4: link to '/data/feed.yml': no such file in the output; check the path"
    ]


def test_source_links_to_yml_catalog_entries_and_to_names_with_capitals(tmp_path: Path) -> None:
    root = _home(
        tmp_path,
        "[web](services/web.yml) [xmas](/Xmas.md) [xmas2](/content/Xmas.md)",
        **{
            "content/Xmas.md": "---\ntitle: Christmas\n---\nHo.\n",
            "content/services/web.yml": "id: web\nname: Web\nbody: Built well.\n",
        },
    )
    build_site(root)
    assert {k: v for k, v in _links(root, "pk/index.html").items() if k != "Web"} == {
        "web": "/pk/services/web/",
        "xmas": "/pk/xmas/",
        "xmas2": "/pk/xmas/",
    }


def test_a_url_written_from_a_file_name_suggests_the_page_url(tmp_path: Path) -> None:
    root = _home(tmp_path, "[w](/our%20work/)", **{"content/our work.md": "---\ntitle: Our work\n---\nW.\n"})
    assert _errors(root) == [
        "content/index.md:4: link to '/our work/': no page has the URL /our work/; did you mean /our-work/?"
    ]


def test_only_a_whole_region_id_makes_a_url_region_prefixed(tmp_path: Path) -> None:
    root = _home(tmp_path, "[a](/intl/about/) [b](/Xpk/) [c](/pkX/)", **{"content/about.md": ABOUT})
    assert _errors(root) == [
        "content/index.md:4: link to '/Xpk/': no page has the URL /Xpk/; check the path",
        "content/index.md:4: link to '/pkX/': no page has the URL /pkX/; check the path",
    ]


THREE_REGIONS = SITE_YAML.replace(
    "chat:",
    "  eu:\n    label: Europe\n    hreflang: en-GB\n    locale: en_GB\n    currency: EUR\nchat:",
)


def test_a_link_to_a_page_of_other_regions_names_them_all(tmp_path: Path) -> None:
    root = write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\n[o](offer.md)\n",
            "content/offer.md": "---\ntitle: Offer\nregions: [pk, eu]\n---\nOffer.\n",
        },
        site_yaml=THREE_REGIONS,
    )
    assert _errors(root) == [
        "content/index.md:4: link to 'offer.md' (content/offer.md), which is not built in region 'intl' "
        "(only in pk, eu); wrap the link in '::: region pk eu' or remove it"
    ]


def test_a_link_to_a_page_built_in_no_region_says_so(tmp_path: Path) -> None:
    # No region block could hold the link: the advice is not to wrap it in one.
    root = _home(
        tmp_path, "[o](offer.md)", **{"content/offer.md": "---\ntitle: Offer\nregions: []\n---\nO.\n"}
    )
    assert sorted(set(_errors(root))) == [
        f"content/index.md:4: link to 'offer.md' (content/offer.md), which is not built in region '{rid}' "
        "(built in no region); give the page a region or remove it"
        for rid in ("intl", "pk")
    ]


def test_a_draft_rewrite_at_a_published_pages_url_leaves_links_to_the_page_alone(tmp_path: Path) -> None:
    # The rewrite is left out of the build; the page it will replace is what visitors get until then.
    root = _home(
        tmp_path,
        "[a](/about/) [b](about.md)",
        **{
            "content/about.md": ABOUT,
            "content/about-new.md": "---\ntitle: About (rewrite)\nurl: about\ndraft: true\n---\nNew.\n",
        },
    )
    build_site(root)
    assert _links(root, "pk/index.html") == {"a": "/pk/about/", "b": "/pk/about/"}
    assert "Team" in html(root, "pk/about/index.html")
