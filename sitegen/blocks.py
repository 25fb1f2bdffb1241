"""Region blocks: the ``::: region …`` lines of a Markdown body, found before Markdown runs.

A line pre-scanner, independent of the Markdown engine: it knows fenced and
indented code (where ``:::`` stays literal), checks every block line against
the grammar below, and replaces each block line by a one-line HTML comment
carrying a private-use marker, which any CommonMark engine passes through as
an HTML block. :func:`sitegen.markdown.select_region` then cuts each region's
HTML from the one conversion.

Grammar (one line each, outside code; a line indented as a paragraph's continuation counts)::

    ::: region ID [ID …]        shown in the regions listed
    ::: region not ID [ID …]    shown in every other region
    :::                         closes the innermost open block

Blocks nest: an inner block is shown where it and every block around it are
shown, and the text after an inner ``:::`` belongs to the outer block again.
Anything else starting with ``:::`` is an error with a suggestion, as are an
unclosed block (reported at its opening line), a stray ``:::`` and a nested
block that no region can show.

The scanner also records, for the leak guard, the words written inside each
block, and turns explicit heading ids (``## Title {#id}``) into markers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

# Private-use code points: no editor types them, every Markdown engine passes them through.
REGION_OPEN, REGION_MID, REGION_CLOSE = "\ue010", "\ue011", "\ue012"
HEADING_ID_OPEN, HEADING_ID_CLOSE = "\ue013", "\ue014"
EXPR_MARK = re.compile("\ue000\\d+\ue001")

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_LIST_ITEM = re.compile(r"^( {0,3})([-+*]|\d{1,9}[.)])( {1,4}|$)")
_QUOTED_BLOCK_LINE = re.compile(r"^ {0,3}>[ >]*:::")
_ATX_ID = re.compile(r"^( {0,3}#{1,6}[ \t].*?)[ \t]+\{#([^{}]*)\}[ \t]*$")
_HEADING_ID = re.compile(r"^[\w-]+$")
_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # _WORD on lower-case ASCII text, several times faster
_NOT_TEXT = re.compile(r"\]\([^)]*\)|<[^>]*>|`[^`]*`|\{\{.*?\}\}|\{%.*?%\}|\0")


@dataclass(frozen=True)
class RegionSpec:
    """Which regions a ``::: region`` block is shown in."""

    ids: tuple[str, ...]
    negate: bool = False

    def shows(self, region_id: str) -> bool:
        return (region_id in self.ids) != self.negate


@dataclass
class Block:
    """One ``::: region`` block: where it opens, what it says, the blocks around it."""

    spec: RegionSpec
    line: int
    info: str  # as written after ':::'
    parents: tuple[int, ...] = ()  # indexes of the enclosing blocks, outermost first
    # For the leak guard: each text line written directly inside, as a reader would see its words,
    # and every word of every line directly inside (code, link targets and all), lower-cased.
    words: list[str] = field(default_factory=list)
    raw: str = ""


@dataclass
class Scan:
    """A body with its block lines replaced by markers, and what the scanner found."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # line (in body), message
    # Every word written outside every block, lower-cased, for the leak guard ('' without blocks).
    outside: str = ""

    def chain(self, index: int) -> list[RegionSpec]:
        block = self.blocks[index]
        return [self.blocks[i].spec for i in block.parents] + [block.spec]

    def shown(self, index: int, region_id: str) -> bool:
        return all(spec.shows(region_id) for spec in self.chain(index))


