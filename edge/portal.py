"""Client portal API (mounted at ``/api/portal``).

With Supabase configured every data call forwards the visitor's own token
(RLS decides) and files go through Storage signed URLs. Without it, the
local SQLite store, a development login minting short-lived local tokens
(refused in production) and file bytes under ``SITEGEN_LOCAL_DIR``.

Handlers are module functions over :class:`Portal` (``request.app.state.portal``);
:func:`signed_in` and :func:`project_access` raise :class:`~edge.http.BadRequest`,
which :mod:`edge.http` turns into the JSON answer.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from postgrest import APIError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.auth import AuthError, KeySet, KeysUnavailable, User, bearer_token, jwks_url, verify_token
from edge.http import EXCEPTION_HANDLERS, BadRequest, error_response, read_body, read_object
from edge.inquiries import LocalInquiryStore
from edge.portal_store import (
    PROFILE_FIELDS,
    REQUEST_KINDS,
    LocalPortalStore,
    PortalStore,
)
from edge.portal_supabase import SupabasePortalStore
from edge.settings import PortalSettings, Settings
from edge.storage import Storage, StorageError

LOCAL_ISSUER = "sitegen-local-dev"
MAX_JSON_BODY = 64 * 1024
# A file row whose upload never finished: the same answer in both modes.
NOT_UPLOADED = "nothing to download yet: the file's upload has not finished"


@dataclass
class Portal:
    """What every portal handler needs; one per app."""

    settings: Settings
    conf: PortalSettings
    local: LocalPortalStore | None  # None in Supabase mode
    storage: Storage | None  # None in local mode
    keys: KeySet | None  # None in local mode
    # Local tokens and file tickets are signed with a per-process secret: they die with the server.
    local_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def files_dir(self) -> Any:
        return self.settings.local_dir / "portal" / "files"

    async def aclose(self) -> None:
        if self.keys is not None:
            await self.keys.aclose()


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def _body(request: Request) -> dict[str, Any]:
    return await read_object(request, MAX_JSON_BODY)


async def _user(portal: Portal, request: Request) -> User:
    token = bearer_token(request.headers.get("authorization"))
    if portal.keys is not None:
        return await verify_token(token, portal.settings, portal.keys)
    try:
        claims = jwt.decode(
            token,
            portal.local_secret,
            algorithms=["HS256"],
            issuer=LOCAL_ISSUER,
            audience="authenticated",
            options={"require": ["exp", "sub"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise AuthError("invalid token") from exc
    return User(
        id=str(claims["sub"]), email=claims.get("email"), role="authenticated", token=token, claims=claims
    )


async def signed_in(request: Request) -> tuple[User, PortalStore]:
    """The caller and the store acting as them (in Supabase mode: with their own token); else 401/503."""
    portal = _portal(request)
    try:
        user = await _user(portal, request)
    except AuthError as exc:
        raise BadRequest(401, f"not signed in: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc
    except KeysUnavailable as exc:
        raise BadRequest.retry(503, "sign-in cannot be checked just now; try again shortly", 30) from exc
    if portal.local is not None:
        return user, portal.local
    settings = portal.settings
    return user, SupabasePortalStore(settings.supabase_url or "", settings.supabase_key or "", user.token)


async def project_access(request: Request) -> tuple[User, PortalStore, str]:
    """signed_in, plus the project in the path, which must be one the caller may see."""
    user, store = await signed_in(request)
    pid = request.path_params["id"]
    # 404 rather than 403 so another client's project ids are not confirmed.
    if await run_in_threadpool(store.project, user.id, pid) is None:
        raise BadRequest(404, "no such project")
    return user, store, pid


def _ticket(portal: Portal, file_id: Any, op: str) -> str:
    payload = {"f": file_id, "op": op, "exp": int(time.time()) + portal.conf.signed_url_seconds}
    return jwt.encode(payload, portal.local_secret, algorithm="HS256")


def _local_url(request: Request, ticket: str) -> str:
    return f"{request.scope.get('root_path', '')}/local-files/{ticket}"


# --------------------------------------------------------------------------- handlers


async def config(request: Request) -> JSONResponse:
    portal = _portal(request)
    settings = portal.settings
    return JSONResponse(
        {
            "mode": "local" if portal.local is not None else "supabase",
            "supabase_url": settings.supabase_url,
            "supabase_key": settings.supabase_key,
            "dev_login": portal.local is not None and not settings.production,
        }
    )


async def dev_login(request: Request) -> JSONResponse:
    portal = _portal(request)
    if portal.local is None:
        raise BadRequest(403, "the development login exists only in local mode; sign in with Supabase")
    if portal.settings.production:
        raise BadRequest(403, "the development login is disabled in production")
    data = await _body(request)
    email = str(data.get("email", "")).strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise BadRequest(422, "email: enter a valid address")
    user_id = portal.local.dev_login(email)
    now = int(time.time())
    claims = {
        "sub": user_id,
        "email": email,
        "aud": "authenticated",
        "iss": LOCAL_ISSUER,
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(claims, portal.local_secret, algorithm="HS256")
    return JSONResponse({"ok": True, "access_token": token, "development": True})


async def projects(request: Request) -> JSONResponse:
    user, store = await signed_in(request)
    return JSONResponse({"projects": await run_in_threadpool(store.projects, user.id)})


async def project(request: Request) -> JSONResponse:
    user, store = await signed_in(request)
    row = await run_in_threadpool(store.project, user.id, request.path_params["id"])
    if not row:
        raise BadRequest(404, "no such project")  # not 403: another client's ids stay unconfirmed
    return JSONResponse({"project": row})


async def messages(request: Request) -> JSONResponse:
    user, store, pid = await project_access(request)
    if request.method == "GET":
        return JSONResponse({"messages": await run_in_threadpool(store.messages, user.id, pid)})
    data = await _body(request)
    body = str(data.get("body", "")).strip()
    if not body or len(body) > 10000:
        raise BadRequest(422, "body: write 1 to 10000 characters")
    row = await run_in_threadpool(store.add_message, user.id, pid, body)
    return JSONResponse({"message": row}, status_code=201)


def _upload_meta(conf: PortalSettings, data: dict[str, Any]) -> tuple[str, int, str]:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(data.get("name", "")))[:120].lstrip(".")
    size, ctype = data.get("size"), str(data.get("content_type", ""))
    if not name:
        raise BadRequest(422, "name: give the file name")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or size > conf.upload_max_bytes:
        raise BadRequest(422, f"size: files must be 1 to {conf.upload_max_bytes} bytes")
    if ctype not in conf.upload_types:
        accepted = ", ".join(sorted(conf.upload_types))
        raise BadRequest(422, f"content_type: {ctype[:100] or 'empty'} is not accepted ({accepted})")
    return name, size, ctype


async def upload_url(request: Request) -> JSONResponse:
    portal = _portal(request)
    user, store, pid = await project_access(request)
    name, size, ctype = _upload_meta(portal.conf, await _body(request))
    path = f"{pid}/{uuid.uuid4()}-{name}"
    meta = {"bucket": portal.conf.bucket, "path": path, "size": size, "content_type": ctype, "name": name}
    row = await run_in_threadpool(store.add_file, user.id, pid, meta)
    if portal.storage is not None:
        url = await run_in_threadpool(portal.storage.signed_upload_url, portal.conf.bucket, path, user.token)
    else:
        url = _local_url(request, _ticket(portal, row["id"], "put"))
    return JSONResponse({"file": row, "upload_url": url}, status_code=201)


def _download_link(portal: Portal, request: Request, user: User, row: dict[str, Any]) -> str | None:
    """A short-lived link to a file's contents: Storage's signed URL, or a local ticket; None when
    Storage has no object for the row (its upload never finished)."""
    if portal.storage is not None:
        try:
            return portal.storage.signed_download_url(
                row["bucket"], row["path"], user.token, portal.conf.signed_url_seconds
            )
        except StorageError as exc:
            if exc.not_found:
                return None
            raise
    return _local_url(request, _ticket(portal, row["id"], "get"))


async def download_url(request: Request) -> JSONResponse:
    portal = _portal(request)
    user, store = await signed_in(request)
    row = await run_in_threadpool(store.file, user.id, request.path_params["id"])
    if row is None:
        raise BadRequest(404, "no such file")
    url = await run_in_threadpool(_download_link, portal, request, user, row)
    if url is None:
        raise BadRequest(404, NOT_UPLOADED)
    return JSONResponse({"download_url": url})


async def project_files(request: Request) -> JSONResponse:
    """Every file of the project, the agency's included (not only the caller's uploads)."""
    user, store, pid = await project_access(request)
    return JSONResponse({"files": await run_in_threadpool(store.files, user.id, pid)})


async def local_file(request: Request) -> Response:
    """A local-mode upload (PUT) or download (GET) by signed ticket; the access log redacts the ticket."""
    portal = _portal(request)
    if portal.local is None:
        raise BadRequest(404, "local files exist only in local mode")
    try:
        ticket = jwt.decode(request.path_params["ticket"], portal.local_secret, algorithms=["HS256"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise BadRequest(403, "link expired or invalid") from exc
    row = portal.local.file_by_id(ticket["f"])
    if row is None:
        raise BadRequest(404, "no such file")
    target = portal.files_dir / str(ticket["f"])
    if request.method == "PUT" and ticket.get("op") == "put":
        body = await read_body(request, int(row["size"]), seconds=300.0)
        if len(body) != row["size"]:
            raise BadRequest(422, f"expected {row['size']} bytes, got {len(body)}")
        portal.files_dir.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        return JSONResponse({"ok": True})
    if request.method == "GET" and ticket.get("op") == "get" and target.exists():
        return Response(
            target.read_bytes(),
            media_type=row["content_type"],
            headers={"content-disposition": f'attachment; filename="{row["name"]}"'},
        )
    raise BadRequest(404, NOT_UPLOADED if request.method == "GET" else "this link is for downloading")


async def me_export(request: Request) -> JSONResponse:
    portal = _portal(request)
    user, store = await signed_in(request)
    data = await run_in_threadpool(store.export, user.id)
    # Every file of their projects, with a link to its contents (null while an upload is unfinished:
    # one missing object must not withhold the rest of the export).
    for row in data["files"]:
        row["download_url"] = await run_in_threadpool(_download_link, portal, request, user, row)
    return JSONResponse(data, headers={"content-disposition": 'attachment; filename="my-data.json"'})


async def me_patch(request: Request) -> JSONResponse:
    user, store = await signed_in(request)
    data = await _body(request)
    unknown = sorted(set(data) - set(PROFILE_FIELDS))
    if unknown or not data:
        not_these = f" (not {', '.join(unknown)})" if unknown else ""
        raise BadRequest(422, f"only {', '.join(PROFILE_FIELDS)} can be corrected{not_these}")
    if any(not isinstance(v, str) or len(v) > 200 for v in data.values()):
        raise BadRequest(422, "each field must be text of at most 200 characters")
    return JSONResponse({"profile": await run_in_threadpool(store.update_profile, user.id, data)})


async def me_deletion(request: Request) -> JSONResponse:
    user, store = await signed_in(request)
    row = await run_in_threadpool(store.add_request, user.id, "deletion", "")
    return JSONResponse({"request": row}, status_code=201)


async def me_request(request: Request) -> JSONResponse:
    """A rights request for staff to carry out (docs/privacy.md: `sitegen rights`)."""
    user, store = await signed_in(request)
    data = await _body(request)
    kind, note = data.get("kind"), data.get("note", "")
    if kind not in REQUEST_KINDS:
        raise BadRequest(422, f"kind: one of {', '.join(REQUEST_KINDS)}")
    if not isinstance(note, str) or len(note) > 5000:
        raise BadRequest(422, "note: text of at most 5000 characters")
    row = await run_in_threadpool(store.add_request, user.id, kind, note)
    return JSONResponse({"request": row}, status_code=201)


async def missing(request: Request, exc: Exception) -> Response:
    """A row the caller's account should have is absent (no profile): a 404 saying so, never a 500."""
    return error_response(request, BadRequest(404, str(exc) or "not found"))


