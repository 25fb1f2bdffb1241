"""``POST /api/contact``: the contact form's handler.

Two kinds of clients use it: the form's JavaScript (``Accept: application/json``,
answered with JSON) and a plain HTML form post without JavaScript (answered
with a 303 to the region's thank-you page, or with an HTML page that shows the
form again with everything the visitor typed, escaped, and what went wrong).
Every 2xx/303 answer that is not a honeypot catch corresponds to exactly one
stored inquiry.
"""

from __future__ import annotations

import json
import logging
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import jinja2
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from edge.inquiries import Inquiry, InquiryStore, StoreUnavailable, store_from_settings
from edge.notify import Notifier, notifier_from_settings
from edge.ratelimit import RateLimiter, client_key
from edge.settings import Settings

log = logging.getLogger(__name__)

TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
TURNSTILE_FIELD = "cf-turnstile-response"
HONEYPOT_FIELD = "website"
FIELDS = ("name", "email", "phone", "company", "service", "message", "consent", "region")

# Limits in characters (code points after normalisation); the migration's CHECK
# constraints repeat them so the database refuses what the handler would.
MAX_NAME = 100
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_COMPANY = 120
MIN_MESSAGE = 10
MAX_MESSAGE = 5000
MAX_TOKEN = 4096

_TRUE = {"on", "true", "1", "yes"}
# Bidirectional overrides/isolates can make text display differently from what
# it is (e.g. a reversed e-mail address in the agency's inbox); they have no
# place in a contact form.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Outcome:
    """What a request led to, before it is turned into JSON or HTML."""

    status: int
    errors: dict[str, str]
    error: str = ""
    retry_after: int | None = None


# --------------------------------------------------------------------------- validation


def _strip_controls(text: str, keep_newlines: bool) -> str:
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out)


