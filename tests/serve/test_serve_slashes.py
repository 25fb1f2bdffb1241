"""`sitegen serve` never redirects off the site's origin, whatever the path's slashes."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from tests.support.devserver import Running

Start = Callable[..., AbstractContextManager[Running]]

HOSTILE = [
    "//pk",
    "//pk/about",
    "///pk",
    "//evil.example",
    "//evil.example/",
    "/\\evil.example",
    "//",
    "/pk//about",
]


def raw_get(url: str, path: str) -> tuple[int, str | None]:
    """GET with the path exactly as given (clients would resolve "//x" as a host)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    location = next(
        (line.split(":", 1)[1].strip() for line in head[1:] if line.lower().startswith("location:")), None
    )
    return status, location


def same_origin(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("path", HOSTILE)
def test_repeated_slashes_never_redirect_off_origin(start: Start, path: str) -> None:
    with start() as run:
        status, location = raw_get(run.url, path)
        assert status < 500
        if location is not None:
            # Once: GET //pk answered 301 Location: //pk/, a protocol-relative URL to the host "pk".
            assert same_origin(location), (path, location)
    if path == "//pk":
        assert location == "/pk/"
