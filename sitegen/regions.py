"""Per-region values: resolution of region-keyed mappings and price formatting."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

_MISSING = object()


def is_region_map(value: Any, region_ids: Iterable[str]) -> bool:
    """A mapping whose keys are all region ids (plus optional 'default')."""
    if not isinstance(value, dict) or not value:
        return False
    ids = set(region_ids)
    keys = set(map(str, value))
    return keys <= ids | {"default"} and bool(keys & ids)


def resolve(value: Any, region_id: str, region_ids: Iterable[str]) -> Any:
    """The value for one region; nested structures are resolved all the way down."""
    ids = tuple(region_ids)
    if is_region_map(value, ids):
        chosen = value.get(region_id, value.get("default", _MISSING))
        return None if chosen is _MISSING else resolve(chosen, region_id, ids)
    if isinstance(value, dict):
        return {k: resolve(v, region_id, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, region_id, ids) for v in value]
    return value


def present_in(value: Any, region_id: str, region_ids: Iterable[str]) -> bool:
    """False when a region-keyed mapping has no entry (nor default) for the region."""
    ids = tuple(region_ids)
    return not is_region_map(value, ids) or region_id in value or "default" in value


@lru_cache(maxsize=256)
def _pattern_without_fraction(locale: str) -> str:
    from babel import Locale  # imported when first needed: it costs ~40 ms at start-up

    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    # Whole amounts read better without ".00": drop the fraction digits.
    return re.sub(r"\.0+", "", pattern)


def format_price(amount: float | int | Decimal, currency: str, locale: str) -> str:
    """``Rs 80,000`` for PKR in en_PK, ``$900`` for USD in en_US; decimals only when needed."""
    from babel.numbers import format_currency, get_currency_symbol

    value = Decimal(str(amount))
    if value == value.to_integral_value():
        text = format_currency(
            value, currency, format=_pattern_without_fraction(locale), locale=locale, currency_digits=False
        )
    else:
        text = format_currency(value, currency, locale=locale)
    symbol = get_currency_symbol(currency, locale=locale)
    # CLDR's currency spacing: a letter symbol next to a digit gets a space ("Rs 80,000").
    if (
        symbol
        and symbol[-1].isalpha()
        and text.startswith(symbol)
        and text[len(symbol) : len(symbol) + 1].isdigit()
    ):
        text = f"{symbol} {text[len(symbol) :]}"
    return text


class NotText(Exception):
    """A value that has no text form to put into a page (a list, a mapping, a group of settings)."""


def format_value(value: Any, locale: str) -> Any:
    """What a ``{{ … }}`` in content shows: text as is, numbers and dates the region's way.

    Never a Python repr: a list, mapping, empty value or object raises NotText.
    """
    import datetime as dt

    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        from babel.numbers import format_decimal

        return format_decimal(value, locale=locale)
    if isinstance(value, dt.datetime):
        from babel.dates import format_datetime

        return format_datetime(value, format="medium", locale=locale)
    if isinstance(value, dt.date):
        from babel.dates import format_date

        return format_date(value, format="long", locale=locale)
    if isinstance(value, (list, tuple)):
        raise NotText("is a list: show its items with {% for item in … %}{{ item }}{% endfor %}")
    if isinstance(value, dict):
        raise NotText("is a group of values: name the one to show, e.g. {{ x.name }}")
    if value is None:
        raise NotText("is empty: give it a value in the YAML, or test it with {% if … %}")
    raise NotText("is not text (a group of settings or a function): name one value, e.g. {{ region.label }}")
