"""The throwaway PostgreSQL database of the test suite, set up like a Supabase project.

`./dev test` runs pytest inside ``pg_virtualenv``, which exports PGHOST, PGPORT,
PGUSER, PGPASSWORD and PGDATABASE for a fresh cluster (superuser ``postgres``)
started with pg_cron preloaded. Once per session this module applies
``supabase_bootstrap.sql`` (Supabase roles, ``auth`` and ``storage``) and then
every file of ``supabase/migrations/`` in name order, into the ``postgres``
database, the only one where pg_cron can be created (``cron.database_name``).

Fixtures (registered by ``tests.support.conftest_plugin``):

- ``pg_database`` (session): a :class:`Database` with the DSNs and bookkeeping.
- ``pg_dsn`` (session): the superuser DSN string.
- ``db`` (function): a fresh superuser connection (autocommit) on a database
  whose application data was reset to the state right after the migrations.

Helpers: :func:`as_role` runs a block the way PostgREST runs a request, and
:func:`create_user` adds a row to ``auth.users``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = REPO_ROOT / "supabase" / "migrations"
BOOTSTRAP_SQL = Path(__file__).with_name("supabase_bootstrap.sql")

API_ROLES = ("anon", "authenticated", "service_role")
# The Supabase CLI only picks up files named <digits>_<name>.sql.
MIGRATION_NAME = re.compile(r"^(?P<version>\d+)_(?P<name>[^/]+)\.sql$")
# Schemas whose tables are never emptied between tests: system catalogs,
# extension state (pg_cron schedules made by migrations) and our bookkeeping.
KEEP_SCHEMAS = (
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "cron",
    "extensions",
    "supabase_migrations",
    "_harness",
)
REQUIRED_ENV = ("PGHOST", "PGPORT", "PGUSER")


class MigrationError(Exception):
    """A migration failed; the message names the file and line."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test outside CI; fail it in CI, where nothing may be skipped."""
    if in_ci():
        pytest.fail(f"PostgreSQL unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason} (run the tests with ./dev test)")


@dataclass
class Database:
    """The migrated database of this test session."""

    dsn: str  # superuser, database `postgres`
    authenticator_dsn: str  # the role PostgREST logs in as
    host: str
    port: int
    migrations: list[str] = field(default_factory=list)
    # Application tables emptied between tests, as (schema, table).
    app_tables: list[tuple[str, str]] = field(default_factory=list)
    # Tables that held rows right after the migrations (seed data), restored on reset.
    seeded_tables: list[tuple[str, str]] = field(default_factory=list)
    # Their insertable (not generated) columns.
    seed_columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # Sequence values right after the migrations: (schema, name, last_value, is_called).
    sequences: list[tuple[str, str, int, bool]] = field(default_factory=list)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, **kwargs)


# ---------------------------------------------------------------------------
# Setting up
# ---------------------------------------------------------------------------


def dsn_from_env() -> str:
    """A superuser DSN for the `postgres` database from libpq's PG* variables.

    Raises LookupError naming the missing variables.
    """
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise LookupError(f"{', '.join(missing)} not set; pg_virtualenv sets them for a throwaway cluster")
    return make_conninfo(
        host=os.environ["PGHOST"],
        port=os.environ["PGPORT"],
        user=os.environ["PGUSER"],
        password=os.environ.get("PGPASSWORD", ""),
        dbname="postgres",
        application_name="sitegen-tests",
    )


def _line_of(text: str, position: int | None) -> int | None:
    if not position:
        return None
    return text.count("\n", 0, position - 1) + 1


