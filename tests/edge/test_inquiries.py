"""The local inquiry store, its retention, and store selection (no database needed)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from edge import retention
from edge.inquiries import (
    Inquiry,
    LocalInquiryStore,
    StoreUnavailable,
    SupabaseInquiryStore,
    months_before,
    store_from_settings,
)
from edge.settings import EdgeDataMissing
from tests.support.contactsite import make_settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def inquiry(created_at: datetime, name: str = "Ayesha") -> Inquiry:
    return Inquiry(
        "pk",
        "web-development",
        name,
        "a@example.com",
        "+923366532777",
        None,
        "hello there, a message",
        created_at,
        created_at,
    )


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 11, 25, tzinfo=UTC), 12, datetime(2025, 11, 25, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
        (datetime(2026, 5, 31, 23, 59, tzinfo=UTC), 3, datetime(2026, 2, 28, 23, 59, tzinfo=UTC)),
    ],
)
def test_months_before_matches_postgres_interval_arithmetic(
    moment: datetime, months: int, expected: datetime
) -> None:
    assert months_before(moment, months) == expected


def test_add_and_read_back(tmp_path: Path) -> None:
    store = LocalInquiryStore.in_dir(tmp_path / "nested" / "local")
    anyio.run(store.add, inquiry(NOW))
    [row] = store.all()
    assert row["name"] == "Ayesha" and row["region"] == "pk" and row["phone"] == "+923366532777"
    assert store.path == tmp_path / "nested" / "local" / "inquiries.sqlite3"


def test_text_is_stored_verbatim_with_parameters(tmp_path: Path) -> None:
    store = LocalInquiryStore(tmp_path / "s.sqlite3")
    hostile = "Robert'); drop table inquiries;-- <script>alert(1)</script>"
    store.add_sync(inquiry(NOW, name=hostile))
    store.add_sync(inquiry(NOW, name="second"))
    assert [r["name"] for r in store.all()] == [hostile, "second"]


def test_purge_older_than_uses_calendar_months(tmp_path: Path) -> None:
    store = LocalInquiryStore(tmp_path / "s.sqlite3")
    cutoff = months_before(NOW, 12)
    for label, created in {
        "just-inside": cutoff + timedelta(seconds=1),
        "just-outside": cutoff - timedelta(seconds=1),
        "recent": NOW - timedelta(days=3),
        "ancient": NOW - timedelta(days=3000),
    }.items():
        store.add_sync(inquiry(created, name=label))
    assert store.purge_older_than(12, now=NOW) == 2
    assert {r["name"] for r in store.all()} == {"just-inside", "recent"}
    assert store.purge_older_than(12, now=NOW) == 0
    with pytest.raises(ValueError):
        store.purge_older_than(0, now=NOW)


def test_purge_on_missing_file_creates_nothing(tmp_path: Path) -> None:
    store = LocalInquiryStore(tmp_path / "none" / "s.sqlite3")
    assert store.purge_older_than(12) == 0
    assert not store.path.exists()


def test_unwritable_store_raises_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    store = LocalInquiryStore(tmp_path / "file" / "inquiries.sqlite3")
    with pytest.raises(StoreUnavailable):
        anyio.run(store.add, inquiry(NOW))


def test_corrupt_database_file_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "inquiries.sqlite3"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreUnavailable):
        LocalInquiryStore(path).add_sync(inquiry(NOW))


def test_store_selection(tmp_path: Path) -> None:
    local = store_from_settings(make_settings(tmp_path / "a"))
    assert isinstance(local, LocalInquiryStore)
    assert local.path == tmp_path / "a" / "local" / "inquiries.sqlite3"
    # A URL alone is not enough: without the publishable key the local store stays in use.
    only_url = store_from_settings(
        make_settings(tmp_path / "b", env={"SUPABASE_URL": "https://x.supabase.co"})
    )
    assert isinstance(only_url, LocalInquiryStore)
    remote = store_from_settings(
        make_settings(
            tmp_path / "c",
            env={
                "SUPABASE_URL": "https://x.supabase.co",
                "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_abc",
                "SUPABASE_SERVICE_ROLE_KEY": "service-secret",
            },
        )
    )
    assert isinstance(remote, SupabaseInquiryStore)
    assert remote.key == "sb_publishable_abc"  # never the service-role key


def test_retention_run_follows_site_json(tmp_path: Path) -> None:
    """Changing the period in site.yaml (via site.json) changes what the local purge deletes."""
    ages = {"two-months": 60, "eight-months": 240, "fourteen-months": 420}
    for months, survivors in ((12, {"two-months", "eight-months"}), (6, {"two-months"})):
        settings = make_settings(tmp_path / str(months), retention_months=months)
        store = LocalInquiryStore.in_dir(settings.local_dir)
        for label, days in ages.items():
            store.add_sync(inquiry(NOW - timedelta(days=days), name=label))
        result = retention.run(settings, now=NOW)[0]  # then the local portal's
        assert result.deleted == len(ages) - len(survivors)
        assert {r["name"] for r in store.all()} == survivors
        assert f"older than {months} months" in str(result)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, retention.RetentionError),  # out of range
        (121, retention.RetentionError),
        ("12", EdgeDataMissing),  # not a whole number: not what the build writes
        (1.5, EdgeDataMissing),
        (True, EdgeDataMissing),
    ],
)
def test_retention_rejects_bad_periods(tmp_path: Path, value: object, error: type[Exception]) -> None:
    settings = make_settings(tmp_path, retention_months=12)
    settings.site["retention"]["inquiries_months"] = value
    with pytest.raises(error, match="inquiries_months"):
        retention.run(settings)


def test_local_file_is_plain_sqlite(tmp_path: Path) -> None:
    store = LocalInquiryStore(tmp_path / "s.sqlite3")
    store.add_sync(inquiry(NOW))
    with sqlite3.connect(store.path) as conn:
        columns = [r[1] for r in conn.execute("pragma table_info(inquiries)")]
    assert "ip" not in columns and "user_agent" not in columns
    assert columns == [
        "id",
        "created_at",
        "region",
        "service",
        "name",
        "email",
        "phone",
        "company",
        "message",
        "consent_at",
    ]
