"""YAML with line numbers: every file sitegen reads as YAML goes through here.

Problems name ``file:line``, so the loader keeps the line of every key path
beside the data (``key_lines``), and a malformed document becomes a
``SitegenError`` pointing at the line the parser stopped on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import SitegenError

# The C loader is several times faster on large catalogs; both produce the same data.
Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def key_lines(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Map every key path of a composed YAML document to its 1-based line."""
    lines: dict[tuple[str, ...], int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            lines.update(key_lines(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(key_lines(item, (*path, str(i))))
    return lines


def load_yaml(
    text: str, file: str, what: str = "YAML", offset: int = 0
) -> tuple[Any, dict[tuple[str, ...], int]]:
    """Parse YAML, returning the data and the line of every key path.

    ``offset`` is added to every line (front matter starts on its file's second line);
    ``what`` names the document in messages.
    """
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SitegenError(
            f"malformed {what}: {problem}; check indentation, colons and quotes", file, line
        ) from None
    except yaml.YAMLError as exc:
        raise SitegenError(f"malformed {what}: {exc}", file) from None
    try:
        # Built from the node just composed: parsing the text again cost a third of the time.
        data = Loader("").construct_document(node) if node is not None else None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        # A value that looks like a date or number but is none (2026-13-01).
        bad = _bad_scalar(node)
        shown = f" '{bad.value}'" if bad is not None else ""
        raise SitegenError(
            f"malformed {what}: the value{shown} looks like a date or number but is not one ({exc}); "
            "correct it, or quote it to keep it as text",
            file,
            bad.start_mark.line + 1 + offset if bad is not None else None,
        ) from None
    lines = key_lines(node) if node is not None else {}
    return data, {path: line + offset for path, line in lines.items()}


def _bad_scalar(node: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first scalar the safe constructor cannot build."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            return node
        return None
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for child in children:
        found = _bad_scalar(child)
        if found is not None:
            return found
    return None


def read_text(path: Path, file: str, data: bytes | None = None) -> str:
    """A source file as text (universal newlines), or a SitegenError saying how to fix it.

    ``data``: the file's bytes, when the caller already read them.
    """
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise SitegenError(unreadable(exc), file) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SitegenError("not UTF-8 text: save the file as UTF-8", file, line) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def unreadable(exc: OSError) -> str:
    """The message for a source file that cannot be opened (a dangling or looping link, mostly)."""
    return f"cannot read the file ({exc.strerror or exc}); if it is a link, point it at an existing file"
