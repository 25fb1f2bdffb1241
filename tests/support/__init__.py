"""Shared test support: a Supabase-like PostgreSQL and a PostgREST-compatible server.

Run tests with ``./dev test`` (pytest inside ``pg_virtualenv`` with pg_cron);
outside it the database fixtures skip, and with ``CI=true`` they fail.

Fixtures (from ``tests.support.conftest_plugin``, registered in tests/conftest.py):

``pg_database`` / ``pg_dsn`` (session)
    Bootstrap (``supabase_bootstrap.sql``: roles anon, authenticated,
    service_role, authenticator; ``auth.uid()/role()/email()/jwt()``;
    ``auth.users``; ``storage.buckets/objects``; Supabase default privileges)
    plus every ``supabase/migrations/*.sql`` in name order, applied once into
    the ``postgres`` database. A broken migration fails the session with
    ``file:line: message``.
``db`` (function)
    Superuser connection (autocommit). Application tables are reset to the
    state right after the migrations before each test (seed rows and
    sequences restored; pg_cron jobs kept).
``postgrest`` (function) / ``postgrest_server`` (session)
    ``PostgrestServer`` on 127.0.0.1: ``url`` for ``supabase.create_client``,
    ``anon_key``, ``service_key`` (legacy JWT keys), ``publishable_key``,
    ``secret_key`` (new opaque keys), ``jwt_secret``,
    ``make_user_token(user_id, email, role="authenticated", algorithm="HS256"|"ES256", **claims)``,
    ``jwks`` (also served at ``<url>/auth/v1/.well-known/jwks.json``),
    ``signing_key`` / ``add_signing_key("ES256"|"RS256")`` (rotation),
    ``issuer``, ``requests`` (every request received, JWKS fetches included;
    cleared per test) and ``simulate_outage()`` (a context manager: every
    REST request gets PostgREST's 503 meanwhile). Exposed schemas and
    ``max_rows`` come from ``supabase/config.toml``.

Helpers:

- ``tests.support.pg.as_role(conn, "authenticated", user.claims())``: run a
  block the way PostgREST runs a request (``SET LOCAL ROLE`` + claims);
  ``rollback=True`` discards it.
- ``tests.support.pg.run_cron_job(db, "jobname")``: run a pg_cron job's SQL now,
  as its role (retention tests need not wait for the schedule).
- ``tests.support.pg.create_user(db, "a@example.test")`` -> ``AuthUser(id, email)``;
  ``user.claims(**extra)`` gives Supabase-style access-token claims.
- ``tests.support.jwt``: ``user_claims``, ``sign_hs256``, ``unsigned_token``
  (``alg: none``), ``hs256_with_public_key`` (algorithm confusion),
  ``generate_signing_key("ES256"|"RS256")``, ``jwks(...)``.

Example::

    def test_visitor_can_insert_only(postgrest, db):
        anon = create_client(postgrest.url, postgrest.publishable_key)
        anon.table("inquiries").insert({...}, returning=ReturnMethod.minimal).execute()
        assert db.execute("select count(*) from inquiries").fetchone() == (1,)
        assert postgrest.requests[-1].headers["prefer"] == "return=minimal"
"""
