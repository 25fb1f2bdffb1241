#!/usr/bin/env python3
"""The host's build command (Netlify, Vercel, CI): production build into dist/.

Runs from a fresh clone without installing the package: the repository root
is put on sys.path. Extra arguments are passed to `sitegen build`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from sitegen.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["build", "--root", str(ROOT), *sys.argv[1:]]))
