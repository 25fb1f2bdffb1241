"""Retention: delete personal data once site.yaml's period is over.

The periods come from the build's ``site.json`` (``retention``), which comes
from site.yaml's ``privacy.retention``: the same numbers the privacy policy
states.

Who runs what (docs/privacy.md):

- On Supabase, pg_cron deletes rows every night (``purge-inquiries``,
  ``purge-portal``). What SQL cannot delete, Storage objects and Auth users,
  is deleted by ``sitegen retention``, which the scheduled GitHub workflow
  ``retention.yml`` runs every night with the service-role key: objects of
  expired projects first, then their rows, then the Auth users the database
  queued, then a sweep of objects no file row refers to (what is left when
  pg_cron deleted rows first). It also copies the periods and the bucket's
  upload limits from site.yaml into the database.
- Locally (no Supabase), :func:`apply_local` runs the same periods every time
  the edge app starts (``sitegen serve`` and ``uvicorn edge.app:app``).

The service-role key is used only here and in :mod:`edge.rights`, never for a
visitor's request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import httpx

from edge.inquiries import LocalInquiryStore
from edge.portal_store import LocalPortalStore
from edge.settings import Settings
from edge.storage import Storage, StorageError


class RetentionError(RuntimeError):
    """Retention could not be applied (bad setting, database or API refused)."""


@dataclass(frozen=True)
class RetentionResult:
    target: str
    deleted: int | None
    note: str = ""

    def __str__(self) -> str:
        if self.deleted is None:
            return f"{self.target}: skipped ({self.note})"
        extra = f" ({self.note})" if self.note else ""
        return f"{self.target}: deleted {self.deleted}{extra}"


def _months(settings: Settings, key: str) -> int:
    # No fallback here: the schema declares the default period once and the build writes it; a
    # site.json without it is refused (EdgeDataMissing) rather than purged by a second default.
    value: Any = getattr(settings.retention, key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise RetentionError(f"retention.{key} must be a whole number 1-120, got {value!r}")
    return value


def inquiry_months(settings: Settings) -> int:
    """The inquiry retention period in months from the build's site.json."""
    return _months(settings, "inquiries_months")


def portal_months(settings: Settings) -> int:
    """Months portal data is kept after its project closed, from the build's site.json."""
    return _months(settings, "portal_months_after_close")


def service_key(settings: Settings) -> str | None:
    return settings.secret("SUPABASE_SERVICE_ROLE_KEY")


# --- Local mode ----------------------------------------------------------------


def purge_local_inquiries(settings: Settings, now: datetime | None = None) -> RetentionResult:
    months = inquiry_months(settings)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    deleted = store.purge_older_than(months, now=now)
    return RetentionResult("local inquiries", deleted, f"older than {months} months, {store.path}")


def purge_local_portal(settings: Settings, now: datetime | None = None) -> RetentionResult:
    months = portal_months(settings)
    store = LocalPortalStore(settings.local_dir / "portal")
    deleted = store.purge_expired(months, now=now)
    return RetentionResult("local portal", deleted, f"projects closed over {months} months ago")


def apply_local(settings: Settings, now: datetime | None = None) -> list[RetentionResult]:
    """The local stores' retention; the edge app calls it on every start in local mode."""
    return [purge_local_inquiries(settings, now=now), purge_local_portal(settings, now=now)]


# --- Supabase ------------------------------------------------------------------


def admin_client(settings: Settings) -> Any:
    """A supabase client acting as the service role (bypasses RLS: staff tools only)."""
    from supabase import ClientOptions, create_client

    url, key = settings.supabase_url, service_key(settings)
    if not url or not key:
        raise RetentionError("SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set")
    # The timeout belongs to the HTTP client (supabase deprecated its own timeout option).
    options = ClientOptions(
        auto_refresh_token=False, persist_session=False, httpx_client=httpx.Client(timeout=120)
    )
    return create_client(url, key, options)


def delete_objects(storage: Storage, key: str, files: Iterable[Mapping[str, Any]]) -> int:
    """Delete the Storage objects of these file rows (``bucket``, ``path``); returns how many went."""
    by_bucket: dict[str, list[str]] = {}
    for f in files:
        by_bucket.setdefault(str(f["bucket"]), []).append(str(f["path"]))
    return sum(len(storage.delete(bucket, paths, key)) for bucket, paths in by_bucket.items())


