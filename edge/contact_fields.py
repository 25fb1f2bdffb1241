"""The contact form's fields: limits, cleaning and one checker per field.

Pure functions of the submitted values and the region's data; no I/O. The
migration's CHECK constraints repeat the limits so the database refuses what
the handler would.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from edge.inquiries import Inquiry

TURNSTILE_FIELD = "cf-turnstile-response"
HONEYPOT_FIELD = "website"
FIELDS = ("name", "email", "phone", "company", "service", "message", "consent", "region")

# Limits in characters (code points after normalisation).
MAX_NAME = 100
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_COMPANY = 120
MIN_MESSAGE = 10
MAX_MESSAGE = 5000
MAX_TOKEN = 4096
LIMITS = {
    "name": MAX_NAME,
    "email": MAX_EMAIL,
    "phone": MAX_PHONE,
    "company": MAX_COMPANY,
    "message": MAX_MESSAGE,
}

_TRUE = {"on", "true", "1", "yes"}
# Bidirectional overrides/isolates can make text display differently from what
# it is (e.g. a reversed e-mail address in the agency's inbox); they have no
# place in a contact form.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


class FieldError(ValueError):
    """A field's value is refused; the message is shown next to the field."""


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


def clean_line(raw: str, form: Literal["NFC", "NFKC"] = "NFC") -> str:
    """One-line field: normalised, controls removed, whitespace collapsed.

    CR or LF in a one-line field is refused rather than removed: it is the
    signature of header injection, and silently altering it would hide that.
    """
    if _has_surrogates(raw):
        raise FieldError("contains characters that are not valid text")
    if "\r" in raw or "\n" in raw or "\u2028" in raw or "\u2029" in raw:
        raise FieldError("must be a single line")
    text = _strip_controls(unicodedata.normalize(form, raw), keep_newlines=False)
    return " ".join(text.split())


def clean_message(raw: str) -> str:
    if _has_surrogates(raw):
        raise FieldError("contains characters that are not valid text")
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _strip_controls(unicodedata.normalize("NFC", text), keep_newlines=True)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def region_country(region: Mapping[str, Any]) -> str | None:
    countries = region.get("countries") or []
    return str(countries[0]).upper() if countries else None


# --------------------------------------------------------------------------- one checker per field
# Each takes the raw text and the region's site.json entry ({} when unknown)
# and returns the stored value, or raises FieldError.


def check_name(raw: str, region: Mapping[str, Any]) -> str:
    name = clean_line(raw)
    if not name:
        raise FieldError("Please tell us your name.")
    if len(name) > MAX_NAME:
        raise FieldError(f"Please keep your name under {MAX_NAME} characters.")
    return name


def check_email(raw: str, region: Mapping[str, Any]) -> str:
    email = clean_line(raw, "NFKC")
    if not email:
        raise FieldError("Please give an email address so we can reply.")
    if len(email) > MAX_EMAIL:
        raise FieldError("This email address is too long.")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FieldError(f"This does not look like an email address: {exc}") from exc


def check_phone(raw: str, region: Mapping[str, Any]) -> str | None:
    phone = clean_line(raw, "NFKC")
    if len(phone) > MAX_PHONE:
        raise FieldError("This phone number is too long.")
    if not phone:
        return None
    country = region_country(region)
    try:
        parsed = phonenumbers.parse(phone, country)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    hint = "" if country else " with the country code, e.g. +44 20 7946 0000"
    raise FieldError(f"Please check the phone number{hint}.")


def check_company(raw: str, region: Mapping[str, Any]) -> str | None:
    company = clean_line(raw)
    if len(company) > MAX_COMPANY:
        raise FieldError(f"Please keep the company name under {MAX_COMPANY} characters.")
    return company or None


def check_service(raw: str, region: Mapping[str, Any]) -> str | None:
    service = clean_line(raw, "NFKC")
    if service and service != "other" and region:
        known = {str(s.get("id")) for s in region.get("services") or []}
        if service not in known:
            raise FieldError("Please pick one of the listed services.")
    return service or None


def check_message(raw: str, region: Mapping[str, Any]) -> str:
    message = clean_message(raw)
    if len(message) < MIN_MESSAGE:
        raise FieldError(f"Please tell us a little more (at least {MIN_MESSAGE} characters).")
    if len(message) > MAX_MESSAGE:
        raise FieldError(f"Please keep the message under {MAX_MESSAGE} characters.")
    return message


def check_consent(raw: str, region: Mapping[str, Any]) -> bool:
    if raw.strip().lower() not in _TRUE:
        raise FieldError("Please agree to the privacy policy so we may store your message.")
    return True


CHECKS: dict[str, Callable[[str, Mapping[str, Any]], Any]] = {
    "name": check_name,
    "email": check_email,
    "phone": check_phone,
    "company": check_company,
    "service": check_service,
    "message": check_message,
    "consent": check_consent,
}


@dataclass(frozen=True)
class Checked:
    """The outcome of :func:`validate`: an inquiry, or the message for each refused field."""

    inquiry: Inquiry | None
    errors: dict[str, str]


def texts(raw: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Each field as text ("" when absent), and an error for a field that is not text.

    A JSON ``true``/``false`` is accepted for ``consent`` (the form's script sends it).
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        value = raw.get(name)
        if value is None:
            value = ""
        if isinstance(value, bool) and name == "consent":
            value = "true" if value else ""
        if not isinstance(value, str):
            errors[name] = "must be text"
            value = ""
        values[name] = value
    return values, errors


def validate(raw: Mapping[str, Any], regions: Mapping[str, Any], now: datetime) -> Checked:
    """Check every field of a submission; return the normalised inquiry or every field's problem."""
    values, errors = texts(raw)
    region_id = values["region"].strip()
    region = regions.get(region_id) if region_id else None
    if region is None:
        errors.setdefault("region", "unknown region" if region_id else "is missing")
        region = {}
    clean: dict[str, Any] = {}
    for name, check in CHECKS.items():
        if name in errors:
            continue
        try:
            clean[name] = check(values[name], region)
        except FieldError as exc:
            errors[name] = str(exc)
    if errors:
        return Checked(None, errors)
    inquiry = Inquiry(
        region=region_id,
        service=clean["service"],
        name=clean["name"],
        email=clean["email"],
        phone=clean["phone"],
        company=clean["company"],
        message=clean["message"],
        consent_at=now,
        created_at=now,
    )
    return Checked(inquiry, {})
