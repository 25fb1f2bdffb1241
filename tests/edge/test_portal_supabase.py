"""The portal app in Supabase mode: real supabase client -> PostgREST test server -> real
PostgreSQL with the portal migration. Two clients and one staff member; tokens are ES256
from the server's JWKS, verified by edge.auth."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from postgrest import APIError
from starlette.testclient import TestClient

from edge.portal import NOT_UPLOADED, create_app
from edge.portal_supabase import SupabasePortalStore
from edge.settings import Settings
from tests.support.edgesite import EDGE_SITE_YAML, built_edge
from tests.support.jwt import generate_signing_key, user_claims


@pytest.fixture()
def world(db: psycopg.Connection[Any], postgrest: Any, supabase_apis: Any, tmp_path: Path) -> dict[str, Any]:
    a, b, s = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for uid, email in ((a, "a@example.com"), (b, "b@example.com"), (s, "staff@example.com")):
        db.execute("insert into auth.users (id, email) values (%s, %s)", (uid, email))
    for uid, email in ((a, "a@example.com"), (b, "b@example.com")):
        # The sign-up trigger made the row; fill in the profile.
        db.execute("update public.clients set name = %s where id = %s", (email[0], uid))
    db.execute("insert into public.staff (user_id) values (%s)", (s,))
    pa, pb = uuid.uuid4(), uuid.uuid4()
    for pid, uid in ((pa, a), (pb, b)):
        db.execute("insert into public.projects (id, name) values (%s, %s)", (pid, f"project of {uid}"))
        db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (pid, uid))
        db.execute(
            "insert into public.messages (project_id, author_id, body) values (%s, %s, %s)",
            (pid, uid, f"note of {uid}"),
        )
        db.execute(
            "insert into public.files (project_id, uploaded_by, path, name, size, content_type)"
            " values (%s, %s, %s, 'f.pdf', 3, 'application/pdf')",
            (pid, uid, f"{pid}/f.pdf"),
        )
        db.execute(
            "insert into storage.objects (bucket_id, name) values ('portal-files', %s)", (f"{pid}/f.pdf",)
        )
    env = {"SUPABASE_URL": postgrest.url, "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key}
    settings = Settings(
        data_dir=tmp_path,
        local_dir=tmp_path,
        env=env,
        site=built_edge(
            EDGE_SITE_YAML
            + "portal:\n  upload_types: [application/pdf]\n  upload_max_bytes: 100\n  signed_url_seconds: 120\n"
        ),
    )
    hdr = {
        k: {"authorization": "Bearer " + postgrest.make_user_token(v, algorithm="ES256")}
        for k, v in (("a", a), ("b", b), ("s", s))
    }
    tokens = {k: v["authorization"].split()[1] for k, v in hdr.items()}
    return {
        "c": TestClient(create_app(settings)),
        "h": hdr,
        "t": tokens,
        "a": a,
        "b": b,
        "pa": pa,
        "pb": pb,
        "url": postgrest.url,
        "key": postgrest.publishable_key,
        "storage": supabase_apis,
    }


def test_each_sees_only_own_staff_sees_all(world: dict[str, Any]) -> None:
    c, h = world["c"], world["h"]
    assert [p["id"] for p in c.get("/projects", headers=h["a"]).json()["projects"]] == [str(world["pa"])]
    assert [p["id"] for p in c.get("/projects", headers=h["b"]).json()["projects"]] == [str(world["pb"])]
    assert len(c.get("/projects", headers=h["s"]).json()["projects"]) == 2
    assert c.get(f"/projects/{world['pb']}", headers=h["a"]).status_code == 404
    assert c.get(f"/projects/{world['pb']}/messages", headers=h["a"]).status_code == 404
    assert c.post(f"/projects/{world['pb']}/messages", json={"body": "x"}, headers=h["a"]).status_code == 404
    assert c.get("/projects/not-a-uuid", headers=h["a"]).status_code == 404
    assert c.post("/dev-login", json={"email": "a@example.com"}).status_code == 403


def test_database_refuses_even_when_the_handler_check_is_bypassed(world: dict[str, Any]) -> None:
    store = SupabasePortalStore(world["url"], world["key"], world["t"]["a"])
    pb = str(world["pb"])
    assert store.messages(str(world["a"]), pb) == []
    with pytest.raises(APIError):
        store.add_message(str(world["a"]), pb, "sneaky")
    with pytest.raises(APIError):
        store.add_file(
            str(world["a"]),
            pb,
            {
                "bucket": "portal-files",
                "path": f"{pb}/x.pdf",
                "size": 1,
                "content_type": "application/pdf",
                "name": "x.pdf",
            },
        )
    with pytest.raises(APIError):  # naming an author at all is refused: the database sets it
        store.client.table("messages").insert(
            {"project_id": str(world["pa"]), "author_id": str(world["b"]), "body": "as b"}
        ).execute()
    with pytest.raises(LookupError):
        store.update_profile(str(world["b"]), {"company": "hijacked"})


def test_write_export_correct_and_delete_request(world: dict[str, Any]) -> None:
    c, h, pa = world["c"], world["h"], world["pa"]
    assert c.post(f"/projects/{pa}/messages", json={"body": "hello"}, headers=h["a"]).status_code == 201
    assert c.patch("/me", json={"company": "Acme"}, headers=h["a"]).json()["profile"]["company"] == "Acme"
    assert c.post("/me/deletion-request", headers=h["a"]).status_code == 201
    export = c.get("/me/export", headers=h["a"]).json()
    text = json.dumps(export)
    assert str(world["b"]) not in text and str(world["pb"]) not in text
    assert sorted(m["body"] for m in export["messages"]) == sorted(["hello", f"note of {world['a']}"])
    assert [f["project_id"] for f in export["files"]] == [str(pa)]
    assert [r["kind"] for r in export["data_rights_requests"]] == ["deletion"]
    assert export["profile"]["company"] == "Acme"


def test_bad_tokens_rejected_by_the_handler(world: dict[str, Any]) -> None:
    c = world["c"]
    from tests.support.jwt import unsigned_token, user_claims

    for token in ("garbage", unsigned_token(user_claims(world["a"], issuer=world["url"] + "/auth/v1"))):
        assert c.get("/projects", headers={"authorization": f"Bearer {token}"}).status_code == 401


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"])


def test_a_file_the_buckets_own_limits_refuse_is_422_with_the_databases_reason(
    world: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    """site.yaml allows 100-byte PDFs; a bucket set tighter in the dashboard wins, and the client
    is told why instead of getting a 500 or a file row Storage would never accept."""
    c, h, pa = world["c"], world["h"], world["pa"]
    url = f"/projects/{pa}/files/upload-url"
    pdf = {"name": "brief.pdf", "size": 80, "content_type": "application/pdf"}
    db.execute("update storage.buckets set file_size_limit = 50 where id = 'portal-files'")
    reason = _error(c.post(url, json=pdf, headers=h["a"]), 422)
    assert reason == "refused by the database: file of 80 bytes is over the limit of 50 bytes"
    db.execute("update storage.buckets set file_size_limit = null, allowed_mime_types = '{image/png}'")
    reason = _error(c.post(url, json=pdf, headers=h["a"]), 422)
    assert reason == "refused by the database: content type application/pdf is not accepted"
    assert db.execute("select count(*) from public.files where project_id = %s", (pa,)).fetchone() == (1,)
    db.execute("update storage.buckets set allowed_mime_types = null")
    assert c.post(url, json=pdf, headers=h["a"]).status_code == 201


def test_a_write_the_database_does_not_grant_is_403_with_its_reason(
    world: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    """A missing grant (a migration not applied) is the database's refusal: 403 naming it, not 500."""
    c, h, pa = world["c"], world["h"], world["pa"]
    db.execute("revoke insert (project_id, body) on public.messages from authenticated")
    try:
        reason = _error(c.post(f"/projects/{pa}/messages", json={"body": "hi"}, headers=h["a"]), 403)
    finally:
        db.execute("grant insert (project_id, body) on public.messages to authenticated")
    assert reason == "refused by the database: permission denied for table messages"
    assert c.post(f"/projects/{pa}/messages", json={"body": "hi"}, headers=h["a"]).status_code == 201


