"""edge.storage against a loopback fake Storage API that records every request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from edge.storage import Storage, StorageError


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    log: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            log.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "auth": self.headers["authorization"],
                    "apikey": self.headers["apikey"],
                    "body": json.loads(raw or b"null"),
                }
            )
            if "forbidden" in self.path:
                out, status = b'{"error":"Unauthorized"}', 403
            elif self.path.startswith("/storage/v1/object/upload/sign/"):
                out, status = json.dumps({"url": self.path[len("/storage/v1") :] + "?token=up"}).encode(), 200
            elif self.path.startswith("/storage/v1/object/sign/"):
                out, status = (
                    json.dumps({"signedURL": self.path[len("/storage/v1") :] + "?token=dl"}).encode(),
                    200,
                )
            else:
                out, status = json.dumps([{"name": p} for p in json.loads(raw)["prefixes"]]).encode(), 200
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_POST = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    httpd.shutdown()


def test_requests_one_by_one(fake: tuple[str, list[dict[str, Any]]]) -> None:
    url, log = fake
    log.clear()
    s = Storage(url, "pk")
    up = s.signed_upload_url("portal-files", "p1/a b.pdf", "user-token")
    assert up == f"{url}/storage/v1/object/upload/sign/portal-files/p1/a%20b.pdf?token=up"
    down = s.signed_download_url("portal-files", "p1/a.pdf", "user-token", 600)
    assert down == f"{url}/storage/v1/object/sign/portal-files/p1/a.pdf?token=dl"
    assert s.delete("portal-files", ["p1/a.pdf", "p1/b.pdf"], "service") == ["p1/a.pdf", "p1/b.pdf"]
    assert s.delete("portal-files", [], "service") == []  # nothing to delete: no request at all
    assert [(e["method"], e["path"], e["auth"], e["apikey"], e["body"]) for e in log] == [
        ("POST", "/storage/v1/object/upload/sign/portal-files/p1/a%20b.pdf", "Bearer user-token", "pk", {}),
        (
            "POST",
            "/storage/v1/object/sign/portal-files/p1/a.pdf",
            "Bearer user-token",
            "pk",
            {"expiresIn": 600},
        ),
        (
            "DELETE",
            "/storage/v1/object/portal-files",
            "Bearer service",
            "pk",
            {"prefixes": ["p1/a.pdf", "p1/b.pdf"]},
        ),
    ]


def test_refusal_raises_with_status(fake: tuple[str, list[dict[str, Any]]]) -> None:
    with pytest.raises(StorageError, match="HTTP 403"):
        Storage(fake[0], "pk").signed_download_url("forbidden", "x", "t", 60)
    with pytest.raises(StorageError):
        Storage("http://127.0.0.1:9", "pk").signed_upload_url("b", "x", "t")
