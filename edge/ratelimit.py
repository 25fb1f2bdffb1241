"""Who is asking (a keyed hash of the client address, never the address) and how often.

Which address is believed (:class:`Trust`):

- behind Netlify, only a request that carries a valid ``X-Nf-Sign`` (the JWS a
  *signed* proxy rule adds, HS256 with the secret named by site.yaml
  ``edge.proxy_signature_env``) came through the site's own ``/api/*`` rule;
  for it, the last ``X-Forwarded-For`` entry (the one Netlify appended) is the
  visitor. ``X-Nf-Client-Connection-Ip`` is preferred when present;
- on Vercel's own runtime (``VERCEL=1`` in the function's environment), the
  platform's ``X-Vercel-Forwarded-For`` / ``X-Real-Ip``, which Vercel sets itself;
- otherwise the socket address. A forged header on a direct request changes nothing.

The address is turned into :func:`client_key`, an HMAC under a key that rotates
every day (derived from ``SITEGEN_CLIENT_KEY_SECRET`` when set, so every worker
and instance agrees; else random per process). No address is stored or logged.

Limiters: :class:`RateLimiter` (token bucket in this process, the local
default) and :class:`edge.limits.WindowLimiter` over shared counters (PostgreSQL,
with Supabase).
Both answer ``await take(key)`` with None (allowed) or seconds to wait.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import jwt
from starlette.types import Scope

_PROCESS_SECRET = secrets.token_bytes(32)
DAY = 86400


class Limiter(Protocol):
    async def take(self, key: str) -> float | None:
        """Take one request's worth; None when allowed, else seconds until allowed."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1").strip()
    return None


@dataclass(frozen=True)
class Trust:
    """What this deployment's platform can prove about the client address."""

    netlify_secret: str | None = None  # the signed proxy rule's secret
    vercel: bool = False  # running on Vercel's own runtime

    @classmethod
    def from_env(cls, env: Mapping[str, str], signature_env: str) -> Trust:
        secret = env.get(signature_env, "").strip() if signature_env else ""
        return cls(netlify_secret=secret or None, vercel=env.get("VERCEL", "") == "1")

    def signed_by_netlify(self, scope: Scope) -> bool:
        sign = _header(scope, b"x-nf-sign")
        if not self.netlify_secret or not sign or len(sign) > 4096:
            return False
        try:
            jwt.decode(
                sign,
                self.netlify_secret,
                algorithms=["HS256"],
                issuer="netlify",
                options={"require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return False
        return True

    def address(self, scope: Scope) -> str:
        """The client address this deployment can vouch for."""
        if self.vercel:
            platform = _header(scope, b"x-vercel-forwarded-for") or _header(scope, b"x-real-ip")
            if platform:
                return platform.split(",")[0].strip()
        elif self.signed_by_netlify(scope):
            direct = _header(scope, b"x-nf-client-connection-ip")
            if direct:
                return direct
            chain = [a.strip() for a in (_header(scope, b"x-forwarded-for") or "").split(",") if a.strip()]
            if chain:
                return chain[-1]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"


class Visitors:
    """Turns a request into its client key under this deployment's trust and key secret."""

    def __init__(self, trust: Trust, secret: str | None) -> None:
        self.trust = trust
        self.secret = secret.encode() if secret else None

    @classmethod
    def from_env(cls, env: Mapping[str, str], signature_env: str) -> Visitors:
        return cls(
            Trust.from_env(env, signature_env), env.get("SITEGEN_CLIENT_KEY_SECRET", "").strip() or None
        )

    def key(self, scope: Scope) -> str:
        return client_key(scope, self.trust, self.secret)


def day_key(secret: bytes | None, now: float | None = None) -> bytes:
    """Today's hashing key: yesterday's hashes cannot be linked to today's."""
    day = int((time.time() if now is None else now) // DAY)
    return hmac.new(secret or _PROCESS_SECRET, f"client-key:{day}".encode(), hashlib.sha256).digest()


def client_key(scope: Scope, trust: Trust | None = None, secret: bytes | None = None) -> str:
    """Opaque, non-reversible id of the requesting client (32 hex characters)."""
    address = (trust or Trust()).address(scope)
    return hmac.new(day_key(secret), address.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per client key in this process: ``per_minute`` requests, bursts up to ``burst``."""

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

    async def take(self, key: str) -> float | None:
        return self.hit(key)

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
