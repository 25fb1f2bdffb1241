"""The output folder: assets with hashed names, sitemaps, robots.txt, and a safe write.

Nothing is written until every page rendered and every link checked. A
build into an empty or missing folder is written next to it and renamed into
place; a rebuild over a previous output writes only files whose bytes changed
and removes files that are no longer produced. Either way a failed build
leaves the output as it was.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.config import SiteConfig
from sitegen.errors import SitegenError

# tempfile and shutil are imported where a folder is made, copied or removed: a build that finds
# nothing changed imports this module (for OutputFiles) and does none of that (~3 ms of imports).

if TYPE_CHECKING:
    from sitegen.changes import LastBuild
    from sitegen.pages import Page

MANIFEST = ".sitegen-manifest"


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils.escape's, without importing urllib.request and email)."""
    if "&" not in text and "<" not in text and ">" not in text:
        return text  # nearly every URL of a sitemap: three scans instead of three copies
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Output:
    """Every file of the build, by path relative to the output folder."""

    files: dict[str, bytes] = field(default_factory=dict)
    # Files the last build wrote that this one would write the same: left in the output folder
    # as they are (file -> digest); only an in-place update has them (see searchentries.kept_shards).
    kept: dict[str, str] = field(default_factory=dict)
    # Files already in the staging folder (file -> digest), put there as they were made; see
    # ``stage``. Only a build that swaps in a new folder has them.
    staged: dict[str, str] = field(default_factory=dict)
    # Where a file other than a page goes as soon as it is made (it returns the file's digest):
    # the edge data of a large site is hundreds of megabytes (search shards, chat chunks,
    # sitemaps), which held in memory until the write were a cold build's peak.
    stage: Callable[[str, bytes], str] | None = field(default=None, repr=False, compare=False)

    def add(self, path: str, data: str | bytes) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else data
        if self.stage is not None and not path.endswith(".html"):  # pages' links are checked from memory
            self.staged[path] = self.stage(path, data)
        else:
            self.files[path] = data

    def names(self) -> list[str]:
        """Every file this output has, wherever it is."""
        return [*self.files, *self.kept, *self.staged]


def collect_assets(static_dirs: Iterable[Path]) -> tuple[dict[str, str], dict[str, bytes]]:
    """(logical name -> URL, output path -> bytes) for every static file; later dirs win."""
    sources: dict[str, Path] = {}
    for folder in static_dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                    sources[rel.as_posix()] = path
    contents: dict[str, bytes] = {name: path.read_bytes() for name, path in sources.items()}
    from sitegen.highlight import highlight_css

    contents["css/highlight.css"] = highlight_css().encode("utf-8")
    urls: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, data in sorted(contents.items()):
        digest = hashlib.blake2b(data, digest_size=4).hexdigest()
        stem, dot, ext = name.rpartition(".")
        hashed = f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{name}.{digest}"
        urls[name] = f"/assets/{hashed}"
        files[f"assets/{hashed}"] = data
    return urls, files


