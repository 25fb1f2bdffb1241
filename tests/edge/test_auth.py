"""edge.auth against a real loopback JWKS endpoint."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge.auth import AuthError, KeySet, KeysUnavailable, User, bearer_token, jwks_url, verify_token
from edge.settings import Settings
from tests.support.jwt import (
    TEST_JWT_SECRET,
    SigningKey,
    generate_signing_key,
    hs256_with_public_key,
    jwks,
    sign_hs256,
    unsigned_token,
    user_claims,
)


class _Server:
    def __init__(self, keys: list[SigningKey]) -> None:
        body = json.dumps(jwks(*keys)).encode()
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                if self.path != "/auth/v1/.well-known/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def keys() -> list[SigningKey]:
    return [generate_signing_key("ES256"), generate_signing_key("RS256")]


@pytest.fixture(scope="module")
def server(keys: list[SigningKey]) -> Iterator[_Server]:
    srv = _Server(keys)
    yield srv
    srv.httpd.shutdown()


def _settings(url: str, tmp: Path, secret: str | None = None) -> Settings:
    env = {"SUPABASE_URL": url, "SUPABASE_PUBLISHABLE_KEY": "pk"}
    if secret:
        env["SUPABASE_JWT_SECRET"] = secret
    return Settings(data_dir=tmp, local_dir=tmp, site={"production": True}, env=env)


def verify(token: str, settings: Settings) -> User:
    async def run() -> User:
        keys = KeySet(jwks_url(settings))
        try:
            return await verify_token(token, settings, keys)
        finally:
            await keys.aclose()

    return asyncio.run(run())


def _claims(url: str, **kw: Any) -> dict[str, Any]:
    return user_claims(uuid.uuid4(), "a@example.com", issuer=f"{url}/auth/v1", **kw)


def test_asymmetric_tokens_verify(server: _Server, keys: list[SigningKey], tmp_path: Path) -> None:
    settings = _settings(server.url, tmp_path)
    for key in keys:
        claims = _claims(server.url)
        user = verify(key.sign(claims), settings)
        assert user.id == claims["sub"] and user.email == "a@example.com"
    assert "/auth/v1/.well-known/jwks.json" in server.hits


def test_hs256_only_when_secret_set(server: _Server, tmp_path: Path) -> None:
    claims = _claims(server.url)
    token = sign_hs256(claims)
    assert verify(token, _settings(server.url, tmp_path, TEST_JWT_SECRET)).id == claims["sub"]
    with pytest.raises(AuthError, match="not accepted"):
        verify(token, _settings(server.url, tmp_path))


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "audience",
        "issuer",
        "none",
        "confusion",
        "forged",
        "unknown_kid",
        "no_exp",
        "garbage",
        "rs256_header_es256_kid",
        "es256_header_rs256_kid",
        "kid_not_text",
        "sub_not_text",
        "header_not_json",
    ],
)
def test_bad_tokens_rejected(case: str, server: _Server, keys: list[SigningKey], tmp_path: Path) -> None:
    settings = _settings(server.url, tmp_path, TEST_JWT_SECRET)
    key = keys[0]
    if case == "expired":
        token = key.sign(_claims(server.url, expires_in=-120))
    elif case == "audience":
        token = key.sign(_claims(server.url, audience="somebody-else"))
    elif case == "issuer":
        token = key.sign(user_claims(uuid.uuid4(), issuer="https://evil.example/auth/v1"))
    elif case == "none":
        token = unsigned_token(_claims(server.url))
    elif case == "confusion":
        # Signed with the public key as HMAC secret; must not verify even with a secret configured.
        token = hs256_with_public_key(_claims(server.url), key)
    elif case == "forged":
        other = generate_signing_key("ES256", kid=key.kid)
        token = other.sign(_claims(server.url))
    elif case == "unknown_kid":
        token = generate_signing_key("ES256").sign(_claims(server.url))
    elif case == "no_exp":
        claims = _claims(server.url)
        del claims["exp"]
        token = key.sign(claims)
    elif case == "rs256_header_es256_kid":
        # Once a TypeError inside PyJWT (a 500): the header's algorithm must match the key's type.
        token = _reheader(key.sign(_claims(server.url)), alg="RS256")
    elif case == "es256_header_rs256_kid":
        token = _reheader(keys[1].sign(_claims(server.url)), alg="ES256")
    elif case == "kid_not_text":
        token = _reheader(key.sign(_claims(server.url)), kid=["x"])
    elif case == "sub_not_text":
        token = key.sign({**_claims(server.url), "sub": 42})
    elif case == "header_not_json":
        token = _b64(b"[1,2") + "." + _b64(b"{}") + ".sig"
    else:
        token = "not.a.jwt"
    with pytest.raises(AuthError):
        verify(token, settings)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _reheader(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    return ".".join([_b64(json.dumps({**fields, **changes}).encode()), payload, signature])


def test_jwks_outage_is_keys_unavailable(keys: list[SigningKey], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    token = keys[0].sign(_claims(url))
    with pytest.raises(KeysUnavailable):
        verify(token, _settings(url, tmp_path))


def test_stale_keys_keep_serving_while_the_refresh_fails(
    server: _Server, keys: list[SigningKey], tmp_path: Path
) -> None:
    settings = _settings(server.url, tmp_path)
    now = [0.0]

    async def run() -> None:
        keyset = KeySet(jwks_url(settings), ttl=60, clock=lambda: now[0])
        try:
            token = keys[0].sign(_claims(server.url))
            await verify_token(token, settings, keyset)
            keyset.url = "http://127.0.0.1:9/nothing"  # the endpoint goes away
            now[0] = 3600.0  # the cache is stale: refreshed behind, still served
            assert (await verify_token(token, settings, keyset)).id
            await asyncio.sleep(0)
            assert (await verify_token(token, settings, keyset)).id
        finally:
            await keyset.aclose()

    asyncio.run(run())


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    for bad in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(AuthError):
            bearer_token(bad)
