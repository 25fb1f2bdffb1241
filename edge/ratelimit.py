"""Per-client rate limiting without keeping IP addresses.

A client is identified by an HMAC of its address under a random key that lives
only in this process's memory, so the stored key cannot be turned back into
an address (and is useless after a restart).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import Scope

_PROCESS_KEY = secrets.token_bytes(32)


def _trusted_hops() -> int:
    try:
        return max(0, int(os.environ.get("SITEGEN_TRUSTED_PROXY_HOPS", "0")))
    except ValueError:
        return 0


def client_key(scope: Scope, key: bytes = _PROCESS_KEY, trusted_hops: int | None = None) -> str:
    """Opaque, non-reversible id of the requesting client.

    ``x-forwarded-for`` is only believed for the proxies we run behind
    (``SITEGEN_TRUSTED_PROXY_HOPS``, e.g. 1 behind Netlify's /api proxy): a
    visitor can write anything into the header, so the address is taken that
    many hops from the right, where our own proxies appended it. The address is
    hashed and never stored in clear.
    """
    hops = _trusted_hops() if trusted_hops is None else trusted_hops
    address = ""
    if hops:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for":
                chain = [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
                if chain:
                    address = chain[max(0, len(chain) - hops)]
                break
    if not address:
        client = scope.get("client")
        address = client[0] if client else "unknown"
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per client key: ``per_minute`` requests, bursts up to ``burst``."""

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 50_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, key: str) -> float | None:
        """Take one token; return None when allowed, else seconds until allowed."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._evict(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else 60.0

    def _evict(self, now: float) -> None:
        # Drop buckets that have refilled completely: they carry no state.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()
