"""`sitegen diff` on this repository: the real pk/intl differences, derived here from the sources.

Every expectation is read from content/ and site.yaml (block lines, service regions and
prices, region params), never from a saved copy of the command's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sitegen import regiondiff
from sitegen.cli import main
from sitegen.errors import SitegenError
from tests.support.sitefactory import write_site

REPO = Path(__file__).resolve().parents[2]
SITE = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))
REGIONS = list(SITE["regions"])
BLOCK = re.compile(r"^ {0,3}::: region (not )?([a-z0-9 -]+?)\s*$")


@pytest.fixture(scope="module")
def report() -> regiondiff.Report:
    return regiondiff.diff_site(REPO)


def pages_by_path(report: regiondiff.Report) -> dict[str, regiondiff.PageDiff]:
    return {p.path: p for p in report.pages}


def services() -> dict[str, dict[str, Any]]:
    return {
        f.stem: yaml.safe_load(f.read_text(encoding="utf-8"))
        for f in sorted((REPO / "content/services").glob("*.yaml"))
    }


def source_blocks() -> set[tuple[str, int, tuple[str, ...]]]:
    """(file, line, regions shown in) of every region block written in content/*.md."""
    found = set()
    for path in sorted((REPO / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^draft: true$", text, re.M):
            continue
        for number, line in enumerate(text.split("\n"), 1):
            m = BLOCK.match(line)
            if m:
                ids = m.group(2).split()
                shown = [r for r in REGIONS if (r in ids) != bool(m.group(1))]
                found.add((path.relative_to(REPO).as_posix(), number, tuple(shown)))
    return found


def test_region_only_pages_are_the_services_offered_in_some_regions(report: regiondiff.Report) -> None:
    pages = pages_by_path(report)
    limited = {sid: data["regions"] for sid, data in services().items() if "regions" in data}
    assert limited, "the catalog has a service offered in only some regions"
    for sid, regions in limited.items():
        assert pages[f"/services/{sid}/"].only_in(report.regions) == regions
    others = {p.path for p in report.pages} - {f"/services/{sid}/" for sid in limited}
    assert all(pages[path].only_in(report.regions) is None for path in others)


def test_every_region_block_of_the_content_is_listed_with_its_line(report: regiondiff.Report) -> None:
    listed = {(b.file, b.line, tuple(b.shown_in)) for p in report.pages for b in p.blocks}
    assert listed == source_blocks()
    about = pages_by_path(report)["/about/"]
    assert about.blocks[0].text.startswith("Come and see us at")  # the block's first line, as written


def test_prices_are_each_regions_catalog_price(report: regiondiff.Report) -> None:
    pages = pages_by_path(report)
    for sid, data in services().items():
        if sid not in {"web-development", "branding", "ecommerce-management"}:
            continue
        page = pages[f"/services/{sid}/"]
        if page.only_in(report.regions) is not None:
            assert page.prices == []  # nothing to compare a one-region page with
            continue
        (price,) = [p for p in page.prices if p.service == sid]
        for rid in REGIONS:
            assert f"{data['price'][rid]['amount']:,}" in (price.values[rid] or "")
    # The services list shows a region-only service's price in its region, and nothing elsewhere.
    listing = {p.service: p.values for p in pages["/services/"].prices}
    branding = services()["branding"]
    for rid in REGIONS:
        shown = listing["branding"][rid]
        assert (shown is not None) == (rid in branding["regions"])


def test_values_given_per_region_and_shown_everywhere(report: regiondiff.Report) -> None:
    pages = pages_by_path(report)
    front = yaml.safe_load((REPO / "content/index.md").read_text(encoding="utf-8").split("---")[1])
    eyebrow = front["params"]["eyebrow"]
    (value,) = [v for v in pages["/"].values if v.what == "params.eyebrow"]
    assert value.values == {rid: eyebrow.get(rid, eyebrow.get("default")) for rid in REGIONS}
    (currency,) = [v for v in pages["/services/"].values if "region.currency" in v.what]
    assert currency.values == {rid: SITE["regions"][rid]["currency"] for rid in REGIONS}
    body = (REPO / "content/services/index.md").read_text(encoding="utf-8").split("\n")
    assert "{{ region.currency }}" in body[currency.line - 1]


def test_links_only_in_one_region(report: regiondiff.Report) -> None:
    pages = pages_by_path(report)
    whatsapp = f"https://wa.me/{SITE['regions']['pk']['params']['whatsapp']}"
    contact = {link.href: link.shown_in for link in pages["/contact/"].links}
    assert contact[whatsapp] == ["pk"]
    # A region-only service is linked from the services list in its own region only.
    listing = {link.href: link.shown_in for link in pages["/services/"].links}
    for sid, data in services().items():
        if "regions" in data:
            assert listing[f"/services/{sid}/"] == data["regions"]
    # Links into the page's own region compare equal (no /pk/ vs /intl/ noise).
    assert not any(
        link.href.startswith(tuple(f"/{r}/" for r in REGIONS)) for p in report.pages for link in p.links
    )


def test_json_form_and_stable_order(report: regiondiff.Report) -> None:
    data = report.as_json()
    assert data["version"] == regiondiff.SCHEMA_VERSION and data["regions"] == REGIONS
    paths = [p["path"] for p in data["pages"]]
    assert paths == sorted(paths)
    for page in data["pages"]:
        assert set(page) == {
            "path",
            "file",
            "regions",
            "only_in",
            "differs",
            "blocks",
            "values",
            "prices",
            "links",
        }
        assert [b["line"] for b in page["blocks"]] == sorted(b["line"] for b in page["blocks"])
    result = CliRunner().invoke(main, ["diff", "--json", "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(data))


def test_text_form_one_page_and_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["diff", "--page", "content/about.md", "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "/about/  (content/about.md)"
    (pk_line,) = [n for f, n, shown in source_blocks() if f == "content/about.md" and shown == ("pk",)]
    assert any(f"content/about.md:{pk_line}  ::: region pk  [pk]" in line for line in lines)
    assert lines[-1] == "pages that differ between pk, intl: 1 of 1"
    same = runner.invoke(main, ["diff", "--page", "/legal/cookies/", "-v", "--root", str(REPO)])
    assert same.output.splitlines()[0] == "/legal/cookies/  (content/legal/cookies.md): the same in pk, intl"
    quiet = runner.invoke(main, ["diff", "--page", "/legal/cookies/", "-q", "--root", str(REPO)])
    assert quiet.exit_code == 0 and quiet.output == ""
    bad = runner.invoke(main, ["diff", "--page", "/abut/", "--root", str(REPO)])
    assert bad.exit_code == 1 and "did you mean /about/?" in bad.stderr and "Traceback" not in bad.output
    one = runner.invoke(main, ["diff", "--regions", "pk", "--root", str(REPO)])
    assert one.exit_code == 1 and "name two or more regions" in one.stderr


def test_the_example_in_the_editors_guide_is_the_real_output() -> None:
    """docs/editors.md shows `sitegen diff` on this site: each line shown (up to a final "…") is a
    line of the real output, in its order."""
    guide = (REPO / "docs/editors.md").read_text(encoding="utf-8")
    section = guide.split("## What each region gets: `sitegen diff`", 1)[1]
    example = section.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    real = CliRunner().invoke(main, ["diff", "--root", str(REPO)]).output.splitlines()
    at = 0
    for shown in example:
        start = shown.removesuffix("…")
        matches = [
            i
            for i in range(at, len(real))
            if real[i] == shown or real[i].startswith(start) and start != shown
        ]
        assert matches, f"not in the real output (after line {at}): {shown!r}"
        at = matches[0] + 1


def test_a_draft_asked_for_by_page_says_to_add_drafts(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\nHi.\n",
            "content/blog/wip.md": "---\ntitle: WIP\ndraft: true\n---\n\n::: region pk\nx\n:::\n",
        },
    )
    runner = CliRunner()
    for asked in ("/blog/wip/", "content/blog/wip.md"):
        left_out = runner.invoke(main, ["diff", "--page", asked, "--root", str(tmp_path)])
        assert left_out.exit_code == 1
        assert left_out.stderr == (
            f"error: --page {asked}: content/blog/wip.md is a draft ('draft: true'), left out; "
            "add --drafts to compare it\n"
        )
    included = runner.invoke(main, ["diff", "--page", "/blog/wip/", "--drafts", "--root", str(tmp_path)])
    assert included.exit_code == 0 and included.output.startswith("/blog/wip/  (content/blog/wip.md)")


def test_three_regions_and_nested_blocks(tmp_path: Path) -> None:
    """Region ids are data: a third region, a 'not' block and a nested block."""
    write_site(
        tmp_path,
        {
            "site.yaml": """\
            title: Three
            base_url: https://three.example
            regions:
              aa: {label: A, countries: [AA], hreflang: en-AA, locale: en_US, currency: USD}
              bb: {label: B, countries: [BB], hreflang: en-BB, locale: en_GB, currency: GBP}
              cc: {label: C, default: true, hreflang: en, locale: en_US, currency: EUR}
            chat: {enabled: false}
            """,
            "content/index.md": """\
            ---
            title: Home
            ---
            Prices in {{ region.currency }}.

            ::: region not aa
            Not for A.

            ::: region bb
            Only B.
            :::
            :::
            """,
            "content/local.md": "---\ntitle: Local\nregions: [aa, cc]\n---\nHere.\n",
        },
    )
    every = regiondiff.diff_site(tmp_path)
    home = pages_by_path(every)["/"]
    assert [(b.line, b.shown_in) for b in home.blocks] == [(6, ["bb", "cc"]), (9, ["bb"])]
    assert home.values[0].values == {"aa": "USD", "bb": "GBP", "cc": "EUR"}
    assert pages_by_path(every)["/local/"].only_in(every.regions) == ["aa", "cc"]
    two = regiondiff.diff_site(tmp_path, regions=["bb", "cc"])
    assert [b.line for b in pages_by_path(two)["/"].blocks] == [9]
    assert pages_by_path(two)["/local/"].only_in(two.regions) == ["cc"]
    with pytest.raises(SitegenError, match="no region dd"):
        regiondiff.diff_site(tmp_path, regions=["aa", "dd"])
