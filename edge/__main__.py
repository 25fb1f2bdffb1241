"""``python -m edge``: the edge app under uvicorn, logging nothing personal.

The documented way to run the handlers outside a platform (docs/deploy.md):
client addresses come from the platform's proof (see edge.ratelimit), never
from uvicorn's proxy-header handling, so ``proxy_headers`` is off, and the
log configuration is :data:`edge.logs.LOG_CONFIG`.
"""

from __future__ import annotations

import argparse

import uvicorn

from edge.logs import LOG_CONFIG


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m edge", description="Run the edge handlers (contact, chat, portal)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--fd", type=int, default=None, help="listen on this already-open socket instead")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (limits are shared with Supabase)"
    )
    args = parser.parse_args(argv)
    uvicorn.run(
        "edge.app:app",
        host=args.host,
        port=args.port,
        fd=args.fd,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        log_config=LOG_CONFIG,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
