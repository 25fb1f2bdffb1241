"""``/__sitegen/diff``: one page of the last good build in two regions side by side (dev server only).

``?path=/about/`` names the page (region-less, as ``sitegen diff --page``);
``&regions=A,B`` the regions (default: the first two the page is built in).
The page lists the differences ``sitegen diff`` finds and shows each region's
``<main>`` in a column, styled by the site's own stylesheets; ``diff.js``
marks the paragraphs, list items and headings that the other column lacks.

Under the site's CSP, like every page the dev server serves: the pages cannot be
framed (``frame-ancestors 'none'``), so their ``<main>`` is copied in, without
scripts; the view's own script and stylesheet are files under ``/__sitegen/``.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sitegen import diffview, regiondiff
from sitegen.devserver.builder import Snapshot
from sitegen.errors import SitegenError

_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)
_STYLESHEET = re.compile(r"<link\b[^>]*\brel=\"stylesheet\"[^>]*>", re.I)
_MAIN_OPEN = re.compile(r"^<main\b[^>]*>", re.I)


def respond(
    request: Request, snap: Snapshot, site: regiondiff.BuiltSite, root: Path, prefix: str
) -> Response:
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": snap.csp,
    }
    path = request.query_params.get("path", "/")
    if not path.startswith("/") or ".." in path.split("/") or "\x00" in path:
        return Response(
            "?path= is a page's URL without its region, e.g. /about/\n", 400, media_type="text/plain"
        )
    path = path if path.endswith("/") else path + "/"
    try:
        page = regiondiff.find_page(site.sources, path)
        wanted = [r for r in request.query_params.get("regions", "").split(",") if r]
        if not wanted:
            built = [r for r in site.config.region_ids if r in page.regions]
            wanted = (built + [r for r in site.config.region_ids if r not in built])[:2]
        compared = regiondiff.compared_regions(site.config, wanted)
        report = regiondiff.diff(site, root, compared, page=page.path)
    except SitegenError as exc:
        return Response(f"{exc.message}\n", 404 if "--page" in exc.message else 400, media_type="text/plain")
    return HTMLResponse(_document(report, snap, site, prefix), headers=headers)


def _document(report: regiondiff.Report, snap: Snapshot, site: regiondiff.BuiltSite, prefix: str) -> str:
    page = report.pages[0]
    columns, sheets = [], ""
    for rid in report.regions:
        label = str(snap.regions.get(rid, {}).get("label", rid))
        main = regiondiff.main_of(site.files, rid, page.path)
        if main is None:
            body = f'<p class="sitegen-diff-missing">{escape(page.path)} is not built in {escape(label)}.</p>'
        else:
            body = _MAIN_OPEN.sub("", _SCRIPT.sub("", main))
            if not sheets:
                sheets = "".join(
                    _STYLESHEET.findall(site.files[f"{rid}{page.path}index.html"].decode("utf-8"))
                )
        link = f'<a href="/{escape(rid)}{escape(page.path)}">open</a>' if main is not None else ""
        columns.append(
            f'<section class="sitegen-diff-col" data-region="{escape(rid)}" aria-label="{escape(label)}">'
            f'<h2 class="sitegen-diff-head">{escape(rid)} · {escape(label)} {link}</h2>'
            f'<div class="sitegen-diff-page">{body}</div></section>'
        )
    pairs = " ".join(
        f'<a href="{prefix}diff?path={escape(page.path)}&amp;regions={escape(a)},{escape(b)}">{escape(a)} / {escape(b)}</a>'
        for i, a in enumerate(site.config.region_ids)
        for b in site.config.region_ids[i + 1 :]
    )
    title = f"{page.path} in {' and '.join(report.regions)}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · sitegen serve</title>{sheets}"
        f'<link rel="stylesheet" href="{prefix}diff.css"><script src="{prefix}diff.js" defer></script></head>'
        '<body class="sitegen-diff">'
        f'<header class="sitegen-diff-bar"><h1>{escape(page.path)} <small>({escape(page.file)})</small></h1>'
        f'<nav aria-label="Region pairs">Compare: {pairs}</nav></header>'
        '<section class="sitegen-diff-list" aria-labelledby="sitegen-differences">'
        '<h2 id="sitegen-differences">Differences</h2>'
        f"{diffview.html_items(page, report.regions)}</section>"
        f'<div class="sitegen-diff-cols">{"".join(columns)}</div></body></html>'
    )