def _has_surrogates(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def clean_line(raw: str, form: Literal["NFC", "NFKC"] = "NFC") -> tuple[str, str | None]:
    """One-line field: normalised, controls removed, whitespace collapsed.

    CR or LF in a one-line field is refused rather than removed: it is the
    signature of header injection, and silently altering it would hide that.
    """
    if _has_surrogates(raw):
        return "", "contains characters that are not valid text"
    if "\r" in raw or "\n" in raw or "\u2028" in raw or "\u2029" in raw:
        return "", "must be a single line"
    text = _strip_controls(unicodedata.normalize(form, raw), keep_newlines=False)
    return " ".join(text.split()), None


def clean_message(raw: str) -> tuple[str, str | None]:
    if _has_surrogates(raw):
        return "", "contains characters that are not valid text"
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _strip_controls(unicodedata.normalize("NFC", text), keep_newlines=True)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip(), None


def _region_country(region: Mapping[str, Any]) -> str | None:
    countries = region.get("countries") or []
    return str(countries[0]).upper() if countries else None


def validate(
    raw: Mapping[str, Any], settings: Settings, now: datetime
) -> tuple[Inquiry | None, dict[str, str]]:
    """Validate and normalise a submission; return the inquiry or per-field errors."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name in FIELDS:
        value = raw.get(name, "")
        if value is None:
            value = ""
        if isinstance(value, bool) and name == "consent":
            value = "true" if value else ""
        if not isinstance(value, str):
            errors[name] = "must be text"
            value = ""
        values[name] = value

    region_id = values["region"].strip()
    region = settings.regions.get(region_id) if region_id else None
    if region is None:
        errors.setdefault("region", "unknown region" if region_id else "is missing")
        region = {}

    name, problem = clean_line(values["name"])
    if problem:
        errors.setdefault("name", problem)
    elif not name:
        errors.setdefault("name", "Please tell us your name.")
    elif len(name) > MAX_NAME:
        errors.setdefault("name", f"Please keep your name under {MAX_NAME} characters.")

    email, problem = clean_line(values["email"], "NFKC")
    if problem:
        errors.setdefault("email", problem)
    elif not email:
        errors.setdefault("email", "Please give an email address so we can reply.")
    elif len(email) > MAX_EMAIL:
        errors.setdefault("email", "This email address is too long.")
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors.setdefault("email", f"This does not look like an email address: {exc}")

    phone_raw, problem = clean_line(values["phone"], "NFKC")
    phone: str | None = None
    if problem:
        errors.setdefault("phone", problem)
    elif len(phone_raw) > MAX_PHONE:
        errors.setdefault("phone", "This phone number is too long.")
    elif phone_raw:
        try:
            parsed = phonenumbers.parse(phone_raw, _region_country(region))
            if not phonenumbers.is_valid_number(parsed):
                raise phonenumbers.NumberParseException(0, "invalid")
            phone = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            hint = "" if _region_country(region) else " with the country code, e.g. +44 20 7946 0000"
            errors.setdefault("phone", f"Please check the phone number{hint}.")

    company, problem = clean_line(values["company"])
    if problem:
        errors.setdefault("company", problem)
    elif len(company) > MAX_COMPANY:
        errors.setdefault("company", f"Please keep the company name under {MAX_COMPANY} characters.")

    service, problem = clean_line(values["service"], "NFKC")
    if problem:
        errors.setdefault("service", problem)
    elif service and service != "other" and region:
        known = {str(s.get("id")) for s in region.get("services") or []}
        if service not in known:
            errors.setdefault("service", "Please pick one of the listed services.")

    message, problem = clean_message(values["message"])
    if problem:
        errors.setdefault("message", problem)
    elif len(message) < MIN_MESSAGE:
        errors.setdefault("message", f"Please tell us a little more (at least {MIN_MESSAGE} characters).")
    elif len(message) > MAX_MESSAGE:
        errors.setdefault("message", f"Please keep the message under {MAX_MESSAGE} characters.")

    if values["consent"].strip().lower() not in _TRUE:
        errors.setdefault("consent", "Please agree to the privacy policy so we may store your message.")

    if errors:
        return None, errors
    return (
        Inquiry(
            region=region_id,
            service=service or None,
            name=name,
            email=email,
            phone=phone,
            company=company or None,
            message=message,
            consent_at=now,
            created_at=now,
        ),
        {},
    )


# --------------------------------------------------------------------------- HTML


_PAGE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ heading }} – {{ title }}</title>
<style>
body{font:1rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;font-weight:600;margin-top:1rem}
input,select,textarea{width:100%;font:inherit;padding:.4rem;box-sizing:border-box}
input[type=checkbox]{width:auto}
.error{color:#a00000;font-weight:600}
.alert{border:2px solid #a00000;padding:.75rem;margin:1rem 0}
.hp{position:absolute;left:-10000px}
button{margin-top:1rem;font:inherit;padding:.5rem 1.25rem}
</style>
</head>
<body>
<main>
<h1>{{ heading }}</h1>
<div class="alert" role="alert">
<p>{{ error }}</p>
{% if errors %}<ul>{% for field, text in errors.items() %}<li><a href="#cf-{{ field }}">{{ labels.get(field, field) }}</a>: {{ text }}</li>{% endfor %}</ul>{% endif %}
<p>Nothing you typed is lost: it is all in the form below.</p>
</div>
{% if show_form %}
<form method="post" action="{{ action }}" accept-charset="utf-8">
<input type="hidden" name="region" value="{{ values.region }}">
<label for="cf-name">Name</label>
<input id="cf-name" name="name" autocomplete="name" required maxlength="{{ limits.name }}" value="{{ values.name }}"{% if errors.name %} aria-invalid="true"{% endif %}>
{% if errors.name %}<p class="error">{{ errors.name }}</p>{% endif %}
<label for="cf-email">Email</label>
<input id="cf-email" name="email" type="email" autocomplete="email" required maxlength="{{ limits.email }}" value="{{ values.email }}"{% if errors.email %} aria-invalid="true"{% endif %}>
{% if errors.email %}<p class="error">{{ errors.email }}</p>{% endif %}
<label for="cf-phone">Phone (optional)</label>
<input id="cf-phone" name="phone" type="tel" autocomplete="tel" maxlength="{{ limits.phone }}" value="{{ values.phone }}"{% if errors.phone %} aria-invalid="true"{% endif %}>
{% if errors.phone %}<p class="error">{{ errors.phone }}</p>{% endif %}
<label for="cf-company">Company (optional)</label>
<input id="cf-company" name="company" autocomplete="organization" maxlength="{{ limits.company }}" value="{{ values.company }}"{% if errors.company %} aria-invalid="true"{% endif %}>
{% if errors.company %}<p class="error">{{ errors.company }}</p>{% endif %}
<label for="cf-service">Service of interest</label>
<select id="cf-service" name="service">
<option value="">Not sure yet</option>
{% for s in services %}<option value="{{ s.id }}"{% if s.id == values.service %} selected{% endif %}>{{ s.name }}</option>{% endfor %}
<option value="other"{% if values.service == "other" %} selected{% endif %}>Something else</option>
</select>
{% if errors.service %}<p class="error">{{ errors.service }}</p>{% endif %}
<label for="cf-message">Message</label>
<textarea id="cf-message" name="message" rows="8" required maxlength="{{ limits.message }}"{% if errors.message %} aria-invalid="true"{% endif %}>{{ values.message }}</textarea>
{% if errors.message %}<p class="error">{{ errors.message }}</p>{% endif %}
<div class="hp" aria-hidden="true"><label for="cf-website">Leave this empty</label><input id="cf-website" name="website" tabindex="-1" autocomplete="off"></div>
<label><input id="cf-consent" type="checkbox" name="consent" value="on" required{% if values.consent %} checked{% endif %}> I agree that my message is stored as described in the <a href="{{ privacy_url }}">privacy policy</a>.</label>
{% if errors.consent %}<p class="error">{{ errors.consent }}</p>{% endif %}
<button type="submit">Send again</button>
</form>
{% endif %}
<p><a href="{{ contact_url }}">Back to the contact page</a>{% if email %} · or email us at <a href="mailto:{{ email }}">{{ email }}</a>{% endif %}</p>
</main>
</body>
</html>
"""
)

_LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "service": "Service",
    "message": "Message",
    "consent": "Consent",
    "region": "Region",
    TURNSTILE_FIELD: "Spam check",
}

# The error page carries its own tiny stylesheet and no script at all.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


# --------------------------------------------------------------------------- the app


class ContactApp:
    """ASGI app answering ``POST`` at its mount point."""

    def __init__(
        self,
        settings: Settings,
        store: InquiryStore,
        notifier: Notifier,
        limiter: RateLimiter,
        turnstile_url: str,
        clock: Callable[[], datetime],
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.limiter = limiter
        self.turnstile_url = turnstile_url
        self.clock = clock
        self.http_client = http_client
        section = settings.section("contact_form")
        self.max_body = int(section.get("max_body_bytes") or 16384)
        turnstile = section.get("turnstile") or {}
        self.turnstile_secret = settings.secret(turnstile.get("secret_env") or "TURNSTILE_SECRET_KEY")
        edge = settings.section("edge")
        self.allowed_origins = {o.rstrip("/").lower() for o in edge.get("allowed_origins") or []}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.notifier.drain()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- request handling

    async def handle(self, request: Request) -> Response:
        wants_json = _wants_json(request.headers)
        if request.method != "POST":
            return _plain(405, "Send the contact form with POST.", wants_json, {"Allow": "POST"})
        try:
            self._check_origin(request.headers)
            raw = await self._read(request)
        except BadRequest as exc:
            return _plain(exc.status, exc.reason, wants_json)

        region_id = raw.get("region") if isinstance(raw.get("region"), str) else ""
        if str(raw.get(HONEYPOT_FIELD) or "").strip():
            # A bot filled the invisible field: look successful, keep nothing.
            return self._success(wants_json, str(region_id))

        now = self.clock()
        inquiry, errors = validate(raw, self.settings, now)
        if inquiry is None:
            outcome = Outcome(422, errors, "Please check the highlighted fields.")
            return self._failure(request, raw, outcome, wants_json)

        retry = self.limiter.hit(client_key(request.scope))
        if retry is not None:
            seconds = max(1, math.ceil(retry))
            outcome = Outcome(
                429,
                {},
                f"You have sent several messages in a short time. Please wait {seconds} seconds and send again.",
                retry_after=seconds,
            )
            return self._failure(request, raw, outcome, wants_json)

        if self.turnstile_secret:
            problem = await self._verify_turnstile(raw.get(TURNSTILE_FIELD))
            if problem is not None:
                return self._failure(request, raw, problem, wants_json)

        try:
            await self.store.add(inquiry)
        except StoreUnavailable:
            outcome = Outcome(
                503,
                {},
                "We could not save your message just now because our storage is not responding. "
                "Please try again in a few minutes, or email us directly.",
                retry_after=60,
            )
            return self._failure(request, raw, outcome, wants_json)

        if self.notifier.enabled:
            self.notifier.submit(inquiry)
        return self._success(wants_json, inquiry.region)

    def _check_origin(self, headers: Headers) -> None:
        origin = headers.get("origin")
        if origin is None:
            # No Origin (old browser, curl): fall back on Fetch Metadata when present.
            if headers.get("sec-fetch-site", "").lower() == "cross-site":
                raise BadRequest(403, "Cross-site form posts are not accepted.")
            return
        origin = origin.strip().rstrip("/").lower()
        if origin in self.allowed_origins:
            return
        parts = urlsplit(origin)
        host = headers.get("host", "").strip().lower()
        if parts.scheme in {"http", "https"} and parts.netloc and parts.netloc == host:
            return
        raise BadRequest(403, "Cross-site form posts are not accepted.")

    async def _read(self, request: Request) -> dict[str, Any]:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError as exc:
                raise BadRequest(400, "Invalid Content-Length header.") from exc
            if declared > self.max_body:
                raise BadRequest(413, self._too_large())
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body:
                raise BadRequest(413, self._too_large())

        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json"):
            try:
                data = json.loads(bytes(body).decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise BadRequest(400, "The request body is not valid JSON.") from exc
            if not isinstance(data, dict):
                raise BadRequest(400, "The JSON body must be an object of form fields.")
            return data
        if ctype == "application/x-www-form-urlencoded":
            try:
                text = bytes(body).decode("ascii")
                pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadRequest(400, "The form data is not valid UTF-8.") from exc
            data = {}
            for key, value in pairs:
                data.setdefault(key, value)  # the first value of a repeated field wins
            return data
        raise BadRequest(415, "Send the form as application/x-www-form-urlencoded or application/json.")

    def _too_large(self) -> str:
        return (
            f"Your message is too long to send (over {self.max_body} bytes) and was not saved. "
            "Use your browser's Back button to return to the form, where your text is still "
            "filled in, and shorten it."
        )

    async def _verify_turnstile(self, token: Any) -> Outcome | None:
        missing = Outcome(
            422,
            {TURNSTILE_FIELD: "Please complete the spam check and send again."},
            "The spam check was not completed.",
        )
        if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
            return missing
        # The visitor's IP address (``remoteip``) is optional for Cloudflare and deliberately not sent.
        form = {"secret": self.turnstile_secret or "", "response": token.strip()}
        try:
            if self.http_client is not None:
                reply = await self.http_client.post(self.turnstile_url, data=form)
            else:
                async with httpx.AsyncClient(timeout=10.0) as client:
                    reply = await client.post(self.turnstile_url, data=form)
            reply.raise_for_status()
            result = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("turnstile verification unavailable: %s", exc)
            return Outcome(
                503,
                {},
                "We could not run the spam check just now, so your message was not saved. "
                "Please try again in a minute.",
                retry_after=30,
            )
        if isinstance(result, dict) and result.get("success") is True:
            return None
        return missing

    # -- responses

    def _thanks_url(self, region_id: str) -> str:
        region = self.settings.regions.get(region_id) or self.settings.regions.get(
            self.settings.default_region, {}
        )
        urls = region.get("urls") or {}
        return str(urls.get("thanks") or "/")

    def _success(self, wants_json: bool, region_id: str) -> Response:
        if wants_json:
            return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
        return RedirectResponse(self._thanks_url(region_id), status_code=303)

    def _failure(
        self, request: Request, raw: Mapping[str, Any], outcome: Outcome, wants_json: bool
    ) -> Response:
        headers = {"Cache-Control": "no-store"}
        if outcome.retry_after is not None:
            headers["Retry-After"] = str(outcome.retry_after)
        if wants_json:
            body: dict[str, Any] = {"ok": False}
            if outcome.errors:
                body["errors"] = outcome.errors
            if outcome.error:
                body["error"] = outcome.error
            return JSONResponse(body, status_code=outcome.status, headers=headers)
        return HTMLResponse(
            self.render_form_page(request, raw, outcome),
            status_code=outcome.status,
            headers={**_PAGE_HEADERS, **headers},
        )

    def render_form_page(self, request: Request, raw: Mapping[str, Any], outcome: Outcome) -> str:
        values = {k: (v if isinstance(v, str) else "") for k, v in raw.items() if k in FIELDS}
        values = {k: values.get(k, "") for k in FIELDS}
        if isinstance(raw.get("consent"), bool):
            values["consent"] = "on" if raw["consent"] else ""
        region_id = values["region"] if values["region"] in self.settings.regions else ""
        region = self.settings.regions.get(region_id or self.settings.default_region, {})
        urls = region.get("urls") or {}
        contact = self.settings.section("contact")
        heading = {
            422: "Please check your message",
            429: "Please wait a moment",
            503: "Your message could not be saved yet",
        }.get(outcome.status, "Your message was not sent")
        return _PAGE.render(
            heading=heading,
            title=self.settings.site.get("title", ""),
            error=outcome.error,
            errors=outcome.errors,
            labels=_LABELS,
            show_form=True,
            action=_action(request.scope),
            values={**values, "region": region_id or self.settings.default_region},
            services=region.get("services") or [],
            privacy_url=urls.get("privacy", "/"),
            contact_url=urls.get("contact", "/"),
            email=contact.get("email", ""),
            limits={
                "name": MAX_NAME,
                "email": MAX_EMAIL,
                "phone": MAX_PHONE,
                "company": MAX_COMPANY,
                "message": MAX_MESSAGE,
            },
        )


def _wants_json(headers: Headers) -> bool:
    accept = headers.get("accept", "").lower()
    ctype = headers.get("content-type", "").lower()
    return "application/json" in accept or ctype.startswith("application/json")


def _action(scope: Scope) -> str:
    path = str(scope.get("path") or "/")
    root = str(scope.get("root_path") or "")
    # Starlette keeps the full path in ``path``; other servers may split it off into root_path.
    return path if path.startswith(root) else root + path


def _plain(status: int, reason: str, wants_json: bool, extra: dict[str, str] | None = None) -> Response:
    headers = {"Cache-Control": "no-store", **(extra or {})}
    if wants_json:
        return JSONResponse({"ok": False, "error": reason}, status_code=status, headers=headers)
    page = _PAGE.render(
        heading="Your message was not sent",
        title="",
        error=reason,
        errors={},
        labels=_LABELS,
        show_form=False,
        action="",
        values={},
        services=[],
        privacy_url="/",
        contact_url="/",
        email="",
        limits={},
    )
    return HTMLResponse(page, status_code=status, headers={**_PAGE_HEADERS, **headers})


def create_app(
    settings: Settings,
    *,
    store: InquiryStore | None = None,
    notifier: Notifier | None = None,
    limiter: RateLimiter | None = None,
    turnstile_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> ASGIApp:
    """The contact handler for ``settings``; every collaborator can be replaced in tests."""
    section = settings.section("contact_form")
    per_minute = float(section.get("rate_limit_per_minute") or 5)
    return ContactApp(
        settings=settings,
        store=store if store is not None else store_from_settings(settings),
        notifier=notifier if notifier is not None else notifier_from_settings(settings),
        limiter=limiter if limiter is not None else RateLimiter(per_minute),
        turnstile_url=turnstile_url or settings.env.get("TURNSTILE_VERIFY_URL") or TURNSTILE_VERIFY_URL,
        clock=clock or (lambda: datetime.now(UTC)),
        http_client=http_client,
    )
