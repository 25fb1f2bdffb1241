"""``sitegen edge``: the edge app in production for a site folder's build (Netlify's ``edge.origin``).

It serves ``edge.app:app`` exactly as ``python -m edge`` does (:mod:`edge.server`: the edge's own
logging without client addresses, uvicorn's proxy-header handling off), reading the handlers'
data from ``<root>/dist/_edge/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from sitegen.errors import SitegenError


def run(data_dir: Path, host: str, port: int, verbosity: int = 0) -> None:
    """Serve the edge app until stopped; ``data_dir`` is a build's ``_edge/`` folder.

    ``verbosity`` is the command's -q (-1: warnings only) or -v (1: uvicorn's debug lines).
    """
    if not (data_dir / "site.json").is_file():
        raise SitegenError(f"{data_dir / 'site.json'} not found: run `sitegen build` first", str(data_dir))
    os.environ["SITEGEN_EDGE_DATA"] = str(data_dir.resolve())
    from edge.server import main

    level = {-1: ["--log-level", "warning"], 1: ["--log-level", "debug"]}.get(verbosity, [])
    main(["--host", host, "--port", str(port), *level])
