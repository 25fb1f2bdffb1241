"""Deterministic N-page benchmark site in sitegen's format.

    .venv/bin/python bench/make_site.py --n 4000 OUTDIR

Pages mirror the peer corpus in ../shared/bench-peers (title front matter,
three paragraphs, a heading, a list, one fenced code block, links), so the
figures can be put beside Hugo's and Eleventy's. On top of that the site has
two regions, a small services catalog, a region block on every tenth page and
a price shown on every twentieth, so region work is exercised too. The same N
and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from pathlib import Path

WORDS = (
    "agency brand client design develop launch market mobile online pixel product project region review "
    "search secure server service site speed store studio style team test theme update user value vision "
    "web work build cache deploy edge fast layout module page query render route"
).split()

CODE = [
    ("python", 'def greet(name):\n    return f"Hello, {name}!"\n\nprint(greet("world"))'),
    ("js", "export function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}"),
    ("bash", 'for f in *.md; do\n  wc -w "$f"\ndone'),
]

SITE_YAML = """\
title: Bench Agency
description: A generated site for build benchmarks.
base_url: https://bench.example.com
language: en
theme: default
contact:
  company: Bench Agency
  email: hello@bench.example.com
  phone: "+92 300 0000000"
  address: Karachi, Pakistan
regions:
  north:
    label: North
    countries: [PK]
    hreflang: en-PK
    locale: en_PK
    currency: PKR
    params:
      phone: "+92 300 0000000"
  west:
    label: West
    default: true
    countries: []
    hreflang: en
    locale: en_US
    currency: USD
    params:
      hours: 09:00-18:00 UTC
"""

SERVICES = [
    ("web-development", "Web Development", 80000, 900, None),
    ("app-development", "App Development", 150000, 2500, None),
    ("branding", "Branding", 40000, None, ["north"]),
    ("ecommerce-management", "eCommerce Management", None, 600, ["west"]),
    ("seo", "Search Optimisation", 30000, 400, None),
    ("maintenance", "Maintenance", 15000, 200, None),
]


def sentence(rng: random.Random, lo: int = 6, hi: int = 16) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))


def page(i: int, n: int, rng: random.Random) -> str:
    date = dt.date(2015, 1, 1) + dt.timedelta(days=i % 3650)
    other = i % n + 1
    lang, code = CODE[i % len(CODE)]
    items = "\n".join(f"- {sentence(rng, 3, 7)}" for _ in range(rng.randint(3, 5)))
    extra = ""
    if i % 10 == 0:
        extra += "\n::: region north\nCall us on {{ region.params.phone }}.\n:::\n"
    if i % 20 == 0:
        extra += '\nWeb development starts at {{ price("web-development") }}.\n'
    return (
        "---\n"
        f"title: Page {i} {' '.join(rng.choice(WORDS) for _ in range(4))}\n"
        f"updated: {date.isoformat()}\n"
        "---\n\n"
        f"{paragraph(rng)}\n\n"
        f"## Section {i}.1 {rng.choice(WORDS)}\n\n"
        f"{paragraph(rng)} See [page {other}](/pages/page-{other:05d}/) and "
        f"[the *example* site](https://example.com/docs/{i}).\n\n"
        f"{items}\n\n"
        f"```{lang}\n{code}\n```\n\n"
        f"{paragraph(rng)} Some `inline code` and **bold** and _emphasis_.\n"
        f"{extra}"
    )


def service(sid: str, name: str, pkr: int | None, usd: int | None, regions: list[str] | None) -> str:
    lines = [f"id: {sid}", f"name: {name}", f"summary: {name} for growing businesses.", "order: 1"]
    if regions:
        lines.append(f"regions: [{', '.join(regions)}]")
    lines.append("price:")
    if pkr is not None:
        lines += [
            "  north:",
            f"    amount: {pkr}",
            "    currency: PKR",
            "    unit: project",
            "    from: true",
        ]
    if usd is not None:
        lines += ["  west:", f"    amount: {usd}", "    currency: USD", "    unit: project", "    from: true"]
    lines += ["features:", "  - Planning", "  - Delivery", "body: |", f"  {name} done properly."]
    return "\n".join(lines) + "\n"


def make_site(out: Path, n: int, seed: int = 1) -> None:
    if out.exists():
        shutil.rmtree(out)
    (out / "content" / "pages").mkdir(parents=True)
    (out / "content" / "services").mkdir(parents=True)
    (out / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    (out / "content" / "index.md").write_text(
        "---\ntitle: Home\ntemplate: home\n---\n\nWelcome to the benchmark site.\n", encoding="utf-8"
    )
    (out / "content" / "services" / "index.md").write_text(
        "---\ntitle: Services\ntemplate: services\n---\n\nWhat we do.\n", encoding="utf-8"
    )
    for sid, name, pkr, usd, regions in SERVICES:
        (out / "content" / "services" / f"{sid}.yaml").write_text(
            service(sid, name, pkr, usd, regions), encoding="utf-8"
        )
    rng = random.Random(seed)
    pages = out / "content" / "pages"
    for i in range(1, n + 1):
        (pages / f"page-{i:05d}.md").write_text(page(i, n, rng), encoding="utf-8", newline="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    make_site(args.outdir, args.n, args.seed)


if __name__ == "__main__":
    main()
