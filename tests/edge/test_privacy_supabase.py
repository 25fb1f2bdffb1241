"""The privacy policy carried out end to end in Supabase mode (issue 14).

Real PostgreSQL with every migration, the PostgREST test server, and loopback
Storage and Auth admin APIs on the same origin (tests/support/supabase_apis.py)
that keep their state in the same database. Data is made the way production
makes it: accounts through ``auth.users`` (the sign-up trigger adds the
profile), uploads through the portal's signed upload URLs.

"Nothing left" is checked against the catalog: every table of the public,
storage and auth schemas is listed from ``pg_class`` and searched row by row
(the whole row as text) for the person's id, e-mail address, project id and
object names, so a table added later is searched too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from edge import retention, rights
from edge.inquiries import months_before
from edge.portal import create_app
from edge.settings import Settings
from tests.support.edgesite import EDGE_SITE_YAML, built_edge
from tests.support.pg import create_user, run_cron_job

Conn = psycopg.Connection[Any]
SEARCHED_SCHEMAS = ("public", "storage", "auth")


def references(db: Conn, needles: list[sql.Literal]) -> dict[str, int]:
    """Rows (per table, from the catalog) whose text contains any of the needles."""
    tables = db.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p') and n.nspname = any(%s) order by 1, 2",
        (list(SEARCHED_SCHEMAS),),
    ).fetchall()
    assert ("public", "data_rights_log") in tables and ("storage", "objects") in tables
    found: dict[str, int] = {}
    for schema, table in tables:
        query = sql.SQL("select count(*) from {}.{} t where {}").format(
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.SQL(" or ").join(sql.SQL("strpos(lower(t::text), lower({})) > 0").format(n) for n in needles),
        )
        row = db.execute(query).fetchone()
        if row and row[0]:
            found[f"{schema}.{table}"] = int(row[0])
    return found


def _needles(*values: Any) -> list[sql.Literal]:
    return [sql.Literal(str(v)) for v in values]


@pytest.fixture()
def world(db: Conn, postgrest: Any, supabase_apis: Any, tmp_path: Path) -> dict[str, Any]:
    env = {
        "SUPABASE_URL": postgrest.url,
        "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key,
        "SUPABASE_SERVICE_ROLE_KEY": postgrest.service_key,
    }
    portal = "portal:\n  upload_types: [application/pdf, text/plain]\n  upload_max_bytes: 1000\n"
    settings = Settings(
        data_dir=tmp_path,
        local_dir=tmp_path / "local",
        env=env,
        site=built_edge(EDGE_SITE_YAML + portal),  # retention: the schema's 12 and 24 months
    )
    client = create_user(db, "client@example.com")
    staff = create_user(db, "staff@example.com")
    db.execute("insert into public.staff (user_id) values (%s)", (staff.id,))
    project = uuid.uuid4()
    db.execute("insert into public.projects (id, name) values (%s, 'Shop')", (project,))
    for uid in (client.id, staff.id):
        db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (project, uid))
    app = TestClient(create_app(settings))
    tokens = {
        who: {"authorization": "Bearer " + postgrest.make_user_token(u.id, u.email, algorithm="ES256")}
        for who, u in (("client", client), ("staff", staff))
    }
    world = {
        "settings": settings,
        "app": app,
        "h": tokens,
        "client": client,
        "staff": staff,
        "project": project,
    }
    world["paths"] = [
        upload(world, "client", "brief.txt", b"my brief"),
        upload(world, "staff", "design.pdf", b"%PDF-1 the agency's design"),
    ]
    for who, body in (("client", "hello from the client"), ("staff", "hello from the agency")):
        r = app.post(f"/projects/{project}/messages", json={"body": body}, headers=tokens[who])
        assert r.status_code == 201, r.text
    return world


def upload(world: dict[str, Any], who: str, name: str, data: bytes) -> str:
    """Through the portal, as a browser does: a file row and signed URL from the edge, then PUT."""
    ctype = "application/pdf" if name.endswith(".pdf") else "text/plain"
    r = world["app"].post(
        f"/projects/{world['project']}/files/upload-url",
        json={"name": name, "size": len(data), "content_type": ctype},
        headers=world["h"][who],
    )
    assert r.status_code == 201, r.text
    put = httpx.put(r.json()["upload_url"], content=data, headers={"content-type": ctype})
    assert put.status_code == 200, put.text
    return str(r.json()["file"]["path"])


def close_project(db: Conn, project: uuid.UUID, closed: datetime) -> None:
    db.execute(
        "update public.projects set status = 'closed', closed_on = %s where id = %s", (closed.date(), project)
    )


def objects(db: Conn) -> list[str]:
    return [r[0] for r in db.execute("select name from storage.objects order by name")]


# --------------------------------------------------------------------------- retention


@pytest.mark.parametrize("order", ["pg_cron first", "scheduled job first"])
def test_expired_client_leaves_nothing_after_the_scheduled_jobs(
    db: Conn, world: dict[str, Any], supabase_apis: Any, order: str
) -> None:
    client, project = world["client"], world["project"]
    # An answered request (kept with the account) and an inquiry they sent long ago.
    r = world["app"].post("/me/requests", json={"kind": "access", "note": ""}, headers=world["h"]["client"])
    assert r.status_code == 201
    db.execute("select public.answer_rights_request(%s, 'done')", (r.json()["request"]["id"],))
    db.execute(
        "insert into public.inquiries (region, name, email, message, consent_at, created_at) values"
        " ('pk', 'Client', %s, 'an old inquiry text', now() - interval '13 months', now() - interval '13 months')",
        (client.email,),
    )
    assert len(objects(db)) == 2
    # Closed 24 months and one day ago.
    close_project(db, project, months_before(datetime.now(UTC), 24) - timedelta(days=1))
    needles = _needles(client.id, client.email, project, *world["paths"])
    assert references(db, needles)  # the search does find them before

    if order == "pg_cron first":
        run_cron_job(db, "purge-portal")
        run_cron_job(db, "purge-inquiries")
        assert objects(db) == sorted(world["paths"])  # rows gone, objects wait for the sweep
    results = retention.run(world["settings"])
    if order == "scheduled job first":
        run_cron_job(db, "purge-portal")
        run_cron_job(db, "purge-inquiries")

    assert references(db, needles) == {}
    assert objects(db) == [] and supabase_apis.blobs == {}
    # The staff member keeps their account; only the client's sign-in went, through the admin API.
    assert db.execute("select email from auth.users").fetchall() == [("staff@example.com",)]
    assert ("DELETE", f"/auth/v1/admin/users/{client.id}", "service_role") in supabase_apis.log
    portal_result = results[-1]
    assert portal_result.target == "supabase portal"


def test_scheduled_job_deletes_objects_before_rows(
    db: Conn, world: dict[str, Any], supabase_apis: Any
) -> None:
    close_project(db, world["project"], months_before(datetime.now(UTC), 24) - timedelta(days=1))
    retention.purge_supabase_portal(world["settings"])
    storage_deletes = [i for i, e in enumerate(supabase_apis.log) if e[0] == "DELETE" and "/storage/" in e[1]]
    # The first Storage delete names the project's objects; their rows still existed then.
    assert storage_deletes and supabase_apis.log[storage_deletes[0]][1] == "/storage/v1/object/portal-files"
    assert db.execute("select count(*) from public.projects").fetchone() == (0,)
    assert objects(db) == []


def test_recent_project_is_kept_whole(db: Conn, world: dict[str, Any]) -> None:
    close_project(db, world["project"], months_before(datetime.now(UTC), 24) + timedelta(days=2))
    run_cron_job(db, "purge-portal")
    retention.run(world["settings"])
    assert objects(db) == sorted(world["paths"])
    assert db.execute("select count(*) from public.files").fetchone() == (2,)
    assert db.execute("select count(*) from auth.users").fetchone() == (2,)
    # The job also gave the bucket site.yaml's upload limits.
    assert db.execute(
        "select file_size_limit, allowed_mime_types from storage.buckets where id = 'portal-files'"
    ).fetchone() == (1000, ["application/pdf", "text/plain"])


def test_expired_inquiry_leaves_nothing(db: Conn) -> None:
    for name, age in (("Old", "12 months 1 second"), ("Recent", "11 months")):
        db.execute(
            "insert into public.inquiries (region, name, email, message, consent_at, created_at) values"
            " ('pk', %s, %s, 'an inquiry text', now() - %s::interval, now() - %s::interval)",
            (name, f"{name.lower()}@example.com", age, age),
        )
    run_cron_job(db, "purge-inquiries")
    assert references(db, _needles("old@example.com")) == {}
    assert references(db, _needles("recent@example.com")) == {"public.inquiries": 1}


def test_orphan_objects_are_swept(db: Conn, world: dict[str, Any], supabase_apis: Any) -> None:
    # A file row removed behind the job's back (by pg_cron, or by hand) leaves its object: the sweep takes it.
    db.execute("delete from public.files where path = %s", (world["paths"][0],))
    retention.purge_supabase_portal(world["settings"])
    assert objects(db) == [world["paths"][1]]


# --------------------------------------------------------------------------- rights


def test_access_export_holds_everything_with_working_links(db: Conn, world: dict[str, Any]) -> None:
    client = world["client"]
    db.execute(
        "insert into public.inquiries (region, name, email, message, consent_at) values"
        " ('pk', 'Client', %s, 'my earlier inquiry', now()), ('pk', 'Other', 'x@example.com', 'not mine at all', now())",
        (client.email,),
    )
    world["app"].post(
        "/me/requests", json={"kind": "correction", "note": "my phone"}, headers=world["h"]["client"]
    )
    export = world["app"].get("/me/export", headers=world["h"]["client"]).json()
    assert export["profile"]["email"] == client.email
    assert [p["id"] for p in export["projects"]] == [str(world["project"])]
    assert sorted(m["body"] for m in export["messages"]) == ["hello from the agency", "hello from the client"]
    assert sorted(f["path"] for f in export["files"]) == sorted(world["paths"])
    contents = {f["name"]: httpx.get(f["download_url"]).content for f in export["files"]}
    assert contents == {"brief.txt": b"my brief", "design.pdf": b"%PDF-1 the agency's design"}
    assert [r["kind"] for r in export["data_rights_requests"]] == ["correction"]
    assert [i["message"] for i in export["inquiries"]] == ["my earlier inquiry"]


def test_portal_lists_the_agencys_files(world: dict[str, Any]) -> None:
    r = world["app"].get(f"/projects/{world['project']}/files", headers=world["h"]["client"])
    assert sorted(f["name"] for f in r.json()["files"]) == ["brief.txt", "design.pdf"]
    agency = next(f for f in r.json()["files"] if f["name"] == "design.pdf")
    link = world["app"].get(f"/files/{agency['id']}/download-url", headers=world["h"]["client"]).json()
    assert httpx.get(link["download_url"]).content == b"%PDF-1 the agency's design"


def test_correction_and_missing_profile_is_404(db: Conn, world: dict[str, Any]) -> None:
    h = world["h"]["client"]
    assert world["app"].patch("/me", json={"phone": "+92 300 0000000"}, headers=h).json()["profile"]["phone"]
    db.execute("delete from public.clients where id = %s", (world["client"].id,))
    r = world["app"].patch("/me", json={"phone": "+92 300 1111111"}, headers=h)
    assert r.status_code == 404 and "profile" in r.json()["error"]


def test_storage_refuses_an_upload_without_a_file_row(world: dict[str, Any], postgrest: Any) -> None:
    from edge.storage import Storage, StorageError

    token = world["h"]["client"]["authorization"].split()[1]
    with pytest.raises(StorageError, match="row-level security"):
        Storage(postgrest.url, postgrest.publishable_key).signed_upload_url(
            "portal-files", f"{world['project']}/sneaky.html", token
        )


@pytest.mark.parametrize("kind", ["deletion", "objection", "withdrawal"])
def test_erasing_request_from_the_portal_end_to_end(
    db: Conn, world: dict[str, Any], supabase_apis: Any, kind: str
) -> None:
    client = world["client"]
    db.execute(
        "insert into public.inquiries (region, name, email, message, consent_at) values"
        " ('pk', 'Client', %s, 'a recent inquiry', now())",
        (client.email,),
    )
    r = world["app"].post("/me/requests", json={"kind": kind, "note": "please"}, headers=world["h"]["client"])
    assert r.status_code == 201
    request_id = r.json()["request"]["id"]
    staff = rights.backend(world["settings"])
    assert any(request_id in line and client.email in line for line in rights.list_lines(staff))
    needles = _needles(client.id, client.email, world["project"], *world["paths"])

    dry = rights.erase_lines(staff, None, request_id, None, dry_run=True)
    assert dry[-1] == "dry run: nothing erased" and "  files: 2" in dry
    before = references(db, needles)
    assert before and objects(db) == sorted(world["paths"])

    done = rights.erase_lines(staff, None, request_id, None, dry_run=False)
    assert done[-1].startswith("erased: ")
    assert references(db, needles) == {}
    assert objects(db) == []
    log = db.execute(
        "select kind, outcome, received_at is not null, erased from public.data_rights_log"
    ).fetchall()
    assert [(k, o, rec) for k, o, rec, _ in log] == [(kind, "erased", True)]
    assert log[0][3]["inquiries"] == 1 and log[0][3]["projects"] == 1
    # The staff member is untouched.
    assert db.execute("select count(*) from auth.users").fetchone() == (1,)


def test_erasure_for_someone_without_an_account(db: Conn, world: dict[str, Any]) -> None:
    for text in ("first inquiry text", "second inquiry text"):
        db.execute(
            "insert into public.inquiries (region, name, email, message, consent_at) values"
            " ('pk', 'Visitor', 'Visitor@Example.com', %s, now())",
            (text,),
        )
    staff = rights.backend(world["settings"])
    subject = staff.subject("visitor@example.com")
    assert subject.user_id is None and subject.inquiries == 2
    rights.erase_lines(staff, "visitor@example.com", None, "withdrawal", dry_run=False)
    assert references(db, _needles("visitor@example.com")) == {}
    assert db.execute("select kind, outcome from public.data_rights_log").fetchall() == [
        ("withdrawal", "erased")
    ]
    # The client's data is untouched.
    assert len(objects(db)) == 2


def test_answering_a_request_that_erases_nothing(db: Conn, world: dict[str, Any]) -> None:
    r = world["app"].post("/me/requests", json={"kind": "access", "note": ""}, headers=world["h"]["client"])
    staff = rights.backend(world["settings"])
    with pytest.raises(rights.RightsError, match="does not erase"):
        rights.erase_lines(staff, None, r.json()["request"]["id"], None, dry_run=False)
    staff.answer(r.json()["request"]["id"], "done")
    assert db.execute("select status, closed_at is not null from public.data_rights_requests").fetchall() == [
        ("done", True)
    ]
    assert db.execute("select kind, outcome from public.data_rights_log").fetchall() == [("access", "done")]
    assert rights.list_lines(staff) == ["0 open request(s)"]


def test_staff_commands_need_the_service_key(world: dict[str, Any]) -> None:
    settings = world["settings"]
    env = {k: v for k, v in settings.env.items() if k != "SUPABASE_SERVICE_ROLE_KEY"}
    bare = Settings(data_dir=settings.data_dir, local_dir=settings.local_dir, env=env, site=settings.site)
    with pytest.raises(rights.RightsError, match="SUPABASE_SERVICE_ROLE_KEY"):
        rights.backend(bare)
