"""Portal data access.

``PortalStore`` is the interface the handler uses. ``LocalPortalStore`` is the
embedded development default (SQLite under ``SITEGEN_LOCAL_DIR``); it enforces
membership itself because SQLite has no row-level security. The Supabase
implementation (every call with the user's token, so RLS applies) is not
finished yet — see the portal report.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

PROFILE_FIELDS = ("name", "company", "phone", "email")


class PortalStore(Protocol):
    def projects(self, user_id: str) -> list[dict[str, Any]]: ...
    def project(self, user_id: str, project_id: str) -> dict[str, Any] | None: ...
    def messages(self, user_id: str, project_id: str) -> list[dict[str, Any]]: ...
    def add_message(self, user_id: str, project_id: str, body: str) -> dict[str, Any]: ...
    def add_file(self, user_id: str, project_id: str, meta: dict[str, Any]) -> dict[str, Any]: ...
    def file(self, user_id: str, file_id: str) -> dict[str, Any] | None: ...
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
  note text not null, status text not null default 'open', created_at text not null);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class LocalPortalStore:
    """SQLite store for development; the handler refuses it when production is true."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "portal.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)

    def _rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _write(self, sql: str, *args: Any) -> None:
        with self._lock, self._db:
            self._db.execute(sql, args)

    def _member(self, user_id: str, project_id: str) -> bool:
        return bool(
            self._rows("select 1 from project_members where user_id=? and project_id=?", user_id, project_id)
        )

    def file_by_id(self, file_id: Any) -> dict[str, Any] | None:
        """A file's row by id alone, for a signed local-file ticket (the ticket is the authorisation)."""
        rows = self._rows("select * from files where id=?", file_id)
        return rows[0] if rows else None

    def dev_login(self, email: str) -> str:
        """Create (once) a demo client with one project of their own; returns the user id."""
        found = self._rows("select id from clients where email=?", email)
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
        return self._rows(
            "select p.* from projects p join project_members m on m.project_id=p.id where m.user_id=? order by p.name",
            user_id,
        )

    def project(self, user_id: str, project_id: str) -> dict[str, Any] | None:
        if not self._member(user_id, project_id):
            return None
        rows = self._rows("select * from projects where id=?", project_id)
        return rows[0] if rows else None

    def messages(self, user_id: str, project_id: str) -> list[dict[str, Any]]:
        if not self._member(user_id, project_id):
            raise PermissionError(project_id)
        return self._rows("select * from messages where project_id=? order by created_at", project_id)

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
        rows = self._rows(
            "select f.* from files f join project_members m on m.project_id=f.project_id where f.id=? and m.user_id=?",
            file_id,
            user_id,
        )
        return rows[0] if rows else None

    def export(self, user_id: str) -> dict[str, Any]:
        return {
            "profile": next(iter(self._rows("select * from clients where id=?", user_id)), None),
            "projects": self.projects(user_id),
            "messages": self._rows("select * from messages where author_id=? order by created_at", user_id),
            "files": self._rows("select * from files where uploaded_by=? order by created_at", user_id),
            "data_rights_requests": self._rows("select * from data_rights_requests where user_id=?", user_id),
        }

    def update_profile(self, user_id: str, changes: dict[str, str]) -> dict[str, Any]:
        for key, value in changes.items():
            if key in PROFILE_FIELDS:  # column names come only from this allow-list
                self._write(f"update clients set {key}=? where id=?", value, user_id)
        return self._rows("select * from clients where id=?", user_id)[0]

    def add_request(self, user_id: str, kind: str, note: str) -> dict[str, Any]:
        row = {
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "kind": kind,
            "note": note,
            "status": "open",
            "created_at": _now(),
        }
        self._write("insert into data_rights_requests values (?,?,?,?,?,?)", *row.values())
        return row


class SupabasePortalStore:
    """Calls PostgREST with the visitor's own token, so the database's RLS decides every row.

    Membership is not checked here at all: a row another client owns is simply not returned,
    and an insert into their project is refused by the policy.
    """

    def __init__(self, url: str, key: str, token: str) -> None:
        from supabase import ClientOptions, create_client

        self.client = create_client(url, key, ClientOptions(auto_refresh_token=False, persist_session=False))
        self.client.postgrest.auth(token)

    def _data(self, query: Any) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = query.execute().data
        return data

    def projects(self, user_id: str) -> list[dict[str, Any]]:
        return self._data(
            self.client.table("projects").select("id,name,status,started_on,closed_on").order("name")
        )

    def project(self, user_id: str, project_id: str) -> dict[str, Any] | None:
        try:
            uuid.UUID(project_id)
        except ValueError:
            return None
        rows = self._data(
            self.client.table("projects").select("id,name,status,started_on,closed_on").eq("id", project_id)
        )
        return rows[0] if rows else None

    def messages(self, user_id: str, project_id: str) -> list[dict[str, Any]]:
        return self._data(
            self.client.table("messages").select("*").eq("project_id", project_id).order("created_at")
        )

    def add_message(self, user_id: str, project_id: str, body: str) -> dict[str, Any]:
        return self._data(
            self.client.table("messages").insert(
                {"project_id": project_id, "author_id": user_id, "body": body}
            )
        )[0]

    def add_file(self, user_id: str, project_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        return self._data(
            self.client.table("files").insert({"project_id": project_id, "uploaded_by": user_id, **meta})
        )[0]

    def file(self, user_id: str, file_id: str) -> dict[str, Any] | None:
        try:
            uuid.UUID(file_id)
        except ValueError:
            return None
        rows = self._data(self.client.table("files").select("*").eq("id", file_id))
        return rows[0] if rows else None

    def export(self, user_id: str) -> dict[str, Any]:
        profile = self._data(self.client.table("clients").select("*").eq("id", user_id))
        return {
            "profile": profile[0] if profile else None,
            "projects": self.projects(user_id),
            "messages": self._data(self.client.table("messages").select("*").eq("author_id", user_id)),
            "files": self._data(self.client.table("files").select("*").eq("uploaded_by", user_id)),
            "data_rights_requests": self._data(
                self.client.table("data_rights_requests").select("*").eq("user_id", user_id)
            ),
        }

    def update_profile(self, user_id: str, changes: dict[str, str]) -> dict[str, Any]:
        fields = {k: v for k, v in changes.items() if k in PROFILE_FIELDS}
        rows = self._data(self.client.table("clients").update(fields).eq("id", user_id))
        if not rows:
            raise LookupError("no client profile for this account")
        return rows[0]

    def add_request(self, user_id: str, kind: str, note: str) -> dict[str, Any]:
        return self._data(
            self.client.table("data_rights_requests").insert({"user_id": user_id, "kind": kind, "note": note})
        )[0]
