"""The HTTP layer every edge handler shares.

- :class:`BadRequest`: the one exception for "this request gets a 4xx/5xx with a
  reason". Raise it anywhere in a handler; :func:`error_response` (installed on
  every edge app through :data:`EXCEPTION_HANDLERS`) turns it into JSON, or into
  the handler's HTML page for a browser form post.
- :func:`read_body` / :func:`read_json` / :func:`read_fields`: the one bounded
  request reader (size, time, content type, JSON nesting depth). Whatever a
  client sends, the answer is 400/408/413/415, never a 500.
- :func:`check_origin`: the one rule deciding whether a browser request comes
  from the site's own pages (contact and chat use it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# Deep enough for every real payload (chat: object > list > object), shallow
# enough that no parser recursion can exhaust the stack.
MAX_JSON_DEPTH = 32
# A whole body must arrive within this many seconds once the handler starts reading.
READ_SECONDS = 10.0

ErrorPage = Callable[[Request, "BadRequest"], Response]


class BadRequest(HTTPException):
    """A request the edge refuses, with a reason safe to show to the client.

    ``errors`` carries per-field messages (contact form validation).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, reason, headers=dict(headers or {}))
        self.reason = reason
        self.errors = dict(errors or {})

    @classmethod
    def retry(cls, status: int, reason: str, seconds: float) -> BadRequest:
        """A refusal the client may retry after ``seconds`` (429, 503)."""
        after = max(1, math.ceil(seconds))
        return cls(status, reason, headers={"Retry-After": str(after)})


def wants_json(headers: Headers) -> bool:
    """Content negotiation: scripts (``Accept`` or body in JSON) get JSON, a plain form post gets HTML."""
    accept = headers.get("accept", "").lower()
    ctype = headers.get("content-type", "").lower()
    return "application/json" in accept or ctype.startswith("application/json")


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def is_json_type(ctype: str) -> bool:
    return ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))


def error_response(request: Request, exc: Exception) -> Response:
    """The one place an HTTP error becomes a response.

    A handler that has an HTML page for browsers (the contact form) sets
    ``request.state.error_page``; everyone else, and every script, gets JSON.
    """
    if not isinstance(exc, HTTPException):  # pragma: no cover - only registered for HTTPException
        raise exc
    bad = (
        exc
        if isinstance(exc, BadRequest)
        else BadRequest(exc.status_code, str(exc.detail), headers=exc.headers)
    )
    headers = {"Cache-Control": "no-store", **(bad.headers or {})}
    page: ErrorPage | None = getattr(request.state, "error_page", None)
    if page is not None and not wants_json(request.headers):
        response = page(request, bad)
        response.headers.update(headers)
        return response
    body: dict[str, Any] = {"ok": False, "error": bad.reason}
    if bad.errors:
        body["errors"] = bad.errors
    return JSONResponse(body, status_code=bad.status_code, headers=headers)


def _http_error(request: Request, exc: Exception) -> Response:
    return error_response(request, exc)


EXCEPTION_HANDLERS: dict[Any, Any] = {HTTPException: _http_error}
"""Pass as ``Starlette(exception_handlers=...)`` to every edge app."""


# --------------------------------------------------------------------------- origin


def check_origin(headers: Headers, allowed: Collection[str], what: str = "Cross-site requests") -> None:
    """Refuse a browser request that does not come from the site's own pages.

    ``Origin`` must be the request's own host or one of ``allowed`` (site.yaml
    ``edge.allowed_origins``). Without ``Origin`` (old browsers, curl), Fetch
    Metadata decides: ``Sec-Fetch-Site: cross-site`` is refused. A client that
    sends neither is not a browser, so no visitor's session can be abused
    through it; the rate limits apply to it like to anyone.
    """
    origin = headers.get("origin")
    refused = BadRequest(403, f"{what} are not accepted.")
    if origin is None:
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise refused
        return
    origin = origin.strip().rstrip("/").lower()
    if origin in allowed:
        return
    parts = urlsplit(origin)
    host = headers.get("host", "").strip().lower()
    if parts.scheme in {"http", "https"} and parts.netloc and parts.netloc == host:
        return
    raise refused


def normalise_origins(origins: Collection[str]) -> frozenset[str]:
    return frozenset(o.rstrip("/").lower() for o in origins)


# --------------------------------------------------------------------------- reading


def too_large(limit: int) -> BadRequest:
    return BadRequest(413, f"The request is too large (over {limit} bytes).")


async def read_body(
    request: Request,
    limit: int,
    *,
    seconds: float | None = None,
    too_big: BadRequest | None = None,
) -> bytes:
    """The body, refused with 413 past ``limit`` bytes and 408 if it trickles in past ``seconds``
    (default :data:`READ_SECONDS`)."""
    refusal = too_big or too_large(limit)
    seconds = READ_SECONDS if seconds is None else seconds
    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError as exc:
            raise BadRequest(400, "Invalid Content-Length header.") from exc
        if declared > limit:
            raise refusal
    body = bytearray()
    with anyio.move_on_after(seconds) as scope:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise refusal
    if scope.cancelled_caught:
        raise BadRequest(408, "The request body arrived too slowly.")
    return bytes(body)


def json_depth(data: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text, counted without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON body, refusing invalid text and nesting past ``max_depth`` with a 400."""
    if json_depth(body) > max_depth:
        raise BadRequest(400, f"The JSON body is nested more than {max_depth} levels deep.")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(400, "The request body is not valid JSON.") from exc


def parse_form(body: bytes) -> dict[str, str]:
    """URL-encoded form fields; the first value of a repeated field wins."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, "The form data is not valid UTF-8.") from exc
    data: dict[str, str] = {}
    for key, value in pairs:
        data.setdefault(key, value)
    return data


def require_json(request: Request) -> None:
    if not is_json_type(media_type(request.headers)):
        raise BadRequest(415, "Send the request body as application/json.")


async def read_json(request: Request, limit: int, *, seconds: float | None = None) -> Any:
    """A JSON body (415 for another content type), bounded in size, time and depth."""
    require_json(request)
    return parse_json(await read_body(request, limit, seconds=seconds))


async def read_object(request: Request, limit: int, *, seconds: float | None = None) -> dict[str, Any]:
    data = await read_json(request, limit, seconds=seconds)
    if not isinstance(data, dict):
        raise BadRequest(422, "The body must be a JSON object.")
    return data


async def read_fields(
    request: Request, limit: int, *, too_big: BadRequest | None = None, seconds: float | None = None
) -> dict[str, Any]:
    """Form fields from a JSON object or a URL-encoded form post (anything else: 415)."""
    ctype = media_type(request.headers)
    if not (is_json_type(ctype) or ctype == "application/x-www-form-urlencoded"):
        raise BadRequest(415, "Send the form as application/x-www-form-urlencoded or application/json.")
    body = await read_body(request, limit, seconds=seconds, too_big=too_big)
    if ctype == "application/x-www-form-urlencoded":
        return parse_form(body)
    data = parse_json(body)
    if not isinstance(data, dict):
        raise BadRequest(400, "The JSON body must be an object of form fields.")
    return data
