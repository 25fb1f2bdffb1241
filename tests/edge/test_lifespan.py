"""The edge app's one lifespan, run for real by uvicorn (lifespan on).

Before it existed, ``uvicorn edge.app:app`` never drained the contact
notifier (a notification queued at shutdown was lost) and never closed
chat's HTTP client.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from edge.app import create_app
from edge.settings import load_settings
from tests.support.contactsite import valid, write_edge_data


class _Webhook:
    """A webhook receiver that answers only once the edge has begun shutting down."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                outer.received.set()
                outer.release.wait(30)
                # Network latency after the release: without a drain, the loop is gone by now.
                time.sleep(0.3)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook/secret-token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def webhook() -> Iterator[_Webhook]:
    hook = _Webhook()
    yield hook
    hook.release.set()
    hook.httpd.shutdown()


def test_shutdown_delivers_queued_notification_and_closes_clients(tmp_path: Path, webhook: _Webhook) -> None:
    data = write_edge_data(tmp_path / "edge-data")  # the build's _edge/, search data included
    settings = load_settings(
        environ={"CONTACT_WEBHOOK_URL": webhook.url}, data_dir=data, local_dir=tmp_path / "l"
    )
    app = create_app(settings)

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        # Pass everything through; note when the server starts the lifespan shutdown.
        async def watch() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                webhook.release.set()
            return message

        await app(scope, watch if scope["type"] == "lifespan" else receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(observed, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    headers = {"accept": "application/json"}
    assert httpx.post(f"{base}/api/contact", json=valid(), headers=headers).status_code == 200
    chat = httpx.post(
        f"{base}/api/chat",
        json={"region": "pk", "messages": [{"role": "user", "content": "hello"}]},
        headers=headers,
    )
    assert chat.status_code == 200
    chat_handler = app.state.closers[1].__self__
    client = chat_handler.client
    assert client is not None and not client.is_closed
    assert webhook.received.wait(10)
    server.should_exit = True
    thread.join(30)
    sock.close()
    assert not thread.is_alive()
    notifier = app.state.closers[0].__self__.notifier
    assert notifier.delivered == 1 and notifier.failures == 0
    assert client.is_closed
