"""Portal data access.

``PortalStore`` is the interface the handler uses. ``LocalPortalStore`` is the
embedded development default (SQLite under ``SITEGEN_LOCAL_DIR``); it enforces
membership itself because SQLite has no row-level security, and it carries the staff
operations of local mode (retention, privacy requests). The Supabase implementation
(every call with the visitor's token, so RLS decides) is ``edge/portal_supabase.py``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from edge.inquiries import LocalInquiryStore, months_before

PROFILE_FIELDS = ("name", "company", "phone", "email")
# What a client may ask for in the portal (the privacy policy's rights).
REQUEST_KINDS = ("access", "correction", "deletion", "objection", "withdrawal")


class PortalStore(Protocol):
    def projects(self, user_id: str) -> list[dict[str, Any]]: ...
    def project(self, user_id: str, project_id: str) -> dict[str, Any] | None: ...
    def messages(self, user_id: str, project_id: str) -> list[dict[str, Any]]: ...
    def add_message(self, user_id: str, project_id: str, body: str) -> dict[str, Any]: ...
    def add_file(self, user_id: str, project_id: str, meta: dict[str, Any]) -> dict[str, Any]: ...
    def file(self, user_id: str, file_id: str) -> dict[str, Any] | None: ...
    def files(self, user_id: str, project_id: str) -> list[dict[str, Any]]: ...
    def export(self, user_id: str) -> dict[str, Any]: ...
    def update_profile(self, user_id: str, changes: dict[str, str]) -> dict[str, Any]: ...
    def add_request(self, user_id: str, kind: str, note: str) -> dict[str, Any]: ...


_SCHEMA = """
create table if not exists clients (id text primary key, name text, company text, phone text, email text);
create table if not exists projects (id text primary key, name text not null, status text not null default 'active',
  started_on text, closed_on text);
create table if not exists project_members (project_id text not null, user_id text not null, role text not null
  default 'client', primary key (project_id, user_id));
create table if not exists messages (id text primary key, project_id text not null, author_id text not null,
  body text not null, created_at text not null);
create table if not exists files (id text primary key, project_id text not null, uploaded_by text not null,
  bucket text not null, path text not null, size integer not null, content_type text not null, name text not null,
  created_at text not null);
create table if not exists data_rights_requests (id text primary key, user_id text not null, kind text not null,
  note text not null, status text not null default 'open', created_at text not null, closed_at text);
create table if not exists data_rights_log (id integer primary key autoincrement, kind text not null,
  received_at text, answered_at text not null, outcome text not null, erased text not null default '{}');
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def project_expiry(closed_on: str, months: int) -> datetime:
    """When a project's data expires: ``months`` after the end (UTC) of its closing day.

    The same instant as ``portal_expired_projects()`` in the database.
    """
    end_of_day = datetime.combine(date.fromisoformat(closed_on[:10]), time(), UTC) + timedelta(days=1)
    return months_before(end_of_day, -months)