def delete_queued_auth_users(client: Any) -> int:
    """Delete through the Auth admin API every user the database queued for deletion.

    Deleting the user removes its queue row (foreign key ON DELETE CASCADE);
    a user Auth no longer knows is gone already.
    """
    from supabase_auth.errors import AuthApiError

    rows = cast(list[dict[str, Any]], client.table("auth_user_purge_queue").select("user_id").execute().data)
    deleted = 0
    for row in rows:
        try:
            client.auth.admin.delete_user(str(row["user_id"]))
        except AuthApiError as exc:
            if exc.status != 404:
                raise RetentionError(f"Auth refused to delete a user: {exc.message}") from exc
        deleted += 1
    return deleted


@contextmanager
def api_failures(target: str) -> Iterator[None]:
    """Turn the clients' errors into one RetentionError naming what failed."""
    from postgrest import APIError
    from supabase_auth.errors import AuthError

    try:
        yield
    except APIError as exc:
        raise RetentionError(f"Supabase refused the {target}: {exc.message}") from exc
    except AuthError as exc:
        raise RetentionError(f"Supabase Auth refused the {target}: {exc.message}") from exc
    except (httpx.HTTPError, StorageError) as exc:
        raise RetentionError(f"{target} failed: {exc}") from exc


def purge_supabase_inquiries(settings: Settings) -> RetentionResult:
    """Store the period in ``retention_settings`` and purge now, as the service role."""
    months = inquiry_months(settings)
    if not settings.supabase_url:
        return RetentionResult("supabase inquiries", None, "SUPABASE_URL is not set")
    if not service_key(settings):
        return RetentionResult(
            "supabase inquiries",
            None,
            "SUPABASE_SERVICE_ROLE_KEY is not set; the nightly pg_cron job still purges "
            "with the period last stored",
        )
    with api_failures("inquiry retention"):
        response = admin_client(settings).rpc("apply_inquiry_retention", {"months": months}).execute()
    deleted = response.data
    if isinstance(deleted, bool) or not isinstance(deleted, int):
        raise RetentionError(f"unexpected answer from apply_inquiry_retention: {deleted!r}")
    return RetentionResult("supabase inquiries", deleted, f"older than {months} months")


def purge_supabase_portal(settings: Settings, storage_client: httpx.Client | None = None) -> RetentionResult:
    """Objects of expired projects, then their rows, then queued Auth users, then orphan objects."""
    months = portal_months(settings)
    url, key = settings.supabase_url, service_key(settings)
    if not url or not key:
        return RetentionResult("supabase portal", None, "SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY not set")
    portal = settings.section("portal")
    bucket = str(portal.get("bucket", "portal-files"))
    storage = Storage(url, key, client=storage_client)
    with api_failures("portal retention"):
        client = admin_client(settings)
        client.table("retention_settings").upsert(
            {"name": "portal_months_after_close", "months": months}
        ).execute()
        if "upload_max_bytes" in portal:
            # The bucket enforces the same limits as the upload handler (site.yaml portal.*).
            client.rpc(
                "apply_portal_bucket",
                {
                    "bucket": bucket,
                    "max_bytes": portal["upload_max_bytes"],
                    "types": portal.get("upload_types") or None,
                },
            ).execute()
        expired = [str(r["project_id"]) for r in client.rpc("portal_expired_projects", {}).execute().data]
        objects = 0
        if expired:
            files = client.table("files").select("bucket,path").in_("project_id", expired).execute().data
            # Objects before rows: if this fails, the rows still say what to delete next night.
            objects = delete_objects(storage, key, files)
        projects = client.rpc("purge_portal_rows", {}).execute().data
        users = delete_queued_auth_users(client)
        orphans = cast(list[Any], client.rpc("orphan_objects", {"bucket": bucket}).execute().data)
        names = [o if isinstance(o, str) else next(iter(o.values())) for o in orphans]
        swept = len(storage.delete(bucket, names, key))
    note = (
        f"projects closed over {months} months ago; {objects} objects, {users} accounts, "
        f"{swept} objects without a file row"
    )
    return RetentionResult("supabase portal", int(projects or 0), note)


def run(settings: Settings, now: datetime | None = None) -> list[RetentionResult]:
    """Apply every retention period; ``sitegen retention`` prints the results."""
    results = apply_local(settings, now=now)
    if settings.supabase_url:
        results.append(purge_supabase_inquiries(settings))
        results.append(purge_supabase_portal(settings))
    return results


def require_supabase(results: list[RetentionResult]) -> None:
    """Raise unless every Supabase step ran (the scheduled job must not pass by skipping)."""
    ran = {r.target for r in results if r.target.startswith("supabase") and r.deleted is not None}
    missing = {"supabase inquiries", "supabase portal"} - ran
    if missing:
        raise RetentionError(
            f"{', '.join(sorted(missing))} did not run: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
        )
