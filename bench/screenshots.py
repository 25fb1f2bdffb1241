"""Full-page screenshots of every template of a built site, for looking at the design (not committed).

Builds the site (development build; ``--root`` picks the site, default this repository, e.g.
``--root sitegen/scaffold/site`` for the starter site) or reuses ``--dist``, serves it the way the
host does (the generated ``_headers``, so the deployed CSP applies), and for every region takes one
page per template (the body's ``tpl-<name>`` class) plus the region's 404 page, at 360, 768 and
1280 px wide (scrolled through first, so lazily loaded images show), in the light scheme (``--dark`` adds the dark one). PNGs go to ``--out`` as
``<region>-<template>-<width>[-dark].png``.

Usage: .venv/bin/python bench/screenshots.py [--out DIR] [--root SITE] [--dist DIR] [--dark]
                                             [--width 360 ...] [--template home ...]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.servers import serve  # noqa: E402
from tests.support.sitegen_cli import build_dev  # noqa: E402
from tests.support.static_site import site_app  # noqa: E402

WIDTHS = (360, 768, 1280)
HEIGHTS = {360: 740, 768: 1024, 1280: 800}
_TEMPLATE = re.compile(r'<body class="tpl-([\w-]+)')


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Full-page screenshots of every template.")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the PNGs")
    parser.add_argument("--root", type=Path, default=ROOT, help="site to build (default: this repository)")
    parser.add_argument("--dist", type=Path, help="reuse this build instead of building one")
    parser.add_argument("--dark", action="store_true", help="also take the dark colour scheme")
    parser.add_argument("--width", dest="widths", type=int, action="append", help=f"default {WIDTHS}")
    parser.add_argument("--template", dest="templates", action="append", help="only these templates")
    args = parser.parse_args(argv)
    args.widths = args.widths or list(WIDTHS)
    return args


def pages_by_template(dist: Path) -> dict[tuple[str, str], str]:
    """(region, template) -> the first page's URL path using it, plus each region's 404 page."""
    found: dict[tuple[str, str], str] = {}
    for region_dir in sorted(p for p in dist.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if region_dir.name == "assets":
            continue
        for html in sorted(region_dir.rglob("index.html"), key=lambda p: (len(p.parts), str(p))):
            match = _TEMPLATE.search(html.read_text(encoding="utf-8"))
            if match:
                path = "/" + html.parent.relative_to(dist).as_posix() + "/"
                found.setdefault((region_dir.name, match.group(1)), path)
        if (region_dir / "404.html").is_file():
            found[(region_dir.name, "404")] = f"/{region_dir.name}/no-such-page/"
    return found


def show_lazy_images(page: Any) -> None:
    """Scroll through the page so lazily loaded images load, then wait for every image."""
    page.evaluate(
        """async () => {
            for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
                scrollTo(0, y);
                await new Promise(r => setTimeout(r, 50));
            }
            scrollTo(0, 0);
            await Promise.all([...document.images].map(i => i.complete ? null : i.decode().catch(() => null)));
        }"""
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sitegen-shots-") as tmp:
        dist = args.dist or build_dev(args.root.resolve(), Path(tmp) / "dist")
        targets = pages_by_template(dist)
        if args.templates:
            targets = {k: v for k, v in targets.items() if k[1] in args.templates}
        schemes: list[Literal["light", "dark"]] = ["light", "dark"] if args.dark else ["light"]
        written = 0
        with serve(site_app(dist)) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for scheme in schemes:
                for width in args.widths:
                    context = browser.new_context(
                        viewport={"width": width, "height": HEIGHTS.get(width, 800)}, color_scheme=scheme
                    )
                    page = context.new_page()
                    for (region, template), path in sorted(targets.items()):
                        page.goto(base.rstrip("/") + path)
                        show_lazy_images(page)
                        suffix = "" if scheme == "light" else "-dark"
                        name = args.out / f"{region}-{template}-{width}{suffix}.png"
                        page.screenshot(path=str(name), full_page=True)
                        written += 1
                    context.close()
            browser.close()
    print(f"{written} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
