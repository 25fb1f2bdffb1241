"""The content schema: the declared type of every front-matter key and catalog field.

Like ``site.yaml``'s schema in :mod:`sitegen.config`, one table per kind of
file, each field with its type and documentation. YAML guesses types from how
a value looks (``- Basics: titles`` is a mapping, ``name: 2024`` a number), so
every value is checked against its declared type before anything uses it, and
a mismatch names the line and the fix (usually: quote it).

Fields marked ``regional`` may instead hold one value per region
(``{pk: …, intl: …, default: …}``); each of those values is checked alike.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.errors import Problems
from sitegen.regions import is_region_map

# A check returns what is wrong with a value, or None.
Check = Callable[[Any], "str | None"]


def describe(value: Any) -> str:
    """A value's YAML type in an editor's words."""
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"a date ({value.isoformat()})"
    if isinstance(value, dict):
        return "a mapping (a 'key: value' pair; the colon did that)" if len(value) == 1 else "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"text ('{str(value)[:40]}')"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text, got {describe(value)}"


def whole_number(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"must be a whole number, got {describe(value)}"


def true_or_false(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {describe(value)}"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date(value: Any) -> str | None:
    if isinstance(value, dt.date):
        return None
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            dt.date.fromisoformat(value)
            return None
        except ValueError:
            return f"'{value}' is not a date in the calendar"
    return f"must be a date like 2026-06-17, got {describe(value)}"


def mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be 'name: value' lines, got {describe(value)}"


def text_or_list(value: Any) -> str | None:
    """One name, or a list of names (menus)."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return None
    return f"must be a name or a list of names, got {describe(value)}"


@dataclass(frozen=True)
class ListOf:
    """A list whose items each pass ``item`` (checked one by one, each at its own line)."""

    item: Check | Mapping[str, Field]


@dataclass(frozen=True)
class Field:
    doc: str
    check: Check | ListOf
    regional: bool = False
    required: bool = False


FRONT_MATTER: dict[str, Field] = {
    "title": Field("Page title (required); may differ per region.", text, regional=True, required=True),
    "description": Field("Meta description; may differ per region.", text, regional=True),
    "template": Field("Template name without .html (default: page, or home for the top index.md).", text),
    "slug": Field("Replaces the last segment of the URL.", text),
    "url": Field("The whole region-less URL, e.g. /services/.", text),
    "regions": Field("List of region ids the page is built in (default: all).", text_or_list),
    "menu": Field("Menu the page appears in, e.g. main or footer.", text_or_list, regional=True),
    "linktitle": Field("Shorter title used in menus (default: title).", text, regional=True),
    "weight": Field("Order within its menu (smaller first).", whole_number),
    "draft": Field("Drafts are only built with --drafts.", true_or_false),
    "updated": Field("Date the page was last changed (YYYY-MM-DD).", date),
    "noindex": Field(
        "true keeps the page out of search engines: a robots noindex tag, left out of the sitemaps.",
        true_or_false,
    ),
    "params": Field("Free values available as page.params in templates and content.", mapping),
    "image": Field(
        "The page's image: a JPEG, PNG, WebP or GIF file next to the page (e.g. hero.jpg); shown where "
        "the theme shows page images and used as the page's Open Graph image; may differ per region.",
        text,
        regional=True,
    ),
    "image_alt": Field(
        "What the page's image shows, for people who cannot see it; may differ per region.",
        text,
        regional=True,
    ),
}

FAQ_ITEM: dict[str, Field] = {
    "q": Field("The question.", text, required=True),
    "a": Field("The answer.", text, required=True),
}

