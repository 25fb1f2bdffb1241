"""A tiny two-region site and a real `sitegen serve` server on a free loopback port (tests/serve)."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from sitegen.serve import DevServer, uvicorn_server
from tests.support.sitefactory import REGIONS_YAML

SITE_YAML = "title: Mini\nbase_url: https://example.com\ntheme: mini\n" + REGIONS_YAML

LAYOUT = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title>'
    '<link rel="stylesheet" href="{{ asset(\'css/site.css\') }}"></head>'
    "<body><main>{{ content|safe }}</main></body></html>\n"
)


def make_site(root: Path) -> Path:
    """Write a minimal site: home and about in both regions, 'local' only in pk."""
    (root / "content").mkdir(parents=True)
    templates = root / "themes" / "mini" / "templates"
    templates.mkdir(parents=True)
    (root / "themes" / "mini" / "static" / "css").mkdir(parents=True)
    (root / "themes" / "mini" / "static" / "css" / "site.css").write_text("body { margin: 0 }\n")
    (root / "site.yaml").write_text(SITE_YAML)
    for name in ("page", "home", "404"):
        (templates / f"{name}.html").write_text(LAYOUT)
    (root / "content" / "index.md").write_text("---\ntitle: Home\n---\nWelcome home.\n")
    (root / "content" / "about.md").write_text("---\ntitle: About\n---\nAbout us, version one.\n")
    (root / "content" / "local.md").write_text("---\ntitle: Local\nregions: [pk]\n---\nOnly in Pakistan.\n")
    return root


class Events:
    """Reads the dev server's event stream in a thread; tests wait for named events."""

    def __init__(self, url: str) -> None:
        self._queue: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()
        if not self._opened.wait(10):
            raise AssertionError("the event stream did not open")

    def _read(self, url: str) -> None:
        try:
            with connect_sse(self._client, "GET", url) as source:
                self._opened.set()
                for event in source.iter_sse():
                    self._queue.put((event.event, json.loads(event.data)))
        except (httpx.HTTPError, RuntimeError):
            return  # closed by the test

    def wait_for(self, name: str, timeout: float = 20) -> dict[str, object]:
        """The data of the next event called `name` (earlier events of other names are dropped)."""
        while True:
            try:
                got, data = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no '{name}' event within {timeout} s") from None
            if got == name:
                return data

    def close(self) -> None:
        """Wait for the reader to finish once the server ended the stream (see Running.end_streams)."""
        self._thread.join(10)
        self._client.close()


@dataclass
class Running:
    dev: DevServer
    url: str
    client: httpx.Client
    logs: list[str] = field(default_factory=list)
    streams: list[Events] = field(default_factory=list)

    def events(self) -> Events:
        """A new event stream, ended by the server when the test's server block ends."""
        events = Events(self.url + "/__sitegen/events")
        self.streams.append(events)
        return events


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serving(dev: DevServer, logs: list[str]) -> Iterator[Running]:
    """Run `dev` under uvicorn in a thread until the block ends; waits until files are watched."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn_server(dev)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=10, follow_redirects=False)
    try:
        tries = 200  # x 0.05 s: generous, the server and watcher normally start in well under a second
        while True:
            try:
                if client.get("/__sitegen/status").json()["watching"]:
                    break
            except httpx.TransportError:
                pass
            tries -= 1
            if tries == 0 or not thread.is_alive():
                raise AssertionError("dev server did not start watching")
            threading.Event().wait(0.05)
        running = Running(dev=dev, url=url, client=client, logs=logs)
        yield running
    finally:
        # End the event streams first so shutdown does not wait on open connections.
        dev.end_streams()
        for events in running.streams if "running" in locals() else []:
            events.close()
        client.close()
        server.should_exit = True
        thread.join(10)
        sock.close()
