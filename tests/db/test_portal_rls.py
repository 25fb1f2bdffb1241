"""Portal RLS on real PostgreSQL: two clients and one staff member, direct SQL under each role.

The handler's own checks are bypassed entirely here: every cross-client read
or write must be refused by the database.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.support.pg import as_role

Conn = psycopg.Connection[Any]


def _claims(uid: uuid.UUID) -> dict[str, Any]:
    return {"sub": str(uid), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture()
def world(db: Conn) -> dict[str, Any]:
    a, b, s = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for uid, email in ((a, "a@example.com"), (b, "b@example.com"), (s, "staff@example.com")):
        db.execute("insert into auth.users (id, email) values (%s, %s)", (uid, email))
    for uid, email in ((a, "a@example.com"), (b, "b@example.com")):
        # The sign-up trigger made the row; fill in the profile.
        db.execute("update public.clients set name = %s where id = %s", (email[0], uid))
    db.execute("insert into public.staff (user_id) values (%s)", (s,))
    pa, pb = uuid.uuid4(), uuid.uuid4()
    for pid, uid in ((pa, a), (pb, b)):
        db.execute("insert into public.projects (id, name) values (%s, %s)", (pid, f"p-{uid}"))
        db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (pid, uid))
        db.execute(
            "insert into public.messages (project_id, author_id, body) values (%s, %s, 'hi')", (pid, uid)
        )
        db.execute(
            "insert into public.files (project_id, uploaded_by, path, name, size, content_type)"
            " values (%s, %s, %s, 'f.pdf', 3, 'application/pdf')",
            (pid, uid, f"{pid}/f.pdf"),
        )
        db.execute(
            "insert into storage.objects (bucket_id, name) values ('portal-files', %s)", (f"{pid}/f.pdf",)
        )
        db.execute("insert into public.data_rights_requests (user_id, kind) values (%s, 'access')", (uid,))
    return {"a": a, "b": b, "s": s, "pa": pa, "pb": pb}


TABLES = ["projects", "project_members", "messages", "files", "data_rights_requests", "clients"]


def _count(conn: Conn, table: str) -> int:
    row = conn.execute(f"select count(*) from public.{table}").fetchone()
    assert row is not None
    return int(row[0])


def test_clients_see_only_their_rows_staff_all_anon_none(db: Conn, world: dict[str, Any]) -> None:
    for who in ("a", "b"):
        with as_role(db, "authenticated", _claims(world[who]), rollback=True) as conn:
            mine = world["pa"] if who == "a" else world["pb"]
            assert [r[0] for r in conn.execute("select id from public.projects").fetchall()] == [mine]
            for table in TABLES:
                assert _count(conn, table) == 1, table
            names = [r[0] for r in conn.execute("select name from storage.objects").fetchall()]
            assert names == [f"{mine}/f.pdf"]
    with as_role(db, "authenticated", _claims(world["s"]), rollback=True) as conn:
        # Three profiles: the sign-up trigger gives staff accounts one too.
        assert (
            _count(conn, "projects") == 2 and _count(conn, "messages") == 2 and _count(conn, "clients") == 3
        )
    for table in TABLES:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "anon", rollback=True) as conn:
            conn.execute(f"select * from public.{table}")
    with as_role(db, "anon", rollback=True) as conn:
        assert conn.execute("select count(*) from storage.objects").fetchone() == (0,)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into public.messages (project_id, body) values (%(pb)s, 'x')",
        "insert into public.messages (project_id, author_id, body) values (%(pa)s, %(b)s, 'spoof')",
        "insert into public.files (project_id, path, name, size, content_type)"
        " values (%(pb)s, %(pb)s || '/x.pdf', 'x', 1, 'application/pdf')",
        "insert into public.data_rights_requests (user_id, kind) values (%(b)s, 'deletion')",
        "insert into storage.objects (bucket_id, name) values ('portal-files', %(pb)s || '/evil.pdf')",
        "insert into public.project_members (project_id, user_id) values (%(pb)s, %(a)s)",
        "insert into public.staff (user_id) values (%(a)s)",
        "update public.projects set name = 'x'",
        "insert into public.projects (name) values ('mine now')",
    ],
)
def test_cross_client_writes_denied(db: Conn, world: dict[str, Any], statement: str) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        as_role(db, "authenticated", _claims(world["a"])) as conn,
    ):
        conn.execute(statement, world)


def test_updates_of_other_rows_touch_nothing(db: Conn, world: dict[str, Any]) -> None:
    with as_role(db, "authenticated", _claims(world["a"])) as conn:
        assert (
            conn.execute("update public.clients set company = 'X' where id = %s", (world["b"],)).rowcount == 0
        )
        assert (
            conn.execute("update public.clients set company = 'Mine' where id = %s", (world["a"],)).rowcount
            == 1
        )
        assert conn.execute("delete from storage.objects").rowcount == 0
    row = db.execute("select company from public.clients where id = %s", (world["b"],)).fetchone()
    assert row == ("",)


def test_an_update_without_a_filter_changes_only_the_callers_profile(db: Conn, world: dict[str, Any]) -> None:
    # PostgREST sends a PATCH without filters as an UPDATE without WHERE: it must reach the caller's
    # own row only, and not fail because other rows exist.
    with as_role(db, "authenticated", _claims(world["a"])) as conn:
        assert conn.execute("update public.clients set company = 'Mine'").rowcount == 1
    rows = db.execute("select id, company from public.clients where id in (%s, %s)", (world["a"], world["b"]))
    assert dict(rows.fetchall()) == {world["a"]: "Mine", world["b"]: ""}


def test_own_writes_allowed(db: Conn, world: dict[str, Any]) -> None:
    with as_role(db, "authenticated", _claims(world["a"])) as conn:
        conn.execute("insert into public.messages (project_id, body) values (%s, 'ok')", (world["pa"],))
        # The object needs its file row first (the edge writes it before handing out the upload URL).
        conn.execute(
            "insert into public.files (project_id, path, name, size, content_type)"
            " values (%s, %s, 'new.pdf', 3, 'application/pdf')",
            (world["pa"], f"{world['pa']}/new.pdf"),
        )
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('portal-files', %s)",
            (f"{world['pa']}/new.pdf",),
        )
        conn.execute("insert into public.data_rights_requests (kind) values ('deletion')")
    assert _count(db, "messages") == 3
