"""Each broken site fails with exactly these messages, exit status 1, no traceback, dist/ untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from tests.support.sitefactory import SITE_YAML, write_site

HOME = "---\ntitle: Home\n---\nHello.\n"
BAD_ADDRESS = "'hi at tiny.example' is not an e-mail address (An email address must have an @-sign)"

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
    "page region in capitals": (
        {"content/index.md": "---\ntitle: Home\nregions: [PK]\n---\nx\n"},
        [
            "error: content/index.md:3: unknown region id 'PK' in regions; did you mean 'pk'? (known: pk, intl)"
        ],
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
    # Region blocks: every line starting with ':::' outside code is in the grammar, or an error.
    "misspelt block": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: regoin pk\nPK only\n:::\n"},
        [
            "error: content/index.md:5: '::: regoin pk': unknown block 'regoin' (the only block is '::: region'); "
            "did you mean '::: region pk'?"
        ],
    ),
    "block in capitals": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: Region PK\nPK only\n:::\n"},
        [
            "error: content/index.md:5: '::: Region PK': block lines are written in lower case; "
            "did you mean '::: region pk'?"
        ],
    ),
    "commas between regions": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: region pk, intl\nBoth\n:::\n"},
        [
            "error: content/index.md:5: '::: region pk, intl': separate region ids with spaces, not commas; "
            "did you mean '::: region pk intl'?"
        ],
    ),
    "no space after the colons": (
        {"content/index.md": "---\ntitle: Home\n---\n\n:::region pk\nPK only\n:::\n"},
        ["error: content/index.md:5: ':::region pk': put a space after ':::'; did you mean '::: region pk'?"],
    ),
    "region word left out": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: pk\nPK only\n:::\n"},
        [
            "error: content/index.md:5: '::: pk': unknown block 'pk' (the only block is '::: region'); "
            "did you mean '::: region pk'?"
        ],
    ),
    "no region named": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: region not\nx\n:::\n"},
        [
            "error: content/index.md:5: '::: region not' names no region: "
            "write '::: region ID …' or '::: region not ID …' (known: pk, intl)"
        ],
    ),
    "four colons": (
        {"content/index.md": "---\ntitle: Home\n---\n\n:::: region pk\nx\n::::\n"},
        [
            "error: content/index.md:5: ':::: region pk': a block line starts with exactly three colons; "
            "did you mean '::: region pk'?",
            "error: content/index.md:7: '::::': a block line starts with exactly three colons; did you mean ':::'?",
        ],
    ),
    "unclosed block swallows the next one": (
        {
            "content/index.md": "---\ntitle: Home\n---\n\n::: region pk\nPK only\n\n"
            "::: region not pk\nElsewhere\n:::\n\nFor everyone.\n"
        },
        [
            "error: content/index.md:5: '::: region pk' is never closed: add a line ':::' where the block ends",
            "error: content/index.md:8: '::: region not pk' inside '::: region pk' is shown in no region; "
            "close the outer block first or list a region it shows",
        ],
    ),
    "unclosed block at the end": (
        {"content/index.md": "---\ntitle: Home\n---\n\nIntro.\n\n::: region intl\nAbroad\n"},
        [
            "error: content/index.md:7: '::: region intl' is never closed: add a line ':::' where the block ends"
        ],
    ),
    "stray closing line": (
        {"content/index.md": "---\ntitle: Home\n---\n\nIntro.\n:::\n"},
        [
            "error: content/index.md:6: ':::' closes no block: remove it, or add the '::: region …' line it should close"
        ],
    ),
    "closing line with words": (
        {"content/index.md": "---\ntitle: Home\n---\n\n::: region pk\nx\n::: end\n"},
        [
            "error: content/index.md:5: '::: region pk' is never closed: add a line ':::' where the block ends",
            "error: content/index.md:7: '::: end': unknown block 'end' (the only block is '::: region'); "
            "to close the block, write ':::' alone",
        ],
    ),
    "block inside a quote": (
        {"content/index.md": "---\ntitle: Home\n---\n\n> ::: region pk\n> x\n> :::\n"},
        [
            "error: content/index.md:5: '> ::: region pk': a region block cannot start inside a quote ('>'); "
            "put the quote inside the block instead",
            "error: content/index.md:7: '> :::': a region block cannot start inside a quote ('>'); "
            "put the quote inside the block instead",
        ],
    ),
    "block errors in a service body": (
        {
            "content/services/web.yaml": "id: web\nname: Web\nbody: |\n  Intro.\n\n  ::: regoin pk\n  x\n  :::\n",
        },
        [
            "error: content/services/web.yaml:6: '::: regoin pk': unknown block 'regoin' (the only block is '::: region'); "
            "did you mean '::: region pk'?"
        ],
    ),
    "bad heading id": (
        {"content/index.md": "---\ntitle: Home\n---\n\n## Team {#our team}\n"},
        [
            "error: content/index.md:5: heading id '{#our team}': use letters, digits, '-' and '_' only, e.g. {#our-team}"
        ],
    ),
    "block inside a table": (
        {
            "content/index.md": "---\ntitle: Home\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
            "::: region pk\n| 3 | 4 |\n:::\n| 5 | 6 |\n"
        },
        [
            "error: content/index.md:8: '::: region pk' cuts a table in two: put a whole table in each block "
            "(one table per region), or the block around the table",
            "error: content/index.md:10: ':::' cuts a table in two: put a whole table in each block "
            "(one table per region), or the block around the table",
        ],
    ),
    "heading id used twice": (
        {"content/index.md": "---\ntitle: Home\n---\n\n## Our team\n\n## People {#our-team}\n"},
        ["error: content/index.md:7: heading id '{#our-team}' is already used on this page; pick another"],
    ),
    "malformed e-mail from site values": (
        {
            "site.yaml": SITE_YAML.replace("email: hi@tiny.example", "email: hi at tiny.example"),
            "content/index.md": "---\ntitle: Home\n---\n\nWrite to [us](mailto:{{ site.contact.email }}).\n",
        },
        # The theme's footer links the address too: each page that has it is named.
        [
            "error: content/index.md: link 'mailto:hi at tiny.example': " + BAD_ADDRESS,
            "error: content/index.md:5: link to 'mailto:{{ site.contact.email }}': " + BAD_ADDRESS,
            "error: dist/404.html: link 'mailto:hi at tiny.example': " + BAD_ADDRESS,
            "error: dist/intl/404.html: link 'mailto:hi at tiny.example': " + BAD_ADDRESS,
            "error: dist/pk/404.html: link 'mailto:hi at tiny.example': " + BAD_ADDRESS,
        ],
    ),
    "malformed phone link": (
        {"content/index.md": "---\ntitle: Home\n---\n\nCall [us](tel:0300-1234567).\n"},
        [
            "error: content/index.md: link 'tel:0300-1234567': not a phone number in E.164 form "
            "(tel:+923001234567: '+', country code, number, no spaces)",
        ],
    ),
    # Typed content: YAML guesses a type from how a value looks; the schema says what it must be.
    "colon makes a feature a mapping": (
        {
            "content/services/web.yaml": "id: web\nname: Web\nfeatures:\n  - Fast pages\n"
            "  - Search-engine basics: titles, descriptions\n"
        },
        [
            "error: content/services/web.yaml:5: item 2 of 'features' must be text, got a mapping "
            "(a 'key: value' pair; the colon did that); quote this line: - \"Search-engine basics: titles, descriptions\""
        ],
    ),
    "catalog fields of the wrong type": (
        {
            "content/services/web.yaml": "id: web\nname: 2024\nsummary: [a, b]\nfeatures: Fast pages\n"
            "faq:\n  - q: Why?\n  - Just text\n"
        },
        [
            "error: content/services/web.yaml:2: 'name' must be text, got a number (2024); quote this line: name: \"2024\"",
            "error: content/services/web.yaml:3: 'summary' must be text, got a list; quote this line: summary: \"[a, b]\"",
            "error: content/services/web.yaml:4: 'features' must be a list ('- …' lines under it), got text ('Fast pages')",
            "error: content/services/web.yaml:6: item 1 of 'faq' has no 'a'",
            "error: content/services/web.yaml:7: item 2 of 'faq' must be q and a lines, got text ('Just text')",
        ],
    ),
    "price of the wrong types": (
        {
            "content/services/web.yaml": "id: web\nname: Web\nprice:\n  pk: {amount: 10, unit: 3, from: 'yes'}\n"
            "  intl: {amount: ten}\n"
        },
        [
            "error: content/services/web.yaml:3: price for region 'intl' needs a non-negative 'amount', got 'ten'",
            "error: content/services/web.yaml:3: price for region 'pk': 'unit' must be text and 'from' true or false, "
            "got a number (3) and text ('yes')",
        ],
    ),
    "front matter of the wrong types": (
        {
            "content/index.md": "---\ntitle: Home\nweight: first\ndraft: 'no'\nupdated: 17 June\n"
            "description: 12\nmenu: {a: b}\n---\nx\n"
        },
        [
            "error: content/index.md:3: 'weight' must be a whole number, got text ('first')",
            "error: content/index.md:4: 'draft' must be true or false, got text ('no')",
            "error: content/index.md:5: 'updated' must be a date like 2026-06-17, got text ('17 June')",
            "error: content/index.md:6: 'description' must be text, got a number (12); quote this line: description: \"12\"",
            "error: content/index.md:7: 'menu' must be a name or a list of names, got a mapping "
            "(a 'key: value' pair; the colon did that); quote this line: menu: \"{a: b}\"",
        ],
    ),
    "regional title of the wrong type": (
        {"content/index.md": "---\ntitle:\n  pk: Home\n  intl: 7\n---\nx\n"},
        [
            "error: content/index.md:4: 'title.intl' must be text, got a number (7); quote this line: intl: \"7\""
        ],
    ),
    "a date that is not one": (
        {"content/index.md": "---\ntitle: Home\nupdated: 2026-13-01\n---\nx\n"},
        [
            "error: content/index.md:3: malformed front matter: the value '2026-13-01' looks like a date or number "
            "but is not one (month must be in 1..12); correct it, or quote it to keep it as text"
        ],
    ),
    "a list shown as text": (
        {"content/index.md": "---\ntitle: Home\nparams: {a: [1, 2]}\n---\n\n{{ page.params.a }}\n"},
        [
            "error: content/index.md:6: {{ page.params.a }} is a list: show its items with "
            "{% for item in … %}{{ item }}{% endfor %}"
        ],
    ),
    "vercel analytics on netlify": (
        {"site.yaml": SITE_YAML + "hosting: netlify\nanalytics:\n  provider: vercel\n"},
        [
            "error: site.yaml:25: analytics.provider: Vercel Analytics only works on Vercel, but hosting is "
            "'netlify': set analytics.provider to 'netlify' or 'none'",
        ],
    ),
    "speed insights without vercel analytics": (
        {"site.yaml": SITE_YAML + "analytics:\n  provider: none\n  speed_insights: true\n"},
        [
            "error: site.yaml:25: analytics.speed_insights: Speed Insights is a Vercel script: it needs "
            "analytics.provider: vercel (and hosting: vercel); set speed_insights: false",
        ],
    ),
    "proxy origin on vercel": (
        {"site.yaml": SITE_YAML + "hosting: vercel\nedge:\n  origin: https://edge.tiny.example\n"},
        [
            "error: site.yaml:25: edge.origin: with hosting: vercel the edge handlers are deployed with the "
            "site as a Vercel function, so nothing is proxied to another origin: remove edge.origin",
        ],
    ),
    "policy without the host": (
        {
            "site.yaml": SITE_YAML
            + "hosting: netlify\nprivacy:\n  processors:\n    - name: Vercel\n      role: hosting\n"
            "      purpose: Hosting.\n"
        },
        [
            "error: site.yaml:25: privacy.processors: hosting is 'netlify' but no privacy.processors entry "
            "with role: hosting is named Netlify: add one, or the privacy policy would not name the host",
        ],
    ),
    "link to a draft": (
        {
            "content/index.md": "---\ntitle: Home\n---\nSee [next](next.md).\n",
            "content/next.md": "---\ntitle: Next\ndraft: true\n---\nSoon.\n",
        },
        [
            "error: content/index.md:4: links to a draft: 'next.md' is content/next.md, which has "
            "'draft: true'; publish it (remove 'draft: true'), preview both with `sitegen serve` or "
            "`sitegen build --drafts`, or remove the link",
        ],
    ),
    "static file in place of a built one": (
        {"static/robots.txt": "User-agent: *\n"},
        [
            "error: static/robots.txt: the build makes /robots.txt itself, so this file would replace it; "
            "remove or rename static/robots.txt",
        ],
    ),
    "slug that is not a slug": (
        {"content/about.md": "---\ntitle: About\nslug: About Us\n---\nx\n"},
        [
            "error: content/about.md:3: 'slug: About Us' is not made of slugs (lowercase letters, digits and "
            "hyphens); write 'slug: about-us'",
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


def test_strict_lists_the_warning_and_every_later_error(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "site.yaml": SITE_YAML.replace("title: Tiny", "title: Tiny\ntitel: Typo"),
            "content/index.md": "---\ntitle: Home\nweigth: 3\n---\n\n::: regoin pk\nx\n:::\n",
            "content/about.md": "---\ntitle: About\n---\n\n[x](/missing/)\n",
        },
    )
    code, lines, _ = run(tmp_path, "--strict")
    assert code == 1
    assert lines == [
        "error: content/index.md:3: unknown front matter key 'weigth'; did you mean 'weight'? (a warning, fatal with --strict)",
        "error: content/index.md:6: '::: regoin pk': unknown block 'regoin' (the only block is '::: region'); "
        "did you mean '::: region pk'?",
        "error: site.yaml:2: titel: unknown key; did you mean 'title'? (a warning, fatal with --strict)",
    ]
