"""Each broken site fails with exactly these messages, exit status 1, no traceback, dist/ untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from tests.sitegen.sitefactory import SITE_YAML, write_site

HOME = "---\ntitle: Home\n---\nHello.\n"

CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "malformed front matter": (
        {"content/index.md": "---\ntitle: Home\nmenu: [main\n---\nx\n"},
        [
            "error: content/index.md:4: malformed front matter: did not find expected ',' or ']'; check indentation, colons and quotes"
        ],
    ),
    "missing title": (
        {"content/index.md": "---\ndescription: no title\n---\nx\n"},
        ["error: content/index.md:1: missing 'title' in front matter"],
    ),
    "unknown page region": (
        {"content/index.md": "---\ntitle: Home\nregions: [pk, uk]\n---\nx\n"},
        ["error: content/index.md:3: unknown region id 'uk' in regions (known: pk, intl)"],
    ),
    "unknown block region": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: region pk inl\nx\n:::\n"},
        [
            "error: content/index.md:5: unknown region id 'inl' in '::: region pk inl'; did you mean 'intl'? (known: pk, intl)"
        ],
    ),
    "missing template": (
        {"content/index.md": "---\ntitle: Home\ntemplate: fancy\n---\nx\n"},
        [
            "error: content/index.md:3: template 'fancy.html' not found in templates/ or theme 'default'; create it or pick an existing template"
        ],
    ),
    "two sources for one URL": (
        {"content/about.md": "---\ntitle: A\n---\nx\n", "content/about/index.md": "---\ntitle: B\n---\ny\n"},
        [
            "error: content/about.md:1: two sources for the URL /about/: content/about/index.md and content/about.md; rename one or set 'slug'/'url'"
        ],
    ),
    "undefined variable": (
        {"content/index.md": "---\ntitle: Home\n---\n\nline\n\nHello {{ region.nope }}\n"},
        [
            "error: content/index.md:7: undefined value 'nope' in {{ region.nope }}; check the spelling, or define it in site.yaml"
        ],
    ),
    "undefined name": (
        {"content/index.md": "---\ntitle: Home\n---\n\nHello {{ nope }}\n"},
        [
            "error: content/index.md:5: undefined name 'nope' in {{ nope }}; check the spelling, or define it in site.yaml"
        ],
    ),
    "broken links": (
        {
            "content/index.md": "---\ntitle: Home\n---\n\n[x](/missing/)\n",
            "content/pkonly.md": "---\ntitle: P\nregions: [pk]\n---\nx\n",
            "content/a.md": "---\ntitle: A\n---\n\nSee [p](pkonly.md).\n",
        },
        [
            "error: content/a.md:5: link to 'pkonly.md' (content/pkonly.md), which is not built in region 'intl' (only in pk); "
            "wrap the link in '::: region pk' or remove it",
            "error: content/index.md:5: link to '/missing/': no page has the URL /missing/; check the path",
        ],
    ),
    "broken anchor": (
        {
            "content/index.md": "---\ntitle: Home\n---\nSee [the team](about.md#team).\n",
            "content/about.md": "---\ntitle: About\n---\nNo headings here.\n",
        },
        [
            "error: content/index.md:4: link to 'about.md#team': that page has no heading or element with id 'team'; check the anchor"
        ],
    ),
    "malformed catalog YAML": (
        {"content/services/web.yaml": "id: web\nname: Web\nprice:\n  pk: {amount: 1\n"},
        [
            "error: content/services/web.yaml:5: malformed YAML: did not find expected ',' or '}'; check indentation, colons and quotes"
        ],
    ),
    "unknown service": (
        {"content/index.md": "---\ntitle: Home\n---\n\n{{ price('nope') }}\n"},
        ["error: content/index.md:5: price('nope'): no service with that id in content/services/"],
    ),
    "bad currency": (
        {"site.yaml": SITE_YAML.replace("currency: PKR", "currency: rupees")},
        ["error: site.yaml:12: regions.pk.currency: expected a 3-letter ISO code, got 'rupees'"],
    ),
    "no default region": (
        {"site.yaml": SITE_YAML.replace("    default: true\n", "")},
        ["error: site.yaml:6: regions: mark exactly one region with 'default: true' (none is)"],
    ),
    "several config problems at once": (
        {
            "site.yaml": SITE_YAML.replace("countries: [PK]", "countries: [pakistan]").replace(
                "hreflang: en\n", "hreflang: 12\n"
            )
        },
        [
            "error: site.yaml:9: regions.pk.countries.0: expected an ISO 3166 alpha-2 code like 'PK', got 'pakistan'",
            "error: site.yaml:18: regions.intl.hreflang: expected a language tag like 'en' or 'en-PK', got '12'",
        ],
    ),
}


def run(root: Path, *args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["build", "--root", str(root), *args])
    lines = [line for line in result.stderr.splitlines() if line.startswith(("error:", "warning:"))]
    return result.exit_code, lines, result.output


@pytest.mark.parametrize("name", list(CASES))
def test_exact_messages_and_dist_untouched(tmp_path: Path, name: str) -> None:
    files, expected = CASES[name]
    good = write_site(tmp_path, {"content/index.md": HOME})
    assert run(good)[0] == 0
    before = {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()}
    write_site(tmp_path, dict(files))
    code, lines, output = run(tmp_path)
    assert code == 1
    assert [line for line in lines if line.startswith("error:")] == expected
    assert "Traceback" not in output
    assert {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()} == before


def test_unknown_key_warns_with_did_you_mean_and_strict_makes_it_fatal(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {"site.yaml": SITE_YAML.replace("title: Tiny", "title: Tiny\ntitel: Typo"), "content/index.md": HOME},
    )
    code, lines, _ = run(tmp_path)
    assert code == 0
    assert lines == ["warning: site.yaml:2: titel: unknown key; did you mean 'title'?"]
    code, lines, _ = run(tmp_path, "--strict")
    assert code == 1
    assert lines == [
        "error: site.yaml:2: titel: unknown key; did you mean 'title'? (a warning, fatal with --strict)"
    ]


def test_unknown_front_matter_key_warns(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/index.md": "---\ntitle: Home\nweigth: 3\n---\nx\n"})
    code, lines, _ = run(tmp_path)
    assert code == 0
    assert lines == ["warning: content/index.md:3: unknown front matter key 'weigth'; did you mean 'weight'?"]
