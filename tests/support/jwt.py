"""Minting Supabase-style access tokens for tests.

Two kinds of signing are covered, matching what a Supabase project offers:

- the legacy shared secret (HS256), used by the PostgREST test server and by
  `SUPABASE_JWT_SECRET`;
- asymmetric signing keys (RS256 and ES256) published as a JWKS, which the
  portal handler fetches from ``<SUPABASE_URL>/auth/v1/.well-known/jwks.json``.

The claim set follows what Supabase Auth puts in an access token (iss, sub,
aud, exp, iat, email, phone, app_metadata, user_metadata, role, aal, amr,
session_id, is_anonymous).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

# Long enough for PyJWT's minimum HMAC key length checks (>= 256 bits).
TEST_JWT_SECRET = "sitegen-test-jwt-secret-not-for-production-0123456789"
DEFAULT_ISSUER = "http://127.0.0.1/auth/v1"


def user_claims(
    user_id: uuid.UUID | str,
    email: str | None = None,
    role: str = "authenticated",
    *,
    issuer: str = DEFAULT_ISSUER,
    audience: str | list[str] = "authenticated",
    expires_in: int = 3600,
    app_metadata: dict[str, Any] | None = None,
    user_metadata: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The claims Supabase Auth puts in a user's access token; ``extra`` overrides or adds any."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": audience,
        "exp": now + expires_in,
        "iat": now,
        "email": email or "",
        "phone": "",
        "app_metadata": app_metadata
        if app_metadata is not None
        else {"provider": "email", "providers": ["email"]},
        "user_metadata": user_metadata if user_metadata is not None else {},
        "role": role,
        "aal": "aal1",
        "amr": [{"method": "otp", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    claims.update(extra)
    return claims


def api_key_claims(
    role: str, *, issuer: str = "supabase", expires_in: int = 10 * 365 * 24 * 3600
) -> dict[str, Any]:
    """Claims of a legacy project API key (the anon or service_role JWT)."""
    now = int(time.time())
    return {"iss": issuer, "ref": "sitegen-test", "role": role, "iat": now, "exp": now + expires_in}


def sign_hs256(
    claims: dict[str, Any], secret: str = TEST_JWT_SECRET, *, headers: dict[str, Any] | None = None
) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def anon_key(secret: str = TEST_JWT_SECRET) -> str:
    return sign_hs256(api_key_claims("anon"), secret)


def service_role_key(secret: str = TEST_JWT_SECRET) -> str:
    return sign_hs256(api_key_claims("service_role"), secret)


def unsigned_token(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token, for tests that must see it rejected."""
    return jwt.encode(claims, "", algorithm="none")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The algorithm-confusion forgery: HS256 keyed with the *public* PEM of an asymmetric key.

    PyJWT refuses to produce it, so it is assembled by hand; a verifier that
    lets the token choose its algorithm would accept it.
    """
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(key.public_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


@dataclass
class SigningKey:
    """An asymmetric signing key with its public JWK (``kid`` set)."""

    algorithm: str  # "RS256" or "ES256"
    kid: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    public_jwk: dict[str, Any] = field(default_factory=dict)

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        all_headers = {"kid": self.kid, **(headers or {})}
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=all_headers)


def generate_signing_key(algorithm: str = "ES256", kid: str | None = None) -> SigningKey:
    """A fresh RS256 or ES256 key; ES256 is what Supabase's asymmetric JWT signing keys use by default."""
    kid = kid or uuid.uuid4().hex
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "RS256":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    elif algorithm == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    else:
        raise ValueError(f"unsupported algorithm {algorithm!r}; use RS256 or ES256")
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig", "key_ops": ["verify"]})
    return SigningKey(algorithm=algorithm, kid=kid, private_key=private_key, public_jwk=jwk)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """The JSON document served at ``/auth/v1/.well-known/jwks.json``."""
    return {"keys": [key.public_jwk for key in keys]}
