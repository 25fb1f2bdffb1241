"""Data-subject rights carried out by staff (``sitegen rights ...``).

Access and correction are self-service in the portal (``GET /me/export``,
``PATCH /me``); anything else arrives as a request (portal ``POST
/me/requests``, or e-mail to the address in the privacy policy, also from
people without an account). Staff then:

- ``list`` the open requests;
- ``show`` what is held for an e-mail address (a dry run of the erasure);
- ``erase`` it for a deletion, objection or withdrawal of consent: contact
  inquiries sent from the address, and for a portal account its profile,
  requests, messages and files, the projects nobody else is a member of,
  and the sign-in itself. Storage objects go first, then rows, then the Auth
  user (through the Auth admin API);
- ``answer`` a request that erases nothing (access, correction, refusal).

Each outcome is logged without the erased data: the kind, when it arrived,
when it was answered and how many records went (``data_rights_log``).

Accounts are matched by their sign-in address (Auth's, verified), never by
the profile e-mail a client can edit, so no one can aim an erasure at
another person's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast

from edge.inquiries import LocalInquiryStore
from edge.portal_store import LocalPortalStore
from edge.retention import admin_client, api_failures, delete_objects, delete_queued_auth_users
from edge.settings import Settings
from edge.storage import Storage

ERASING_KINDS = ("deletion", "objection", "withdrawal")
OUTCOMES = ("done", "refused")


class RightsError(RuntimeError):
    """The request cannot be carried out as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Subject:
    """What is held for one e-mail address (nothing is erased by computing it)."""

    email: str
    user_id: str | None
    inquiries: int
    profile: int
    projects: list[str]
    messages: int
    requests: int
    files: list[dict[str, Any]]

    def lines(self) -> list[str]:
        account = f"portal account {self.user_id}" if self.user_id else "no portal account"
        return [
            f"{self.email}: {account}",
            f"  contact inquiries: {self.inquiries}",
            f"  profile: {self.profile}",
            f"  projects only they belong to: {len(self.projects)}",
            f"  messages: {self.messages}",
            f"  files: {len(self.files)}",
            f"  requests: {self.requests}",
        ]


class Rights(Protocol):
    def open_requests(self) -> list[dict[str, Any]]: ...
    def subject(self, email: str) -> Subject: ...
    def erase(self, email: str, kind: str, request_id: str | None = None) -> dict[str, int]: ...
    def answer(self, request_id: str, outcome: str) -> None: ...


def _check_kind(kind: str) -> None:
    if kind not in ERASING_KINDS:
        raise RightsError(
            f"{kind!r} does not erase data (only {', '.join(ERASING_KINDS)}); "
            "answer it with `sitegen rights answer ID done`"
        )