class LocalPortalStore:
    """SQLite store for development; the handler refuses it when production is true."""

    def __init__(self, directory: Path, inquiries: LocalInquiryStore | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "portal.sqlite3"
        # File contents, one file per row id (the local stand-in for the Storage bucket).
        self.files_dir = directory / "files"
        self.inquiries = inquiries
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        columns = {r["name"] for r in self._db.execute("pragma table_info(data_rights_requests)")}
        if "closed_at" not in columns:  # a store made before requests were answered
            self._db.execute("alter table data_rights_requests add column closed_at text")

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _write(self, sql: str, *args: Any) -> None:
        with self._lock, self._db:
            self._db.execute(sql, args)

    def _member(self, user_id: str, project_id: str) -> bool:
        return bool(
            self.rows("select 1 from project_members where user_id=? and project_id=?", user_id, project_id)
        )

    def file_by_id(self, file_id: Any) -> dict[str, Any] | None:
        """A file's row by id alone, for a signed local-file ticket (the ticket is the authorisation)."""
        rows = self.rows("select * from files where id=?", file_id)
        return rows[0] if rows else None

    def dev_login(self, email: str) -> str:
        """Create (once) a demo client with one project of their own; returns the user id."""
        found = self.rows("select id from clients where email=?", email)
        if found:
            return str(found[0]["id"])
        user_id, project_id = str(uuid.uuid4()), str(uuid.uuid4())
        self._write(
            "insert into clients (id, name, email) values (?,?,?)", user_id, email.split("@")[0], email
        )
        self._write(
            "insert into projects (id, name, started_on) values (?,?,?)",
            project_id,
            f"Website for {email}",
            _now()[:10],
        )
        self._write("insert into project_members (project_id, user_id) values (?,?)", project_id, user_id)
        return user_id

    def projects(self, user_id: str) -> list[dict[str, Any]]:
        return self.rows(
            "select p.* from projects p join project_members m on m.project_id=p.id where m.user_id=? order by p.name",
            user_id,
        )

    def project(self, user_id: str, project_id: str) -> dict[str, Any] | None:
        if not self._member(user_id, project_id):
            return None
        rows = self.rows("select * from projects where id=?", project_id)
        return rows[0] if rows else None

    def messages(self, user_id: str, project_id: str) -> list[dict[str, Any]]:
        if not self._member(user_id, project_id):
            raise PermissionError(project_id)
        return self.rows("select * from messages where project_id=? order by created_at", project_id)

    def add_message(self, user_id: str, project_id: str, body: str) -> dict[str, Any]:
        if not self._member(user_id, project_id):
            raise PermissionError(project_id)
        row = {
            "id": str(uuid.uuid4()),
            "project_id": project_id,
            "author_id": user_id,
            "body": body,
            "created_at": _now(),
        }
        self._write("insert into messages values (?,?,?,?,?)", *row.values())
        return row

    def add_file(self, user_id: str, project_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        if not self._member(user_id, project_id):
            raise PermissionError(project_id)
        row = {
            "id": str(uuid.uuid4()),
            "project_id": project_id,
            "uploaded_by": user_id,
            "bucket": meta["bucket"],
            "path": meta["path"],
            "size": meta["size"],
            "content_type": meta["content_type"],
            "name": meta["name"],
            "created_at": _now(),
        }
        self._write("insert into files values (?,?,?,?,?,?,?,?,?)", *row.values())
        return row

    def file(self, user_id: str, file_id: str) -> dict[str, Any] | None:
        rows = self.rows(
            "select f.* from files f join project_members m on m.project_id=f.project_id where f.id=? and m.user_id=?",
            file_id,
            user_id,
        )
        return rows[0] if rows else None

    def files(self, user_id: str, project_id: str) -> list[dict[str, Any]]:
        if not self._member(user_id, project_id):
            raise PermissionError(project_id)
        return self.rows("select * from files where project_id=? order by created_at", project_id)

    def export(self, user_id: str) -> dict[str, Any]:
        profile = next(iter(self.rows("select * from clients where id=?", user_id)), None)
        mine = "select project_id from project_members where user_id=?"
        email = str(profile["email"]) if profile else ""
        return {
            "profile": profile,
            "projects": self.projects(user_id),
            "messages": self.rows(
                f"select * from messages where project_id in ({mine}) order by created_at", user_id
            ),
            "files": self.rows(
                f"select * from files where project_id in ({mine}) order by created_at", user_id
            ),
            "data_rights_requests": self.rows("select * from data_rights_requests where user_id=?", user_id),
            "inquiries": self.inquiries.by_email(email) if self.inquiries and email else [],
        }

    def update_profile(self, user_id: str, changes: dict[str, str]) -> dict[str, Any]:
        for key, value in changes.items():
            if key in PROFILE_FIELDS:  # column names come only from this allow-list
                self._write(f"update clients set {key}=? where id=?", value, user_id)
        rows = self.rows("select * from clients where id=?", user_id)
        if not rows:
            raise LookupError("no client profile for this account")
        return rows[0]

    def add_request(self, user_id: str, kind: str, note: str) -> dict[str, Any]:
        row = {
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "kind": kind,
            "note": note,
            "status": "open",
            "created_at": _now(),
        }
        self._write(
            f"insert into data_rights_requests ({', '.join(row)}) values (?,?,?,?,?,?)", *row.values()
        )
        return row

    # --- retention and rights (staff side; see edge.retention and edge.rights) ---

    def _drop_projects(self, project_ids: list[str]) -> None:
        """Delete projects with their members, messages, files and file contents."""
        for pid in project_ids:
            for f in self.rows("select id from files where project_id=?", pid):
                (self.files_dir / str(f["id"])).unlink(missing_ok=True)
            for table, column in (
                ("messages", "project_id"),
                ("files", "project_id"),
                ("project_members", "project_id"),
                ("projects", "id"),
            ):
                self._write(f"delete from {table} where {column}=?", pid)

    def erase_person(self, user_id: str) -> dict[str, int]:
        """Profile, requests, memberships, and their messages and files in any project."""
        counts = {}
        for f in self.rows("select id from files where uploaded_by=?", user_id):
            (self.files_dir / str(f["id"])).unlink(missing_ok=True)
        for key, table, column in (
            ("messages", "messages", "author_id"),
            ("files", "files", "uploaded_by"),
            ("requests", "data_rights_requests", "user_id"),
            ("memberships", "project_members", "user_id"),
            ("profiles", "clients", "id"),
        ):
            with self._lock, self._db:
                counts[key] = self._db.execute(f"delete from {table} where {column}=?", (user_id,)).rowcount
        return counts

    def purge_expired(self, months: int, now: datetime | None = None) -> int:
        """Projects past ``months`` after closing, then everyone left without a project."""
        at = now or datetime.now(UTC)
        expired = [
            str(p["id"])
            for p in self.rows("select id, closed_on from projects where closed_on is not null")
            if project_expiry(str(p["closed_on"]), months) < at
        ]
        # Answered requests have their own retention, whether or not a project expires this run.
        for r in self.rows("select id, closed_at from data_rights_requests where closed_at is not null"):
            if months_before(datetime.fromisoformat(str(r["closed_at"])), -months) < at:
                self._write("delete from data_rights_requests where id=?", r["id"])
        if not expired:
            return 0
        marks = ",".join("?" for _ in expired)
        people = [
            str(r["user_id"])
            for r in self.rows(
                f"select distinct user_id from project_members where project_id in ({marks})", *expired
            )
        ]
        self._drop_projects(expired)
        for person in people:
            if not self.rows("select 1 from project_members where user_id=?", person):
                self.erase_person(person)
        return len(expired)

    def subject(self, email: str) -> dict[str, Any]:
        """What the portal holds for the account with this e-mail address (a dry run of erase).

        Projects go whole when no other client is a member (the agency's own members, role
        'owner', do not keep them), as in the database's ``rights_subject()``.
        """
        found = self.rows("select id from clients where lower(email)=lower(?)", email.strip())
        if not found:
            return {"user_id": None, "projects": [], "files": [], "messages": 0, "requests": 0, "profile": 0}
        uid = str(found[0]["id"])
        own = [
            str(r["project_id"])
            for r in self.rows(
                "select project_id from project_members m where user_id=? and not exists (select 1 from"
                " project_members o where o.project_id=m.project_id and o.user_id<>m.user_id and o.role='client')",
                uid,
            )
        ]
        marks = ",".join("?" for _ in own) or "null"
        return {
            "user_id": uid,
            "profile": 1,
            "projects": own,
            "files": self.rows(
                f"select bucket, path from files where uploaded_by=? or project_id in ({marks})", uid, *own
            ),
            "messages": self.rows(
                f"select count(*) n from messages where author_id=? or project_id in ({marks})", uid, *own
            )[0]["n"],
            "requests": self.rows("select count(*) n from data_rights_requests where user_id=?", uid)[0]["n"],
        }

    def erase(self, email: str) -> dict[str, int]:
        plan = self.subject(email)
        if plan["user_id"] is None:
            return {"projects": 0}
        self._drop_projects(list(plan["projects"]))
        return {"projects": len(plan["projects"]), **self.erase_person(str(plan["user_id"]))}

    def open_requests(self) -> list[dict[str, Any]]:
        return self.rows(
            "select r.id, r.kind, r.note, r.created_at, c.email from data_rights_requests r"
            " left join clients c on c.id=r.user_id where r.status='open' order by r.created_at"
        )

    def close_request(self, request_id: str, outcome: str) -> dict[str, Any]:
        rows = self.rows("select * from data_rights_requests where id=? and status='open'", request_id)
        if not rows:
            raise LookupError(f"no open request {request_id}")
        self._write(
            "update data_rights_requests set status=?, closed_at=? where id=?", outcome, _now(), request_id
        )
        return rows[0]

    def log_outcome(self, kind: str, received_at: str | None, outcome: str, erased: dict[str, int]) -> None:
        self._write(
            "insert into data_rights_log (kind, received_at, answered_at, outcome, erased) values (?,?,?,?,?)",
            kind,
            received_at,
            _now(),
            outcome,
            json.dumps(erased),
        )
