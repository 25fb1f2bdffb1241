"""Tell the agency about a new inquiry, without ever delaying the visitor.

The notification runs as a detached task after the inquiry is stored; the
visitor's response does not wait for it and its failure never reaches them
(the inquiry is already safe in the store). Only the inquiry itself is sent:
no IP address or user agent, because none is kept.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import anyio.to_thread
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
        self.delivered = 0

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
            self.delivered += 1
        except Exception as exc:  # a notification must never take anything else down
            self.failures += 1
            # The exception's text may carry the webhook URL, whose path is its secret: name the kind only.
            log.warning("inquiry notification failed: %s", type(exc).__name__)

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


def inquiry_email(inquiry: Inquiry, sender: str, recipient: str) -> EmailMessage:
    """A plain-text email; EmailMessage refuses CR/LF in headers, a second guard against injection."""
    message = EmailMessage()
    message["Subject"] = f"New inquiry ({inquiry.region}): {inquiry.name}"
    message["From"] = sender
    message["To"] = recipient
    message["Reply-To"] = inquiry.email
    lines = [
        f"Name: {inquiry.name}",
        f"Email: {inquiry.email}",
        f"Phone: {inquiry.phone or '-'}",
        f"Company: {inquiry.company or '-'}",
        f"Service: {inquiry.service or '-'}",
        f"Region: {inquiry.region}",
        f"Received: {inquiry.created_at.isoformat()}",
        "",
        inquiry.message,
    ]
    message.set_content("\n".join(lines))
    return message


def email_sender(smtp_url: str, recipient: str, timeout: float = 15.0) -> Sender:
    """Send through ``smtp://user:password@host:port`` (STARTTLS when offered) or ``smtps://``."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("the SMTP URL must look like smtp://user:password@host:587 or smtps://...")
    host = parts.hostname
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    from_address = user if user and "@" in user else recipient

    def deliver(inquiry: Inquiry) -> None:
        message = inquiry_email(inquiry, from_address, recipient)
        context = ssl.create_default_context()
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if user and password:
                client.login(user, password)
            client.send_message(message)

    async def send(inquiry: Inquiry) -> None:
        await anyio.to_thread.run_sync(deliver, inquiry)

    return send


def notifier_from_settings(settings: Settings) -> Notifier:
    """Senders for whatever is configured in the environment.

    - webhook: the variable named by ``contact_form.notify_webhook_env`` (default ``CONTACT_WEBHOOK_URL``);
    - email: ``CONTACT_SMTP_URL`` (``smtp://user:password@host:587``), sent to ``CONTACT_NOTIFY_EMAIL``
      or else the site's contact email.
    """
    senders: list[Sender] = []
    url = settings.secret(settings.contact_form.notify_webhook_env)
    if url:
        senders.append(webhook_sender(url))
    smtp_url = settings.secret("CONTACT_SMTP_URL")
    recipient = settings.secret("CONTACT_NOTIFY_EMAIL") or settings.section("contact").get("email")
    if smtp_url and recipient:
        senders.append(email_sender(smtp_url, str(recipient)))
    return Notifier(senders)