def classify(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(index, kind) for each line: 'code', 'block' (starts with ':::'), 'quoted-block' or 'text'.

    CommonMark's code rules, as far as a line scanner can follow them: a fence
    is open until a closing fence of the same character and at least its
    length; a line indented four columns past the enclosing list item's
    content, after a blank line or more code, is indented code.
    """
    fence: tuple[str, int] | None = None
    item_indent = 0  # content column of the innermost list item, 0 outside lists
    after_blank = True  # indented code cannot interrupt a paragraph
    in_code = False
    for i, raw in enumerate(lines):
        line = raw.expandtabs(4) if "\t" in raw else raw
        if fence is not None:
            if _closes(line, fence):
                fence = None
            yield i, "code"
            continue
        head = line.lstrip(" ")
        if not head.strip():
            after_blank = True
            yield i, "code" if in_code else "text"
            continue
        indent = len(line) - len(head)
        if item_indent and indent < item_indent and after_blank:
            item_indent = 0  # a line left of the item's content after a blank line ends the list
        if indent >= item_indent + 4 and (after_blank or in_code):
            in_code = True
            yield i, "code"
            continue
        in_code = after_blank = False
        # The literal tests first: the patterns run only on the few lines that may match them.
        rest = line[item_indent:] if indent >= item_indent else head
        start = rest.lstrip(" ")[:3]
        fence = _opens(rest) if start in ("```", "~~~") else None
        if fence is not None:
            yield i, "code"
        elif start == ":::":
            # Deeper than three spaces but not code (a paragraph's continuation): still a block line.
            yield i, "block"
        elif start[:1] == ">" and _QUOTED_BLOCK_LINE.match(rest):
            yield i, "quoted-block"
        else:
            if head[0] in _ITEM_START:
                item = _LIST_ITEM.match(line)
                if item:
                    item_indent = (
                        len(item.group(0)) if item.group(3) else len(item.group(1)) + len(item.group(2)) + 1
                    )
            yield i, "text"


_ITEM_START = frozenset("-+*0123456789")


def _opens(rest: str) -> tuple[str, int] | None:
    """The fence (character, length) that ``rest`` opens, or None."""
    m = _FENCE.match(rest)
    if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
        return m.group(2)[0], len(m.group(2))
    return None


def _closes(line: str, fence: tuple[str, int]) -> bool:
    """Whether ``line`` closes ``fence``: the same character, at least as many, nothing after."""
    if not line.lstrip(" ").startswith(fence[0] * 3):
        return False
    m = _FENCE.match(line)
    return bool(m and m.group(2)[0] == fence[0] and len(m.group(2)) >= fence[1] and not m.group(3).strip())


def mark_heading_ids(body: str) -> str:
    """``## Title {#id}`` -> ``## Title`` + a marker, outside code; before any Jinja sees ``{#``."""
    if "{#" not in body:
        return body
    lines = body.split("\n")
    for i, kind in classify(lines):
        if kind == "text" and "{#" in lines[i]:
            m = _ATX_ID.match(lines[i])
            if m:
                lines[i] = f"{m.group(1)}{HEADING_ID_OPEN}{m.group(2)}{HEADING_ID_CLOSE}"
    return "\n".join(lines)


def heading_id_error(value: str) -> str | None:
    if _HEADING_ID.match(value):
        return None
    return f"heading id '{{#{value}}}': use letters, digits, '-' and '_' only, e.g. {{#our-team}}"


def words(text: str) -> str:
    """Every word of ``text``, lower-cased, one space apart."""
    if text.isascii():  # casefolding ASCII text changes no word boundary: fold it all at once
        return " ".join(_ASCII_WORD.findall(text.lower()))
    return " ".join(w.casefold() for w in _WORD.findall(text))


def reader_words(line: str) -> list[str]:
    """A source line's runs of words as a reader sees them (link targets, tags, code, values cut out)."""
    return [w for w in (words(part) for part in _NOT_TEXT.split(EXPR_MARK.sub("\0", line))) if w]


def scan(body: str, region_ids: Sequence[str]) -> Scan:
    """Check the block lines of ``body`` and replace them by markers (line count unchanged)."""
    if ":::" not in body:
        # Most bodies: no block line, so nothing to check, replace or guard ('outside' is only
        # compared with the words of hidden blocks).
        return Scan(body)
    lines = body.split("\n")
    scanner = _Scanner(lines, region_ids)
    for i, kind in classify(lines):
        if kind == "quoted-block":
            scanner.error(
                i,
                f"'{lines[i].strip()}': a region block cannot start inside a quote ('>'); "
                "put the quote inside the block instead",
            )
        elif kind == "block":
            scanner.block_line(i)
        else:
            scanner.other_line(i, kind)
    return scanner.finish()


class _Scanner:
    """The state of one scan: open blocks, words outside them, and what was found so far."""

    def __init__(self, lines: list[str], region_ids: Sequence[str]) -> None:
        self.lines = lines
        self.region_ids = region_ids
        self.result = Scan("")
        self.stack: list[int] = []  # open blocks; -1 for a malformed opener (its ':::' is not stray)
        self.outside: list[str] = []

    def error(self, i: int, message: str) -> None:
        self.result.errors.append((i + 1, message))

    def block_line(self, i: int) -> None:
        raw = self.lines[i]
        written = raw.strip()
        if 0 < i < len(self.lines) - 1 and all(
            self.lines[j].lstrip().startswith("|") for j in (i - 1, i + 1)
        ):
            self.error(
                i,
                f"'{written}' cuts a table in two: put a whole table in each block "
                "(one table per region), or the block around the table",
            )
            return
        indent = " " * min(len(raw) - len(raw.lstrip()), 3)  # deeper would not be an HTML block
        if written == ":::":
            self.closer(i, indent)
        else:
            self.opener(i, written, indent)

    def closer(self, i: int, indent: str) -> None:
        if not self.stack:
            self.error(i, "':::' closes no block: remove it, or add the '::: region …' line it should close")
        elif self.stack.pop() >= 0:
            self.lines[i] = f"{indent}<!--{REGION_CLOSE}-->"

    def opener(self, i: int, written: str, indent: str) -> None:
        result, stack = self.result, self.stack
        spec, messages = _parse_opener(written, self.region_ids, bool(stack))
        if spec is None:
            result.errors.extend((i + 1, message) for message in messages)
            stack.append(-1)
            return
        block = Block(spec, i + 1, written[3:].strip(), tuple(j for j in stack if j >= 0))
        result.blocks.append(block)
        index = len(result.blocks) - 1
        if block.parents and not any(result.shown(index, rid) for rid in self.region_ids):
            outer = result.blocks[block.parents[-1]]
            self.error(
                i,
                f"'{written}' inside '::: {outer.info}' is shown in no region; "
                "close the outer block first or list a region it shows",
            )
        stack.append(index)
        self.lines[i] = f"{indent}<!--{REGION_OPEN}{index}{REGION_MID}-->"

    def other_line(self, i: int, kind: str) -> None:
        """A line of text or code: its words belong to the innermost open block, or to the outside."""
        raw = self.lines[i]
        inside = self.result.blocks[self.stack[-1]] if self.stack and self.stack[-1] >= 0 else None
        if inside is None:
            self.outside.append(raw)
            return
        inside.raw += " " + words(raw)
        if kind == "text":
            inside.words.extend(reader_words(raw))

    def finish(self) -> Scan:
        result = self.result
        for index in self.stack:
            if index >= 0:
                block = result.blocks[index]
                result.errors.append(
                    (block.line, f"'::: {block.info}' is never closed: add a line ':::' where the block ends")
                )
        result.text = "\n".join(self.lines)
        result.outside = words("\n".join(self.outside))
        return result


def closest_region(word: str, region_ids: Sequence[str]) -> str | None:
    """The region id ``word`` most likely means ('PK' -> 'pk', 'inl' -> 'intl'), or None."""
    if word.lower() in region_ids:
        return word.lower()
    return next(iter(difflib.get_close_matches(word.lower(), region_ids, n=1)), None)


def _parse_opener(
    written: str, region_ids: Sequence[str], in_block: bool
) -> tuple[RegionSpec | None, list[str]]:
    """(spec, []) for a line in the grammar; (None, messages with a suggestion) otherwise."""
    known = ", ".join(region_ids)
    rest = written[3:]
    words = rest.split()
    if rest[:1] == " " and words and words[0] == "region" and "," not in rest:
        ids = words[1:]
        negate = bool(ids) and ids[0] == "not"
        if negate:
            ids = ids[1:]
        if not ids:
            return None, [
                f"'{written}' names no region: write '::: region ID …' or '::: region not ID …' (known: {known})"
            ]
        unknown = [w for w in ids if w not in region_ids]
        if not unknown:
            if len(set(ids)) != len(ids):
                return None, [
                    f"'{written}' lists a region twice; did you mean '{_suggest(written, region_ids)}'?"
                ]
            return RegionSpec(tuple(ids), negate), []
        problems = []
        for rid in unknown:
            hint = closest_region(rid, region_ids)
            did = f"; did you mean '{hint}'?" if hint else ""
            problems.append(f"unknown region id '{rid}' in '::: {' '.join(words)}'{did} (known: {known})")
        return None, problems
    suggestion = ":::" if not written.strip(":") else _suggest(written, region_ids)
    if suggestion:
        did = f"; did you mean '{suggestion}'?"
    elif in_block:
        did = "; to close the block, write ':::' alone"
    else:
        did = f"; write '::: region ID …' (known: {known})"
    if written.startswith("::::"):
        why = "a block line starts with exactly three colons"
    elif rest[:1] not in ("", " ", "\t"):
        why = "put a space after ':::'"
    elif "," in rest:
        why = "separate region ids with spaces, not commas"
    elif (
        words and words[0].lower() == "region" or rest != rest.lower() and _suggest(rest.lower(), region_ids)
    ):
        why = "block lines are written in lower case"
    elif words:
        why = f"unknown block '{words[0]}' (the only block is '::: region')"
    else:
        why = "not a block line"
    return None, [f"'{written}': {why}{did}"]


def _suggest(written: str, region_ids: Sequence[str]) -> str:
    """The grammatical line closest to what was written, or '' when nothing is close."""
    words = [w for w in re.split(r"[\s,;:]+", written.lower()) if w]
    if not words:
        return ""
    if words[0] != "region" and not difflib.get_close_matches(words[0], ["region"], n=1, cutoff=0.6):
        # Not 'region' misspelt: maybe the word was left out ('::: pk').
        if not all(difflib.get_close_matches(w, [*region_ids, "not"], n=1, cutoff=0.6) for w in words):
            return ""
        words = ["region", *words]
    out = ["region"]
    rest = words[1:]
    if rest and rest[0] == "not":
        out.append("not")
        rest = rest[1:]
    seen: list[str] = []
    for w in rest:
        match = closest_region(w, region_ids)
        if match is None:
            return ""
        if match not in seen:
            seen.append(match)
    if not seen:
        return ""
    return "::: " + " ".join(out + seen)
