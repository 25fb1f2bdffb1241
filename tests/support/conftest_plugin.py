"""Shared pytest fixtures: the Supabase-like PostgreSQL database and the PostgREST test server.

Registered from the root ``tests/conftest.py`` (``pytest_plugins``). See
``tests/support/pg.py`` and ``tests/support/postgrest.py`` for what they provide.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.support.pg import (
    Database,
    MigrationError,
    dsn_from_env,
    reset_data,
    set_up_database,
    unavailable,
)
from tests.support.postgrest import PostgrestServer, api_config
from tests.support.supabase_apis import SupabaseApis


@pytest.fixture(scope="session")
def pg_database() -> Database:
    """Bootstrap + every migration, applied once per session to the `postgres` database."""
    try:
        dsn = dsn_from_env()
    except LookupError as exc:
        unavailable(str(exc))
    try:
        psycopg.connect(dsn, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        unavailable(f"cannot connect: {exc}".strip())
    try:
        return set_up_database(dsn)
    except MigrationError as exc:
        # A broken migration is a real failure, in CI or not.
        pytest.fail(f"applying the Supabase bootstrap and migrations failed:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def pg_dsn(pg_database: Database) -> str:
    """Superuser DSN of the migrated `postgres` database."""
    return pg_database.dsn


@pytest.fixture(scope="session")
def _pg_admin(pg_database: Database) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def db(pg_database: Database, _pg_admin: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection (autocommit) to a database reset to its post-migration state.

    Request it (even unused) in any test that needs clean application tables,
    including tests that go through the ``postgrest`` server.
    """
    reset_data(_pg_admin, pg_database)
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def postgrest_server(pg_database: Database) -> Iterator[PostgrestServer]:
    """The PostgREST-compatible server for the whole session (see tests/support/postgrest.py)."""
    # Exposed schemas, search path and row cap as configured for the project.
    server = PostgrestServer(pg_database.authenticator_dsn, **api_config())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgrest(db: psycopg.Connection[Any], postgrest_server: PostgrestServer) -> PostgrestServer:
    """The session's PostgREST server, with clean application tables and an empty request log.

    Gives ``url`` (pass it to ``supabase.create_client``), ``anon_key``,
    ``service_key``, ``publishable_key``, ``secret_key``, ``jwt_secret``,
    ``make_user_token(user_id, email, role="authenticated", **claims)``,
    ``jwks`` / ``signing_key`` and ``requests`` (every request received).
    """
    postgrest_server.requests.clear()
    return postgrest_server


@pytest.fixture(scope="session")
def _supabase_apis(pg_database: Database, postgrest_server: PostgrestServer) -> SupabaseApis:
    apis = SupabaseApis(postgrest_server, pg_database.dsn)
    apis.install()
    return apis


@pytest.fixture
def supabase_apis(postgrest: PostgrestServer, _supabase_apis: SupabaseApis) -> SupabaseApis:
    """Storage and Auth admin APIs at ``postgrest.url`` (see tests/support/supabase_apis.py), emptied."""
    _supabase_apis.reset()
    return _supabase_apis


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the database (directly or through another fixture) with `pg`,
    so `pytest -m "not pg"` runs the rest without PostgreSQL."""
    for item in items:
        if "pg_database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)
