"""The region diff shown to people: terminal lines (``sitegen diff``) and HTML (``sitegen serve``).

Both list the same things in the same order as :class:`sitegen.regiondiff.Report`:
per page, the blocks shown only in some regions, the values, the prices, the links.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from sitegen.regiondiff import PageDiff, Report


def text_lines(report: Report, verbose: bool = False) -> Iterator[str]:
    """The report for a terminal: one group per page that differs (every page with ``verbose``)."""
    width = max((len(r) for r in report.regions), default=2)
    for page in report.pages:
        only = page.only_in(report.regions)
        if not page.differs(report.regions):
            if verbose:
                yield f"{page.path}  ({page.file}): the same in {', '.join(report.regions)}"
            continue
        head = f"{page.path}  ({page.file})"
        if only is not None:
            head += f": only in {', '.join(only) or 'none of them'}"
        yield head
        if page.blocks:
            yield "  blocks shown only in some regions:"
            for b in page.blocks:
                yield f"    {b.file}:{b.line}  ::: {b.block}  [{', '.join(b.shown_in)}]  {b.text}"
        if page.values:
            yield "  values:"
            for v in page.values:
                yield f"    {v.file}:{v.line}  {v.what}"
                for rid, value in v.values.items():
                    yield f"      {rid:<{width}}  {value if value is not None else '(none)'}"
        if page.prices:
            yield "  prices:"
            for p in page.prices:
                shown = " · ".join(f"{rid} {text or '(not shown)'}" for rid, text in p.values.items())
                yield f"    {p.service} ({p.file}:{p.line})  {shown}"
        if page.links:
            yield "  links not in every region:"
            for link in page.links:
                yield f"    [{', '.join(link.shown_in)}]  {link.href}"


def html_items(page: PageDiff, compared: list[str]) -> str:
    """One page's differences as an HTML list (escaped; for the dev server's side-by-side view)."""
    items: list[str] = []
    only = page.only_in(compared)
    if only is not None:
        items.append(f"<li>Built only in <b>{escape(', '.join(only) or 'none of them')}</b></li>")
    for b in page.blocks:
        items.append(
            f'<li class="sitegen-diff-block"><code>{escape(b.file)}:{b.line}</code> '
            f"<code>::: {escape(b.block)}</code> shown only in <b>{escape(', '.join(b.shown_in))}</b>: "
            f"{escape(b.text)}</li>"
        )
    for v in page.values:
        shown = "".join(
            f"<li><b>{escape(rid)}</b> {escape(value if value is not None else '(none)')}</li>"
            for rid, value in v.values.items()
        )
        items.append(
            f'<li class="sitegen-diff-value"><code>{escape(v.file)}:{v.line}</code> '
            f"<code>{escape(v.what)}</code><ul>{shown}</ul></li>"
        )
    for p in page.prices:
        shown = " · ".join(
            f"<b>{escape(rid)}</b> {escape(t or '(not shown)')}" for rid, t in p.values.items()
        )
        items.append(
            f'<li class="sitegen-diff-price">Price of <code>{escape(p.service)}</code>: {shown}</li>'
        )
    for link in page.links:
        items.append(
            f'<li class="sitegen-diff-link">Link <code>{escape(link.href)}</code> only in '
            f"<b>{escape(', '.join(link.shown_in))}</b></li>"
        )
    if not items:
        return '<p class="sitegen-diff-same">No differences: the page is the same in these regions.</p>'
    return f'<ul class="sitegen-diff-items">{"".join(items)}</ul>'
