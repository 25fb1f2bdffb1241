"""The portal app in Supabase mode: real supabase client -> PostgREST test server -> real
PostgreSQL with the portal migration. Two clients and one staff member; tokens are ES256
from the server's JWKS, verified by edge.auth."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from postgrest import APIError
from starlette.testclient import TestClient

from edge.portal import create_app
from edge.portal_supabase import SupabasePortalStore
from edge.settings import Settings
from tests.support.edgesite import EDGE_SITE_YAML, built_edge


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
            EDGE_SITE_YAML + "portal:\n  upload_types: [application/pdf]\n  upload_max_bytes: 100\n"
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
