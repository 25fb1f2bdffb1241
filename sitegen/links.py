"""Internal links: rewritten to the region's URL, then checked in the output.

Editors link to a region-less URL (``/about/``) or to the source file
(``about.md``, which also works in a Git preview). Each region's build turns
that into ``/<region>/about/``; linking to a page that is not built in that
region is an error naming file and line.
"""

from __future__ import annotations

import functools
import html as htmllib
import posixpath
import re
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from sitegen.markdown import Link
from sitegen.pages import Draft, Page, slug_url

# HTML separates attributes with ASCII whitespace only: "<a\u00a0href=…>" is no link (\s would take it).
_HREF = re.compile(r'[\t\n\f\r ](?:href|src)="([^"]*)"')
_ID = re.compile(r'[\t\n\f\r ]id="([^"]+)"')
_HREF_SP = re.compile(r' href="([^"]*)"')
_SRC_SP = re.compile(r' src="([^"]*)"')
_ID_SP = re.compile(r' id="([^"]+)"')
_UNUSUAL_SEPARATORS = [f"{ws}{attr}=" for ws in "\t\n\r\f" for attr in ("href", "src", "id")]


@dataclass
class Index:
    """Every page by region-less URL and by source path."""

    by_path: dict[str, Page]
    by_source: dict[str, Page]
    region_ids: tuple[str, ...]
    # Drafts this build leaves out, by URL and by source path: a link to one says so.
    drafts: dict[str, Draft] = field(default_factory=dict)

    @classmethod
    def of(cls, pages: Iterable[Page], region_ids: Iterable[str], drafts: Iterable[Draft] = ()) -> Index:
        pages = list(pages)
        left_out = {key: d for d in drafts for key in (d.path, str(d.source))}
        return cls({p.path: p for p in pages}, {str(p.source): p for p in pages}, tuple(region_ids), left_out)

    def find(self, target: str, base: Page) -> tuple[Page | None, str]:
        """The page a link points to, or (None, normalised target) when none.

        A query is not part of the page linked to: ``/contact/?service=seo`` is ``/contact/``.
        """
        target = target.split("?", 1)[0]
        if target.endswith((".md", ".yaml", ".yml")):
            # As written in the Markdown, or as cmark escaped it: "our%20work.md" is "our work.md".
            src = unquote(target)
            if src.startswith("/"):  # from the repository root, or from content/
                joined = posixpath.normpath(src).lstrip("/").removeprefix("content/")
            else:
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(base.source), src))
            return self.by_source.get(joined), joined
        # Dot segments are resolved as a browser does, in absolute links too: "/blog/../about/".
        path = posixpath.normpath(posixpath.join(base.path, target))
        if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            path += "/"
        return self.by_path.get(path), path

    def explicit_region(self, path: str) -> str | None:
        first = path.strip("/").split("/", 1)[0]
        return first if first in self.region_ids else None


def region_url(region_id: str, path: str) -> str:
    return f"/{region_id}{path}"