class LocalRights:
    """The same operations on the local stores (development)."""

    def __init__(self, settings: Settings) -> None:
        self.inquiries = LocalInquiryStore.in_dir(settings.local_dir)
        self.portal = LocalPortalStore(settings.local_dir / "portal", self.inquiries)

    def open_requests(self) -> list[dict[str, Any]]:
        return self.portal.open_requests()

    def subject(self, email: str) -> Subject:
        held = self.portal.subject(email)
        return Subject(
            email=email,
            user_id=held["user_id"],
            inquiries=len(self.inquiries.by_email(email)),
            profile=int(held["profile"]),
            projects=list(held["projects"]),
            messages=int(held["messages"]),
            requests=int(held["requests"]),
            files=list(held["files"]),
        )

    def erase(self, email: str, kind: str, request_id: str | None = None) -> dict[str, int]:
        _check_kind(kind)
        received = None
        if request_id is not None:
            found = [r for r in self.open_requests() if r["id"] == request_id]
            if not found or str(found[0]["email"]).lower() != email.lower():
                raise RightsError(f"request {request_id} is not an open request from {email}")
            received = str(found[0]["created_at"])
        counts = {"inquiries": self.inquiries.erase_email(email), **self.portal.erase(email)}
        self.portal.log_outcome(kind, received, "erased", counts)
        return counts

    def answer(self, request_id: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise RightsError(f"outcome must be one of {', '.join(OUTCOMES)}")
        try:
            row = self.portal.close_request(request_id, outcome)
        except LookupError as exc:
            raise RightsError(str(exc)) from exc
        self.portal.log_outcome(str(row["kind"]), str(row["created_at"]), outcome, {})


class SupabaseRights:
    """Through the Supabase APIs with the service-role key (staff only)."""

    def __init__(self, settings: Settings) -> None:
        self.client = admin_client(settings)
        self.key = cast(str, settings.secret("SUPABASE_SERVICE_ROLE_KEY"))
        self.storage = Storage(cast(str, settings.supabase_url), self.key)

    def open_requests(self) -> list[dict[str, Any]]:
        with api_failures("request list"):
            return cast(list[dict[str, Any]], self.client.rpc("open_rights_requests", {}).execute().data)

    def subject(self, email: str) -> Subject:
        with api_failures("lookup"):
            held = self.client.rpc("rights_subject", {"address": email}).execute().data
        return Subject(
            email=email,
            user_id=held["user_id"],
            inquiries=int(held["inquiries"]),
            profile=int(held["profile"]),
            projects=[str(p) for p in held["projects"]],
            messages=int(held["messages"]),
            requests=int(held["requests"]),
            files=list(held["files"]),
        )

    def erase(self, email: str, kind: str, request_id: str | None = None) -> dict[str, int]:
        _check_kind(kind)
        held = self.subject(email)
        with api_failures("erasure"):
            # Objects first: if a later step fails, the rows still say what to delete.
            objects = delete_objects(self.storage, self.key, held.files)
            args = {"address": email, "kind": kind, "request": request_id}
            counts = cast(dict[str, int], self.client.rpc("rights_erase", args).execute().data)
            accounts = delete_queued_auth_users(self.client)
        return {**counts, "objects": objects, "accounts": accounts}

    def answer(self, request_id: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise RightsError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with api_failures("answer"):
            self.client.rpc("answer_rights_request", {"request": request_id, "outcome": outcome}).execute()


def backend(settings: Settings) -> Rights:
    """Supabase when it is configured with the service-role key, else the local stores."""
    if settings.supabase_url:
        if not settings.secret("SUPABASE_SERVICE_ROLE_KEY"):
            raise RightsError(
                "SUPABASE_SERVICE_ROLE_KEY is not set: staff commands need the service-role key"
            )
        return SupabaseRights(settings)
    return LocalRights(settings)


def request_email(rights: Rights, request_id: str) -> tuple[str, str]:
    """The (e-mail, kind) of an open request, for ``erase --request``."""
    for row in rights.open_requests():
        if str(row["id"]) == request_id:
            return str(row["email"] or ""), str(row["kind"])
    raise RightsError(f"no open request {request_id}; `sitegen rights list` shows them")


def list_lines(rights: Rights) -> list[str]:
    """``sitegen rights list``: one line per open request, oldest first."""
    rows = rights.open_requests()
    lines = [
        f"{r['id']}  {r['kind']:<10}  {str(r['created_at'])[:19]}  {r['email'] or '-'}  {r['note']}"
        for r in rows
    ]
    return [*lines, f"{len(rows)} open request(s)"]


def erase_lines(
    rights: Rights, email: str | None, request_id: str | None, kind: str | None, dry_run: bool
) -> list[str]:
    """``sitegen rights erase``: show what is held, then (unless a dry run) erase it."""
    if request_id:
        from_request, request_kind = request_email(rights, request_id)
        email, kind = email or from_request, kind or request_kind
    if not email or not kind:
        raise RightsError("give EMAIL and --kind, or --request ID")
    _check_kind(kind)
    lines = rights.subject(email).lines()
    if dry_run:
        return [*lines, "dry run: nothing erased"]
    counts = rights.erase(email, kind, request_id)
    return [*lines, "erased: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
