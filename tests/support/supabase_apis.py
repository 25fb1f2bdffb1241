"""Loopback Supabase Storage and Auth admin APIs on the PostgREST test server's origin.

A Supabase project serves ``/rest/v1``, ``/storage/v1`` and ``/auth/v1`` from
one URL, so these routes are added to the :class:`PostgrestServer` app: the
``supabase`` client and ``edge.storage`` reach them at ``postgrest.url``.
They speak the services' wire formats (paths, headers, JSON bodies, error
shapes) and keep their state where the real services do, in the test
database: an upload inserts a ``storage.objects`` row, a delete removes it,
deleting an Auth user deletes its ``auth.users`` row (with every foreign key
that cascades from it). Storage checks the caller's RLS policies on
``storage.objects`` as the real service does (it runs its queries as the
caller's role with the JWT claims set); only the bytes live in memory.

Wire formats (Storage API v1, GoTrue):
- ``POST /storage/v1/object/upload/sign/{bucket}/{name}`` → ``{"url": "/object/upload/sign/...?token=T", "token": T}``
- ``PUT /storage/v1/object/upload/sign/{bucket}/{name}?token=T`` (bytes) → ``{"Key": "{bucket}/{name}"}``
- ``POST /storage/v1/object/sign/{bucket}/{name}`` ``{"expiresIn": n}`` → ``{"signedURL": "/object/sign/...?token=T"}``
- ``GET /storage/v1/object/sign/{bucket}/{name}?token=T`` → the bytes
- ``DELETE /storage/v1/object/{bucket}`` ``{"prefixes": [...]}`` → the deleted objects
- ``DELETE /auth/v1/admin/users/{id}`` (service role) → ``{}``; 404 ``user_not_found``
Storage errors are ``{"statusCode": "...", "error": "...", "message": "..."}`` with HTTP 400
(as Storage answers most refusals); GoTrue errors are ``{"code", "error_code", "msg"}``.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.postgrest import ApiError, PostgrestServer


def _storage_error(status: str, error: str, message: str) -> JSONResponse:
    return JSONResponse({"statusCode": status, "error": error, "message": message}, status_code=400)


def _auth_error(status: int, code: str, msg: str) -> JSONResponse:
    return JSONResponse({"code": status, "error_code": code, "msg": msg}, status_code=status)


@dataclass
class SupabaseApis:
    """Storage + Auth admin routes over the test database; ``log`` records (method, path, role)."""

    server: PostgrestServer
    dsn: str  # superuser: the services run as their own privileged roles
    log: list[tuple[str, str, str]] = field(default_factory=list)
    blobs: dict[tuple[str, str], bytes] = field(default_factory=dict)
    _tickets: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    lifetimes: dict[str, int] = field(default_factory=dict)  # "bucket/name" -> expiresIn of its last link

    def install(self) -> None:
        self.server.app.router.routes[:0] = [
            Route(
                "/storage/v1/object/upload/sign/{bucket}/{name:path}", self._upload, methods=["POST", "PUT"]
            ),
            Route("/storage/v1/object/sign/{bucket}/{name:path}", self._signed, methods=["POST", "GET"]),
            Route("/storage/v1/object/{bucket}", self._delete_objects, methods=["DELETE"]),
            Route("/auth/v1/admin/users/{id}", self._delete_user, methods=["DELETE"]),
        ]

    def reset(self) -> None:
        self.log.clear()
        self.blobs.clear()
        self._tickets.clear()
        self.lifetimes.clear()

    # -- helpers ----------------------------------------------------------------

    def _caller(self, request: Request) -> tuple[str, dict[str, Any]]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        role, claims = self.server.authenticate(headers)
        self.log.append((request.method, request.url.path, role))
        return role, claims

    def _as(self, conn: psycopg.Connection[Any], role: str, claims: dict[str, Any]) -> None:
        """What Storage does per request: the caller's role and claims, so RLS applies."""
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))

    # -- Storage ------------------------------------------------------------------

    async def _upload(self, request: Request) -> Response:
        bucket, name = request.path_params["bucket"], request.path_params["name"]
        if request.method == "PUT":
            ticket = self._tickets.pop(request.query_params.get("token", ""), None)
            if ticket is None or ticket[:2] != (bucket, name):
                return _storage_error("400", "InvalidSignature", "The signature is invalid")
            body = await request.body()
            ctype = request.headers.get("content-type", "application/octet-stream").split(";")[0]
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                row = conn.execute(
                    "select file_size_limit, allowed_mime_types from storage.buckets where id = %s", (bucket,)
                ).fetchone()
                if row is None:
                    return _storage_error("404", "Bucket not found", "Bucket not found")
                limit, types = row
                if limit is not None and len(body) > limit:
                    return _storage_error(
                        "413", "Payload too large", "The object exceeded the maximum allowed size"
                    )
                if types is not None and ctype not in types:
                    return _storage_error("415", "invalid_mime_type", f"mime type {ctype} is not supported")
                conn.execute(
                    "insert into storage.objects (bucket_id, name, owner_id, metadata) values (%s, %s, %s, %s)",
                    (bucket, name, ticket[2], json.dumps({"size": len(body), "mimetype": ctype})),
                )
            self.blobs[(bucket, name)] = body
            return JSONResponse({"Key": f"{bucket}/{name}"})
        try:
            role, claims = self._caller(request)
        except ApiError as exc:
            return _storage_error("403", "Unauthorized", exc.message)
        # Storage checks the insert policy when it signs, in a transaction it rolls back.
        with psycopg.connect(self.dsn) as conn:
            try:
                self._as(conn, role, claims)
                conn.execute(
                    "insert into storage.objects (bucket_id, name, owner_id) values (%s, %s, %s)",
                    (bucket, name, str(claims.get("sub", ""))),
                )
            except psycopg.errors.InsufficientPrivilege:
                return _storage_error("403", "Unauthorized", "new row violates row-level security policy")
            except psycopg.errors.UniqueViolation:
                return _storage_error("409", "Duplicate", "The resource already exists")
            finally:
                conn.rollback()
        token = secrets.token_urlsafe(16)
        self._tickets[token] = (bucket, name, str(claims.get("sub", "")), "put")
        return JSONResponse({"url": f"/object/upload/sign/{bucket}/{name}?token={token}", "token": token})

    async def _signed(self, request: Request) -> Response:
        bucket, name = request.path_params["bucket"], request.path_params["name"]
        if request.method == "GET":
            ticket = self._tickets.get(request.query_params.get("token", ""))
            if ticket is None or ticket[:2] != (bucket, name) or ticket[3] != "get":
                return _storage_error("400", "InvalidSignature", "The signature is invalid")
            if (bucket, name) not in self.blobs:
                return _storage_error("404", "not_found", "Object not found")
            return Response(self.blobs[(bucket, name)])
        try:
            role, claims = self._caller(request)
        except ApiError as exc:
            return _storage_error("403", "Unauthorized", exc.message)
        # Storage's body schema: expiresIn is a required integer of at least 1 (seconds).
        expires = (await request.json() if await request.body() else {}).get("expiresIn")
        if not isinstance(expires, int) or isinstance(expires, bool) or expires < 1:
            return _storage_error("400", "Bad Request", "body/expiresIn must be integer >= 1")
        with psycopg.connect(self.dsn) as conn:
            self._as(conn, role, claims)
            found = conn.execute(
                "select 1 from storage.objects where bucket_id = %s and name = %s", (bucket, name)
            ).fetchone()
            conn.rollback()
        if not found:
            return _storage_error("404", "not_found", "Object not found")
        token = secrets.token_urlsafe(16)
        self._tickets[token] = (bucket, name, "", "get")
        self.lifetimes[f"{bucket}/{name}"] = expires
        return JSONResponse({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})

    async def _delete_objects(self, request: Request) -> Response:
        try:
            role, claims = self._caller(request)
        except ApiError as exc:
            return _storage_error("403", "Unauthorized", exc.message)
        bucket = request.path_params["bucket"]
        prefixes = (json.loads(await request.body() or b"{}")).get("prefixes")
        if not isinstance(prefixes, list) or not prefixes:
            return _storage_error("400", "Invalid Input", "body/prefixes must NOT have fewer than 1 items")
        with psycopg.connect(self.dsn) as conn:
            self._as(conn, role, claims)
            rows = conn.execute(
                "delete from storage.objects where bucket_id = %s and name = any(%s)"
                " returning id, name, bucket_id, owner_id, created_at, updated_at, metadata",
                (bucket, prefixes),
            ).fetchall()
            conn.commit()
        for _, name, *_rest in rows:
            self.blobs.pop((bucket, name), None)
        return JSONResponse(
            [
                {
                    "id": str(r[0]),
                    "name": r[1],
                    "bucket_id": r[2],
                    "owner_id": r[3],
                    "created_at": r[4].isoformat() if r[4] else None,
                    "updated_at": r[5].isoformat() if r[5] else None,
                    "metadata": r[6],
                }
                for r in rows
            ]
        )

    # -- Auth admin -----------------------------------------------------------------

    async def _delete_user(self, request: Request) -> Response:
        try:
            role, _claims = self._caller(request)
        except ApiError as exc:
            return _auth_error(401, "bad_jwt", exc.message)
        if role != "service_role":
            return _auth_error(403, "not_admin", "User not allowed")
        try:
            user_id = uuid.UUID(request.path_params["id"])
        except ValueError:
            return _auth_error(404, "user_not_found", "User not found")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            gone = conn.execute("delete from auth.users where id = %s", (user_id,)).rowcount
        if not gone:
            return _auth_error(404, "user_not_found", "User not found")
        return JSONResponse({})