def resolve_link(index: Index, link: Link, page: Page, region_id: str) -> tuple[str, str | None]:
    """(href for this region, error message or None)."""
    target, normalised = index.find(link.target, page)
    # The href keeps the query as written ("/contact/?service=seo" -> "/pk/contact/?service=seo").
    _, mark, query = link.target.partition("?")
    anchor = f"#{link.fragment}" if link.fragment else ""
    suffix = mark + query + anchor
    # ``normalised`` is a URL ("/wip/") or, for a link to a source file, its path ("blog/wip.md").
    draft = index.drafts.get(normalised) if target is None else None
    if draft is not None:
        return (
            region_url(region_id, draft.path) + suffix,
            f"links to a draft: '{link.target}' is {draft.file}, which has 'draft: true'; publish it "
            "(remove 'draft: true'), preview both with `sitegen serve` or `sitegen build --drafts`, "
            "or remove the link",
        )
    if target is None:
        if link.is_source and normalised.endswith((".yaml", ".yml")):
            return link.target + anchor, None  # not a catalog file: a static file, checked in the output
        if link.is_source:
            return (
                link.target + anchor,
                f"link to '{link.target}': no such content file (looked for content/{normalised})",
            )
        if index.explicit_region(normalised):
            return normalised + suffix, None  # already region-prefixed: checked in the output
        if normalised.endswith("/"):
            # A URL written from a file name ("/our work/") names the page's slug URL in the hint.
            slugged = slug_url(normalised)
            hint = f"; did you mean {slugged}?" if slugged in index.by_path else "; check the path"
            return (
                normalised + suffix,
                f"link to '{link.target}': no page has the URL {normalised}{hint}",
            )
        return normalised + suffix, None  # a file (checked in the output)
    if region_id not in target.regions:
        # A page with 'regions: []' is built nowhere: no region block could hold the link.
        where, advice = (
            (
                f"only in {', '.join(target.regions)}",
                f"wrap the link in '::: region {' '.join(target.regions)}'",
            )
            if target.regions
            else ("built in no region", "give the page a region")
        )
        return (
            region_url(region_id, target.path) + suffix,
            f"link to '{link.target}' ({target.file}), which is not built in region '{region_id}' ({where}); "
            f"{advice} or remove it",
        )
    return region_url(region_id, target.path) + suffix, None


@dataclass
class OutputProblem:
    """One internal href/src in the output that leads nowhere."""

    out_path: str  # output file holding the link, e.g. "pk/about/index.html"
    href: str  # as written in the HTML
    url: str  # the href without query and fragment
    fragment: str  # set when the page exists but the anchor does not (decoded)
    reason: str = ""  # set for a malformed mailto:/tel: link: what is wrong with it

    @property
    def message(self) -> str:
        from sitegen.linkcheck import describe  # the one wording of a broken link

        return describe(self)


def check_output(files: Mapping[str, str], exists: Iterable[str]) -> list[tuple[str, str]]:
    """Every internal href/src in the output HTML resolves, anchors included.

    ``files`` maps output paths (``pk/about/index.html``) to HTML; ``exists``
    lists every other output file. Returns (output file, problem) pairs.
    """
    return [(p.out_path, p.message) for p in find_broken(files, exists)]


