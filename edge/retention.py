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
from typing import Any

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
    return results
