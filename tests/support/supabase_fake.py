"""A Supabase project on loopback for browser tests: Auth and Storage wire formats in front of the
PostgREST test server (``tests/support/postgrest.py``), on its own origin.

What the portal uses, answered the way Supabase answers it:

- Auth (``/auth/v1``): ``POST /otp`` (``{"email", "create_user"}``; an unknown user with
  ``create_user: false`` is refused with 422 ``otp_disabled``), ``POST /verify``
  (``{"type": "email", "email", "token"}`` -> a session: ``access_token`` (ES256, from the key the
  JWKS publishes), ``token_type``, ``expires_in``, ``expires_at``, ``refresh_token``, ``user``;
  a wrong code is 403 ``otp_expired``). The e-mail is not sent: ``codes`` holds the code per address.
- Storage (``/storage/v1``): ``POST /object/upload/sign/<bucket>/<path>`` -> ``{"url", "token"}``
  (a user's bearer token required), ``PUT`` to that URL stores the body (``{"Key", "Id"}``),
  ``POST /object/sign/<bucket>/<path>`` (``{"expiresIn"}``) -> ``{"signedURL"}``, ``GET`` on it
  returns the object, as an attachment when ``download`` is given.
- Every other path (``/rest/v1``, the JWKS) goes to the PostgREST test server's app.
- CORS as Supabase's gateway does it (any origin, the ``apikey``/``authorization``/
  ``content-type`` headers), so the browser's cross-origin calls are the real ones.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jwt
import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from tests.support.jwt import user_claims
from tests.support.postgrest import PostgrestServer


@dataclass
class FakeSupabase:
    postgrest: PostgrestServer
    db: psycopg.Connection[Any]
    url: str = ""
    codes: dict[str, str] = field(default_factory=dict)
    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # "bucket/path" -> (data, type)
    _tickets: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (kind, key)
    calls: list[str] = field(default_factory=list)

    # -- auth -----------------------------------------------------------------

    def _gateway(self, request: Request) -> JSONResponse | None:
        if request.headers.get("apikey") != self.postgrest.publishable_key:
            return JSONResponse({"message": "Invalid API key"}, status_code=401)
        return None

    async def otp(self, request: Request) -> Response:
        self.calls.append("otp")
        if refused := self._gateway(request):
            return refused
        body = await request.json()
        email = str(body.get("email", "")).lower()
        known = self.db.execute("select id from auth.users where lower(email) = %s", (email,)).fetchone()
        if known is None and body.get("create_user") is False:
            return JSONResponse(
                {"code": 422, "error_code": "otp_disabled", "msg": "Signups not allowed for otp"},
                status_code=422,
            )
        self.codes[email] = f"{secrets.randbelow(10**6):06d}"
        return JSONResponse({})

    async def verify(self, request: Request) -> Response:
        self.calls.append("verify")
        if refused := self._gateway(request):
            return refused
        body = await request.json()
        email = str(body.get("email", "")).lower()
        if body.get("type") != "email" or not self.codes.get(email) or self.codes[email] != body.get("token"):
            return JSONResponse(
                {"code": 403, "error_code": "otp_expired", "msg": "Token has expired or is invalid"},
                status_code=403,
            )
        del self.codes[email]
        (uid,) = self.db.execute(
            "select id from auth.users where lower(email) = %s", (email,)
        ).fetchone() or (None,)
        claims = user_claims(uid, email, issuer=f"{self.url}/auth/v1")
        token = self.postgrest.signing_key.sign(claims)
        user = {"id": str(uid), "aud": "authenticated", "role": "authenticated", "email": email}
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": 3600,
                "expires_at": int(time.time()) + 3600,
                "refresh_token": secrets.token_urlsafe(16),
                "user": user,
            }
        )

    # -- storage --------------------------------------------------------------

    def _user(self, request: Request) -> JSONResponse | None:
        if refused := self._gateway(request):
            return refused
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            key = self.postgrest.signing_key.public_jwk
            jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], audience="authenticated")
        except jwt.PyJWTError as exc:
            return JSONResponse(
                {"statusCode": "403", "error": "Unauthorized", "message": str(exc)}, status_code=400
            )
        return None

    def _ticket(self, kind: str, key: str) -> str:
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = (kind, key)
        return ticket

    async def sign_upload(self, request: Request) -> Response:
        self.calls.append("sign-upload")
        if refused := self._user(request):
            return refused
        key = f"{request.path_params['bucket']}/{request.path_params['path']}"
        ticket = self._ticket("upload", key)
        return JSONResponse({"url": f"/object/upload/sign/{quote(key)}?token={ticket}", "token": ticket})

    async def upload(self, request: Request) -> Response:
        self.calls.append("upload")
        key = f"{request.path_params['bucket']}/{request.path_params['path']}"
        if self._tickets.pop(request.query_params.get("token", ""), None) != ("upload", key):
            return JSONResponse(
                {"statusCode": "400", "error": "InvalidJWT", "message": "invalid signature"}, status_code=400
            )
        self.objects[key] = (
            await request.body(),
            request.headers.get("content-type", "application/octet-stream"),
        )
        return JSONResponse({"Key": key, "Id": str(uuid.uuid4())})

    async def sign_download(self, request: Request) -> Response:
        self.calls.append("sign-download")
        if refused := self._user(request):
            return refused
        key = f"{request.path_params['bucket']}/{request.path_params['path']}"
        if key not in self.objects:
            return JSONResponse(
                {"statusCode": "404", "error": "not_found", "message": "Object not found"}, status_code=400
            )
        return JSONResponse({"signedURL": f"/object/sign/{quote(key)}?token={self._ticket('download', key)}"})

    async def download(self, request: Request) -> Response:
        self.calls.append("download")
        key = f"{request.path_params['bucket']}/{request.path_params['path']}"
        if self._tickets.get(request.query_params.get("token", "")) != ("download", key):
            return JSONResponse(
                {"statusCode": "400", "error": "InvalidJWT", "message": "invalid signature"}, status_code=400
            )
        data, kind = self.objects[key]
        headers = {}
        if "download" in request.query_params:
            name = request.query_params["download"] or key.rsplit("/", 1)[-1]
            headers["content-disposition"] = f'attachment; filename="{name}"'
        return Response(data, media_type=kind, headers=headers)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/auth/v1/otp", self.otp, methods=["POST"]),
                Route("/auth/v1/verify", self.verify, methods=["POST"]),
                Route(
                    "/storage/v1/object/upload/sign/{bucket}/{path:path}", self.sign_upload, methods=["POST"]
                ),
                Route("/storage/v1/object/upload/sign/{bucket}/{path:path}", self.upload, methods=["PUT"]),
                Route("/storage/v1/object/sign/{bucket}/{path:path}", self.sign_download, methods=["POST"]),
                Route("/storage/v1/object/sign/{bucket}/{path:path}", self.download, methods=["GET"]),
                Mount("/", app=self.postgrest.app),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                    allow_headers=["apikey", "authorization", "content-type", "x-client-info", "x-upsert"],
                    max_age=3600,
                )
            ],
        )


@contextmanager
def running(fake: FakeSupabase) -> Iterator[FakeSupabase]:
    """Serve the fake on its own loopback port (its own origin) while the block runs."""
    from tests.support.servers import serve

    with serve(fake.app()) as url:
        fake.url = url
        yield fake