SERVICE: dict[str, Field] = {
    "id": Field("Lowercase id, also the URL: /services/<id>/ (default: the file name).", text),
    "name": Field("Service name; may differ per region.", text, regional=True, required=True),
    "summary": Field("One or two sentences for lists and meta descriptions.", text, regional=True),
    "body": Field("Markdown shown on the service page.", text, regional=True),
    "regions": Field("Region ids the service is offered in (default: all).", text_or_list),
    "price": Field(
        "Per region: amount, currency, unit (e.g. project, month), from (true for 'from' prices).",
        lambda value: None,  # checked per region by the catalog, with the region's currency
        regional=True,
    ),
    "features": Field("List of short lines shown as bullet points.", ListOf(text), regional=True),
    "order": Field("Position in lists (smaller first).", whole_number),
    "faq": Field("List of {q, a} pairs.", ListOf(FAQ_ITEM), regional=True),
    "template": Field("Template name (default: service).", text),
    "updated": Field("Date the service was last changed.", date),
}

PRICE: dict[str, Field] = {
    "amount": Field("The amount, a number (80000 or 12.50).", lambda v: None, required=True),
    "currency": Field("ISO 4217 code, e.g. PKR (default: the region's currency).", text),
    "unit": Field("What the price is per, e.g. project or month.", text),
    "from": Field("true when the amount is a starting price.", true_or_false),
}


@dataclass
class Located:
    """Where values of one file are: the line of each key path, and the file's lines for fixes."""

    file: str
    lines: Mapping[tuple[str, ...], int]
    source: Sequence[str]  # the file's lines
    offset: int = 0  # added to every line (front matter starts on the file's second line)

    def line(self, path: tuple[str, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 0) + self.offset or 1

    def fix(self, path: tuple[str, ...], value: Any) -> str:
        """How to make the value at ``path`` text: the same line with the value quoted."""
        if value is None:
            return "; give it a value, or remove the line"
        n = self.line(path)
        line = self.source[n - 1] if 0 < n <= len(self.source) else ""
        m = re.match(r"^(\s*-\s+|\s*[^\s:#][^:#]*:\s+)(.+?)\s*$", line)
        if m is None:
            return "; write the value as text in quotes"
        quoted = json.dumps(m.group(2).strip(), ensure_ascii=False)
        return f"; quote this line: {m.group(1).strip()} {quoted}"


def check_fields(
    data: Mapping[str, Any],
    schema: Mapping[str, Field],
    where: Located,
    region_ids: Sequence[str],
    problems: Problems,
    path: tuple[str, ...] = (),
) -> None:
    """Every known field of ``data`` has its declared type (unknown keys are the caller's)."""
    for key, field in schema.items():
        if key not in data:
            continue
        value = data[key]
        if value is None and field.required:
            continue  # reported as missing by the reader
        if field.regional and is_region_map(value, region_ids):
            for rid, one in value.items():
                _check_value(one, field, where, region_ids, problems, (*path, key, str(rid)))
        else:
            _check_value(value, field, where, region_ids, problems, (*path, key))


def _check_value(
    value: Any,
    field: Field,
    where: Located,
    region_ids: Sequence[str],
    problems: Problems,
    path: tuple[str, ...],
) -> None:
    name = ".".join(path)
    if isinstance(field.check, ListOf):
        if not isinstance(value, list):
            problems.error(
                f"'{name}' must be a list ('- …' lines under it), got {describe(value)}",
                where.file,
                where.line(path),
            )
            return
        for i, item in enumerate(value):
            item_path = (*path, str(i))
            if isinstance(field.check.item, Mapping):
                if not isinstance(item, dict):
                    problems.error(
                        f"item {i + 1} of '{name}' must be {' and '.join(field.check.item)} lines, got {describe(item)}",
                        where.file,
                        where.line(item_path),
                    )
                    continue
                for sub, sub_field in field.check.item.items():
                    if sub not in item and sub_field.required:
                        problems.error(
                            f"item {i + 1} of '{name}' has no '{sub}'", where.file, where.line(item_path)
                        )
                check_fields(item, field.check.item, where, region_ids, problems, item_path)
            else:
                wrong = field.check.item(item)
                if wrong:
                    problems.error(
                        f"item {i + 1} of '{name}' {wrong}{where.fix(item_path, item)}",
                        where.file,
                        where.line(item_path),
                    )
        return
    wrong = field.check(value)
    if wrong:
        fix = where.fix(path, value) if field.check in (text, text_or_list) else ""
        problems.error(f"'{name}' {wrong}{fix}", where.file, where.line(path))
