"""Limits shared across processes: migration 20261201000100_edge_limits.sql on real PostgreSQL.

Run inside ``pg_virtualenv`` (``./dev test``). Two handler instances stand for
two workers (or two serverless instances): with Supabase configured they
count together, through PostgREST, in ``public.edge_counters``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from edge.chat import create_app as create_chat
from edge.contact import create_app
from edge.inquiries import LocalInquiryStore
from edge.limits import Budget, SharedCounters
from edge.settings import Settings
from tests.support.chatsite import chat_data, chat_site
from tests.support.contactsite import BASE, JSON_HEADERS, make_settings, valid
from tests.support.pg import as_role

KEY = "0123456789abcdef0123456789abcdef"


def hit(db: psycopg.Connection[Any], role: str, *args: Any) -> int:
    with as_role(db, role):
        row = db.execute("select public.edge_hit(%s, %s, %s, %s, %s)", args).fetchone()
    assert row is not None
    return int(row[0])


def test_edge_hit_counts_within_a_window_and_refuses_past_the_limit(db: psycopg.Connection[Any]) -> None:
    results = [hit(db, "anon", "contact", KEY, 3, 60, 1) for _ in range(5)]
    assert results[:3] == [0, 0, 0]
    assert all(0 < wait <= 60 for wait in results[3:])
    # Another key, another bucket: their own counts.
    assert hit(db, "anon", "contact", "f" * 32, 3, 60, 1) == 0
    assert hit(db, "anon", "chat", KEY, 3, 60, 1) == 0


def test_counters_are_reachable_only_through_the_function(db: psycopg.Connection[Any]) -> None:
    hit(db, "anon", "contact", KEY, 3, 60, 1)
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role, rollback=True):
            db.execute("select * from public.edge_counters")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, role, rollback=True):
            db.execute("delete from public.edge_counters")


@pytest.mark.parametrize(
    "args",
    [
        ("Contact", KEY, 3, 60, 1),  # bucket format
        ("contact", "203.0.113.7", 3, 60, 1),  # an address is never a key
        ("contact", KEY, 0, 60, 1),
        ("contact", KEY, 3, 0, 1),
        ("contact", KEY, 3, 60, -5),
    ],
)
def test_bad_arguments_are_refused(db: psycopg.Connection[Any], args: tuple[Any, ...]) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        hit(db, "anon", *args)


def test_rows_expire_on_their_own(db: psycopg.Connection[Any]) -> None:
    db.execute(
        "insert into public.edge_counters (bucket, key, window_start, hits, expires_at)"
        " values ('contact', %s, now() - interval '2 hours', 99, now() - interval '1 hour')",
        (KEY,),
    )
    hit(db, "anon", "chat", "e" * 32, 3, 60, 1)
    rows = db.execute("select bucket, key from public.edge_counters order by bucket").fetchall()
    assert rows == [("chat", "e" * 32)]


def test_racing_workers_share_one_limit(db: psycopg.Connection[Any], postgrest: Any) -> None:
    async def race() -> list[float | None]:
        workers = [SharedCounters(postgrest.url, postgrest.publishable_key) for _ in range(2)]
        try:
            calls = [workers[i % 2].hit("chat", KEY, 5, 60) for i in range(20)]
            return list(await asyncio.gather(*calls))
        finally:
            for worker in workers:
                await worker.aclose()

    results = asyncio.run(race())
    assert sum(r is None for r in results) == 5


def test_contact_limit_holds_across_two_workers(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    env = {
        "SUPABASE_URL": postgrest.url,
        "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key,
        "SITEGEN_CLIENT_KEY_SECRET": "shared-by-every-worker",
    }
    settings = make_settings(tmp_path, env=env, rate_per_minute=2)
    store = LocalInquiryStore.in_dir(tmp_path / "local")

    async def run() -> list[int]:
        apps = [create_app(settings, store=store) for _ in range(2)]
        codes = []
        for i in range(3):
            transport = httpx.ASGITransport(app=apps[i % 2])
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                codes.append((await client.post("/", json=valid(), headers=JSON_HEADERS)).status_code)
        for app in apps:
            await app.state.handler.aclose()
        return codes

    assert asyncio.run(run()) == [200, 200, 429]
    assert len(store.all()) == 2


def test_daily_budget_is_shared(db: psycopg.Connection[Any], postgrest: Any) -> None:
    async def run() -> list[bool]:
        counters = SharedCounters(postgrest.url, postgrest.publishable_key)
        try:
            budget = Budget(counters, daily_requests=2, daily_tokens=100)
            answers = [await budget.allows(), await budget.allows(), await budget.allows()]
            tokens = Budget(counters, daily_requests=1000, daily_tokens=100)
            await tokens.spend(150)
            answers.append(await tokens.allows())
            return answers
        finally:
            await counters.aclose()

    assert asyncio.run(run()) == [True, True, False, False]


def test_chat_limit_holds_across_two_workers(
    tmp_path: Path, db: psycopg.Connection[Any], postgrest: Any
) -> None:
    """The chat's per-visitor limit, counted by the real edge_hit under the chat's own bucket."""
    env = {
        "SUPABASE_URL": postgrest.url,
        "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key,
        "SITEGEN_CLIENT_KEY_SECRET": "shared-by-every-worker",
    }
    site = chat_site(providers=[], rate_per_minute=2)
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env=env)
    question = {"region": "pk", "messages": [{"role": "user", "content": "hi"}]}

    async def run() -> list[int]:
        apps = [create_chat(settings) for _ in range(2)]
        codes = []
        for i in range(3):
            transport = httpx.ASGITransport(app=apps[i % 2])
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                answer = await client.post("/", json=question, headers={"accept": "application/json"})
                codes.append(answer.status_code)
        for app in apps:
            await app.state.handler.aclose()
        return codes

    assert asyncio.run(run()) == [200, 200, 429]
    buckets = db.execute("select distinct bucket from public.edge_counters order by 1").fetchall()
    assert ("chat",) in buckets
