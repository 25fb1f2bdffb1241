"""The portal's data in Supabase, read and written with the visitor's own token.

PostgREST runs every query under the visitor's JWT, so the database's row-level security
decides which rows exist for them; nothing here checks membership. The interface is
``edge.portal_store.PortalStore``.
"""

from __future__ import annotations

import uuid
from typing import Any

from edge.portal_store import PROFILE_FIELDS


class SupabasePortalStore:
    """Calls PostgREST with the visitor's own token, so the database's RLS decides every row.

    Membership is not checked here at all: a row another client owns is simply not returned,
    and an insert into their project is refused by the policy.
    """

    def __init__(self, url: str, key: str, token: str) -> None:
        import httpx

        from supabase import ClientOptions, create_client

        # The timeout belongs to the HTTP client (supabase deprecated its own timeout/verify options).
        options = ClientOptions(
            auto_refresh_token=False, persist_session=False, httpx_client=httpx.Client(timeout=120)
        )
        self.client = create_client(url, key, options)
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

    # Inserts name only the columns a client is granted: the author, uploader, bucket and
    # timestamps are the database's defaults (auth.uid(), now()), never the caller's word.
    def add_message(self, user_id: str, project_id: str, body: str) -> dict[str, Any]:
        return self._data(self.client.table("messages").insert({"project_id": project_id, "body": body}))[0]

    def add_file(self, user_id: str, project_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        fields = {k: meta[k] for k in ("path", "name", "size", "content_type")}
        return self._data(self.client.table("files").insert({"project_id": project_id, **fields}))[0]

    def files(self, user_id: str, project_id: str) -> list[dict[str, Any]]:
        try:
            uuid.UUID(project_id)
        except ValueError:
            return []
        return self._data(
            self.client.table("files").select("*").eq("project_id", project_id).order("created_at")
        )

    def file(self, user_id: str, file_id: str) -> dict[str, Any] | None:
        try:
            uuid.UUID(file_id)
        except ValueError:
            return None
        rows = self._data(self.client.table("files").select("*").eq("id", file_id))
        return rows[0] if rows else None

    def export(self, user_id: str) -> dict[str, Any]:
        profile = self._data(self.client.table("clients").select("*").eq("id", user_id))
        mine = [
            str(m["project_id"])
            for m in self._data(
                self.client.table("project_members").select("project_id").eq("user_id", user_id)
            )
        ]
        return {
            "profile": profile[0] if profile else None,
            "projects": [p for p in self.projects(user_id) if str(p["id"]) in mine],
            "messages": self._data(
                self.client.table("messages").select("*").in_("project_id", mine).order("created_at")
            ),
            "files": self._data(
                self.client.table("files").select("*").in_("project_id", mine).order("created_at")
            ),
            "data_rights_requests": self._data(
                self.client.table("data_rights_requests").select("*").eq("user_id", user_id)
            ),
            # Only inquiries sent from the account's verified address (the function checks it).
            "inquiries": self._data(self.client.rpc("my_inquiries", {})),
        }

    def update_profile(self, user_id: str, changes: dict[str, str]) -> dict[str, Any]:
        fields = {k: v for k, v in changes.items() if k in PROFILE_FIELDS}
        rows = self._data(self.client.table("clients").update(fields).eq("id", user_id))
        if not rows:
            raise LookupError("no client profile for this account")
        return rows[0]

    def add_request(self, user_id: str, kind: str, note: str) -> dict[str, Any]:
        return self._data(self.client.table("data_rights_requests").insert({"kind": kind, "note": note}))[0]
