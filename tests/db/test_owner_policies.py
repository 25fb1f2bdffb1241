"""Policies that are not about clients: the staff list, and the owner's policies on inquiries.

The test cluster's `postgres` is a superuser, and a superuser skips row-level security even on a
table that forces it, so the policies written ``to postgres`` were never evaluated by the other
tests (mutation testing showed them weakened or dropped with every test still passing). Here they
are evaluated for a role that holds the owner's privileges through membership of `postgres` but
neither SUPERUSER nor BYPASSRLS, the way the owner's policies are meant to bind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tests.support.pg import as_role

Conn = psycopg.Connection[Any]
# A member of the owner role without SUPERUSER or BYPASSRLS: row-level security applies to it.
OWNER_UNDER_RLS = "sitegen_owner_under_rls"


def _claims(uid: uuid.UUID) -> dict[str, Any]:
    return {"sub": str(uid), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture()
def people(db: Conn) -> dict[str, uuid.UUID]:
    client, staff, other_staff = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for uid in (client, staff, other_staff):
        db.execute("insert into auth.users (id, email) values (%s, %s)", (uid, f"{uid.hex[:8]}@example.com"))
    db.execute("insert into public.staff (user_id) values (%s), (%s)", (staff, other_staff))
    return {"client": client, "staff": staff, "other_staff": other_staff}


def _staff_ids(conn: Conn) -> set[uuid.UUID]:
    return {row[0] for row in conn.execute("select user_id from public.staff").fetchall()}


def test_a_client_cannot_learn_who_the_staff_are(db: Conn, people: dict[str, uuid.UUID]) -> None:
    with as_role(db, "authenticated", _claims(people["client"]), rollback=True) as conn:
        assert _staff_ids(conn) == set()


def test_staff_see_the_whole_staff_list(db: Conn, people: dict[str, uuid.UUID]) -> None:
    with as_role(db, "authenticated", _claims(people["staff"]), rollback=True) as conn:
        assert _staff_ids(conn) == {people["staff"], people["other_staff"]}


@pytest.fixture()
def owner_under_rls(db: Conn) -> Iterator[str]:
    # Roles belong to the cluster, not to the database snapshot the `db` fixture restores.
    exists = db.execute("select 1 from pg_roles where rolname = %s", (OWNER_UNDER_RLS,)).fetchone()
    if exists is None:
        db.execute(f"create role {OWNER_UNDER_RLS} nologin nosuperuser nobypassrls inherit in role postgres")
    attrs = db.execute(
        "select rolsuper, rolbypassrls from pg_roles where rolname = %s", (OWNER_UNDER_RLS,)
    ).fetchone()
    assert attrs == (False, False)
    yield OWNER_UNDER_RLS


def _inquiry(db: Conn, email: str, age: timedelta) -> None:
    db.execute(
        "insert into public.inquiries (region, name, email, message, consent_at, created_at)"
        " values ('pk', 'Ann', %s, 'a message of some length', now() - %s, now() - %s)",
        (email, age, age),
    )


def _emails(conn: Conn) -> list[str]:
    return sorted(row[0] for row in conn.execute("select email from public.inquiries").fetchall())


def test_the_owner_reads_every_inquiry(db: Conn, owner_under_rls: str) -> None:
    _inquiry(db, "new@example.com", timedelta(days=2))
    _inquiry(db, "old@example.com", timedelta(days=400))
    with as_role(db, owner_under_rls, rollback=True) as conn:
        assert _emails(conn) == ["new@example.com", "old@example.com"]


def test_the_owner_cannot_delete_an_inquiry_younger_than_a_month(db: Conn, owner_under_rls: str) -> None:
    # The guard behind the purge: even a purge called with a wrong period or date leaves recent
    # inquiries alone.
    _inquiry(db, "new@example.com", timedelta(days=2))
    _inquiry(db, "weeks@example.com", timedelta(days=27))
    _inquiry(db, "old@example.com", timedelta(days=40))
    with as_role(db, owner_under_rls) as conn:
        deleted = conn.execute("delete from public.inquiries").rowcount
    assert deleted == 1
    assert _emails(db) == ["new@example.com", "weeks@example.com"]


def test_an_erasure_deletes_recent_inquiries_of_the_named_address_only(
    db: Conn, owner_under_rls: str
) -> None:
    _inquiry(db, "ann@example.com", timedelta(days=2))
    _inquiry(db, "bob@example.com", timedelta(days=2))
    with as_role(db, owner_under_rls) as conn:
        conn.execute("select set_config('sitegen.erase_email', 'ann@example.com', true)")
        conn.execute("delete from public.inquiries")
    assert _emails(db) == ["bob@example.com"]
