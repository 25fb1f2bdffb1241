"""The local portal store's staff side as the rights commands and retention use it: what an
erasure removes and reports, what a dry run shows, which projects expire, and how long answered
requests are kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.inquiries import months_before
from edge.portal_store import LocalPortalStore

FILE = {"bucket": "portal-files", "size": 3, "content_type": "application/pdf"}


def _file(store: LocalPortalStore, user: str, project: str, name: str, *, uploaded: bool) -> str:
    row = store.add_file(user, project, {**FILE, "path": f"{project}/{name}", "name": name})
    if uploaded:  # an announced upload whose bytes never came has a row and no contents
        store.files_dir.mkdir(parents=True, exist_ok=True)
        (store.files_dir / row["id"]).write_bytes(b"pdf")
    return str(row["id"])


def _own_project(store: LocalPortalStore, user: str) -> str:
    return str(store.projects(user)[0]["id"])


def _close(store: LocalPortalStore, project: str, closed_on: str) -> None:
    with sqlite3.connect(store.path) as db:
        db.execute("update projects set status='closed', closed_on=? where id=?", (closed_on, project))


def _share(store: LocalPortalStore, project: str, user: str, role: str = "client") -> None:
    with sqlite3.connect(store.path) as db:
        db.execute(
            "insert into project_members (project_id, user_id, role) values (?,?,?)", (project, user, role)
        )


@pytest.fixture()
def store(tmp_path: Path) -> LocalPortalStore:
    return LocalPortalStore(tmp_path / "portal")


def test_unknown_person_has_nothing_to_show_or_erase(store: LocalPortalStore) -> None:
    assert store.subject("nobody@example.com") == {
        "user_id": None,
        "projects": [],
        "files": [],
        "messages": 0,
        "requests": 0,
        "profile": 0,
    }
    assert store.erase("nobody@example.com") == {"projects": 0}


def test_erasing_a_client_of_a_shared_project_keeps_the_project_for_the_other(
    store: LocalPortalStore,
) -> None:
    a, b = store.dev_login("a@example.com"), store.dev_login("b@example.com")
    pa, pb = _own_project(store, a), _own_project(store, b)
    _share(store, pa, b)  # b is a client of a's project too: it is not a's alone
    store.add_message(a, pa, "from a")
    store.add_message(b, pa, "from b")
    kept = _file(store, b, pa, "b.pdf", uploaded=True)
    _file(store, a, pa, "a.pdf", uploaded=True)
    _file(store, a, pa, "never.pdf", uploaded=False)
    store.add_request(a, "deletion", "")
    plan = store.subject(" A@example.com ")
    assert plan == {
        "user_id": a,
        "profile": 1,
        "projects": [],
        "files": [
            {"bucket": "portal-files", "path": f"{pa}/a.pdf"},
            {"bucket": "portal-files", "path": f"{pa}/never.pdf"},
        ],
        "messages": 1,
        "requests": 1,
    }
    assert store.erase("a@example.com") == {
        "projects": 0,
        "messages": 1,
        "files": 2,
        "requests": 1,
        "memberships": 1,
        "profiles": 1,
    }
    assert [p["id"] for p in store.projects(b)] == [pa, pb]
    assert [m["body"] for m in store.messages(b, pa)] == ["from b"]
    assert [f["id"] for f in store.files(b, pa)] == [kept]
    assert [p.name for p in store.files_dir.iterdir()] == [kept]


def test_a_project_shared_only_with_the_agency_goes_with_its_client(store: LocalPortalStore) -> None:
    a = store.dev_login("a@example.com")
    first = _own_project(store, a)
    second = "p2"
    with sqlite3.connect(store.path) as db:
        db.execute("insert into projects (id, name) values (?, 'Second site')", (second,))
    _share(store, second, a)
    for project in (first, second):
        _share(store, project, "agency", role="owner")
        _file(store, "agency", project, "design.pdf", uploaded=False)
        store.add_message("agency", project, "from the agency")
    plan = store.subject("a@example.com")
    assert sorted(plan["projects"]) == sorted([first, second])
    assert len(plan["files"]) == 2 and plan["messages"] == 2
    assert store.erase("a@example.com")["projects"] == 2
    assert store.rows("select count(*) n from projects")[0]["n"] == 0


def test_expired_projects_go_with_unuploaded_files_and_their_only_clients(store: LocalPortalStore) -> None:
    a, b = store.dev_login("a@example.com"), store.dev_login("b@example.com")
    pa, pb = _own_project(store, a), _own_project(store, b)
    _file(store, a, pa, "never.pdf", uploaded=False)
    # A closing date written as a timestamp counts by its day, like a date.
    _close(store, pa, "2020-01-01T18:30:00+00:00")
    _close(store, pb, "2020-01-02")
    c = store.dev_login("c@example.com")
    _share(store, pa, c)  # c keeps an active project of their own
    assert store.purge_expired(24, now=datetime(2026, 1, 1, tzinfo=UTC)) == 2
    assert store.projects(a) == store.projects(b) == []
    assert [r["email"] for r in store.rows("select email from clients")] == ["c@example.com"]
    assert [p["id"] for p in store.projects(c)] == [_own_project(store, c)]


def test_answered_requests_are_kept_months_after_their_answer_then_purged(store: LocalPortalStore) -> None:
    a = store.dev_login("a@example.com")
    request = store.add_request(a, "access", "")
    open_one = store.add_request(a, "objection", "")
    store.close_request(request["id"], "answered")
    assert [r["id"] for r in store.open_requests()] == [open_one["id"]]
    [row] = store.rows("select status, closed_at from data_rights_requests where id=?", request["id"])
    assert row["status"] == "answered"
    expiry = months_before(datetime.fromisoformat(row["closed_at"]), -24)
    # No project has expired: the requests' own retention applies all the same.
    assert store.purge_expired(24, now=expiry - timedelta(seconds=1)) == 0
    assert len(store.rows("select id from data_rights_requests")) == 2
    assert store.purge_expired(24, now=expiry + timedelta(seconds=1)) == 0
    assert [r["id"] for r in store.rows("select id from data_rights_requests")] == [open_one["id"]]


def test_only_open_requests_can_be_answered(store: LocalPortalStore) -> None:
    a = store.dev_login("a@example.com")
    request = store.add_request(a, "access", "")
    store.close_request(request["id"], "answered")
    with pytest.raises(LookupError, match=f"^no open request {request['id']}$"):
        store.close_request(request["id"], "answered")


def test_the_log_keeps_the_outcome_without_the_person(store: LocalPortalStore) -> None:
    store.log_outcome("deletion", "2026-01-02T00:00:00+00:00", "erased", {"projects": 1, "files": 2})
    [row] = store.rows("select kind, received_at, answered_at, outcome, erased from data_rights_log")
    assert {k: row[k] for k in ("kind", "received_at", "outcome")} == {
        "kind": "deletion",
        "received_at": "2026-01-02T00:00:00+00:00",
        "outcome": "erased",
    }
    assert row["erased"] == '{"projects": 1, "files": 2}' and row["answered_at"] > "2026"


def test_development_login_makes_one_client_with_one_project_once(store: LocalPortalStore) -> None:
    a = store.dev_login("ann.lee@example.com")
    assert store.dev_login("ann.lee@example.com") == a and store.dev_login("b@example.com") != a
    [project] = store.projects(a)
    assert project["name"] == "Website for ann.lee@example.com" and project["status"] == "active"
    assert project["started_on"] == datetime.now(UTC).date().isoformat()
    profile = store.export(a)["profile"]
    assert {k: profile[k] for k in ("name", "email")} == {"name": "ann.lee", "email": "ann.lee@example.com"}
    # A store opened without the inquiries (as staff tools may) exports none rather than failing.
    assert store.export(a)["inquiries"] == []
    message = store.add_message(a, project["id"], "hi")
    assert datetime.fromisoformat(message["created_at"]).utcoffset() == timedelta(0)


def test_retention_ends_after_the_last_kept_instant_not_at_it(store: LocalPortalStore) -> None:
    a = store.dev_login("a@example.com")
    request = store.add_request(a, "access", "")
    store.close_request(request["id"], "answered")
    [row] = store.rows("select closed_at from data_rights_requests")
    request_expiry = months_before(datetime.fromisoformat(row["closed_at"]), -24)
    assert store.purge_expired(24, now=request_expiry) == 0
    assert len(store.rows("select id from data_rights_requests")) == 1
    _close(store, _own_project(store, a), "2024-11-29")
    project_expiry = months_before(datetime(2024, 11, 30, tzinfo=UTC), -24)
    assert store.purge_expired(24, now=project_expiry) == 0 and len(store.projects(a)) == 1


def test_a_store_from_before_answered_requests_is_upgraded(tmp_path: Path) -> None:
    directory = tmp_path / "portal"
    directory.mkdir()
    with sqlite3.connect(directory / "portal.sqlite3") as db:
        db.execute(
            "create table data_rights_requests (id text primary key, user_id text not null, kind text not null,"
            " note text not null, status text not null default 'open', created_at text not null)"
        )
        db.execute("insert into data_rights_requests values ('r1', 'u1', 'access', '', 'open', '2026-01-01')")
    store = LocalPortalStore(directory)
    assert store.close_request("r1", "answered")["kind"] == "access"
    assert store.open_requests() == []
