"""The privacy rules the database enforces itself (issue 14), on real PostgreSQL.

Least privilege is proven by statements run as `authenticated` (as PostgREST
runs a client's request) that the database refuses; retention by the exact
boundaries: one second before the end of the period the data is kept, one
second after it is gone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from edge.inquiries import months_before
from tests.support.pg import MIGRATIONS_DIR, as_role, create_user, run_cron_job, run_sql_file

Conn = psycopg.Connection[Any]
MIGRATION = MIGRATIONS_DIR / "20261201000200_privacy_rights.sql"


def _claims(uid: uuid.UUID) -> dict[str, Any]:
    return {"sub": str(uid), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture()
def client(db: Conn) -> dict[str, Any]:
    user = create_user(db, "client@example.com")
    project = uuid.uuid4()
    db.execute("insert into public.projects (id, name) values (%s, 'Shop')", (project,))
    db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (project, user.id))
    return {"a": user.id, "pa": project, "path": f"{project}/brief.pdf"}


# --------------------------------------------------------------------------- least privilege

REFUSED_PRIVILEGE = [
    # timestamps
    "insert into public.messages (project_id, body, created_at) values (%(pa)s, 'x', now() - interval '5 years')",
    "insert into public.files (project_id, path, name, size, content_type, created_at)"
    " values (%(pa)s, %(path)s, 'b', 1, 'application/pdf', '2000-01-01')",
    "insert into public.data_rights_requests (kind, created_at) values ('access', '2000-01-01')",
    "update public.clients set created_at = '2000-01-01' where id = %(a)s",
    # status and answers
    "insert into public.data_rights_requests (kind, status) values ('deletion', 'done')",
    "insert into public.data_rights_requests (kind, closed_at) values ('deletion', now())",
    "update public.data_rights_requests set status = 'done'",
    "update public.projects set status = 'active' where id = %(pa)s",
    # bucket
    "insert into public.files (project_id, path, name, size, content_type, bucket)"
    " values (%(pa)s, %(path)s, 'b', 1, 'application/pdf', 'other-bucket')",
    # anybody's ids, even one's own: the database fills them in
    "insert into public.messages (project_id, body, author_id) values (%(pa)s, 'x', %(a)s)",
    "insert into public.files (project_id, path, name, size, content_type, uploaded_by)"
    " values (%(pa)s, %(path)s, 'b', 1, 'application/pdf', %(a)s)",
    "insert into public.data_rights_requests (kind, user_id) values ('access', %(a)s)",
    "update public.clients set id = gen_random_uuid() where id = %(a)s",
    # Storage: no object without the uploader's file row
    "insert into storage.objects (bucket_id, name) values ('portal-files', %(path)s)",
    # the staff tools
    "select public.purge_portal_rows()",
    "select public.rights_erase('client@example.com', 'deletion')",
    "select public.orphan_objects('portal-files')",
    "select public.apply_portal_bucket('portal-files', 1, null)",
    "select * from public.data_rights_log",
    "select * from public.auth_user_purge_queue",
]


@pytest.mark.parametrize("statement", REFUSED_PRIVILEGE)
def test_client_statement_refused(db: Conn, client: dict[str, Any], statement: str) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        as_role(db, "authenticated", _claims(client["a"])) as conn,
    ):
        conn.execute(statement, client)


@pytest.mark.parametrize(
    ("size", "content_type"),
    [(1, "text/html"), (1, "image/svg+xml"), (26214401, "application/pdf")],
)
def test_file_row_must_fit_the_bucket(db: Conn, client: dict[str, Any], size: int, content_type: str) -> None:
    with (
        pytest.raises(psycopg.errors.CheckViolation),
        as_role(db, "authenticated", _claims(client["a"])) as conn,
    ):
        conn.execute(
            "insert into public.files (project_id, path, name, size, content_type) values (%s, %s, 'b', %s, %s)",
            (client["pa"], client["path"], size, content_type),
        )


def test_bucket_limits_follow_site_yaml(db: Conn) -> None:
    row = db.execute(
        "select file_size_limit, allowed_mime_types from storage.buckets where id = 'portal-files'"
    ).fetchone()
    assert (
        row is not None and row[0] == 26214400 and "application/pdf" in row[1] and "text/html" not in row[1]
    )
    db.execute("select public.apply_portal_bucket('portal-files', 1000, array['text/plain'])")
    assert db.execute(
        "select file_size_limit, allowed_mime_types from storage.buckets where id = 'portal-files'"
    ).fetchone() == (1000, ["text/plain"])


def test_allowed_writes_get_the_databases_values(db: Conn, client: dict[str, Any]) -> None:
    with as_role(db, "authenticated", _claims(client["a"])) as conn:
        conn.execute("insert into public.messages (project_id, body) values (%s, 'hello')", (client["pa"],))
        conn.execute(
            "insert into public.files (project_id, path, name, size, content_type)"
            " values (%s, %s, 'brief.pdf', 3, 'application/pdf')",
            (client["pa"], client["path"]),
        )
        # The file row makes the upload possible, for this exact object name only.
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('portal-files', %s)", (client["path"],)
        )
        conn.execute("insert into public.data_rights_requests (kind, note) values ('withdrawal', 'stop')")
    a = client["a"]
    assert db.execute("select author_id from public.messages").fetchone() == (a,)
    assert db.execute("select uploaded_by, bucket from public.files").fetchone() == (a, "portal-files")
    assert db.execute("select user_id, status, closed_at from public.data_rights_requests").fetchone() == (
        a,
        "open",
        None,
    )


def test_sign_up_creates_the_profile(db: Conn) -> None:
    user = create_user(db, "new@example.com")
    assert db.execute("select email, name from public.clients where id = %s", (user.id,)).fetchone() == (
        "new@example.com",
        "",
    )


# --------------------------------------------------------------------------- closed => closed_on


def test_closed_project_needs_its_date(db: Conn) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("insert into public.projects (name, status) values ('x', 'closed')")
    db.execute("insert into public.projects (name, status, closed_on) values ('x', 'closed', '2026-01-31')")


def test_migration_backfills_closed_projects_and_reapplies_cleanly(db: Conn) -> None:
    db.execute("alter table public.projects drop constraint projects_closed_has_date")
    db.execute(
        "alter table public.data_rights_requests drop constraint data_rights_requests_closed_when_answered"
    )
    pid = db.execute(
        "insert into public.projects (name, status) values ('old', 'closed') returning id"
    ).fetchone()
    assert pid is not None
    user = create_user(db, "asker@example.com")
    db.execute(
        "insert into public.data_rights_requests (user_id, kind, status) values (%s, 'access', 'done')",
        (user.id,),
    )
    run_sql_file(db, MIGRATION)  # every statement is safe to run twice
    assert db.execute("select closed_at is not null from public.data_rights_requests").fetchone() == (True,)
    assert db.execute("select closed_on from public.projects where id = %s", pid).fetchone() == (
        date.today(),
    )
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("update public.projects set closed_on = null where id = %s", pid)


# --------------------------------------------------------------------------- retention boundaries

AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def test_cron_jobs_scheduled(db: Conn) -> None:
    jobs = dict(db.execute("select jobname, command from cron.job").fetchall())
    assert jobs["purge-inquiries"] == "select public.purge_old_inquiries()"
    assert jobs["purge-portal"] == "select public.purge_portal_rows()"
    assert "queue-portal-purge" not in jobs


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_inquiry_boundary(db: Conn, offset: int, kept: bool) -> None:
    # Twelve months before AT, shifted by one second either way.
    created = months_before(AT, 12) - timedelta(seconds=offset)
    db.execute(
        "insert into public.inquiries (region, name, email, message, consent_at, created_at)"
        " values ('pk', 'Ann', 'ann@example.com', 'a message of some length', %s, %s)",
        (created, created),
    )
    db.execute("select public.purge_old_inquiries(null, %s)", (AT,))
    assert db.execute("select count(*) from public.inquiries").fetchone() == (1 if kept else 0,)


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_project_and_file_boundary(db: Conn, client: dict[str, Any], offset: int, kept: bool) -> None:
    closed_on = date(2024, 11, 29)
    # Closed at the end of its closing day (UTC); expires 24 months later.
    expiry = months_before(datetime(2024, 11, 30, tzinfo=UTC), -24)
    db.execute(
        "update public.projects set status = 'closed', closed_on = %s where id = %s",
        (closed_on, client["pa"]),
    )
    db.execute(
        "insert into public.files (project_id, uploaded_by, path, name, size, content_type)"
        " values (%s, %s, %s, 'b.pdf', 3, 'application/pdf')",
        (client["pa"], client["a"], client["path"]),
    )
    db.execute(
        "insert into public.messages (project_id, author_id, body) values (%s, %s, 'x')",
        (client["pa"], client["a"]),
    )
    deleted = db.execute(
        "select public.purge_portal_rows(%s)", (expiry + timedelta(seconds=offset),)
    ).fetchone()
    assert deleted == (0 if kept else 1,)
    counts = [
        db.execute(f"select count(*) from public.{t}").fetchone()
        for t in ("projects", "files", "messages", "clients")
    ]
    assert counts == ([(1,)] * 4 if kept else [(0,)] * 4)


def test_nightly_job_deletes_expired_rows_and_queues_the_sign_in(db: Conn, client: dict[str, Any]) -> None:
    staff = create_user(db, "staff@example.com")
    db.execute("insert into public.staff (user_id) values (%s)", (staff.id,))
    other = uuid.uuid4()
    db.execute("insert into public.projects (id, name) values (%s, 'other')", (other,))
    for project in (client["pa"], other):
        db.execute(
            "insert into public.project_members (project_id, user_id) values (%s, %s)", (project, staff.id)
        )
    long_ago = months_before(datetime.now(UTC), 24).date() - timedelta(days=2)
    db.execute(
        "update public.projects set status = 'closed', closed_on = %s where id = %s", (long_ago, client["pa"])
    )
    db.execute(
        "insert into public.data_rights_requests (user_id, kind) values (%s, 'access')", (client["a"],)
    )
    run_cron_job(db, "purge-portal")
    assert db.execute("select id from public.projects").fetchall() == [(other,)]
    assert db.execute("select count(*) from public.clients where id = %s", (client["a"],)).fetchone() == (0,)
    assert db.execute("select count(*) from public.data_rights_requests").fetchone() == (0,)
    assert db.execute("select user_id from public.auth_user_purge_queue").fetchall() == [(client["a"],)]
    # Staff keep their account and profile.
    assert db.execute("select count(*) from public.clients where id = %s", (staff.id,)).fetchone() == (1,)


def test_answered_requests_expire_after_the_portal_period(db: Conn, client: dict[str, Any]) -> None:
    answered = months_before(AT, 24)
    for seconds, status in ((-1, "done"), (1, "refused")):
        db.execute(
            "insert into public.data_rights_requests (user_id, kind, status, closed_at) values (%s, 'access', %s, %s)",
            (client["a"], status, answered - timedelta(seconds=seconds)),
        )
    db.execute(
        "insert into public.data_rights_requests (user_id, kind) values (%s, 'deletion')", (client["a"],)
    )
    db.execute("select public.purge_portal_rows(%s)", (AT,))
    rows = db.execute("select status from public.data_rights_requests order by status").fetchall()
    assert rows == [("done",), ("open",)]
