"""Tell the agency about a new inquiry, without ever delaying the visitor.

The notification runs as a detached task after the inquiry is stored; the
visitor's response does not wait for it and its failure never reaches them
(the inquiry is already safe in the store). Only the inquiry itself is sent:
no IP address or user agent, because none is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx

from edge.inquiries import Inquiry
from edge.settings import Settings

log = logging.getLogger(__name__)

Sender = Callable[[Inquiry], Awaitable[None]]


class Notifier:
    """Fire-and-forget delivery of inquiries to zero or more senders."""

    def __init__(self, senders: list[Sender] | None = None) -> None:
        self.senders = list(senders or [])
        self._tasks: set[asyncio.Task[None]] = set()
        self.failures = 0

    @property
    def enabled(self) -> bool:
        return bool(self.senders)

    def submit(self, inquiry: Inquiry) -> None:
        """Schedule delivery and return at once."""
        for sender in self.senders:
            task = asyncio.get_running_loop().create_task(self._run(sender, inquiry))
            # Keep a reference: the event loop holds tasks only weakly.
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, sender: Sender, inquiry: Inquiry) -> None:
        try:
            await sender(inquiry)
        except Exception as exc:  # a notification must never take anything else down
            self.failures += 1
            log.warning("inquiry notification failed: %s", exc)

    async def drain(self) -> None:
        """Wait for pending notifications (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def webhook_sender(url: str, timeout: float = 10.0) -> Sender:
    """POST the inquiry as JSON to ``url`` (Slack/Zapier/Make/mail-API style webhook)."""

    async def send(inquiry: Inquiry) -> None:
        payload = {"type": "inquiry", "inquiry": inquiry.row()}
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json=payload)
            response.raise_for_status()

    return send


def notifier_from_settings(settings: Settings) -> Notifier:
    """A webhook sender when the env variable named by ``contact_form.notify_webhook_env`` is set."""
    section = settings.section("contact_form")
    senders: list[Sender] = []
    url = settings.secret(section.get("notify_webhook_env") or "CONTACT_WEBHOOK_URL")
    if url:
        senders.append(webhook_sender(url))
    return Notifier(senders)
