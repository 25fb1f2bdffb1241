"""Cloudflare Turnstile: verifying the contact form's spam-check token.

Only the token and the secret are sent; the visitor's address (``remoteip``)
is optional for Cloudflare and deliberately left out.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from edge.contact_fields import MAX_TOKEN, TURNSTILE_FIELD
from edge.http import BadRequest

log = logging.getLogger(__name__)

VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"


class Turnstile:
    def __init__(self, secret: str, url: str, client: httpx.AsyncClient) -> None:
        self.secret = secret
        self.url = url
        self.client = client

    async def verify(self, token: Any) -> None:
        """Return when the token is good; raise :class:`BadRequest` (422, or 503 when Cloudflare is down)."""
        missing = BadRequest(
            422,
            "The spam check was not completed.",
            errors={TURNSTILE_FIELD: "Please complete the spam check and send again."},
        )
        if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
            raise missing
        try:
            reply = await self.client.post(self.url, data={"secret": self.secret, "response": token.strip()})
            reply.raise_for_status()
            result = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("turnstile verification unavailable: %s", type(exc).__name__)
            raise BadRequest.retry(
                503,
                "We could not run the spam check just now, so your message was not saved. "
                "Please try again in a minute.",
                30,
            ) from exc
        if not (isinstance(result, dict) and result.get("success") is True):
            raise missing