_EXTERNAL = ("http://", "https://", "//", "data:", "javascript:")
CONTACT = ("mailto:", "tel:")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@functools.lru_cache(maxsize=4096)
def contact_link_problem(href: str) -> str:
    """What is wrong with a ``mailto:`` or ``tel:`` link ('' when nothing is).

    Memoised: the same few contact links appear on every page, and checking one
    (e-mail syntax, phone number length) costs ~0.2 ms.
    """
    from email_validator import EmailNotValidError, validate_email

    scheme, _, rest = htmllib.unescape(href).partition(":")
    if scheme == "tel":
        number = unquote(rest)
        if not _E164.match(number):
            return (
                "not a phone number in E.164 form (tel:+923001234567: '+', country code, number, no spaces)"
            )
        import phonenumbers

        # Possible, not valid: a length check per country, so fictional numbers (555) pass.
        try:
            possible = phonenumbers.is_possible_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            possible = False
        return "" if possible else f"{number} has too few or too many digits for its country code"
    addresses = unquote(rest.split("?", 1)[0])
    if not addresses:
        return "no e-mail address after 'mailto:'"
    for address in addresses.split(","):
        try:
            validate_email(address.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            return f"'{address.strip()}' is not an e-mail address ({str(exc).rstrip('.')})"
    return ""


def extract(html: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """(internal hrefs/srcs in document order, element ids) of one output page.

    What the output check needs from a page, small enough to keep in the build
    cache, so a page that was not re-rendered is still checked against the rest.
    Strings are interned: most hrefs (menus, assets) repeat on every page.
    """
    if _unusual_separators(html):
        found, ids = _HREF.findall(html), _ID.findall(html)
    else:
        # The common case, several times faster: a literal prefix lets the regex engine skip ahead.
        found, ids = _HREF_SP.findall(html) + _SRC_SP.findall(html), _ID_SP.findall(html)
    if "&" in "".join(ids):
        ids = [htmllib.unescape(i) for i in ids]
    for h in set(found).difference(_KEPT):
        # /_vercel/: served by the host itself (Web Analytics / Speed Insights), not by the build.
        internal = h and not h.startswith(_EXTERNAL) and not h.startswith("/_vercel/")
        _KEPT[h] = sys.intern(h) if internal else ""
    return tuple(filter(None, map(_KEPT.__getitem__, found))), frozenset(ids)


def _unusual_separators(html: str) -> bool:
    """Whether an href, src or id attribute follows a tab, newline, carriage return or form feed.

    The same answer as looking for each of the twelve combinations, which scanned every page
    twelve times (59 of extract's 85 µs per page): tabs, carriage returns and form feeds are rare
    in output, so one scan each rules them out, and only the newline's three remain.
    """
    if "\t" in html or "\r" in html or "\f" in html:
        return any(sep in html for sep in _UNUSUAL_SEPARATORS)
    return "\nhref=" in html or "\nsrc=" in html or "\nid=" in html


# href -> itself interned when the output check follows it, '' when not. Most hrefs (menus,
# assets, contact links) repeat on every page: one lookup instead of three prefix tests each time.
_KEPT: dict[str, str] = {}


def check_links(
    links: Mapping[str, Iterable[str]],
    ids: Mapping[str, frozenset[str]],
    present: set[str],
    good: Collection[str] = (),
) -> list[OutputProblem]:
    """Every href in ``links`` (output file -> hrefs) leads to a file in ``present``, anchors included.

    ``good``: mailto:/tel: links already found well-formed.
    """
    problems: list[OutputProblem] = []
    absolute: dict[str, str | None] = {}  # "/pk/about/" -> "pk/about/index.html" (None: routed, not a file)
    # Hrefs found good whose verdict does not depend on the page (absolute and contact links): most
    # hrefs are the menus', the footer's and the assets', on every page (264 000 for 8014 pages).
    ok: set[str] = set()
    for out_path, hrefs in links.items():
        for href in hrefs:
            if href in ok:
                continue
            if href.startswith(CONTACT):
                reason = "" if href in good else contact_link_problem(href)
                if reason:
                    problems.append(OutputProblem(out_path, href, "", "", reason))
                else:
                    ok.add(href)
                continue
            url, _, fragment = href.partition("#")
            fragment = unquote(htmllib.unescape(fragment))
            url = url.split("?", 1)[0]
            if not url:
                target: str | None = out_path
            elif url.startswith("/"):
                if url in absolute:
                    target = absolute[url]
                else:
                    target = url.lstrip("/")
                    if target == "" or target.endswith("/"):
                        target += "index.html"
                    if url == "/":
                        target = None  # the un-prefixed root is answered by the routing rules
                    absolute[url] = target
                if target is None:
                    continue
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(out_path), url))
                if url.endswith("/"):
                    target += "/index.html"
            if target not in present:
                problems.append(OutputProblem(out_path, href, url, ""))
                continue
            if fragment and target.endswith(".html") and fragment not in ids.get(target, frozenset()):
                problems.append(OutputProblem(out_path, href, url, fragment))
            elif url.startswith("/"):
                ok.add(href)
    return problems


def find_broken(files: Mapping[str, str], exists: Iterable[str]) -> list[OutputProblem]:
    """check_output with the details, so the build can point at the source line."""
    links: dict[str, tuple[str, ...]] = {}
    ids: dict[str, frozenset[str]] = {}
    for out_path in files:
        links[out_path], ids[out_path] = extract(files[out_path])
    return check_links(links, _LazyIds(files, ids), set(exists) | set(files))


class _LazyIds(Mapping[str, frozenset[str]]):
    """Ids of the iterated pages, and of any other page in ``files`` only when a link asks for it."""

    def __init__(self, files: Mapping[str, str], known: dict[str, frozenset[str]]) -> None:
        self.files, self.known = files, known

    def __getitem__(self, path: str) -> frozenset[str]:
        if path not in self.known:
            if path not in self.files:
                raise KeyError(path)
            self.known[path] = extract(self.files[path])[1]
        return self.known[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)
