"""The inquiries migration and the Supabase store against real PostgreSQL.

Run inside ``pg_virtualenv`` (``./dev test``). The database is set up by
``tests/support`` like a Supabase project (roles, ``auth``, default
privileges), with every migration applied. The Supabase store is exercised
with the real ``supabase`` client against ``tests/support/postgrest.py``, a
PostgREST-compatible server that runs each request on this database under the
JWT's role; its request log is then checked request by request.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from edge import retention
from edge.contact import create_app
from edge.inquiries import (
    Inquiry,
    LocalInquiryStore,
    StoreUnavailable,
    SupabaseInquiryStore,
    store_from_settings,
)
from tests.support.contact_payloads import payloads
from tests.support.contactsite import BASE, JSON_HEADERS, make_settings, valid
from tests.support.pg import as_role, run_cron_job

COLUMNS = ("region", "service", "name", "email", "phone", "company", "message", "consent_at")
INSERT = f"insert into public.inquiries ({', '.join(COLUMNS)}) values ({', '.join(['%s'] * len(COLUMNS))})"


def row(**overrides: Any) -> tuple[Any, ...]:
    values: dict[str, Any] = {
        "region": "pk",
        "service": "web-development",
        "name": "Ayesha Khan",
        "email": "ayesha@example.com",
        "phone": "+923366532777",
        "company": None,
        "message": "We need a new website for our shop.",
        "consent_at": datetime.now(UTC),
    }
    values.update(overrides)
    return tuple(values[c] for c in COLUMNS)


def count(db: psycopg.Connection[Any]) -> int:
    result = db.execute("select count(*) from public.inquiries").fetchone()
    assert result is not None
    return int(result[0])


# --------------------------------------------------------------------------- RLS and privileges


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_visitors_can_insert_only(db: psycopg.Connection[Any], role: str) -> None:
    with as_role(db, role) as conn:
        conn.execute(INSERT, row())
    assert count(db) == 1
    for statement in (
        "select * from public.inquiries",
        "select count(*) from public.inquiries",
        "update public.inquiries set name = 'x'",
        "delete from public.inquiries",
        "truncate public.inquiries",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role) as conn:
            conn.execute(statement)
    assert count(db) == 1
    assert db.execute("select name from public.inquiries").fetchone() == ("Ayesha Khan",)


def test_visitors_cannot_choose_created_at_or_id(db: psycopg.Connection[Any]) -> None:
    old = datetime.now(UTC) - timedelta(days=3650)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "anon") as conn:
        conn.execute(
            "insert into public.inquiries (region, name, email, message, consent_at, created_at) "
            "values ('pk', 'A', 'a@example.com', 'hello world!', now(), %s)",
            (old,),
        )
    # The identity column refuses a chosen id even before privileges are checked.
    with (
        pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.GeneratedAlways)),
        as_role(db, "anon") as conn,
    ):
        conn.execute(
            "insert into public.inquiries (id, region, name, email, message, consent_at) "
            "values (1, 'pk', 'A', 'a@example.com', 'hello world!', now())"
        )
    assert count(db) == 0


def test_consent_must_be_given_now(db: psycopg.Connection[Any]) -> None:
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
        as_role(db, "anon") as conn,
    ):
        conn.execute(INSERT, row(consent_at=datetime(2020, 1, 1, tzinfo=UTC)))
    assert count(db) == 0


def test_rls_is_enabled_and_forced(db: psycopg.Connection[Any]) -> None:
    flags = db.execute(
        "select relrowsecurity, relforcerowsecurity from pg_class where oid = 'public.inquiries'::regclass"
    ).fetchone()
    assert flags == (True, True)
    settings_flags = db.execute(
        "select relrowsecurity from pg_class where oid = 'public.retention_settings'::regclass"
    ).fetchone()
    assert settings_flags == (True,)
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role) as conn:
            conn.execute("select * from public.retention_settings")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role) as conn:
            conn.execute("select public.purge_old_inquiries(1)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role) as conn:
            conn.execute("select public.apply_inquiry_retention(1)")


# --------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    "overrides",
    [
        {"region": "PK"},
        {"region": "pk; drop"},
        {"service": "Web Development"},
        {"name": ""},
        {"name": "x" * 101},
        {"name": " padded "},
        {"name": "Eve\r\nBcc: x@example.com"},
        {"name": "bidi \u202e override"},
        {"email": "not-an-email"},
        {"email": "a b@example.com"},
        {"email": "a@" + "b" * 250 + ".com"},
        {"phone": "0336 6532777"},
        {"phone": "+0123"},
        {"company": ""},
        {"company": "c" * 121},
        {"message": "too short"},
        {"message": "m" * 5001},
        {"message": "carriage\rreturn in the message"},
        {"message": "bell \u0007 character in here"},
    ],
)
def test_constraints_mirror_validation(db: psycopg.Connection[Any], overrides: dict[str, Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), as_role(db, "anon") as conn:
        conn.execute(INSERT, row(**overrides))
    assert count(db) == 0


def test_everything_the_handler_accepts_fits_the_constraints(
    tmp_path: Path, db: psycopg.Connection[Any]
) -> None:
    """Hostile and legitimate payloads through the handler; every accepted row must insert as anon."""
    import anyio

    settings = make_settings(tmp_path)
    local = LocalInquiryStore.in_dir(settings.local_dir)
    app = create_app(settings, store=local)

    async def send_all() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            for _, payload, _ in payloads():
                body = json.dumps(payload, ensure_ascii=True)
                await client.post(
                    "/", content=body, headers={**JSON_HEADERS, "Content-Type": "application/json"}
                )

    anyio.run(send_all)
    accepted = local.all()
    assert len(accepted) >= 120
    with as_role(db, "anon") as conn:
        for r in accepted:
            conn.execute(INSERT, tuple(datetime.now(UTC) if c == "consent_at" else r[c] for c in COLUMNS))
    assert count(db) == len(accepted)


# --------------------------------------------------------------------------- retention


def insert_aged(db: psycopg.Connection[Any], ages_in_days: dict[str, int]) -> None:
    for label, days in ages_in_days.items():
        db.execute(
            "insert into public.inquiries (region, name, email, message, consent_at, created_at) "
            "values ('pk', %s, 'a@example.com', 'an inquiry from the past', "
            "now() - make_interval(days => %s), now() - make_interval(days => %s))",
            (label, days, days),
        )


def names(db: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in db.execute("select name from public.inquiries")}


AGES = {"yesterday": 1, "five-months": 150, "eleven-months": 335, "thirteen-months": 395, "two-years": 730}


def test_cron_job_purges_with_the_stored_period(db: psycopg.Connection[Any]) -> None:
    job = db.execute("select schedule, command from cron.job where jobname = 'purge-inquiries'").fetchone()
    assert job is not None
    schedule, command = job
    assert schedule == "17 3 * * *"
    assert command == "select public.purge_old_inquiries()"
    insert_aged(db, AGES)
    # Run exactly what pg_cron runs at 03:17, as the job's role.
    run_cron_job(db, "purge-inquiries")
    assert names(db) == {"yesterday", "five-months", "eleven-months"}
    db.execute("update public.retention_settings set months = 4 where name = 'inquiries_months'")
    run_cron_job(db, "purge-inquiries")
    assert names(db) == {"yesterday"}


def test_purge_rejects_nonsense_periods(db: psycopg.Connection[Any]) -> None:
    insert_aged(db, AGES)
    for months in (0, -1, 121):
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            db.execute("select public.purge_old_inquiries(%s)", (months,))
    assert len(names(db)) == len(AGES)


def test_retention_run_applies_site_yaml_period(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    insert_aged(db, AGES)
    env = {"SUPABASE_URL": postgrest.url, "SUPABASE_SERVICE_ROLE_KEY": postgrest.service_key}

    settings = make_settings(tmp_path / "a", env=env, retention_months=12)
    results = retention.run(settings)
    # local stores empty; two Supabase inquiries past 12 months; no closed portal project past its period
    assert [r.deleted for r in results] == [0, 0, 2, 0]
    assert names(db) == {"yesterday", "five-months", "eleven-months"}

    # site.yaml says 3 months now: the same command deletes more, and the nightly job follows.
    settings = make_settings(tmp_path / "b", env=env, retention_months=3)
    results = retention.run(settings)
    assert results[2].deleted == 2
    assert names(db) == {"yesterday"}
    stored = db.execute(
        "select months from public.retention_settings where name = 'inquiries_months'"
    ).fetchone()
    assert stored == (3,)

    [rpc] = [r for r in postgrest.requests if r.path.endswith("/rpc/apply_inquiry_retention")][-1:]
    assert rpc.method == "POST" and rpc.json == {"months": 3}
    assert rpc.headers["apikey"] == postgrest.service_key


def test_retention_without_service_key_is_skipped_not_failed(tmp_path: Path, postgrest: Any) -> None:
    settings = make_settings(tmp_path, env={"SUPABASE_URL": postgrest.url, "SUPABASE_PUBLISHABLE_KEY": "x"})
    local_result, _local_portal, supabase_result, portal_result = retention.run(settings)
    assert local_result.deleted == 0
    assert supabase_result.deleted is None and "SUPABASE_SERVICE_ROLE_KEY" in supabase_result.note
    assert portal_result.deleted is None and "SUPABASE_SERVICE_ROLE_KEY" in portal_result.note


def test_publishable_key_cannot_run_retention(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    insert_aged(db, AGES)
    settings = make_settings(
        tmp_path, env={"SUPABASE_URL": postgrest.url, "SUPABASE_SERVICE_ROLE_KEY": postgrest.publishable_key}
    )
    with pytest.raises(retention.RetentionError):
        retention.purge_supabase_inquiries(settings)
    assert len(names(db)) == len(AGES)


# --------------------------------------------------------------------------- the Supabase store end to end


def supabase_settings(tmp_path: Path, postgrest: Any) -> Any:
    return make_settings(
        tmp_path, env={"SUPABASE_URL": postgrest.url, "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key}
    )


def test_handler_stores_through_supabase_request_by_request(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    import anyio

    settings = supabase_settings(tmp_path, postgrest)
    store = store_from_settings(settings)
    assert isinstance(store, SupabaseInquiryStore)
    app = create_app(settings)

    async def submit() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            return await client.post(
                "/",
                json=valid(message="Hello from the Supabase path!"),
                headers={**JSON_HEADERS, "X-Forwarded-For": "203.0.113.9"},
            )

    response = anyio.run(submit)
    assert response.status_code == 200 and response.json() == {"ok": True}

    stored = db.execute(
        "select region, service, name, email, phone, company, message, consent_at is not null, created_at "
        "from public.inquiries"
    ).fetchall()
    assert len(stored) == 1
    region, service, name, email, phone, company, message, consented, created_at = stored[0]
    assert (region, service, name, email, phone, company, message, consented) == (
        "pk",
        "web-development",
        "Ayesha Khan",
        "ayesha@example.com",
        "+923366532777",
        "Khan Textiles",
        "Hello from the Supabase path!",
        True,
    )
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=5)  # the database's own now()

    # The shared rate limit is counted first, by a keyed hash of the address, never the address.
    [limit, request] = postgrest.requests
    assert limit.path == "/rest/v1/rpc/edge_hit" and "203.0.113.9" not in limit.body.decode()
    assert request.method == "POST"
    assert request.path == "/rest/v1/inquiries"
    assert request.headers["prefer"] == "return=minimal"
    assert request.headers["apikey"] == postgrest.publishable_key
    assert request.headers["authorization"] == f"Bearer {postgrest.publishable_key}"
    everything = json.dumps(request.headers) + request.body.decode()
    assert postgrest.service_key not in everything and postgrest.secret_key not in everything
    assert "203.0.113.9" not in everything
    assert set(request.json) == set(COLUMNS)  # no created_at, id, IP, user agent or location


def test_supabase_outage_is_503_and_nothing_half_stored(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    import anyio

    app = create_app(supabase_settings(tmp_path, postgrest))

    async def submit() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            return await client.post("/", json=valid(), headers=JSON_HEADERS)

    with postgrest.simulate_outage():
        response = anyio.run(submit)
    assert response.status_code == 503
    assert "could not save" in response.json()["error"]
    inserts = [r for r in postgrest.requests if r.path == "/rest/v1/inquiries"]
    assert len(inserts) == 1  # an insert is never retried, so it can never be stored twice
    assert count(db) == 0


def test_supabase_store_unreachable_raises_store_unavailable() -> None:
    import anyio

    from tests.support.servers import free_port_url

    store = SupabaseInquiryStore(free_port_url(), "sb_publishable_x", timeout=5)
    now = datetime.now(UTC)
    inquiry = Inquiry("pk", None, "A", "a@example.com", None, None, "hello world!", now, now)
    with pytest.raises(StoreUnavailable):
        anyio.run(store.add, inquiry)
