"""Retention: delete personal data once site.yaml's period is over.

Plain functions, one per kind of data, plus ``run(settings)`` which the CLI
command ``sitegen retention`` calls. The periods come from the build's
``site.json`` (``retention``), which comes from site.yaml's
``privacy.retention`` — the same numbers the privacy policy states.

On Supabase the nightly pg_cron job does the purging; ``run`` additionally
writes the current period into ``public.retention_settings`` (so a changed
site.yaml reaches the job) and purges at once. That needs the service-role
key, which is used here and never by a visitor's request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import httpx

from edge.inquiries import LocalInquiryStore
from edge.settings import Settings

DEFAULT_INQUIRY_MONTHS = 12


class RetentionError(RuntimeError):
    """Retention could not be applied (bad setting, database refused)."""


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


def inquiry_months(settings: Settings) -> int:
    """The inquiry retention period in months from the build's site.json."""
    value: Any = settings.section("retention").get("inquiries_months", DEFAULT_INQUIRY_MONTHS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise RetentionError(f"retention.inquiries_months must be a whole number 1-120, got {value!r}")
    return value


def purge_local_inquiries(settings: Settings, now: datetime | None = None) -> RetentionResult:
    months = inquiry_months(settings)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    deleted = store.purge_older_than(months, now=now)
    return RetentionResult("local inquiries", deleted, f"older than {months} months, {store.path}")


def service_key(settings: Settings) -> str | None:
    return settings.secret("SUPABASE_SERVICE_ROLE_KEY")


def purge_supabase_inquiries(settings: Settings) -> RetentionResult:
    """Store the period in ``retention_settings`` and purge now, as the service role."""
    months = inquiry_months(settings)
    url, key = settings.supabase_url, service_key(settings)
    if not url:
        return RetentionResult("supabase inquiries", None, "SUPABASE_URL is not set")
    if not key:
        return RetentionResult(
            "supabase inquiries",
            None,
            "SUPABASE_SERVICE_ROLE_KEY is not set; the nightly pg_cron job still purges "
            "with the period last stored",
        )
    from postgrest import APIError

    from supabase import ClientOptions, create_client

    client = create_client(url, key, ClientOptions(auto_refresh_token=False, persist_session=False))
    try:
        response = client.rpc("apply_inquiry_retention", {"months": months}).execute()
    except APIError as exc:
        raise RetentionError(f"Supabase refused the inquiry retention: {exc.message}") from exc
    except httpx.HTTPError as exc:
        raise RetentionError(f"Supabase could not be reached: {exc}") from exc
    deleted = response.data
    if isinstance(deleted, bool) or not isinstance(deleted, int):
        raise RetentionError(f"unexpected answer from apply_inquiry_retention: {deleted!r}")
    return RetentionResult("supabase inquiries", deleted, f"older than {months} months")


def run(settings: Settings, now: datetime | None = None) -> list[RetentionResult]:
    """Apply every retention period; ``sitegen retention`` prints the results."""
    results = [purge_local_inquiries(settings, now=now)]
    if settings.supabase_url:
        results.append(purge_supabase_inquiries(settings))
        results.append(purge_supabase_portal(settings))
    return results


# --- Client portal (added by the portal engineer) ---------------------------

DEFAULT_PORTAL_MONTHS = 24


def portal_months(settings: Settings) -> int:
    value: Any = settings.section("retention").get("portal_months_after_close", DEFAULT_PORTAL_MONTHS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise RetentionError(
            f"retention.portal_months_after_close must be a whole number 1-120, got {value!r}"
        )
    return value


def purge_supabase_portal(settings: Settings, storage_client: httpx.Client | None = None) -> RetentionResult:
    """Queue projects closed longer than the period, delete their Storage objects, then their rows.

    SQL cannot delete Storage objects, so the nightly job only queues; this does the rest
    with the service key (never used for a visitor's request).
    """
    from edge.storage import Storage, StorageError

    months = portal_months(settings)
    url, key = settings.supabase_url, service_key(settings)
    if not url or not key:
        return RetentionResult("supabase portal", None, "SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY not set")
    from postgrest import APIError

    from supabase import ClientOptions, create_client

    client = create_client(url, key, ClientOptions(auto_refresh_token=False, persist_session=False))
    storage = Storage(url, key, client=storage_client)
    bucket = str(settings.section("portal").get("bucket", "portal-files"))
    purged = 0
    try:
        client.table("retention_settings").upsert(
            {"name": "portal_months_after_close", "months": months}
        ).execute()
        client.rpc("queue_portal_purge", {"months": months}).execute()
        queued = cast(
            list[dict[str, Any]],
            client.table("projects").select("id").not_.is_("purge_queued_at", "null").execute().data,
        )
        for project in queued:
            files = cast(
                list[dict[str, Any]],
                client.table("files").select("bucket,path").eq("project_id", project["id"]).execute().data,
            )
            by_bucket: dict[str, list[str]] = {}
            for f in files:
                by_bucket.setdefault(str(f["bucket"] or bucket), []).append(str(f["path"]))
            for name, paths in by_bucket.items():
                storage.delete(name, paths, key)
            # Rows go only after their objects, so a failed delete is retried next run.
            if client.rpc("purge_portal_project", {"p": project["id"]}).execute().data:
                purged += 1
    except APIError as exc:
        raise RetentionError(f"Supabase refused the portal retention: {exc.message}") from exc
    except (httpx.HTTPError, StorageError) as exc:
        raise RetentionError(f"portal retention failed: {exc}") from exc
    return RetentionResult("supabase portal", purged, f"projects closed over {months} months ago")
