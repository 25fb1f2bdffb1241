"""edge.auth against a real loopback JWKS endpoint."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.auth import (
    MAX_TOKEN_BYTES,
    AuthError,
    KeySet,
    KeysUnavailable,
    User,
    bearer_token,
    jwks_url,
    verify_token,
)
from edge.settings import Settings
from tests.support.edgesite import built_edge
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
    return Settings(data_dir=tmp, local_dir=tmp, site=built_edge(), env=env)


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


# --------------------------------------------------------------------------- what a caller is told
# The reason is shown to the caller in the 401 ("not signed in: <reason>"), so it is part of the
# behaviour: each refusal names its own cause.


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Authorization: Bearer token"),
        ("", "missing Authorization: Bearer token"),
        ("Basic abc", "Authorization header must be 'Bearer <token>'"),
        ("Bearer   ", "Authorization header must be 'Bearer <token>'"),
        ("Bearer " + "a" * (MAX_TOKEN_BYTES + 1), "token too long"),
    ],
)
def test_a_refused_authorization_header_says_why(header: str | None, reason: str) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_token(header)
    assert str(caught.value) == reason


def test_the_token_may_be_exactly_the_size_limit_and_spaced_from_its_scheme() -> None:
    assert bearer_token("Bearer " + "a" * MAX_TOKEN_BYTES) == "a" * MAX_TOKEN_BYTES
    assert bearer_token("bearer   abc  ") == "abc"


def _reason(token: str, settings: Settings) -> str:
    with pytest.raises(AuthError) as caught:
        verify(token, settings)
    return str(caught.value)


def test_a_refused_token_says_why(server: _Server, keys: list[SigningKey], tmp_path: Path) -> None:
    settings = _settings(server.url, tmp_path, TEST_JWT_SECRET)
    key = keys[0]
    assert _reason("not.a.jwt", settings) == "malformed token"
    assert _reason(_reheader(key.sign(_claims(server.url)), alg="RS256"), settings) == (
        "the token's algorithm does not match its key"
    )
    assert _reason(key.sign(_claims(server.url, expires_in=-120)), settings) == (
        "invalid token: ExpiredSignatureError"
    )
    assert (
        _reason(key.sign({**_claims(server.url), "sub": 42}), settings)
        == "invalid token: InvalidSubjectError"
    )
    unknown = generate_signing_key("ES256").sign(_claims(server.url))
    assert _reason(unknown, settings) == "no signing key for this token"
    # An algorithm name from the token is quoted, cut to 20 characters.
    long_alg = _reheader(key.sign(_claims(server.url)), alg="ES256" + "X" * 30)
    assert _reason(long_alg, settings) == f"token algorithm {('ES256' + 'X' * 15)!r} is not accepted"


def test_a_key_id_does_not_make_a_token_asymmetric(
    server: _Server, keys: list[SigningKey], tmp_path: Path
) -> None:
    # HS256 with a kid but no secret configured; ES256 without a kid: neither may reach the key set.
    settings = _settings(server.url, tmp_path)
    hs = sign_hs256(_claims(server.url), headers={"kid": keys[0].kid})
    assert _reason(hs, settings) == "token algorithm 'HS256' is not accepted"
    header, payload, signature = keys[0].sign(_claims(server.url)).split(".")
    no_kid = ".".join([_b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode()), payload, signature])
    assert _reason(no_kid, settings) == "token algorithm 'ES256' is not accepted"


def test_without_a_supabase_url_asymmetric_tokens_are_not_accepted(
    keys: list[SigningKey], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, local_dir=tmp_path, site=built_edge(), env={"SUPABASE_JWT_SECRET": TEST_JWT_SECRET}
    )
    token = keys[0].sign(_claims(""))
    assert _reason(token, settings) == "token algorithm 'ES256' is not accepted"


def test_a_trailing_slash_on_the_supabase_url_changes_nothing(
    server: _Server, keys: list[SigningKey], tmp_path: Path
) -> None:
    settings = _settings(server.url + "/", tmp_path)
    assert jwks_url(settings) == f"{server.url}/auth/v1/.well-known/jwks.json"
    claims = _claims(server.url)
    assert verify(keys[0].sign(claims), settings).id == claims["sub"]

    # Self-hosted behind a path: only the trailing slash goes.
    behind = _settings("https://db.example.com/supabaseX/", tmp_path, TEST_JWT_SECRET)
    assert jwks_url(behind) == "https://db.example.com/supabaseX/auth/v1/.well-known/jwks.json"
    claims = user_claims(uuid.uuid4(), issuer="https://db.example.com/supabaseX/auth/v1")
    assert verify(sign_hs256(claims), behind).id == claims["sub"]


def test_configured_issuer_and_audience_replace_the_defaults(
    server: _Server, keys: list[SigningKey], tmp_path: Path
) -> None:
    env = {
        "SUPABASE_URL": server.url,
        "SUPABASE_PUBLISHABLE_KEY": "pk",
        "SUPABASE_JWT_ISSUER": "https://auth.example.com",
        "SUPABASE_JWT_AUDIENCE": "portal",
    }
    settings = Settings(data_dir=tmp_path, local_dir=tmp_path, site=built_edge(), env=env)
    claims = user_claims(uuid.uuid4(), issuer="https://auth.example.com", audience="portal")
    assert verify(keys[0].sign(claims), settings).id == claims["sub"]
    default_audience = user_claims(uuid.uuid4(), issuer="https://auth.example.com")
    assert _reason(keys[0].sign(default_audience), settings) == "invalid token: InvalidAudienceError"
    wrong_issuer = user_claims(uuid.uuid4(), issuer=f"{server.url}/auth/v1", audience="portal")
    assert _reason(keys[0].sign(wrong_issuer), settings) == "invalid token: InvalidIssuerError"


def test_the_verified_user_carries_the_tokens_identity(
    server: _Server, keys: list[SigningKey], tmp_path: Path
) -> None:
    settings = _settings(server.url, tmp_path)
    claims = _claims(server.url, app_metadata={"role": "staff"})
    token = keys[0].sign(claims)
    user = verify(token, settings)
    assert (user.id, user.email, user.role, user.token) == (
        claims["sub"],
        "a@example.com",
        "authenticated",
        token,
    )
    assert user.claims["session_id"] == claims["session_id"] and user.is_staff
    odd = {**_claims(server.url), "email": 42}
    del odd["role"]
    user = verify(keys[0].sign(odd), settings)
    assert (user.email, user.role, user.is_staff) == (None, "", False)


# --------------------------------------------------------------------------- the key cache


def test_keys_are_refetched_once_older_than_ten_minutes(server: _Server, keys: list[SigningKey]) -> None:
    now = [0.0]

    async def run() -> list[int]:
        keyset = KeySet(f"{server.url}/auth/v1/.well-known/jwks.json", clock=lambda: now[0])
        counts = []
        try:
            before = len(server.hits)
            for t in (0.0, 600.0, 600.5):
                now[0] = 5000.0 + t  # a monotonic clock starts anywhere
                await keyset.key(keys[0].kid)
                await asyncio.sleep(0.05)  # let a background refresh run
                if keyset._pending is not None:
                    await asyncio.wait([keyset._pending])
                counts.append(len(server.hits) - before)
        finally:
            await keyset.aclose()
        return counts

    assert asyncio.run(run()) == [1, 1, 2]


def test_an_unknown_key_id_refetches_at_most_every_thirty_seconds(
    server: _Server, keys: list[SigningKey]
) -> None:
    now = [0.0]
    unknown = uuid.uuid4().hex

    async def run() -> list[int]:
        keyset = KeySet(f"{server.url}/auth/v1/.well-known/jwks.json", clock=lambda: now[0])
        counts = []
        try:
            before = len(server.hits)
            for t, kid in (
                (0.0, keys[0].kid),
                (10.0, unknown),
                (30.0, unknown),
                (30.5, unknown),
                (31.0, keys[0].kid),
            ):
                now[0] = 5000.0 + t
                with contextlib.suppress(AuthError):
                    await keyset.key(kid)
                counts.append(len(server.hits) - before)
        finally:
            await keyset.aclose()
        return counts

    # The fetch at 0 s; the unknown kid at 10 s and 30 s is within the 30 s; at 30.5 s one refetch;
    # a known kid never refetches.
    assert asyncio.run(run()) == [1, 1, 1, 2, 2]


def test_an_unknown_key_id_is_a_401_even_when_the_refetch_fails(
    server: _Server, keys: list[SigningKey]
) -> None:
    now = [0.0]

    async def run() -> str:
        keyset = KeySet(f"{server.url}/auth/v1/.well-known/jwks.json", clock=lambda: now[0])
        try:
            await keyset.key(keys[0].kid)
            keyset.url = "http://127.0.0.1:9/gone"
            now[0] = 100.0
            with pytest.raises(AuthError) as caught:
                await keyset.key(uuid.uuid4().hex)
            return str(caught.value)
        finally:
            await keyset.aclose()

    assert asyncio.run(run()) == "no signing key for this token"


class _Silent:
    """A TCP server that accepts connections and never answers."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/jwks.json"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


