"""The database harness: Supabase roles, auth helpers, RLS, reset between tests (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests.support.jwt import user_claims
from tests.support.pg import (
    Database,
    MigrationError,
    apply_migrations,
    as_role,
    create_user,
    migration_files,
    reset_data,
    run_cron_job,
    set_up_database,
)


def test_api_roles_have_supabase_attributes(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        """
        select rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper
        from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
        order by rolname
        """
    ).fetchall()
    assert rows == [
        ("anon", False, True, False, False),
        ("authenticated", False, True, False, False),
        ("authenticator", True, False, False, False),
        ("service_role", False, True, True, False),
    ]
    granted = db.execute(
        """
        select r.rolname from pg_auth_members m
        join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
        where u.rolname = 'authenticator' order by 1
        """
    ).fetchall()
    assert {"anon", "authenticated", "service_role"} <= {r[0] for r in granted}


def test_authenticator_can_only_become_granted_roles(
    pg_database: Database, db: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(pg_database.authenticator_dsn, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == ("authenticator",)
        conn.execute("set role anon")
        conn.execute("reset role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("set role postgres")


@pytest.mark.parametrize("legacy", [False, True])
def test_auth_helpers_read_the_request_claims(db: psycopg.Connection[Any], legacy: bool) -> None:
    user_id = uuid.uuid4()
    claims = user_claims(user_id, "ayesha@example.test", app_metadata={"staff": True})
    if legacy:
        # Only the old per-claim settings, as PostgREST < 9 set them.
        with db.transaction():
            db.execute("set local role authenticated")
            db.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(user_id),))
            db.execute("select set_config('request.jwt.claim.role', 'authenticated', true)")
            row = db.execute("select auth.uid(), auth.role(), auth.jwt()").fetchone()
        assert row == (user_id, "authenticated", None)
        return
    with as_role(db, "authenticated", claims):
        row = db.execute(
            "select auth.uid(), auth.role(), auth.email(), auth.jwt() -> 'app_metadata' ->> 'staff', current_user"
        ).fetchone()
    assert row == (user_id, "authenticated", "ayesha@example.test", "true", "authenticated")
    # Nothing leaks out of the transaction.
    after = db.execute("select auth.uid(), auth.jwt(), current_user").fetchone()
    assert after == (None, None, "postgres")


def test_as_role_inside_an_outer_transaction_restores_the_role(db: psycopg.Connection[Any]) -> None:
    with db.transaction():
        with as_role(db, "anon"):
            assert db.execute("select current_user, auth.role()").fetchone() == ("anon", "anon")
        assert db.execute("select current_user, auth.role()").fetchone() == ("postgres", None)


def test_auth_users_are_not_readable_by_api_roles(db: psycopg.Connection[Any]) -> None:
    user = create_user(db, "client@example.test")
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role, user.claims()):
            db.execute("select * from auth.users")
    # service_role bypasses RLS but has no grant on auth tables either, as on Supabase.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "service_role"):
        db.execute("select count(*) from auth.users")


def test_storage_schema_exists_with_rls(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        """
        select c.relname, c.relrowsecurity from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'storage' and c.relname in ('buckets', 'objects') order by 1
        """
    ).fetchall()
    assert rows == [("buckets", True), ("objects", True)]
    assert db.execute(
        "select storage.foldername('a/b/c.pdf'), storage.filename('a/b/c.pdf'), "
        "storage.extension('a/b/c.pdf')"
    ).fetchone() == (["a", "b"], "c.pdf", "pdf")


@pytest.fixture(scope="module")
def toy_schema(pg_database: Database) -> Iterator[None]:
    """A test-only schema with an owner-only table, as a Supabase app would write it."""
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        conn.execute(
            """
            drop schema if exists harness_toy cascade;
            create schema harness_toy;
            grant usage on schema harness_toy to anon, authenticated, service_role;
            create table harness_toy.notes (
              id bigint generated always as identity primary key,
              owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
              body text not null check (length(body) between 1 and 200)
            );
            grant all on harness_toy.notes to anon, authenticated, service_role;
            alter table harness_toy.notes enable row level security;
            create policy "own notes" on harness_toy.notes for all to authenticated
              using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
            """
        )
        yield
        conn.execute("drop schema harness_toy cascade")


def test_rls_toy_table(db: psycopg.Connection[Any], toy_schema: None) -> None:
    alice = create_user(db, "alice@example.test")
    bob = create_user(db, "bob@example.test")
    with as_role(db, "authenticated", alice.claims()):
        db.execute("insert into harness_toy.notes (body) values ('alice 1'), ('alice 2')")
    with as_role(db, "authenticated", bob.claims()):
        db.execute("insert into harness_toy.notes (body) values ('bob 1')")
        assert db.execute("select body from harness_toy.notes").fetchall() == [("bob 1",)]
        # Bob cannot touch Alice's rows: the update matches nothing.
        assert db.execute("update harness_toy.notes set body = 'x' where body like 'alice%'").rowcount == 0
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
        as_role(db, "authenticated", bob.claims()),
    ):
        db.execute("insert into harness_toy.notes (owner, body) values (%s, 'forged')", (alice.id,))
    with as_role(db, "anon"):
        # No policy for anon: RLS hides every row.
        assert db.execute("select count(*) from harness_toy.notes").fetchone() == (0,)
    with as_role(db, "service_role"):
        assert db.execute("select count(*) from harness_toy.notes").fetchone() == (3,)
    with as_role(db, "authenticated", alice.claims()):
        assert [r[0] for r in db.execute("select body from harness_toy.notes order by id")] == [
            "alice 1",
            "alice 2",
        ]


def test_as_role_rollback_discards_changes(db: psycopg.Connection[Any], toy_schema: None) -> None:
    alice = create_user(db, "alice@example.test")
    with as_role(db, "authenticated", alice.claims(), rollback=True):
        db.execute("insert into harness_toy.notes (body) values ('draft')")
    assert db.execute("select count(*) from harness_toy.notes").fetchone() == (0,)


def test_reset_restores_post_migration_state(pg_database: Database, db: psycopg.Connection[Any]) -> None:
    db.execute("insert into storage.buckets (id, name) values ('harness-temp', 'harness-temp')")
    create_user(db)
    before_users = db.execute("select count(*) from auth.users").fetchone()
    assert before_users == (1,)
    reset_data(db, pg_database)
    assert db.execute("select count(*) from auth.users").fetchone() == (0,)
    assert db.execute("select count(*) from storage.buckets where id = 'harness-temp'").fetchone() == (0,)
    # Seed rows that migrations inserted are back, exactly.
    for schema, table in pg_database.seeded_tables:
        count = db.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        assert count == db.execute(f'select count(*) from _harness."seed__{schema}__{table}"').fetchone()


def test_a_later_session_on_the_same_cluster_starts_from_the_migrations(
    pg_database: Database, db: psycopg.Connection[Any]
) -> None:
    """What mutation testing needs (a session per mutant on one cluster): set_up_database on a
    cluster an earlier session left dirty brings the data back, then records the same state."""
    db.execute("insert into storage.buckets (id, name) values ('left-over', 'left-over')")
    create_user(db)
    try:
        again = set_up_database(pg_database.dsn)
    finally:
        # set_up_database gives the authenticator a fresh password: this session's PostgREST keeps the old one.
        old = conninfo_to_dict(pg_database.authenticator_dsn)["password"]
        db.execute(sql.SQL("alter role authenticator password {}").format(sql.Literal(old)))
    assert db.execute("select count(*) from auth.users").fetchone() == (0,)
    assert db.execute("select count(*) from storage.buckets where id = 'left-over'").fetchone() == (0,)
    assert again.migrations == []
    # Tables other tests made since (the toy schema's) may be listed too; the migrations' are all there.
    assert set(pg_database.app_tables) <= set(again.app_tables)
    assert again.seeded_tables == pg_database.seeded_tables


def test_migrations_are_recorded(pg_database: Database, db: psycopg.Connection[Any]) -> None:
    files = [p.name for p in migration_files()]
    recorded = db.execute(
        "select version || '_' || name || '.sql' from supabase_migrations.schema_migrations order by version"
    ).fetchall()
    assert [r[0] for r in recorded] == files
    # Applying again is a no-op, as with `supabase migration up`.
    assert apply_migrations(db) == []


def test_misnamed_or_broken_migration_is_reported_with_file_and_line(
    db: psycopg.Connection[Any], tmp_path: Any
) -> None:
    (tmp_path / "notes.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match="notes.sql: not named"):
        migration_files(tmp_path)
    (tmp_path / "notes.sql").unlink()
    (tmp_path / "29990101000000_broken.sql").write_text(
        "create table harness_broken (id int);\n\nselect no_such_column from harness_broken;\n"
    )
    with pytest.raises(MigrationError, match=r"29990101000000_broken.sql:3: column \"no_such_column\""):
        apply_migrations(db, tmp_path)
    # The failed migration rolled back as a whole and was not recorded.
    assert db.execute("select to_regclass('harness_broken')").fetchone() == (None,)
    assert db.execute(
        "select count(*) from supabase_migrations.schema_migrations where version = '29990101000000'"
    ).fetchone() == (0,)


def test_run_cron_job_runs_the_scheduled_sql(db: psycopg.Connection[Any], toy_schema: None) -> None:
    db.execute("create extension if not exists pg_cron")
    alice = create_user(db, "alice@example.test")
    with as_role(db, "authenticated", alice.claims()):
        db.execute("insert into harness_toy.notes (body) values ('old'), ('new')")
    db.execute(
        "select cron.schedule('harness-purge', '17 3 * * *', $$delete from harness_toy.notes where body = 'old'$$)"
    )
    try:
        assert run_cron_job(db, "harness-purge") == "delete from harness_toy.notes where body = 'old'"
        assert db.execute("select body from harness_toy.notes").fetchall() == [("new",)]
        with pytest.raises(LookupError, match="harness-purge"):
            run_cron_job(db, "no-such-job")
    finally:
        db.execute("select cron.unschedule('harness-purge')")
