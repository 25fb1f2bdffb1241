"""The Vercel project for ``hosting: vercel``: the built site and the edge app in one deploy.

``vercel build`` runs in the folder this writes; ``vercel deploy --prebuilt`` publishes its
``.vercel/output``. Layout:

- ``vercel.json``: the routes the build generated (``sitegen.routing.vercel_json``), which
  also name ``public/`` as the static output and keep it out of the function.
- ``public/``: the built site, minus what ``dist/.vercelignore`` lists (the edge's build data,
  the project configuration, the build's bookkeeping): only this folder is served as files.
- ``api/index.py``: the function, the edge app (``edge.app:app``) on Vercel's Python runtime,
  answering every ``/api/…`` path (the routes send them there).
- ``edge/``: the edge package's source, and ``_edge/``: the build data it reads, both bundled
  into the function only; ``pyproject.toml``, ``uv.lock`` and ``.python-version`` (copied from
  ``sitegen/edgelock/``, which ``./dev lock`` writes from the repository's lock) tell Vercel's
  Python builder what to install: with a lock beside the manifest it runs ``uv sync --frozen``,
  so the function gets the locked versions, hash-checked. None of these is in ``public/``, so none
  is published.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.routing import VERCEL_PUBLIC

# The function's locked dependencies and its Python version (the newest both Vercel's runtime and
# this machine's CI image offer), declared once there: `./dev lock` locks for that version.
EDGE_LOCK = Path(__file__).resolve().parent / "edgelock"
LOCK_FILES = ("pyproject.toml", "uv.lock", ".python-version")
PYTHON_VERSION = (EDGE_LOCK / ".python-version").read_text(encoding="utf-8").strip()
ENTRY = '''"""Vercel's entry point: the edge app, reading the build data bundled with this function."""

import os
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent.parent
os.environ.setdefault("SITEGEN_EDGE_DATA", str(BUNDLE / "_edge"))
# The bundle is read-only: the local development store (never used with Supabase) lives in /tmp.
os.environ.setdefault("SITEGEN_LOCAL_DIR", "/tmp/sitegen-local")

from edge.app import app  # noqa: E402  (Vercel's Python runtime serves this ASGI app)

__all__ = ["app"]
'''


def _ignored(patterns: list[str], rel: str) -> bool:
    parts = rel.split("/")
    return any(
        fnmatch.fnmatchcase("/".join(parts[: i + 1]), pat) for pat in patterns for i in range(len(parts))
    )


def assemble(dist: Path, out: Path) -> Path:
    """Write the Vercel project for the build in ``dist`` into ``out`` (replaced); returns ``out``."""
    config_file = dist / "vercel.json"
    if not config_file.is_file():
        raise SitegenError(
            f"{config_file} not found: the build writes it with `hosting: vercel` in site.yaml", str(dist)
        )
    ignore = (
        (dist / ".vercelignore").read_text(encoding="utf-8") if (dist / ".vercelignore").is_file() else ""
    )
    patterns = [
        line.strip().strip("/") for line in ignore.splitlines() if line.strip() and not line.startswith("#")
    ]
    if out.exists():
        shutil.rmtree(out)
    public = out / VERCEL_PUBLIC
    for file in sorted(dist.rglob("*")):
        rel = file.relative_to(dist).as_posix()
        if file.is_file() and not _ignored(patterns, rel):
            (public / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, public / rel)
    shutil.copytree(dist / "_edge", out / "_edge")
    edge = Path(__file__).resolve().parent.parent / "edge"
    shutil.copytree(edge, out / "edge", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (out / "api").mkdir()
    (out / "api" / "index.py").write_text(ENTRY, encoding="utf-8")
    for name in LOCK_FILES:
        shutil.copy2(EDGE_LOCK / name, out / name)
    config = json.loads(config_file.read_text(encoding="utf-8"))
    (out / "vercel.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return out


__all__ = ["EDGE_LOCK", "PYTHON_VERSION", "assemble"]
