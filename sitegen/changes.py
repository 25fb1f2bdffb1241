"""What changed since the last build: the build key, input stamps, the no-change check, the saved state.

A build is keyed by everything that can change every page at once (sitegen and
its libraries as installed, ``site.yaml``, the options, the theme, today's
date). Under the same key, a build whose input and output files all still have
the size, mtime, inode and hash the last build recorded has nothing to do.
Otherwise the recorded hashes still spare reading unchanged files, and the
stages ask ``LastBuild`` which pages of the old output are intact.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sitegen import __version__
from sitegen.cache import BuildCache, FileState, digest
from sitegen.config import SiteConfig
from sitegen.errors import Problems, SitegenError
from sitegen.output import MANIFEST
from sitegen.staticfiles import FOLDER as STATIC
from sitegen.staticfiles import foreign_files, static_paths
from sitegen.theme import template_dirs
from sitegen.yamlio import unreadable

Stamp = tuple[int, int, int, str]  # size, mtime_ns, inode, content digest


@dataclass
class State:
    """Inputs and outputs of the last successful build, for telling whether anything changed."""

    key: str
    out: str
    started_ns: int
    inputs: dict[str, Stamp]
    outputs: dict[str, Stamp]  # rel -> size, mtime_ns, inode, digest
    pages: dict[str, int]
    warnings: list[SitegenError]
    templates: dict[str, Any]
    search_layout: str = ""  # searchentries.layout of the pages (which search shard files may be kept)
    listing: str = ""  # deps.listing_key of the pages (whether the sitemaps may be kept)


@dataclass
class LastBuild:
    """What this build may reuse of the last one."""

    files: FileState  # recorded input hashes, usable under any key
    templates: dict[str, Any]  # parsed template dependencies, usable under any key
    state: State | None  # the last state when its key is this build's, else None
    out: str  # this build's output folder

    @classmethod
    def load(cls, cache: BuildCache, key: str, out: Path) -> LastBuild:
        loaded: State | None = cache.load("state")
        return cls(
            files=FileState(loaded.inputs, loaded.started_ns) if loaded else FileState(),
            templates=loaded.templates if loaded else {},
            state=loaded if loaded is not None and loaded.key == key else None,
            out=str(out),
        )

    @property
    def same_output(self) -> bool:
        """The last build had this key and wrote into this build's output folder."""
        return self.state is not None and self.state.out == self.out

    def intact(self, rel: str, expected: str) -> bool:
        """The output file is still what the last build wrote, with digest ``expected``."""
        known = self.state.outputs.get(rel) if self.state is not None and self.same_output else None
        if known is None or known[3] != expected:
            return False
        try:
            st = os.stat(os.path.join(self.out, rel))
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, st.st_ino) == known[:3]

    def unchanged(self, paths: list[str], parallel: bool = False) -> list[str] | None:
        """Every input and output file as the last build left it (the no-change fast path): then
        the files in the output folder no build made, else None.

        With ``parallel``, the output folder is listed in a forked child while this process stats
        the inputs and the outputs (~30 ms each half for a 4000-source site on tmpfs).
        """
        state = self.state
        if state is None or not self.same_output or len(paths) != len(state.inputs):
            return None
        from sitegen import workers

        listing = workers.aside(partial(foreign_files, Path(self.out), state.outputs, MANIFEST), parallel)
        try:
            same = self._inputs_as_left(paths) and self._outputs_as_left()
        except BaseException:
            listing.cancel()
            raise
        if not same:
            listing.cancel()  # something changed: the listing is not needed
            return None
        return listing.result()

    def _inputs_as_left(self, paths: list[str]) -> bool:
        assert self.state is not None
        inputs = self.state.inputs
        for path in paths:
            known = inputs.get(path)
            if known is None:
                return False
            try:
                st = os.stat(path)
            except OSError:
                return False
            if self.files.hash_of(path, path, st)[0] != known[3]:
                return False
        return True

    def _outputs_as_left(self) -> bool:
        assert self.state is not None
        if not os.path.isfile(os.path.join(self.out, MANIFEST)):
            return False
        for rel, (size, mtime, ino, _) in self.state.outputs.items():
            try:
                st = os.stat(os.path.join(self.out, rel))
            except OSError:
                return False
            if st.st_size != size or st.st_mtime_ns != mtime or st.st_ino != ino:
                return False
        return True


@dataclass
class Inputs:
    """Every input file as this build found it, hashed before anything read it."""

    stamps: dict[str, Stamp] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)  # bytes read for hashing, kept for the reader

    @classmethod
    def track(cls, paths: list[str], before: FileState, root: Path, problems: Problems) -> Inputs:
        """Hash every input first, so an edit made during the build is seen by the next one."""
        inputs = cls()
        for path in paths:
            try:
                st = os.stat(path)
            except OSError as exc:  # a dangling link or a link to itself
                problems.error(unreadable(exc), os.path.relpath(path, root))
                continue
            h, data = before.hash_of(path, path, st)
            inputs.stamps[path] = (st.st_size, st.st_mtime_ns, st.st_ino, h)
            if data is not None:
                inputs.data[path] = data
        return inputs


def build_key(
    root: Path, theme: Path, region_ids: list[str], production: bool, drafts: bool, base_url: str
) -> str:
    """Everything that changes every page at once (``base_url``: the origin this build names)."""
    return digest(
        __version__,
        code_stamp(),
        (root / "site.yaml").read_bytes(),
        repr((production, drafts, region_ids, str(theme), base_url, dt.date.today().isoformat())),
    )


def input_paths(root: Path, theme: Path, config: SiteConfig) -> list[str]:
    """Every file the build reads besides site.yaml (which is in the build key)."""
    found: list[str] = []
    folders = [root / "content", theme / "static", *template_dirs(config)]
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            found.extend(os.path.join(dirpath, name) for name in filenames if not name.startswith("."))
    # The site's static/ keeps .well-known/ (published at the root, see sitegen.staticfiles).
    found.extend(str(path) for path in static_paths(root / STATIC))
    return found


def code_stamp() -> str:
    """Python, sitegen's own modules and the libraries that shape the output, as installed now.

    A changed sitegen (a developer's edit) or an upgraded library must not reuse
    pages rendered by the old one; stat data is enough to notice either.
    """
    import importlib.util

    parts = [sys.version]
    here = Path(__file__).resolve().parent
    files = sorted(here.rglob("*.py"))
    for name in ("jinja2", "cmarkgfm", "pygments", "babel", "yaml"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return digest(*parts)


def output_stamps(
    out: Path, names: list[str], digests: dict[str, str], known: dict[str, Stamp] | None = None
) -> dict[str, Stamp]:
    """The stamp of every output file (``digests``: rel -> content digest; ``known``: stamps already taken)."""
    stamps: dict[str, Stamp] = {}
    known = known or {}
    for rel in names:
        if rel in known:
            stamps[rel] = known[rel]
            continue
        st = os.stat(os.path.join(out, rel))
        stamps[rel] = (st.st_size, st.st_mtime_ns, st.st_ino, digests[rel])
    return stamps