def test_storage_refusing_an_upload_is_403_with_storages_reason(
    world: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    """Storage's own insert policy says no (here: the policy is missing): 403 'storage refused'."""
    c, h, pa = world["c"], world["h"], world["pa"]
    pdf = {"name": "brief.pdf", "size": 3, "content_type": "application/pdf"}
    db.execute("drop policy portal_files_insert on storage.objects")
    try:
        reason = _error(c.post(f"/projects/{pa}/files/upload-url", json=pdf, headers=h["a"]), 403)
    finally:
        db.execute(
            "create policy portal_files_insert on storage.objects for insert to authenticated"
            " with check (bucket_id = 'portal-files' and public.has_file_row(bucket_id, name))"
        )
    assert reason.startswith(f"storage refused: POST /object/upload/sign/portal-files/{pa}/")
    assert reason.endswith(
        'HTTP 400 {"statusCode":"403","error":"Unauthorized",'
        '"message":"new row violates row-level security policy"}'
    )
    created = c.post(f"/projects/{pa}/files/upload-url", json=pdf, headers=h["a"])
    assert created.status_code == 201
    assert created.json()["upload_url"].startswith(
        world["url"] + "/storage/v1/object/upload/sign/portal-files/"
    )


def test_a_file_whose_upload_never_finished_has_no_link_and_does_not_break_the_export(
    world: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    """A file row without a Storage object: its download is 404 as in local mode, and the export
    (the right of access) still lists everything, with no link for that one file."""
    c, h, pa = world["c"], world["h"], world["pa"]
    pending = db.execute(
        "insert into public.files (project_id, uploaded_by, path, name, size, content_type)"
        " values (%s, %s, %s, 'later.pdf', 3, 'application/pdf') returning id",
        (pa, world["a"], f"{pa}/later.pdf"),
    ).fetchone()
    assert pending is not None
    assert _error(c.get(f"/files/{pending[0]}/download-url", headers=h["a"]), 404) == NOT_UPLOADED
    export = c.get("/me/export", headers=h["a"])
    assert export.status_code == 200
    links = {f["name"]: f["download_url"] for f in export.json()["files"]}
    assert links["later.pdf"] is None
    # The link lives as long as site.yaml says (portal.signed_url_seconds), not Storage's default.
    assert world["storage"].lifetimes == {f"portal-files/{pa}/f.pdf": 120}
    assert links["f.pdf"].startswith(world["url"] + f"/storage/v1/object/sign/portal-files/{pa}/f.pdf?token=")


def test_sign_in_that_cannot_be_checked_is_503_with_retry_after(tmp_path: Path) -> None:
    """Supabase's JWKS unreachable: the visitor is told to retry, not signed out (401) or shown a 500."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    settings = Settings(
        data_dir=tmp_path,
        local_dir=tmp_path,
        env={"SUPABASE_URL": url, "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_x"},
        site=built_edge(EDGE_SITE_YAML),
    )
    token = generate_signing_key().sign(user_claims(uuid.uuid4(), issuer=url + "/auth/v1"))
    with TestClient(create_app(settings)) as c:
        answer = c.get("/projects", headers={"authorization": f"Bearer {token}"})
        assert _error(answer, 503) == "sign-in cannot be checked just now; try again shortly"
        assert answer.headers["retry-after"] == "30"
