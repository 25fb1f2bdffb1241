"""Portal Storage objects outside any project folder are staff-only (RLS on real PostgreSQL).

Object names start with the project's UUID; anything else (a loose file, a folder that is not a
project id, a path that tries to climb out) belongs to no project, so only staff may read or
write it. Mutation testing found no test failing when such names were open to every client.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.support.pg import as_role

Conn = psycopg.Connection[Any]
OUTSIDE = ["loose.pdf", "shared/brief.pdf", "not-a-uuid/x.pdf", "../x.pdf", "/x.pdf", ""]


def _claims(uid: uuid.UUID) -> dict[str, Any]:
    return {"sub": str(uid), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture()
def people(db: Conn) -> dict[str, uuid.UUID]:
    client, staff, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for uid, email in ((client, "c@example.com"), (staff, "s@example.com")):
        db.execute("insert into auth.users (id, email) values (%s, %s)", (uid, email))
    # The sign-up trigger has made the clients row already.
    db.execute("update public.clients set name = 'C' where id = %s", (client,))
    db.execute("insert into public.staff (user_id) values (%s)", (staff,))
    db.execute("insert into public.projects (id, name) values (%s, 'P')", (project,))
    db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (project, client))
    for name in [*OUTSIDE, f"{project}/own.pdf"]:
        db.execute("insert into storage.objects (bucket_id, name) values ('portal-files', %s)", (name,))
    return {"client": client, "staff": staff, "project": project}


def _visible(conn: Conn) -> set[str]:
    return {row[0] for row in conn.execute("select name from storage.objects").fetchall()}


def test_object_outside_any_project_folder_is_hidden_from_clients(
    db: Conn, people: dict[str, uuid.UUID]
) -> None:
    with as_role(db, "authenticated", _claims(people["client"]), rollback=True) as conn:
        assert _visible(conn) == {f"{people['project']}/own.pdf"}


def test_staff_see_objects_outside_project_folders(db: Conn, people: dict[str, uuid.UUID]) -> None:
    with as_role(db, "authenticated", _claims(people["staff"]), rollback=True) as conn:
        assert _visible(conn) == {*OUTSIDE, f"{people['project']}/own.pdf"}


@pytest.mark.parametrize("name", ["new-loose.pdf", "shared/new.pdf", "../new.pdf"])
def test_client_cannot_write_outside_project_folders(
    db: Conn, people: dict[str, uuid.UUID], name: str
) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        as_role(db, "authenticated", _claims(people["client"])) as conn,
    ):
        conn.execute("insert into storage.objects (bucket_id, name) values ('portal-files', %s)", (name,))