async def refused(request: Request, exc: Exception) -> Response:
    """The database or Storage said no (RLS, constraint): a 4xx with its reason, never a 500."""
    if isinstance(exc, StorageError):
        return error_response(request, BadRequest(403, f"storage refused: {exc}"))
    code = str(getattr(exc, "code", ""))
    reason = f"refused by the database: {getattr(exc, 'message', exc)}"
    return error_response(request, BadRequest(403 if code == "42501" else 422, reason))


ROUTES = [
    Route("/config", config, methods=["GET"]),
    Route("/dev-login", dev_login, methods=["POST"]),
    Route("/projects", projects, methods=["GET"]),
    Route("/projects/{id}", project, methods=["GET"]),
    Route("/projects/{id}/messages", messages, methods=["GET", "POST"]),
    Route("/projects/{id}/files", project_files, methods=["GET"]),
    Route("/projects/{id}/files/upload-url", upload_url, methods=["POST"]),
    Route("/files/{id}/download-url", download_url, methods=["GET"]),
    Route("/local-files/{ticket}", local_file, methods=["GET", "PUT"]),
    Route("/me/export", me_export, methods=["GET"]),
    Route("/me", me_patch, methods=["PATCH"]),
    Route("/me/deletion-request", me_deletion, methods=["POST"]),
    Route("/me/requests", me_request, methods=["POST"]),
]


def create_app(settings: Settings) -> Starlette:
    """The portal API; ``app.state.portal`` is its :class:`Portal` (closed by ``edge.app``'s lifespan)."""
    local = not settings.uses_supabase
    portal = Portal(
        settings=settings,
        conf=settings.portal,
        local=(
            LocalPortalStore(settings.local_dir / "portal", LocalInquiryStore.in_dir(settings.local_dir))
            if local
            else None
        ),
        storage=None if local else Storage(settings.supabase_url or "", settings.supabase_key or ""),
        keys=None if local else KeySet(jwks_url(settings)),
    )
    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            APIError: refused,
            StorageError: refused,
            LookupError: missing,
        },
    )
    app.state.portal = portal
    return app
