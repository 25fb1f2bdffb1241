"""Where contact-form inquiries are kept.

Two stores share one small interface: Supabase (through the ``supabase``
package, with the publishable key only, so the database must grant ``anon``
INSERT and nothing else) and a local SQLite file used when no Supabase settings
exist. The IP address, user agent and location are never part of an inquiry.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
import httpx

from edge.settings import Settings

log = logging.getLogger(__name__)

TABLE = "inquiries"
LOCAL_FILE = "inquiries.sqlite3"


class StoreUnavailable(RuntimeError):
    """The store could not take the inquiry; the visitor must be told to retry."""


@dataclass(frozen=True)
class Inquiry:
    """One validated, normalised inquiry, exactly as it is stored."""

    region: str
    service: str | None
    name: str
    email: str
    phone: str | None
    company: str | None
    message: str
    consent_at: datetime
    created_at: datetime

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        data["consent_at"] = self.consent_at.isoformat()
        data["created_at"] = self.created_at.isoformat()
        return data


class InquiryStore(Protocol):
    async def add(self, inquiry: Inquiry) -> None:
        """Store one inquiry; raise StoreUnavailable when that is not possible."""
        ...


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months, the day clamped to the month's end.

    Mirrors PostgreSQL's ``now() - make_interval(months => n)`` so both stores
    agree on what "older than 12 months" means.
    """
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(f"cannot go back {months} months from {moment}")  # unreachable in practice


_SCHEMA = """
create table if not exists inquiries (
    id integer primary key autoincrement,
    created_at text not null,
    region text not null,
    service text,
    name text not null,
    email text not null,
    phone text,
    company text,
    message text not null,
    consent_at text not null
);
create index if not exists inquiries_created_at on inquiries (created_at);
"""


def _sortable(moment: datetime) -> str:
    # One fixed-width UTC format, so text comparison in SQLite is chronological (the purge relies on it).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


_COLUMNS = ("created_at", "region", "service", "name", "email", "phone", "company", "message", "consent_at")


class LocalInquiryStore:
    """SQLite file under the site's working folder; the default without Supabase."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, local_dir: Path) -> LocalInquiryStore:
        return cls(local_dir / LOCAL_FILE)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A short busy timeout: a concurrent writer waits instead of failing at once.
        conn = sqlite3.connect(self.path, timeout=5.0)
        conn.executescript(_SCHEMA)
        return conn

    def add_sync(self, inquiry: Inquiry) -> None:
        row = inquiry.row()
        row["created_at"] = _sortable(inquiry.created_at)
        row["consent_at"] = _sortable(inquiry.consent_at)
        try:
            conn = self._connect()
            try:
                with conn:
                    conn.execute(
                        f"insert into inquiries ({', '.join(_COLUMNS)}) "
                        f"values ({', '.join('?' for _ in _COLUMNS)})",
                        [row[c] for c in _COLUMNS],
                    )
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            log.error("local inquiry store failed: %s", exc)
            raise StoreUnavailable("the local inquiry store could not be written") from exc

    async def add(self, inquiry: Inquiry) -> None:
        await anyio.to_thread.run_sync(self.add_sync, inquiry)

    def all(self) -> list[dict[str, Any]]:
        """Every stored inquiry, oldest first (for the agency and for tests)."""
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute("select * from inquiries order by id")]
        finally:
            conn.close()

    def by_email(self, email: str) -> list[dict[str, Any]]:
        """Inquiries sent from this address (case-insensitive), for the sender's data export."""
        return [r for r in self.all() if str(r["email"]).lower() == email.strip().lower()]

    def erase_email(self, email: str) -> int:
        """Delete every inquiry sent from this address (a rights request); return how many."""
        if not self.path.exists():
            return 0
        conn = self._connect()
        try:
            with conn:
                cur = conn.execute("delete from inquiries where lower(email) = lower(?)", (email.strip(),))
            return cur.rowcount
        finally:
            conn.close()

    def purge_older_than(self, months: int, now: datetime | None = None) -> int:
        """Delete inquiries created more than ``months`` calendar months ago; return how many."""
        if months < 1:
            raise ValueError("retention must be at least one month")
        if not self.path.exists():
            return 0
        cutoff = months_before((now or datetime.now(UTC)).astimezone(UTC), months)
        conn = self._connect()
        try:
            with conn:
                cur = conn.execute("delete from inquiries where created_at < ?", (_sortable(cutoff),))
            return cur.rowcount
        finally:
            conn.close()


class SupabaseInquiryStore:
    """Inserts through PostgREST with the publishable key; reads nothing back.

    ``returning="minimal"`` matters: anon has no SELECT privilege, so asking for
    the inserted row back would fail under RLS.
    """

    def __init__(
        self,
        url: str,
        publishable_key: str,
        *,
        timeout: float = 10.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.key = publishable_key
        self.timeout = timeout
        self.http_client = http_client
        self._client: Any = None

    def _table(self) -> Any:
        if self._client is None:
            from supabase import AsyncClient, AsyncClientOptions

            options = AsyncClientOptions(
                # The timeout belongs to the HTTP client (supabase deprecated its own option).
                httpx_client=self.http_client or httpx.AsyncClient(timeout=self.timeout),
                # Never retry an insert: a retried POST could store the inquiry twice.
                postgrest_client_retry=False,
                auto_refresh_token=False,
                persist_session=False,
            )
            self._client = AsyncClient(self.url, self.key, options)
        return self._client.table(TABLE)

    @staticmethod
    def payload(inquiry: Inquiry) -> dict[str, Any]:
        row = inquiry.row()
        # created_at is the database's own now(): anon cannot choose it (column grants),
        # so nobody can insert a row that escapes the retention purge.
        del row["created_at"]
        return row

    async def add(self, inquiry: Inquiry) -> None:
        from postgrest import APIError
        from postgrest.types import ReturnMethod

        try:
            await self._table().insert(self.payload(inquiry), returning=ReturnMethod.minimal).execute()
        except APIError as exc:
            log.error("Supabase refused the inquiry: %s %s", exc.code, exc.message)
            raise StoreUnavailable("the database refused the inquiry") from exc
        except (httpx.HTTPError, OSError) as exc:
            log.error("Supabase unreachable: %s", exc)
            raise StoreUnavailable("the database could not be reached") from exc


def store_from_settings(settings: Settings) -> InquiryStore:
    """Supabase when its URL and publishable key are set, otherwise the local file."""
    if settings.uses_supabase:
        assert settings.supabase_url and settings.supabase_key
        return SupabaseInquiryStore(settings.supabase_url, settings.supabase_key)
    return LocalInquiryStore.in_dir(settings.local_dir)
