"""Logging for the edge: nothing personal or secret reaches a log line.

:data:`LOG_CONFIG` (a :func:`logging.config.dictConfig` dictionary, used by
``python -m edge``) formats uvicorn's access log without the client address,
with the query string dropped and local file tickets cut out of the path, and
runs every line through :class:`Redact`, which replaces IP addresses, bearer
tokens, JWT-shaped strings and the path/query of any URL (webhook URLs carry
their secret there). The handlers themselves log only exception kinds and
provider ids, never message text, addresses or tokens.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS = [
    # URLs keep scheme and host only: a webhook's path or a signed link's query is its secret.
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s'\"<>]+)[^\s'\"<>]*", re.I), r"\1/…"),
    # JWT-shaped (bearer tokens, local file tickets, X-Nf-Sign).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*"), "<token>"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer <token>"),
    # IPv4 and IPv6 addresses.
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<address>"),
    (re.compile(r"\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b", re.I), "<address>"),
    (re.compile(r"\[[0-9a-f:]*:[0-9a-f:]*\]", re.I), "<address>"),
]
_TICKET_PATH = re.compile(r"(/local-files/)[^/?\s]+")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Rewrites each record's message with :func:`redact` (formatted once, then frozen)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access":
            return True  # AccessFormatter below builds that line from safe parts
        message = redact(record.getMessage())
        if record.exc_info:
            # A traceback may quote URLs or tokens; keep the kind of error only.
            message += f" ({record.exc_info[0].__name__ if record.exc_info[0] else 'error'})"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = message, None
        return True


class AccessFormatter(logging.Formatter):
    """``GET /api/contact 200`` with no client address, no query string and no ticket."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        args: Any = record.args
        try:
            _client, method, full_path, _version, status = args
        except (TypeError, ValueError):
            return redact(super().formatMessage(record))
        path = _TICKET_PATH.sub(r"\1…", str(full_path).split("?", 1)[0])
        return f"{self.formatTime(record)} access {method} {redact(path)} {status}"


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": Redact}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "access": {"()": AccessFormatter},
    },
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "access": {"class": "logging.StreamHandler", "formatter": "access", "filters": ["redact"]},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["default"], "level": "INFO"},
}
