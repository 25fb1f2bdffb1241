"""``sitegen edge``: the edge app in production behind a host's ``/api`` proxy (Netlify's case).

uvicorn serves ``edge.app:app`` with the build's ``_edge/`` data. Logging is for production:
one line per server event at INFO, and no access log, because uvicorn's access log writes the
client's IP address and nothing here may store or log one (the handlers log what they need
without it).
"""

from __future__ import annotations

import logging.config
import os
from pathlib import Path
from typing import Any

from sitegen.errors import SitegenError

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"}},
}


def run(data_dir: Path, host: str, port: int) -> None:
    """Serve the edge app until stopped; ``data_dir`` is a build's ``_edge/`` folder."""
    import uvicorn

    if not (data_dir / "site.json").is_file():
        raise SitegenError(f"{data_dir / 'site.json'} not found: run `sitegen build` first", str(data_dir))
    os.environ["SITEGEN_EDGE_DATA"] = str(data_dir.resolve())
    logging.config.dictConfig(LOGGING)
    uvicorn.run(
        "edge.app:app",
        host=host,
        port=port,
        access_log=False,
        log_config=LOGGING,
        server_header=False,
        # The host's proxy is the only client; which X-Forwarded-For hops to believe is the
        # edge's own setting (SITEGEN_TRUSTED_PROXY_HOPS), so uvicorn rewrites nothing.
        proxy_headers=False,
    )
