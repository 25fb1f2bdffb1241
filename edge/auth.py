"""Verification of Supabase Auth access tokens with PyJWT.

The key decides the algorithm, never the token's header alone: a JWKS key
allows only the algorithm of its own type (an RS256 header naming an EC key's
``kid`` is refused), the legacy secret only HS256, so an HS256 token "signed"
with a public key or an ``alg: none`` token fails. Every malformed token is an
:class:`AuthError` (401), whatever exception the parser would raise.

The signing keys come from :class:`KeySet`: fetched asynchronously with a short
timeout (never blocking the event loop), cached, and refreshed in the
background while the cached keys keep serving. Only when there are no keys at
all and the JWKS endpoint does not answer is it :class:`KeysUnavailable` (503).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from edge.settings import Settings

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
MAX_TOKEN_BYTES = 8192


class AuthError(Exception):
    """The request carries no usable token; the message is safe to show."""


class KeysUnavailable(Exception):
    """The JWKS endpoint did not answer and no keys are cached."""


@dataclass(frozen=True)
class User:
    id: str
    email: str | None
    role: str
    token: str
    claims: dict[str, Any]

    @property
    def is_staff(self) -> bool:
        meta = self.claims.get("app_metadata") or {}
        return isinstance(meta, dict) and meta.get("role") == "staff"


class KeySet:
    """The signing keys published at a JWKS URL, cached with stale-while-refresh.

    - fresh cache (younger than ``ttl``): served as is; an unknown ``kid`` refetches
      at most once per ``min_refetch`` seconds (key rotation);
    - stale cache: served while one background task refreshes it;
    - no cache: the request waits for one fetch (shared by concurrent requests),
      bounded by ``timeout``.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        ttl: float = 600.0,
        timeout: float = 3.0,
        min_refetch: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.timeout = timeout
        self.min_refetch = min_refetch
        self.clock = clock
        self._own = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched = -1e18
        self._attempted = -1e18
        self._pending: asyncio.Task[None] | None = None

    async def aclose(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        if self._own:
            await self._client.aclose()

    async def _fetch(self) -> None:
        self._attempted = self.clock()
        try:
            reply = await asyncio.wait_for(self._client.get(self.url), self.timeout)
            reply.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(reply.json())
        except (TimeoutError, httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("JWKS fetch failed: %s", type(exc).__name__)
            raise KeysUnavailable from exc
        self._keys = {str(k.key_id): k for k in keyset.keys if k.key_id}
        self._fetched = self.clock()

    def _refresh(self) -> asyncio.Task[None]:
        """One fetch in flight at a time, shared by whoever needs it."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._fetch())
            # A background refresh that fails leaves the stale keys in place; retrieve its error.
            self._pending.add_done_callback(lambda t: t.cancelled() or t.exception())
        return self._pending

    async def key(self, kid: str) -> jwt.PyJWK:
        now = self.clock()
        if self._keys is None:
            await asyncio.shield(self._refresh())
        elif now - self._fetched > self.ttl:
            self._refresh()  # stale: serve the cached keys, refresh behind them
        elif kid not in self._keys and now - self._attempted > self.min_refetch:
            # On failure the cached keys still stand; the kid is simply unknown.
            with contextlib.suppress(KeysUnavailable):
                await asyncio.shield(self._refresh())
        keys = self._keys or {}
        if kid not in keys:
            raise AuthError("no signing key for this token")
        return keys[kid]


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    token = token.strip()
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthError("token too long")
    return token


def jwks_url(settings: Settings) -> str:
    return f"{(settings.supabase_url or '').rstrip('/')}/auth/v1/.well-known/jwks.json"


async def verify_token(token: str, settings: Settings, keys: KeySet) -> User:
    """Verify a Supabase access token and return its user, or raise AuthError (KeysUnavailable)."""
    base = (settings.supabase_url or "").rstrip("/")
    issuer = settings.secret("SUPABASE_JWT_ISSUER") or f"{base}/auth/v1"
    audience = settings.secret("SUPABASE_JWT_AUDIENCE") or "authenticated"
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise AuthError("malformed token") from exc
    alg, kid = header.get("alg"), header.get("kid")
    secret = settings.secret("SUPABASE_JWT_SECRET")
    key: Any
    if alg == "HS256" and secret:
        key = secret
    elif alg in ASYMMETRIC_ALGORITHMS and base and isinstance(kid, str):
        jwk = await keys.key(kid)
        if jwk.algorithm_name != alg:
            raise AuthError("the token's algorithm does not match its key")
        key = jwk.key
    else:
        raise AuthError(f"token algorithm {str(alg)[:20]!r} is not accepted")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        # TypeError/ValueError: a key of one type handed a signature of another shape.
        raise AuthError(f"invalid token: {type(exc).__name__}") from exc
    if not isinstance(claims.get("sub"), str):
        raise AuthError("invalid token: sub")
    return User(
        id=str(claims["sub"]),
        email=claims.get("email") if isinstance(claims.get("email"), str) else None,
        role=str(claims.get("role", "")),
        token=token,
        claims=claims,
    )
