"""``sitegen serve``: live preview of every region with the edge handlers on the same origin.

One ASGI application (``devserver.app.DevServer``, run by uvicorn) serves the
last good build from memory, the edge app under ``/api/`` (under its own
lifespan) and the live-reload client. The sources are watched
(``devserver.watch``); a batch of changes re-renders one page when that is safe
(``devserver.incremental``) and otherwise builds everything
(``devserver.builder``). A failed build keeps the last good pages and shows its
errors in an overlay, pushed over an event stream (``devserver.events``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitegen import routing
from sitegen.devserver.app import DevServer
from sitegen.devserver.site import COUNTRY
from sitegen.errors import SitegenError


def uvicorn_server(dev: DevServer, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A uvicorn server for `dev` that ends open event streams as soon as shutdown starts."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # Open pages hold an event stream each; ending them lets shutdown finish at once.
            dev.close()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        dev, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    return Server(config)


def run(root: Path, host: str = "127.0.0.1", port: int = 8000, country: str | None = None) -> None:
    """Build, then serve and rebuild on change until interrupted."""
    if country and not COUNTRY.match(country):
        raise SitegenError(f"--country {country}: give a two-letter country code such as PK or US")
    dev = DevServer(Path(root), country=country)
    try:
        dev.rebuild("start")
        dev.log(
            f"serving {dev.root} at http://{host}:{port}/ (country {dev.country or 'none'}; ?country=XX or the "
            f"{routing.COOKIE} cookie switch it); edge handlers at /api/"
        )
        uvicorn_server(dev, host, port).run()
    finally:
        dev.cleanup()


__all__ = ["DevServer", "run", "uvicorn_server"]
