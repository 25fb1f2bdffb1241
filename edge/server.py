"""How the edge app is served: ``python -m edge`` (the documented run command).

Client addresses come from the platform's proof (see :mod:`edge.ratelimit`),
so uvicorn's own proxy-header handling stays off: with it on (uvicorn's
default for connections from 127.0.0.1), uvicorn itself would replace the
socket address with whatever ``X-Forwarded-For`` says. Logging is
:data:`edge.logs.LOG_CONFIG`. The abuse suite serves the app with the same
:func:`config`.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from edge.logs import LOG_CONFIG

SETTINGS: dict[str, Any] = {
    "proxy_headers": False,
    "server_header": False,
    "log_config": LOG_CONFIG,
    "timeout_graceful_shutdown": 20,
    "lifespan": "on",
}


def config(app: Any, **overrides: Any) -> uvicorn.Config:
    """A uvicorn configuration for ``app`` as the edge is run in production."""
    return uvicorn.Config(app, **{**SETTINGS, **overrides})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m edge", description="Run the edge handlers (contact, chat, portal)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (limits are shared with Supabase)"
    )
    parser.add_argument(
        "--log-level",
        choices=["warning", "info", "debug"],
        default=None,
        help="uvicorn's log level (default: the edge's log configuration)",
    )
    args = parser.parse_args(argv)
    level = {"log_level": args.log_level} if args.log_level else {}
    uvicorn.run("edge.app:app", host=args.host, port=args.port, workers=args.workers, **SETTINGS, **level)
