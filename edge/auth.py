"""Verification of Supabase Auth access tokens with PyJWT.

The key type decides the algorithms, never the token's header: a JWKS key
(RSA/EC) allows only RS256/ES256, the legacy secret only HS256, so an HS256
token "signed" with a public key or an ``alg: none`` token fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

from edge.settings import Settings

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]


class AuthError(Exception):
    """The request carries no usable token; the message is safe to show."""


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


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # Cached per URL so keys are fetched once and refreshed on an unknown kid.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=600)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def verify_token(token: str, settings: Settings) -> User:
    """Verify a Supabase access token and return its user, or raise AuthError."""
    base = (settings.supabase_url or "").rstrip("/")
    issuer = settings.secret("SUPABASE_JWT_ISSUER") or f"{base}/auth/v1"
    audience = settings.secret("SUPABASE_JWT_AUDIENCE") or "authenticated"
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError(f"malformed token: {exc}") from exc
    alg = header.get("alg")
    secret = settings.secret("SUPABASE_JWT_SECRET")
    key: Any
    if alg == "HS256" and secret:
        key, algorithms = secret, ["HS256"]
    elif alg in ASYMMETRIC_ALGORITHMS and base:
        try:
            key = _jwks_client(f"{base}/auth/v1/.well-known/jwks.json").get_signing_key_from_jwt(token).key
        except jwt.PyJWTError as exc:
            raise AuthError(f"no signing key for token: {exc}") from exc
        algorithms = ASYMMETRIC_ALGORITHMS
    else:
        raise AuthError(f"token algorithm {alg!r} is not accepted")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    return User(
        id=str(claims["sub"]),
        email=claims.get("email"),
        role=str(claims.get("role", "")),
        token=token,
        claims=claims,
    )
