"""Limits that hold across processes, and the chat's daily provider budget.

With Supabase configured, counters live in PostgreSQL (``public.edge_hit`` of
migration ``20261201000100_edge_limits.sql``, called through PostgREST with the
publishable key), so every worker and serverless instance counts together.
Without it, :class:`LocalCounters` in this process. A counter is a fixed
window per (bucket, key); the key is :func:`edge.ratelimit.client_key` (a
keyed hash) or ``"site"`` for site-wide budgets.

The shared counters also count in this process, so when the database does not
answer the process's own count decides (limits then hold per process, never
not at all); the outage is logged once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from edge.ratelimit import Limiter, RateLimiter
from edge.settings import Settings

log = logging.getLogger(__name__)

SITE = "site"
DAY = 86400


class Counters(Protocol):
    async def hit(self, bucket: str, key: str, limit: int, window: int, cost: int = 1) -> float | None:
        """Add ``cost`` to the window; None while within ``limit``, else seconds until the window ends."""


class LocalCounters:
    """Fixed windows in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.time, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._counts: dict[tuple[str, str, int], int] = {}

    async def hit(self, bucket: str, key: str, limit: int, window: int, cost: int = 1) -> float | None:
        now = self.clock()
        start = int(now // window) * window
        if len(self._counts) >= self.max_keys:
            self._counts = {k: v for k, v in self._counts.items() if k[2] + window > now}
        slot = (bucket, key, start)
        total = self._counts.get(slot, 0) + cost
        self._counts[slot] = total
        spent = total >= limit if cost == 0 else total > limit
        return max(1.0, start + window - now) if spent else None


class SharedCounters:
    """Counters in PostgreSQL through PostgREST ``/rpc/edge_hit``."""

    def __init__(self, url: str, key: str, client: httpx.AsyncClient | None = None) -> None:
        self.endpoint = f"{url.rstrip('/')}/rest/v1/rpc/edge_hit"
        self.headers = {"apikey": key, "authorization": f"Bearer {key}"}
        self._own = client is None
        self.client = client or httpx.AsyncClient(timeout=3.0, trust_env=False, follow_redirects=False)
        self.fallback = LocalCounters()
        self._warned = False

    async def aclose(self) -> None:
        if self._own:
            await self.client.aclose()

    async def hit(self, bucket: str, key: str, limit: int, window: int, cost: int = 1) -> float | None:
        # This process's own count is kept too, so an outage falls back on a count with history.
        local = await self.fallback.hit(bucket, key, limit, window, cost)
        args = {
            "p_bucket": bucket,
            "p_key": key,
            "p_limit": limit,
            "p_window_seconds": window,
            "p_cost": cost,
        }
        try:
            reply = await self.client.post(self.endpoint, json=args, headers=self.headers)
            reply.raise_for_status()
            wait = int(reply.json())
        except (httpx.HTTPError, ValueError, TypeError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("shared limits unavailable (%s); counting in this process", type(exc).__name__)
            return local
        return float(wait) if wait > 0 else None


class WindowLimiter:
    """``per_minute`` requests per client key in one-minute windows of ``counters``."""

    def __init__(self, counters: Counters, bucket: str, per_minute: int) -> None:
        self.counters = counters
        self.bucket = bucket
        self.per_minute = per_minute

    async def take(self, key: str) -> float | None:
        return await self.counters.hit(self.bucket, key, self.per_minute, 60)


def counters_for(settings: Settings) -> Counters:
    if settings.uses_supabase:
        return SharedCounters(settings.supabase_url or "", settings.supabase_key or "")
    return LocalCounters()


def limiter_for(counters: Counters, bucket: str, per_minute: int) -> Limiter:
    """Shared windows with Supabase; else the in-process token bucket (the local default)."""
    if isinstance(counters, SharedCounters):
        return WindowLimiter(counters, bucket, per_minute)
    return RateLimiter(per_minute)


def estimate_tokens(chars: int) -> int:
    """A provider-independent estimate of the tokens in ``chars`` characters: about four per token."""
    return max(1, math.ceil(chars / 4))


@dataclass
class Budget:
    """The site's daily provider budget: requests and (estimated) tokens."""

    counters: Counters
    daily_requests: int
    daily_tokens: int

    async def allows(self) -> bool:
        """Take one provider request from today's budget; False once requests or tokens are spent."""
        if await self.counters.hit("chat-tokens", SITE, self.daily_tokens, DAY, cost=0) is not None:
            return False
        return await self.counters.hit("chat-requests", SITE, self.daily_requests, DAY) is None

    async def spend(self, tokens: int) -> None:
        await self.counters.hit("chat-tokens", SITE, self.daily_tokens, DAY, cost=max(0, tokens))
