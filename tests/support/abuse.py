"""The edge under abuse, on loopback: the servers and the hostile clients.

:func:`edge_under_test` starts the real edge app (``edge.app.create_app``)
under uvicorn, in Supabase mode against :class:`FakeSupabase`, a loopback
server speaking the three wire formats the edge uses there: PostgREST's insert
into ``inquiries``, PostgREST's ``/rpc/edge_hit`` (counted like the migration's
function) and the Auth JWKS document, which can be made to hang. Used by
``tests/edge/test_abuse.py`` (assertions) and ``bench/abuse.py`` (figures).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

from edge.app import create_app
from edge.server import config as server_config
from edge.settings import load_settings
from tests.support.edgesite import PROXY_SECRET, netlify_signature, write_one_region_edge
from tests.support.jwt import generate_signing_key, jwks, user_claims

CONTACT_PER_MINUTE = 5
CHAT_PER_MINUTE = 12
CHAT_CONCURRENT = 2

CONTACT = {
    "name": "Ayesha Khan",
    "email": "ayesha@example.com",
    "phone": "",
    "company": "",
    "service": "",
    "message": "We need a new website for our textile shop in Karachi.",
    "consent": "on",
    "region": "pk",
    "website": "",
}
CHAT = {"region": "pk", "messages": [{"role": "user", "content": "How can I contact you?"}]}


class FakeSupabase:
    """PostgREST (inquiries insert, rpc/edge_hit) and Auth's JWKS on one loopback port."""

    def __init__(self) -> None:
        self.jwks_release = threading.Event()
        self.jwks_requests = 0
        self.inserts = 0
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self.key = generate_signing_key("ES256")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: bytes = b"", ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith("/auth/v1/.well-known/jwks.json"):
                    outer.jwks_requests += 1
                    outer.jwks_release.wait(60)  # hangs until released
                    self._reply(200, json.dumps(jwks(outer.key)).encode())
                    return
                self._reply(404)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.startswith("/rest/v1/inquiries"):
                    with outer._lock:
                        outer.inserts += 1
                    self._reply(201)
                elif self.path.startswith("/rest/v1/rpc/edge_hit"):
                    self._reply(200, json.dumps(outer.edge_hit(json.loads(body))).encode())
                else:
                    self._reply(404)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default 5 resets connections under the suite's concurrency

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def edge_hit(self, args: dict[str, Any]) -> int:
        """What ``public.edge_hit`` answers (fixed windows; the migration is tested on PostgreSQL)."""
        window, limit, cost = int(args["p_window_seconds"]), int(args["p_limit"]), int(args.get("p_cost", 1))
        now = time.time()
        start = int(now // window) * window
        slot = (str(args["p_bucket"]), str(args["p_key"]), start)
        with self._lock:
            total = self._counts[slot] = self._counts.get(slot, 0) + cost
        spent = total >= limit if cost == 0 else total > limit
        return max(1, math.ceil(start + window - now)) if spent else 0

    def close(self) -> None:
        self.jwks_release.set()
        self.httpd.shutdown()


@dataclass
class Edge:
    url: str
    supabase: FakeSupabase
    server: uvicorn.Server


@contextmanager
def edge_under_test(tmp: Path) -> Iterator[Edge]:
    """The real edge app on a loopback port, Supabase mode, behind a signed-proxy configuration."""
    data = write_one_region_edge(
        tmp / "_edge",
        "edge:\n  proxy_signature_env: NETLIFY_PROXY_SIGNATURE\n"
        f"contact_form:\n  rate_limit_per_minute: {CONTACT_PER_MINUTE}\n"
        f"chat:\n  limits:\n    rate_per_minute: {CHAT_PER_MINUTE}\n    max_concurrent: {CHAT_CONCURRENT}\n",
    )
    supabase = FakeSupabase()
    env = {
        "SUPABASE_URL": supabase.url,
        "SUPABASE_PUBLISHABLE_KEY": "publishable-key",
        "NETLIFY_PROXY_SIGNATURE": PROXY_SECRET,
        "SITEGEN_CLIENT_KEY_SECRET": "abuse-suite",
    }
    app = create_app(load_settings(environ=env, data_dir=data, local_dir=tmp / "local"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # Served as `python -m edge` serves it (proxy headers off), quieter.
    server = uvicorn.Server(server_config(app, log_level="critical", access_log=False, log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield Edge(f"http://127.0.0.1:{sock.getsockname()[1]}", supabase, server)
    finally:
        supabase.jwks_release.set()
        server.should_exit = True
        thread.join(30)
        sock.close()
        supabase.close()


# --------------------------------------------------------------------------- hostile requests

JSON = {"content-type": "application/json", "accept": "application/json"}


def forged_headers(i: int) -> dict[str, str]:
    """What a direct visitor can write: every forwarding header, and signatures it cannot make."""
    fake = f"198.51.100.{i % 250}"
    return {
        "x-forwarded-for": fake,
        "x-real-ip": fake,
        "x-vercel-forwarded-for": fake,
        "x-nf-client-connection-ip": fake,
        "forwarded": f"for={fake}",
        "x-nf-sign": netlify_signature("guessed-secret-0123456789-0123456789") if i % 2 else "x.y.z",
    }


def token_shapes(supabase: FakeSupabase) -> list[str]:
    """Malformed and hostile bearer tokens: every one must be a 401 (or 503 while keys are unreachable)."""
    claims = user_claims("00000000-0000-0000-0000-000000000001", issuer=f"{supabase.url}/auth/v1")
    good = supabase.key.sign(claims)
    head, body, sig = good.split(".")

    def b64(raw: bytes) -> str:
        import base64

        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def header(**fields: Any) -> str:
        return b64(json.dumps(fields).encode())

    rnd = random.Random(15)
    shapes = [
        "",
        "x",
        "a.b",
        "a.b.c",
        "...",
        f"{head}.{body}",
        f"{head}.{body}.",
        f"{header(alg='none')}.{body}.",
        f"{header(alg='RS256', kid=supabase.key.kid)}.{body}.{sig}",  # once a TypeError (500)
        f"{header(alg='HS256')}.{body}.{sig}",
        f"{header(alg='ES256', kid=['list'])}.{body}.{sig}",
        f"{header(alg='ES256', kid=supabase.key.kid)}.{b64(b'[1,2,3]')}.{sig}",
        f"{header(alg='ES256', kid=supabase.key.kid)}.{b64(b'not json')}.{sig}",
        f"{b64(b'[')}.{body}.{sig}",
        f"{b64(b'{' * 5000)}.{body}.{sig}",
        "eyJ" + "A" * 9000,
        f"{head}.{body}.{sig[:-4]}AAAA",
    ]
    alphabet = string.ascii_letters + string.digits + "-_.=+/"
    shapes += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 400))) for _ in range(40)]
    return shapes


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HUGE = b'{"region":"pk","messages":[{"role":"user","content":"' + b"x" * 3_000_000 + b'"}]}'


# --------------------------------------------------------------------------- the mixed run


@dataclass
class Figures:
    requests: int = 0
    server_errors: int = 0  # 5xx other than a designed 503 with Retry-After
    designed_503: int = 0
    bypasses: int = 0
    health_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process (client and server), a figure that does not depend on load

    @property
    def health_p99_ms(self) -> float:
        ordered = sorted(self.health_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0

    def line(self) -> str:
        return (
            f"abuse run: {self.requests} requests in {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU), 5xx (not designed): {self.server_errors}, "
            f"designed 503: {self.designed_503}, limit bypasses: {self.bypasses}, "
            f"p99 /api/health: {self.health_p99_ms:.1f} ms"
        )


class RawClient:
    """A minimal HTTP/1.1 keep-alive client: the mixed run measures the edge, not a client library."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" in fields:
            await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        if fields.get("connection") == "close" or "content-length" not in fields:
            await self.close()
        return status, fields


async def mixed_run(edge: Edge, total: int = 10_000, concurrency: int = 32) -> Figures:
    """``total`` requests of every kind at once; counts 5xx, limit bypasses and health latency."""
    figures = Figures()
    shapes = token_shapes(edge.supabase)
    contact_ok = chat_ok = 0
    kinds = [
        "health",
        "health",
        "contact",
        "contact_forged",
        "chat",
        "chat_forged",
        "portal",
        "nested",
        "junk",
        "404",
    ]
    contact, chat = json.dumps(CONTACT).encode(), json.dumps(CHAT).encode()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    started, cpu = time.perf_counter(), time.process_time()

    async def one(client: RawClient, i: int) -> None:
        nonlocal contact_ok, chat_ok
        kind = kinds[i % len(kinds)]
        t0 = time.perf_counter()
        if kind == "health":
            status, headers = await client.request("GET", "/api/health")
            figures.health_ms.append((time.perf_counter() - t0) * 1000)
        elif kind in ("contact", "contact_forged"):
            extra = {**JSON, **(forged_headers(i) if kind == "contact_forged" else {})}
            status, headers = await client.request("POST", "/api/contact", extra, contact)
            contact_ok += status == 200
        elif kind in ("chat", "chat_forged"):
            extra = {**JSON, **(forged_headers(i) if kind == "chat_forged" else {})}
            status, headers = await client.request("POST", "/api/chat", extra, chat)
            chat_ok += status == 200
        elif kind == "portal":
            auth = {"authorization": f"Bearer {shapes[i % len(shapes)]}".strip()}
            status, headers = await client.request("GET", "/api/portal/projects", auth)
        elif kind == "nested":
            path = ["/api/chat", "/api/contact", "/api/portal/dev-login"][i % 3]
            status, headers = await client.request("POST", path, JSON, nested(50 + i % 5000))
        elif kind == "junk":
            status, headers = await client.request(
                "POST", "/api/contact", {"content-type": "text/xml"}, bytes(range(256)) * 4
            )
        else:
            status, headers = await client.request("GET", f"/api/nothing-{i}")
        figures.requests += 1
        figures.statuses[status] = figures.statuses.get(status, 0) + 1
        if status >= 500:
            if status == 503 and "retry-after" in headers:
                figures.designed_503 += 1
            else:
                figures.server_errors += 1

    async def worker() -> None:
        client = RawClient(edge.url)
        try:
            while not queue.empty():
                await one(client, queue.get_nowait())
        finally:
            await client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    figures.seconds = time.perf_counter() - started
    figures.cpu_seconds = time.process_time() - cpu
    # One client (this socket address) with forged headers: anything past its limits is a bypass.
    minutes = math.ceil(figures.seconds / 60) + 1  # fixed windows: a run may straddle window edges
    figures.bypasses = max(0, contact_ok - CONTACT_PER_MINUTE * minutes) + max(
        0, chat_ok - CHAT_PER_MINUTE * minutes
    )
    return figures