def run_sql_file(conn: psycopg.Connection[Any], path: Path) -> None:
    """Run a whole SQL file in one transaction, as the Supabase CLI applies a migration."""
    text = path.read_text(encoding="utf-8")
    try:
        with conn.transaction():
            # No parameters: psycopg uses the simple query protocol, which
            # accepts many statements (and dollar-quoted bodies) at once.
            conn.execute(text.encode("utf-8"))
    except psycopg.Error as exc:
        diag = exc.diag
        line = _line_of(text, int(diag.statement_position) if diag.statement_position else None)
        where = f"{path.name}:{line}" if line else path.name
        message = diag.message_primary or str(exc)
        detail = f"\n  detail: {diag.message_detail}" if diag.message_detail else ""
        hint = f"\n  hint: {diag.message_hint}" if diag.message_hint else ""
        context = f"\n  context: {diag.context}" if diag.context else ""
        extra = ""
        if "pg_cron" in message or "cron" in (diag.context or ""):
            extra = (
                "\n  note: pg_cron needs shared_preload_libraries=pg_cron and cron.database_name=postgres"
                " (./dev test starts pg_virtualenv with both)"
            )
        raise MigrationError(
            f"{where}: {message} (SQLSTATE {diag.sqlstate}){detail}{hint}{context}{extra}"
        ) from exc


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """The migrations in name order; a .sql file the Supabase CLI would ignore is an error."""
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    misnamed = [p.name for p in files if not MIGRATION_NAME.match(p.name)]
    if misnamed:
        raise MigrationError(
            f"{', '.join(misnamed)}: not named <timestamp>_<name>.sql, so the Supabase CLI would skip it"
        )
    return files


