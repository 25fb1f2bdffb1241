"""Client portal API (mounted by the lead at ``/api/portal``).

With Supabase configured every data call forwards the visitor's own token
(RLS decides) and files go through Storage signed URLs. Without it, the
local SQLite store, a development login minting short-lived local tokens
(refused in production) and file bytes under ``SITEGEN_LOCAL_DIR``.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.auth import AuthError, User, bearer_token, verify_token
from edge.portal_store import PROFILE_FIELDS, LocalPortalStore, PortalStore, SupabasePortalStore
from edge.settings import Settings
from edge.storage import Storage, StorageError

LOCAL_ISSUER = "sitegen-local-dev"
KINDS = ("access", "correction", "deletion", "objection")


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        data = await request.json()
    except ValueError:
        return _error(422, "body must be a JSON object")
    if not isinstance(data, dict):
        return _error(422, "body must be a JSON object")
    return data


def create_app(settings: Settings) -> Starlette:
    conf = settings.section("portal")
    bucket = str(conf.get("bucket", "portal-files"))
    max_bytes = int(conf.get("upload_max_bytes", 25 * 1024 * 1024))
    types = set(conf.get("upload_types", ["application/pdf"]))
    url_seconds = int(conf.get("signed_url_seconds", 600))
    local = not settings.uses_supabase
    store = LocalPortalStore(settings.local_dir / "portal") if local else None
    # Local tokens are signed with a per-process secret: they die with the server.
    local_secret = secrets.token_urlsafe(32)
    files_dir = settings.local_dir / "portal" / "files"

    def user_of(request: Request) -> User | JSONResponse:
        try:
            token = bearer_token(request.headers.get("authorization"))
            if not local:
                return verify_token(token, settings)
            claims = jwt.decode(
                token,
                local_secret,
                algorithms=["HS256"],
                issuer=LOCAL_ISSUER,
                audience="authenticated",
                options={"require": ["exp", "sub"]},
            )
            return User(
                id=claims["sub"], email=claims.get("email"), role="authenticated", token=token, claims=claims
            )
        except (AuthError, jwt.PyJWTError) as exc:
            return _error(401, f"not signed in: {exc}")

    storage = Storage(settings.supabase_url or "", settings.supabase_key or "") if not local else None

    def signed_in(request: Request) -> tuple[User, PortalStore] | JSONResponse:
        """The caller and the store acting as them (in Supabase mode: with their own token)."""
        user = user_of(request)
        if isinstance(user, JSONResponse):
            return user
        if store is not None:
            return user, store
        return user, SupabasePortalStore(settings.supabase_url or "", settings.supabase_key or "", user.token)

    async def project_access(request: Request) -> tuple[User, PortalStore, str] | JSONResponse:
        """signed_in, plus the project in the path, which must be one the caller may see."""
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        pid = request.path_params["id"]
        # 404 rather than 403 so another client's project ids are not confirmed.
        if await run_in_threadpool(st.project, user.id, pid) is None:
            return _error(404, "no such project")
        return user, st, pid

    async def config(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "mode": "local" if local else "supabase",
                "supabase_url": settings.supabase_url,
                "supabase_key": settings.supabase_key,
                "dev_login": local and not settings.production,
            }
        )

    async def dev_login(request: Request) -> JSONResponse:
        if settings.production or not local or store is None:
            return _error(403, "the development login is disabled in production")
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        email = str(data.get("email", "")).strip().lower()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return _error(422, "email: enter a valid address")
        user_id = store.dev_login(email)
        now = int(time.time())
        token = jwt.encode(
            {
                "sub": user_id,
                "email": email,
                "aud": "authenticated",
                "iss": LOCAL_ISSUER,
                "iat": now,
                "exp": now + 3600,
            },
            local_secret,
            algorithm="HS256",
        )
        return JSONResponse({"ok": True, "access_token": token, "development": True})

    async def projects(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        return JSONResponse({"projects": await run_in_threadpool(st.projects, user.id)})

    async def project(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        row = await run_in_threadpool(st.project, user.id, request.path_params["id"])
        # 404 rather than 403 so another client's project ids are not confirmed.
        return JSONResponse({"project": row}) if row else _error(404, "no such project")

    async def messages(request: Request) -> JSONResponse:
        access = await project_access(request)
        if isinstance(access, JSONResponse):
            return access
        user, st, pid = access
        if request.method == "GET":
            return JSONResponse({"messages": await run_in_threadpool(st.messages, user.id, pid)})
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        body = str(data.get("body", "")).strip()
        if not body or len(body) > 10000:
            return _error(422, "body: write 1 to 10000 characters")
        return JSONResponse(
            {"message": await run_in_threadpool(st.add_message, user.id, pid, body)}, status_code=201
        )

    async def upload_url(request: Request) -> JSONResponse:
        access = await project_access(request)
        if isinstance(access, JSONResponse):
            return access
        user, st, pid = access
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(data.get("name", "")))[:120].lstrip(".")
        size, ctype = data.get("size"), str(data.get("content_type", ""))
        if not name:
            return _error(422, "name: give the file name")
        if not isinstance(size, int) or size <= 0 or size > max_bytes:
            return _error(422, f"size: files must be 1 to {max_bytes} bytes")
        if ctype not in types:
            return _error(
                422, f"content_type: {ctype or 'empty'} is not accepted ({', '.join(sorted(types))})"
            )
        path = f"{pid}/{uuid.uuid4()}-{name}"
        row = await run_in_threadpool(
            st.add_file,
            user.id,
            pid,
            {"bucket": bucket, "path": path, "size": size, "content_type": ctype, "name": name},
        )
        if storage is not None:
            url = await run_in_threadpool(storage.signed_upload_url, bucket, path, user.token)
            return JSONResponse({"file": row, "upload_url": url}, status_code=201)
        ticket = jwt.encode(
            {"f": row["id"], "op": "put", "exp": int(time.time()) + url_seconds},
            local_secret,
            algorithm="HS256",
        )
        return JSONResponse(
            {"file": row, "upload_url": f"{request.scope.get('root_path', '')}/local-files/{ticket}"},
            status_code=201,
        )

    async def download_url(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        row = await run_in_threadpool(st.file, user.id, request.path_params["id"])
        if row is None:
            return _error(404, "no such file")
        if storage is not None:
            url = await run_in_threadpool(
                storage.signed_download_url, row["bucket"], row["path"], user.token, url_seconds
            )
            return JSONResponse({"download_url": url})
        ticket = jwt.encode(
            {"f": row["id"], "op": "get", "exp": int(time.time()) + url_seconds},
            local_secret,
            algorithm="HS256",
        )
        return JSONResponse({"download_url": f"{request.scope.get('root_path', '')}/local-files/{ticket}"})

    async def local_file(request: Request) -> Response:
        if store is None:
            return _error(404, "local files exist only in local mode")
        try:
            ticket = jwt.decode(request.path_params["ticket"], local_secret, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            return _error(403, f"link expired or invalid: {exc}")
        rows = store._rows("select * from files where id=?", ticket["f"])
        if not rows:
            return _error(404, "no such file")
        row, target = rows[0], files_dir / str(ticket["f"])
        if request.method == "PUT" and ticket.get("op") == "put":
            body = await request.body()
            if len(body) != row["size"]:
                return _error(422, f"expected {row['size']} bytes, got {len(body)}")
            files_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            return JSONResponse({"ok": True})
        if request.method == "GET" and ticket.get("op") == "get" and target.exists():
            return Response(
                target.read_bytes(),
                media_type=row["content_type"],
                headers={"content-disposition": f'attachment; filename="{row["name"]}"'},
            )
        return _error(
            404, "nothing to download yet" if request.method == "GET" else "this link is for downloading"
        )

    async def me_export(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        return JSONResponse(
            await run_in_threadpool(st.export, user.id),
            headers={"content-disposition": 'attachment; filename="my-data.json"'},
        )

    async def me_patch(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        unknown = sorted(set(data) - set(PROFILE_FIELDS))
        if unknown or not data:
            return _error(
                422,
                f"only {', '.join(PROFILE_FIELDS)} can be corrected"
                + (f" (not {', '.join(unknown)})" if unknown else ""),
            )
        if any(not isinstance(v, str) or len(v) > 200 for v in data.values()):
            return _error(422, "each field must be text of at most 200 characters")
        return JSONResponse({"profile": await run_in_threadpool(st.update_profile, user.id, data)})

    async def me_deletion(request: Request) -> JSONResponse:
        who = signed_in(request)
        if isinstance(who, JSONResponse):
            return who
        user, st = who
        return JSONResponse(
            {"request": await run_in_threadpool(st.add_request, user.id, "deletion", "")}, status_code=201
        )

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        # The database or Storage said no (RLS, constraint): a 4xx with its reason, never a 500.
        if isinstance(exc, StorageError):
            return _error(403, f"storage refused: {exc}")
        code = str(getattr(exc, "code", ""))
        return _error(
            403 if code == "42501" else 422, f"refused by the database: {getattr(exc, 'message', exc)}"
        )

    from postgrest import APIError

    return Starlette(
        exception_handlers={APIError: refused, StorageError: refused},
        routes=[
            Route("/config", config, methods=["GET"]),
            Route("/dev-login", dev_login, methods=["POST"]),
            Route("/projects", projects, methods=["GET"]),
            Route("/projects/{id}", project, methods=["GET"]),
            Route("/projects/{id}/messages", messages, methods=["GET", "POST"]),
            Route("/projects/{id}/files/upload-url", upload_url, methods=["POST"]),
            Route("/files/{id}/download-url", download_url, methods=["GET"]),
            Route("/local-files/{ticket}", local_file, methods=["GET", "PUT"]),
            Route("/me/export", me_export, methods=["GET"]),
            Route("/me", me_patch, methods=["PATCH"]),
            Route("/me/deletion-request", me_deletion, methods=["POST"]),
        ],
    )
