"""Field declarations and value checks for the schema.

``doc()`` declares a schema field with its documentation, default and check;
a check takes the converted value and returns an error message or None.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any

Check = Callable[[Any], "str | None"]

REGION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
HREFLANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})*$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
URL = re.compile(r"^https?://[^\s/]+")


def doc(
    text: str, default: Any = dataclasses.MISSING, check: Check | None = None, factory: Any = None
) -> Any:
    """A dataclass field carrying its documentation (and an optional check)."""
    meta = {"doc": text, "check": check}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def pattern(regex: re.Pattern[str], what: str) -> Check:
    """Text matching ``regex``; ``what`` says in words what was expected."""

    def check(value: Any) -> str | None:
        if isinstance(value, str) and regex.match(value):
            return None
        return f"expected {what}, got {value!r}"

    return check


def choice(*allowed: str) -> Check:
    """One of a fixed set of words."""
    words = f"{', '.join(allowed[:-1])} or {allowed[-1]}" if len(allowed) > 1 else allowed[0]

    def check(value: Any) -> str | None:
        return None if value in allowed else f"expected {words}, got {value!r}"

    return check


def optional(inner: Check) -> Check:
    """Empty means "not set"; anything else must pass ``inner``."""

    def check(value: Any) -> str | None:
        return None if not value else inner(value)

    return check


def positive(value: Any) -> str | None:
    return None if value > 0 else f"expected a positive number, got {value!r}"


def positive_each(value: Any) -> str | None:
    """A non-empty list of positive whole numbers."""
    if value and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return None
    return f"expected a list of positive whole numbers, got {value!r}"


def percent(value: Any) -> str | None:
    return None if 1 <= value <= 100 else f"expected a number from 1 to 100, got {value!r}"


url = pattern(URL, "an absolute http(s) URL")
env_name = pattern(ENV_NAME, "an environment variable name")