def apply_migrations(conn: psycopg.Connection[Any], directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations, recording them like the Supabase CLI; returns the file names applied."""
    applied = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
    done: list[str] = []
    for path in migration_files(directory):
        match = MIGRATION_NAME.match(path.name)
        assert match is not None  # checked by migration_files
        if match["version"] in applied:
            continue
        run_sql_file(conn, path)
        conn.execute(
            "insert into supabase_migrations.schema_migrations (version, name) values (%s, %s)",
            (match["version"], match["name"]),
        )
        done.append(path.name)
    return done


def _app_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    rows = conn.execute(
        """
        select n.nspname, c.relname
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and not c.relispartition
          and n.nspname <> all(%s)
          and n.nspname not like 'pg\\_%%'
          -- tables that belong to an extension (pg_cron's, ...) keep their state
          and not exists (
            select 1 from pg_depend d
            where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
          )
        order by 1, 2
        """,
        (list(KEEP_SCHEMAS),),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _qualified(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _seed_copy(schema: str, table: str) -> sql.Composed:
    # One flat name per table inside the private _harness schema.
    return _qualified("_harness", f"seed__{schema}__{table}")


def snapshot(conn: psycopg.Connection[Any], database: Database) -> None:
    """Remember the post-migration state: which tables to empty, seed rows, sequence values."""
    database.app_tables = _app_tables(conn)
    conn.execute("drop schema if exists _harness cascade")
    conn.execute("create schema _harness")
    seeded: list[tuple[str, str]] = []
    for schema, table in database.app_tables:
        has_rows = conn.execute(
            sql.SQL("select exists (select 1 from {})").format(_qualified(schema, table))
        ).fetchone()
        if has_rows and has_rows[0]:
            conn.execute(
                sql.SQL("create table {} as select * from {}").format(
                    _seed_copy(schema, table), _qualified(schema, table)
                )
            )
            seeded.append((schema, table))
            database.seed_columns[(schema, table)] = [
                r[0]
                for r in conn.execute(
                    """
                    select a.attname from pg_attribute a
                    where a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass
                      and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                    order by a.attnum
                    """,
                    (schema, table),
                )
            ]
    database.seeded_tables = seeded
    rows = conn.execute(
        """
        select schemaname, sequencename, coalesce(last_value, start_value), last_value is not null
        from pg_sequences where schemaname <> all(%s)
        """,
        (list(KEEP_SCHEMAS),),
    ).fetchall()
    database.sequences = [(r[0], r[1], int(r[2]), bool(r[3])) for r in rows]
    # Kept beside the seed copies, so a later session on the same cluster can bring the data back
    # to this state before it migrates and snapshots again (see set_up_database).
    state = {
        "app_tables": database.app_tables,
        "seeded_tables": database.seeded_tables,
        "seed_columns": [[s, t, cols] for (s, t), cols in database.seed_columns.items()],
        "sequences": database.sequences,
    }
    conn.execute("create table _harness.state (data jsonb not null)")
    conn.execute("insert into _harness.state values (%s)", (json.dumps(state),))


def _earlier_snapshot(conn: psycopg.Connection[Any], dsn: str) -> Database | None:
    """The bookkeeping an earlier session on this cluster left in ``_harness.state``, if any."""
    if conn.execute("select to_regclass('_harness.state')").fetchone() == (None,):
        return None
    row = conn.execute("select data from _harness.state").fetchone()
    if row is None:
        return None
    state = row[0]
    return Database(
        dsn=dsn,
        authenticator_dsn="",
        host="",
        port=0,
        app_tables=[(s, t) for s, t in state["app_tables"]],
        seeded_tables=[(s, t) for s, t in state["seeded_tables"]],
        seed_columns={(s, t): list(cols) for s, t, cols in state["seed_columns"]},
        sequences=[(s, n, int(v), bool(c)) for s, n, v, c in state["sequences"]],
    )


def reset_data(conn: psycopg.Connection[Any], database: Database) -> None:
    """Bring every application table back to its state right after the migrations."""
    if not database.app_tables:
        return
    with conn.transaction():
        # Fail loudly instead of hanging if a test left a transaction open on a table.
        conn.execute("set local lock_timeout = '5s'")
        checks = sql.SQL(" union all ").join(
            sql.SQL("select {} where exists (select 1 from {})").format(
                sql.Literal(i), _qualified(schema, table)
            )
            for i, (schema, table) in enumerate(database.app_tables)
        )
        dirty = {row[0] for row in conn.execute(checks)}
        targets = [t for i, t in enumerate(database.app_tables) if i in dirty or t in database.seeded_tables]
        if targets:
            conn.execute(
                sql.SQL("truncate {} cascade").format(
                    sql.SQL(", ").join(_qualified(s, t) for s, t in targets)
                )
            )
        if database.seeded_tables:
            # Replica mode skips triggers and foreign-key checks, so the seed
            # rows go back in any order, exactly as they were.
            conn.execute("set local session_replication_role = replica")
            for schema, table in database.seeded_tables:
                columns = sql.SQL(", ").join(
                    sql.Identifier(c) for c in database.seed_columns[(schema, table)]
                )
                conn.execute(
                    sql.SQL("insert into {} ({}) overriding system value select {} from {}").format(
                        _qualified(schema, table), columns, columns, _seed_copy(schema, table)
                    )
                )
        for schema, name, value, is_called in database.sequences:
            conn.execute(
                "select setval(format('%%I.%%I', %s::text, %s::text)::regclass, %s, %s)",
                (schema, name, value, is_called),
            )


def set_up_database(dsn: str) -> Database:
    """Bootstrap, migrate and snapshot the database; the session fixture's work."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        # A second session on the same cluster (mutation testing forks one per mutant) starts from
        # the post-migration data, not from what the last session's tests left behind.
        earlier = _earlier_snapshot(conn, dsn)
        if earlier is not None:
            reset_data(conn, earlier)
        run_sql_file(conn, BOOTSTRAP_SQL)
        # A fresh password per session for the role PostgREST logs in as.
        password = secrets.token_urlsafe(24)
        conn.execute(sql.SQL("alter role authenticator password {}").format(sql.Literal(password)))
        info = conn.info
        database = Database(
            dsn=dsn,
            authenticator_dsn=make_conninfo(
                dsn, user="authenticator", password=password, application_name="sitegen-postgrest"
            ),
            host=info.host,
            port=info.port,
        )
        database.migrations = apply_migrations(conn)
        snapshot(conn, database)
    return database


# ---------------------------------------------------------------------------
# Using the database in tests
# ---------------------------------------------------------------------------


def _set_claims(conn: psycopg.Connection[Any], claims: Mapping[str, Any]) -> None:
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
    # The legacy per-claim settings (request.jwt.claim.sub, ...) that older
    # PostgREST versions set and auth.uid() still reads first.
    for name, value in claims.items():
        if isinstance(value, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            conn.execute("select set_config(%s, %s, true)", (f"request.jwt.claim.{name}", value))


@contextmanager
def as_role(
    conn: psycopg.Connection[Any],
    role: str,
    claims: Mapping[str, Any] | None = None,
    *,
    rollback: bool = False,
) -> Iterator[psycopg.Connection[Any]]:
    """Run the block as PostgREST runs a request: in a transaction, ``SET LOCAL ROLE``
    to ``role`` with the JWT claims in ``request.jwt.claims`` (and the legacy
    ``request.jwt.claim.*``). Commits on success unless ``rollback``; rolls back
    on an exception, which propagates.

    ``claims`` defaults to ``{"role": role}``; a ``role`` claim is added if missing.
    """
    full_claims = dict(claims or {})
    full_claims.setdefault("role", role)
    nested = conn.info.transaction_status != TransactionStatus.IDLE
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
        _set_claims(conn, full_claims)
        yield conn
        if rollback:
            raise psycopg.Rollback()
        if nested:
            # Inside an outer transaction SET LOCAL would outlive this block.
            conn.execute("reset role")
            conn.execute("select set_config('request.jwt.claims', '', true)")
            for name in full_claims:
                if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                    conn.execute("select set_config(%s, '', true)", (f"request.jwt.claim.{name}",))


@dataclass(frozen=True)
class AuthUser:
    id: uuid.UUID
    email: str

    def claims(self, role: str = "authenticated", **extra: Any) -> dict[str, Any]:
        from tests.support.jwt import user_claims

        return user_claims(self.id, self.email, role, **extra)


def create_user(
    conn: psycopg.Connection[Any],
    email: str | None = None,
    *,
    user_id: uuid.UUID | None = None,
    user_metadata: Mapping[str, Any] | None = None,
    app_metadata: Mapping[str, Any] | None = None,
    phone: str | None = None,
) -> AuthUser:
    """Insert a confirmed email user into ``auth.users`` (as Supabase Auth would) and return it.

    Needs a superuser connection outside :func:`as_role`.
    """
    user_id = user_id or uuid.uuid4()
    email = email or f"user-{user_id.hex[:12]}@example.test"
    app_meta = {"provider": "email", "providers": ["email"], **(app_metadata or {})}
    conn.execute(
        """
        insert into auth.users
          (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data,
           raw_user_meta_data, phone, last_sign_in_at)
        values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated',
                %s, now(), %s, %s, %s, now())
        """,
        (user_id, email, json.dumps(app_meta), json.dumps(dict(user_metadata or {})), phone),
    )
    return AuthUser(id=user_id, email=email)


def run_cron_job(conn: psycopg.Connection[Any], jobname: str) -> str:
    """Run the SQL of a pg_cron job now, as the role pg_cron would run it; returns the command.

    Lets a retention test exercise exactly what a migration scheduled without
    waiting for the schedule. Fails with LookupError if no job has that name.
    """
    row = conn.execute("select command, username from cron.job where jobname = %s", (jobname,)).fetchone()
    if row is None:
        names = [r[0] for r in conn.execute("select jobname from cron.job order by jobname")]
        raise LookupError(f"no pg_cron job named {jobname!r}; scheduled: {names}")
    command, username = row
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(username)))
        conn.execute(command.encode("utf-8"))  # as pg_cron does: the text as one simple query
    return str(command)
