"""Portal retention end to end: real PostgreSQL behind the PostgREST test server, and a
loopback fake Storage API that records every request."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg

from edge import retention
from edge.settings import Settings
from tests.support.edgesite import built_edge


def _storage_server() -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    log: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_DELETE(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"] or 0)) or b"null")
            log.append(
                {
                    "method": "DELETE",
                    "path": self.path,
                    "auth": self.headers["authorization"],
                    "apikey": self.headers["apikey"],
                    "body": body,
                }
            )
            out = json.dumps([{"name": p} for p in body["prefixes"]]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, log


def test_portal_retention_deletes_objects_then_exactly_the_expired_rows(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    user = uuid.uuid4()
    db.execute("insert into auth.users (id, email) values (%s, 'a@example.com')", (user,))
    old, recent, open_ = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    today = date.today()
    for pid, closed in (
        (old, date(today.year - 3, 1, 1)),
        (recent, date(today.year - 1, today.month, 1)),
        (open_, None),
    ):
        db.execute(
            "insert into public.projects (id, name, status, closed_on) values (%s, 'p', %s, %s)",
            (pid, "closed" if closed else "active", closed),
        )
        db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (pid, user))
        db.execute(
            "insert into public.files (project_id, uploaded_by, path, name, size, content_type)"
            " values (%s, %s, %s, 'f.pdf', 3, 'application/pdf')",
            (pid, user, f"{pid}/f.pdf"),
        )
    httpd, log = _storage_server()
    try:
        storage_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        env = {"SUPABASE_URL": postgrest.url, "SUPABASE_SERVICE_ROLE_KEY": postgrest.service_key}
        settings = Settings(
            data_dir=tmp_path,
            local_dir=tmp_path,
            env=env,
            site=built_edge(),  # the schema's 24 months after close, bucket portal-files
        )
        # Storage calls go to the fake server; the database calls go to the PostgREST server.
        with httpx.Client(
            base_url=storage_url,
            transport=httpx.HTTPTransport(),
            event_hooks={"request": [lambda r: _redirect(r, storage_url)]},
        ) as client:
            result = retention.purge_supabase_portal(settings, storage_client=client)
    finally:
        httpd.shutdown()
    assert result.deleted == 1
    assert [e["body"] for e in log] == [{"prefixes": [f"{old}/f.pdf"]}]
    assert log[0]["path"] == "/storage/v1/object/portal-files"
    assert log[0]["auth"] == f"Bearer {postgrest.service_key}"
    remaining = {r[0] for r in db.execute("select id from public.projects").fetchall()}
    assert remaining == {recent, open_}
    assert db.execute("select count(*) from public.files").fetchone() == (2,)
    row = db.execute("select months from public.retention_settings where name = 'portal_months_after_close'")
    assert row.fetchone() == (24,)


def _redirect(request: httpx.Request, base: str) -> None:
    target = httpx.URL(base)
    request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