@pytest.mark.parametrize("own_client", [True, False])
def test_a_jwks_endpoint_that_never_answers_is_keys_unavailable(own_client: bool) -> None:
    async def run() -> None:
        with _Silent() as url:
            # A caller's client without a timeout of its own: the key set still bounds the wait.
            client = None if own_client else httpx.AsyncClient(timeout=None)
            keyset = KeySet(url, client=client, timeout=0.2)
            try:
                with pytest.raises(KeysUnavailable):
                    await asyncio.wait_for(keyset.key("k"), 20)
            finally:
                await keyset.aclose()
                if client is not None:
                    await client.aclose()

    asyncio.run(run())


def test_a_sign_in_waits_three_seconds_at_most_for_the_keys() -> None:
    """The bound the portal's sign-in gets by default (the test above proves the bound is applied,
    with 0.2 s; waiting the real 3 s would only test asyncio's clock)."""
    keyset = KeySet("http://127.0.0.1:9/jwks.json")
    try:
        assert keyset.timeout == 3.0
    finally:
        asyncio.run(keyset.aclose())


def test_the_jwks_fetch_ignores_proxy_settings_in_the_environment(
    server: _Server, keys: list[SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")

    async def run() -> None:
        keyset = KeySet(f"{server.url}/auth/v1/.well-known/jwks.json")
        try:
            assert (await keyset.key(keys[0].kid)).key_id == keys[0].kid
        finally:
            await keyset.aclose()

    asyncio.run(run())


def test_a_redirecting_jwks_endpoint_is_not_followed(server: _Server, keys: list[SigningKey]) -> None:
    # Following it would let whoever the redirect names supply the keys that sign tokens.
    target = f"{server.url}/auth/v1/.well-known/jwks.json"

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("location", target)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    async def run() -> None:
        keyset = KeySet(f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json")
        try:
            with pytest.raises(KeysUnavailable):
                await keyset.key(keys[0].kid)
        finally:
            await keyset.aclose()

    try:
        asyncio.run(run())
    finally:
        httpd.shutdown()


def test_a_failed_fetch_is_logged_by_its_kind_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="edge.auth")

    async def run() -> None:
        keyset = KeySet("http://127.0.0.1:9/secret-path/jwks.json")
        try:
            with pytest.raises(KeysUnavailable):
                await keyset.key("k")
        finally:
            await keyset.aclose()

    asyncio.run(run())
    assert [r.getMessage() for r in caplog.records if r.name == "edge.auth"] == [
        "JWKS fetch failed: ConnectError"
    ]


def test_a_failed_background_refresh_leaves_no_unhandled_error(
    server: _Server, keys: list[SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    now = [0.0]

    async def run() -> None:
        keyset = KeySet(f"{server.url}/auth/v1/.well-known/jwks.json", ttl=60, clock=lambda: now[0])
        try:
            await keyset.key(keys[0].kid)
            keyset.url = "http://127.0.0.1:9/gone"
            now[0] = 3600.0
            await keyset.key(keys[0].kid)  # stale: served, refreshed behind
            await asyncio.sleep(0.2)
            keyset._pending = None  # drop the last reference to the failed task
        finally:
            await keyset.aclose()

    asyncio.run(run())
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_closing_the_key_set_closes_only_its_own_client() -> None:
    async def run() -> tuple[bool, bool]:
        theirs = httpx.AsyncClient()
        borrowed, own = KeySet("http://127.0.0.1:9/a", client=theirs), KeySet("http://127.0.0.1:9/b")
        await borrowed.aclose()
        await own.aclose()
        closed = (theirs.is_closed, own._client.is_closed)
        await theirs.aclose()
        return closed

    assert asyncio.run(run()) == (False, True)
