"""``sitegen serve``: live preview of every region with the edge handlers on the same origin.

One ASGI application (``devserver.app.DevServer``, run by uvicorn) serves the
last good build from memory, the edge app under ``/api/`` (under its own
lifespan) and the live-reload client. The sources are watched
(``devserver.watch``); a batch of changes re-renders one page when that is safe
(``devserver.incremental``) and otherwise builds everything
(``devserver.builder``). A failed build keeps the last good pages and shows its
errors in an overlay, pushed over an event stream (``devserver.events``).

The port is taken before the first build, so a busy port is reported at once:
the default port moves on to the next free one (as Hugo does) and says so; a
port given with ``--port`` is a promise, so a busy one is an error (exit 2).
"""

from __future__ import annotations

import errno
import socket
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen import routing
from sitegen.devserver.app import DevServer
from sitegen.devserver.site import COUNTRY
from sitegen.errors import SitegenError

# How far past a busy default port to look for a free one.
PORT_TRIES = 20


class PortInUse(SitegenError):
    """The port asked for with --port is taken (a usage problem: exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class ServeOptions:
    root: Path
    host: str = "127.0.0.1"
    port: int = 8000
    port_given: bool = False  # --port on the command line: never move to another port
    country: str | None = None
    open_browser: bool = False
    drafts: bool = True  # pages with draft: true shown, with a badge (--no-drafts: hidden)
    log_requests: bool = True  # False with -q
    log_builds: bool = True  # a line per good build; False with -q (problems are always printed)
    server_log_level: str = "warning"  # uvicorn's own log; "info" with -v


def uvicorn_server(
    dev: DevServer, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning"
) -> Any:
    """A uvicorn server for `dev` that ends open event streams as soon as shutdown starts."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # Open pages hold an event stream each; ending them lets shutdown finish at once.
            dev.close()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        dev, host=host, port=port, log_level=log_level, lifespan="on", timeout_graceful_shutdown=2
    )
    return Server(config)


def listen(host: str, port: int, port_given: bool, note: Callable[[str], None]) -> socket.socket:
    """A listening socket on ``port``, or (not given explicitly) the next free port after it."""
    candidates = [port] if port_given or port == 0 else range(port, min(port + PORT_TRIES, 65536))
    for candidate in candidates:
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, candidate, type=socket.SOCK_STREAM)[0]
        except socket.gaierror as exc:
            raise PortInUse(
                f"--host {host}: {exc.strerror or exc}; give an address such as 127.0.0.1"
            ) from None
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                continue
            raise PortInUse(f"cannot listen on {host}:{candidate}: {exc.strerror or exc}") from None
        sock.listen(128)
        if candidate != port:
            note(f"port {port} is in use; serving on port {candidate} instead")
        return sock
    if port_given:
        raise PortInUse(
            f"port {port} on {host} is already in use: stop what runs there, "
            "or pick another with --port (or leave --port out to take the next free one)"
        )
    raise PortInUse(f"ports {port}-{candidates[-1]} on {host} are all in use: pick a free one with --port")


def local_origin(host: str, port: int) -> str:
    """The address a browser opens for ``--host``/``--port`` (any-address binds are opened on loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(options: ServeOptions, log: Callable[[str], None], note: Callable[[str], None]) -> None:
    """Take the port, build, then serve and rebuild on change until interrupted (Ctrl-C: one line)."""
    country = options.country
    if country and not COUNTRY.match(country):
        raise SitegenError(f"--country {country}: give a two-letter country code such as PK or US")
    sock = listen(options.host, options.port, options.port_given, log)  # said even with -q
    url = url_of(sock, options.host)
    dev = DevServer(
        Path(options.root),
        country=country,
        log=log,
        request_log=log if options.log_requests else (lambda line: None),
        build_log=log if options.log_builds else (lambda line: None),
        drafts=options.drafts,
        # Absolute URLs (canonical, sitemaps) name this server, never production.
        base_url=local_origin(options.host, sock.getsockname()[1]),
    )
    try:
        dev.rebuild("start")
        log(  # the address is what serve exists to print: said even with -q
            f"serving {dev.root} at {url} (country {dev.country or 'none'}; ?country=XX or the "
            f"{routing.COOKIE} cookie switch it); edge handlers at /api/; Ctrl-C to stop"
        )
        if options.open_browser:
            # The socket already listens, so the browser's request waits for the server. A thread:
            # webbrowser waits for a console browser (the BROWSER variable) to exit.
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        uvicorn_server(dev, options.host, sock.getsockname()[1], options.server_log_level).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn stops on SIGINT, then raises it again; Ctrl-C is how a preview ends
    finally:
        sock.close()
        dev.cleanup()
    note("sitegen serve: stopped")


__all__ = ["DevServer", "PortInUse", "ServeOptions", "listen", "local_origin", "run", "uvicorn_server"]
