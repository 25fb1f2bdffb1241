"""The site's ``static/`` folder, published unchanged at the root of the output.

``static/CNAME`` becomes ``dist/CNAME``, ``static/.well-known/security.txt``
becomes ``dist/.well-known/security.txt``: what hosts, registrars and search
engines look for at the root of the deploy (the geo routing never redirects
them, see ``sitegen.routing``). Hidden files and folders are left out
(``.DS_Store``, ``.gitkeep``), except ``.well-known/`` (RFC 8615).

The same files stay available to templates through ``asset('name')``, which
publishes a content-hashed copy under ``/assets/`` (long-cached), as before.

A static file may not take the place of a file the build makes (a page,
``robots.txt``, a sitemap, the routing rules, an asset) nor go into the edge's
private data (``_edge/``): that is an error naming both.

Also here: the files in an output folder that no build made (copied in by
hand), which every build keeps and reports the same way, with or without the
cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from sitegen.errors import Problems

FOLDER = "static"
KEPT_HIDDEN = frozenset({".well-known"})
PRIVATE = ("_edge/",)


def visible(rel_parts: Iterable[str]) -> bool:
    """A path inside static/ that is published (no hidden part other than .well-known/)."""
    return not any(part.startswith(".") and part not in KEPT_HIDDEN for part in rel_parts)


def static_paths(folder: Path) -> list[Path]:
    """Every published file under ``folder``, sorted."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") or d in KEPT_HIDDEN)
        found.extend(Path(dirpath, name) for name in sorted(filenames) if not name.startswith("."))
    return found


def read_static(root: Path, data: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """Output path -> bytes of every file in ``<root>/static`` (``data``: bytes already read, by path)."""
    folder = root / FOLDER
    files: dict[str, bytes] = {}
    for path in static_paths(folder):
        known = data.get(str(path)) if data is not None else None
        files[path.relative_to(folder).as_posix()] = known if known is not None else path.read_bytes()
    return files


def check_static(static: Iterable[str], generated: Iterable[str], problems: Problems) -> None:
    """Report every static file that would replace, or sit where, a file the build makes."""
    made = set(generated)
    folders = {rel.rsplit("/", i)[0] for rel in made for i in range(1, rel.count("/") + 1)}
    for rel in static:
        where = f"{FOLDER}/{rel}"
        if rel.startswith(PRIVATE):
            problems.error(
                f"{rel.split('/', 1)[0]}/ holds the edge handlers' private build data and is never "
                "published; move the file elsewhere in static/",
                where,
            )
        elif rel in made:
            problems.error(
                f"the build makes /{rel} itself, so this file would replace it; remove or rename "
                f"{where}" + (" (pages come from content/)" if rel.endswith(".html") else ""),
                where,
            )
        elif rel in folders:
            problems.error(f"the build makes a folder /{rel}/; rename {where}", where)
        else:
            parents = [rel.rsplit("/", i)[0] for i in range(1, rel.count("/") + 1)]
            clash = next((p for p in parents if p in made), None)
            if clash is not None:
                problems.error(
                    f"the build makes a file /{clash}, so it cannot be a folder; move {where}", where
                )


def foreign_files(out: Path, made: Iterable[str], manifest: str) -> list[str]:
    """Files in ``out`` that no build made (not in ``made``, the manifest, nor a temporary file of ours).

    Run by every build, the no-change one included, so it lists each folder once with scandir
    and never stats a file (about as long as the no-change check's own stat of every output).
    """
    known = set(made)
    known.add(manifest)
    found: list[str] = []
    stack = [(str(out), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif rel not in known and not entry.name.endswith(".sitegen-tmp"):
                    found.append(rel)
    return sorted(found)
