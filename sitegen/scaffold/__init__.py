"""`sitegen new DIR`: a small working two-region site that builds with no edits."""

from __future__ import annotations

import shutil
from pathlib import Path

from sitegen.errors import SitegenError

TEMPLATE = Path(__file__).resolve().parent / "site"


def create(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise SitegenError("folder is not empty: pick a new folder name", str(directory))
    shutil.copytree(TEMPLATE, directory, dirs_exist_ok=True)
