"""`sitegen new`: a small working two-region site, or one new page or service in a site.

``new DIR`` copies the site in ``site/`` and writes a ``.gitignore`` for what
sitegen generates. ``new page PATH`` and ``new service ID`` write one source
file from the templates below, filled in from site.yaml (its region ids and
currencies: regions are data), and never overwrite a file.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath

from sitegen.config import REGION_ID, SiteConfig, load_config
from sitegen.errors import SitegenError
from sitegen.pages import slug, url_for_source

TEMPLATE = Path(__file__).resolve().parent / "site"

# What sitegen writes into a site folder, none of which belongs in version control.
GITIGNORE = """\
# Written by sitegen; none of it belongs in version control.
dist/
.sitegen-cache/
.sitegen-local/
.vercel-project/
"""

PAGE = """\
---
title: {title}
description: One sentence about this page for search results and link previews.
draft: true
---

Write the page here in Markdown. While `draft: true` is set above, only a build
with `--drafts` includes it; remove that line to publish the page.

::: region {region}
Text in a block like this one is shown only in the {label} region.
:::
"""

SERVICE = """\
# A service of the catalog: its page is /services/{id}/ in each region it is offered in.
# Every key: docs/editors.md. Until it has a price for a region it shows "Price on request".
id: {id}
name: {name}
summary: One or two sentences for the services list and the meta description.
order: {order}
# regions: [{regions}]
# price:
{prices}features:
  - What the client gets, one short line each
body: |
  Describe the service: what you do, how, and what it changes for the client.
"""

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def create(directory: Path) -> list[Path]:
    """Copy the starter site into ``directory`` (new or empty); returns the files written."""
    if directory.exists() and any(directory.iterdir()):
        raise SitegenError("folder is not empty: pick a new folder name", str(directory))
    shutil.copytree(TEMPLATE, directory, dirs_exist_ok=True)
    (directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return sorted(p.relative_to(directory) for p in directory.rglob("*") if p.is_file())


def _site(root: Path) -> SiteConfig:
    if not (root / "site.yaml").is_file():
        raise SitegenError(
            "no site.yaml here: run sitegen new in a site folder (or give --root)", str(root / "site.yaml")
        )
    return load_config(root / "site.yaml")


def _write_new(path: Path, text: str, shown: str) -> Path:
    if path.exists():
        raise SitegenError("already exists; nothing was changed (pick another name, or edit it)", shown)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:  # "x": never replace a file made meanwhile
        handle.write(text)
    return path


def page_source(path: str) -> PurePosixPath:
    """``about/team``, ``/about/team/``, ``about/team.md`` or ``content/about/team.md`` -> about/team.md."""
    text = path.strip().strip("/")
    text = text.removeprefix("content/").removesuffix(".md").strip("/")
    parts = [p for p in text.split("/") if p]
    if not parts:
        raise SitegenError("give the page's path, e.g. sitegen new page about/team", path)
    for part in parts:
        if not _SEGMENT.match(part):
            raise SitegenError(
                f"'{part}' is not a URL segment: use lower-case letters, digits and '-', "
                f"e.g. '{slug(part) or 'page'}'",
                path,
            )
    return PurePosixPath(*parts).with_suffix(".md")


def new_page(root: Path, path: str) -> Path:
    """Write ``content/PATH.md`` from the page template; returns it (relative to ``root``)."""
    config = _site(root)
    source = page_source(path)
    words = source.parent.name if source.stem == "index" else source.stem
    title = (words.replace("-", " ").replace("_", " ").strip() or "New page").capitalize()
    first = config.region_ids[0]
    text = PAGE.format(title=title, region=first, label=config.regions[first].label)
    shown = f"content/{source}"
    _refuse_taken_url(config, root / "content", source, shown)
    _write_new(root / "content" / source, text, shown)
    return Path(shown)


def _refuse_taken_url(config: SiteConfig, content: Path, source: PurePosixPath, shown: str) -> None:
    """A new page whose URL another source has (``work.md`` beside ``work/index.md``, a catalog
    service) would stop the next build with "two sources for the URL": refuse it now, naming that
    source. The URLs are the build's own: the same readers, drafts included."""
    from sitegen.catalog import read_catalog
    from sitegen.errors import Problems
    from sitegen.pages import read_pages

    url = url_for_source(source.as_posix(), {})
    ignored = Problems()  # a source that does not read now is the build's to report
    pages = read_pages(config, content, ignored, drafts=True)
    pages += [s.page for s in read_catalog(config, content, ignored) if s.page is not None]
    for page in pages:
        if page.path == url and page.file != shown:
            raise SitegenError(
                f"its URL {url} is already the page of {page.file}; nothing was changed "
                f"(edit {page.file}, or pick another name)",
                shown,
            )


def new_service(root: Path, service_id: str) -> Path:
    """Write ``content/services/ID.yaml`` from the service template; returns it (relative to ``root``)."""
    config = _site(root)
    if not REGION_ID.match(service_id):
        raise SitegenError(
            f"a service id is lower-case letters, digits and '-', e.g. '{slug(service_id) or 'service'}'",
            service_id,
        )
    folder = root / "content" / "services"
    orders = [
        int(m.group(1))
        for f in sorted(folder.glob("*.y*ml"))
        if (m := re.search(r"^order:\s*(\d+)\s*$", f.read_text(encoding="utf-8"), re.M))
    ]
    prices = "".join(
        f"#   {rid}: {{amount: 1000, currency: {region.currency}, unit: project, from: true}}\n"
        for rid, region in config.regions.items()
    )
    text = SERVICE.format(
        id=service_id,
        name=service_id.replace("-", " ").capitalize(),
        order=max(orders, default=0) + 1,
        regions=", ".join(config.region_ids),
        prices=prices,
    )
    shown = f"content/services/{service_id}.yaml"
    _write_new(folder / f"{service_id}.yaml", text, shown)
    return Path(shown)