def sitemap(config: SiteConfig, rid: str, pages: list[Page]) -> str:
    base = config.base_url
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for page in sorted(pages, key=lambda p: p.path):
        if page.meta.get("noindex") is True:
            continue
        lines.append(f"  <url><loc>{escape(base + '/' + rid + page.path)}</loc>")
        updated = page.meta.get("updated")
        if updated:
            lines.append(f"    <lastmod>{escape(str(updated))}</lastmod>")
        for other in config.region_ids:
            if other in page.regions:
                href = escape(f"{base}/{other}{page.path}")
                lines.append(
                    f'    <xhtml:link rel="alternate" hreflang="{config.regions[other].hreflang}" href="{href}"/>'
                )
        default = config.default_region.id
        if default in page.regions:
            lines.append(
                f'    <xhtml:link rel="alternate" hreflang="x-default" href="{escape(f"{base}/{default}{page.path}")}"/>'
            )
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def sitemap_index(config: SiteConfig, region_ids: Iterable[str]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for rid in region_ids:
        lines.append(f"  <sitemap><loc>{escape(config.base_url)}/{rid}/sitemap.xml</loc></sitemap>")
    lines.append("</sitemapindex>")
    return "\n".join(lines) + "\n"


def robots(config: SiteConfig, production: bool) -> str:
    if not production:
        return "User-agent: *\nDisallow: /\n"
    return f"User-agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: {config.base_url}/sitemap.xml\n"


def _read_manifest(out: Path) -> set[str]:
    try:
        return set((out / MANIFEST).read_text(encoding="utf-8").splitlines())
    except OSError:
        return set()


def write(out: Path, files: Mapping[str, bytes]) -> tuple[int, int]:
    """Write the output into a sibling temporary folder, then swap it in; returns (written, removed).

    ``written`` counts files whose bytes changed: unchanged files of the previous
    build are hard-linked into the new folder instead of written again, which
    keeps a rebuild cheap while an interrupted build still leaves ``out`` as it was.
    """
    out = out.resolve()
    manifest = "\n".join(sorted(files)) + "\n"
    previous = check_ours(out)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        made: set[Path] = set()
        for rel, data in files.items():
            path = tmp / rel
            parent = path.parent
            if parent not in made:
                parent.mkdir(parents=True, exist_ok=True)
                made.add(parent)
            if rel in previous and _link_if_same(out / rel, path, data):
                continue
            with open(path, "wb") as f:
                f.write(data)
            written += 1
        (tmp / MANIFEST).write_text(manifest, encoding="utf-8")
        os.chmod(tmp, 0o755)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written, len(previous - set(files))


def _link_if_same(old: Path, new: Path, data: bytes) -> bool:
    try:
        if old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        os.link(old, new)
    except OSError:
        return False
    return True


def _swap(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    import shutil
    import tempfile

    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / "x")
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def check_ours(out: Path) -> set[str]:
    """The previous build's file list; refuses a non-empty folder sitegen did not make."""
    previous = _read_manifest(out) if out.is_dir() else set()
    # The swap replaces the whole folder: never do that to a folder sitegen did not make.
    if out.exists() and not previous and (not out.is_dir() or any(out.iterdir())):
        raise SitegenError(
            "the output folder exists and was not made by sitegen (no .sitegen-manifest in it); "
            "empty or remove it, or choose another --out",
            str(out),
        )
    return previous


def put(folder: Path | str, rel: str, data: bytes) -> None:
    """Write one output file under ``folder``, making its parent folders (used by worker processes).

    Paths are joined as strings: pathlib's joining and mkdir were a third of writing a page.
    """
    path = f"{folder}{os.sep}{rel}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:  # first file of its folder
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


class Staging:
    """A new output folder built beside the old one and swapped in whole by ``commit``.

    Rendered pages are written into it as they are made (by worker processes
    too); pages the cache says are unchanged are hard-linked from the old
    output. Until ``commit`` the old output is untouched, so a failed build
    leaves it as it was.
    """

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.previous = check_ours(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
        self.written = 0
        # Files no build made, carried over from the old folder by commit(): after the swap, the
        # only files in the output that this build did not make (so nothing need list it again).
        self.carried: list[str] = []

    def put(self, rel: str, data: bytes) -> None:
        put(self.folder, rel, data)
        self.written += 1

    def keep(self, rel: str) -> bool:
        """Carry an unchanged file over from the old output; False if it cannot be."""
        new = self.folder / rel
        try:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.link(self.out / rel, new)
        except OSError:
            try:
                import shutil

                shutil.copy2(self.out / rel, new)
            except OSError:
                return False
        return True

    def stager(self, last: LastBuild) -> Callable[[str, bytes], str]:
        """``Output.stage`` for this folder: a file the last build left intact with these bytes
        is linked from the old output (as ``write.write_output`` does), any other written."""
        from sitegen.cache import digest

        def stage(rel: str, data: bytes) -> str:
            found = digest(data)
            self.place(rel, data, found, last)
            return found

        return stage

    def place(self, rel: str, data: bytes, found: str, last: LastBuild) -> None:
        """Link ``rel`` from the old output when the last build left it there intact with digest
        ``found`` (these bytes), else write it."""
        if not (last.intact(rel, found) and self.keep(rel)):
            self.put(rel, data)

    def commit(self, files: Iterable[str]) -> int:
        """Write the manifest and swap the folder in; returns how many old files are gone.

        Files of the old folder that no build made (copied in by hand) are carried over, as an
        in-place update leaves them: the output never loses what sitegen did not write.
        """
        from sitegen.staticfiles import foreign_files

        names = sorted(files)
        if self.out.is_dir():
            for rel in foreign_files(self.out, self.previous.union(names), MANIFEST):
                if not self.keep(rel):
                    raise SitegenError(f"could not carry {rel} (not made by sitegen) over", str(self.out))
                self.carried.append(rel)
        (self.folder / MANIFEST).write_text("\n".join(names) + "\n", encoding="utf-8")
        os.chmod(self.folder, 0o755)
        _swap(self.folder, self.out)
        return len(self.previous - set(names))

    def abort(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def update(
    out: Path, changed: Mapping[str, bytes], files: Iterable[str], previous: set[str] | None = None
) -> int:
    """Replace ``changed`` files in place (each atomically), delete files no longer produced.

    For small rebuilds over a previous output: every page has already rendered
    and every link been checked, so the only way to fail here is the disk.
    Returns how many files were removed.
    """
    out = out.resolve()
    if previous is None:
        previous = check_ours(out)  # ``previous``: the caller read it already
    names = set(files)
    for rel, data in changed.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.sitegen-tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    gone = previous - names
    for rel in gone:
        (out / rel).unlink(missing_ok=True)
        # A removed page leaves no empty folder behind (a swapped-in build would not have it either).
        parent = (out / rel).parent
        while parent != out:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    manifest = "\n".join(sorted(names)) + "\n"
    tmp = out / f".{MANIFEST}.sitegen-tmp"
    tmp.write_text(manifest, encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
    return len(gone)


class OutputFiles(Mapping[str, bytes]):
    """The files of a build written to disk, read on access (a large site's pages are not kept in memory)."""

    def __init__(self, out: Path, names: Iterable[str]) -> None:
        self.out = out
        self.names = sorted(names)
        self._set = set(self.names)

    def __getitem__(self, rel: str) -> bytes:
        if rel not in self._set:
            raise KeyError(rel)
        return (self.out / rel).read_bytes()

    def __contains__(self, rel: object) -> bool:
        return rel in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
