"""Reading a record's text around a line or the cursor: front matter bounds, key and value spans, YAML context."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plaintext_crm.records.frontmatter import CLOSING_FENCE

_KEY_LINE = re.compile(r"^(?P<lead>[ \t]*(?:-[ \t]+)*)(?P<key>[^\s:#'\"\[\]{},-][^:#]*?|\"[^\"]*\"|'[^']*')"
                       r"[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_ITEM_LINE = re.compile(r"^(?P<lead>[ \t]*(?:-[ \t]+)+)(?P<value>.*?)[ \t]*$")
_INNER_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*([^,\[\]{}:]*)$")
_FLOW_LIST = re.compile(r"^[ \t]*(?:-[ \t]+)*([A-Za-z_][\w-]*)[ \t]*:[ \t]*\[[^\]]*$")
_WORD = re.compile(r"[\w./-]+")


def split_lines(text: str) -> list[str]:
    """The lines of a text as the loader counts them ("\\n"-separated, a trailing "\\r" dropped)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def front_matter_end(lines: list[str]) -> int | None:
    """The 0-based index of the closing fence of the front matter, or None (no front matter, or unclosed)."""
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if CLOSING_FENCE.match(lines[index]) or lines[index].rstrip() == "...":
            return index
    return None


def in_front_matter(lines: list[str], line: int) -> bool:
    """True when the 0-based `line` is between the fences (an unclosed front matter runs to the end)."""
    if not lines or lines[0].rstrip() != "---" or line == 0:
        return False
    end = front_matter_end(lines)
    return end is None or line < end


def _strip_comment(value: str) -> str:
    """A plain value without a trailing ` # comment` (quotes are left alone)."""
    if value[:1] in "'\"":
        return value
    cut = value.find(" #")
    return value[:cut].rstrip() if cut >= 0 else value


@dataclass(frozen=True, slots=True)
class LineParts:
    """Where the key and the value of one YAML line are (0-based columns, end exclusive)."""

    key: str | None
    key_span: tuple[int, int] | None
    value: str
    value_span: tuple[int, int] | None
    indent: int  # the column of the key or item text


def line_parts(line: str) -> LineParts:
    """`  owner: ana  # x` -> key owner at 2..7, value ana at 9..12; `  - design` -> value design."""
    match = _KEY_LINE.match(line)
    if match:
        key = match.group("key").strip("'\"")
        value = _strip_comment(match.group("value") or "")
        value_span = (match.start("value"), match.start("value") + len(value)) if value else None
        return LineParts(key, (match.start("key"), match.end("key")), value, value_span, match.start("key"))
    item = _ITEM_LINE.match(line)
    if item and item.group("value"):
        value = _strip_comment(item.group("value"))
        return LineParts(None, None, value, (item.start("value"), item.start("value") + len(value)),
                         item.start("value"))
    stripped = len(line) - len(line.lstrip())
    text = line.strip()
    return LineParts(None, None, text, (stripped, stripped + len(text)) if text else None, stripped)


def parent_keys(lines: list[str], line: int) -> list[str]:
    """The keys enclosing a line by indentation, outermost first: ["tasks", "depends_on"] for a list item."""
    first = len(lines[line]) - len(lines[line].lstrip(" -")) if line < len(lines) else 0
    limit = first
    found: list[str] = []
    for index in range(line - 1, 0, -1):
        text = lines[index]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = line_parts(text)
        if parts.key is not None and parts.indent < limit:
            found.append(parts.key)
            limit = parts.indent
        elif parts.key is None and parts.indent < limit:
            limit = parts.indent
        if limit == 0:
            break
    return found[::-1]


@dataclass(frozen=True, slots=True)
class Context:
    """What the cursor is on in the front matter."""

    parents: tuple[str, ...]  # enclosing keys, outermost first
    key: str | None  # the key whose value is being written (None while a key is typed)
    prefix: str  # the partial word before the cursor
    start: int  # the column where that word starts


def context_at(lines: list[str], line: int, column: int) -> Context | None:
    """The completion context at a 0-based position, or None outside the front matter."""
    if line >= len(lines) or not in_front_matter(lines, line):
        return None
    before = lines[line][:column]
    word = re.search(r"[\w./-]*$", before)
    prefix = word.group(0) if word else ""
    start = column - len(prefix)
    parents = tuple(parent_keys(lines, line))
    inner = _INNER_KEY.search(before)
    if inner is not None:
        return Context(parents, inner.group(1), prefix, start)
    flow = _FLOW_LIST.match(before)
    if flow is not None:  # `depends_on: [design, bu|`: an item of the line's own key
        return Context(parents, flow.group(1), prefix, start)
    if before.lstrip().startswith("-"):
        # a list item: its values belong to the enclosing key
        return Context(parents[:-1], parents[-1] if parents else None, prefix, start)
    return Context(parents, None, prefix, start)


def word_at(line: str, column: int) -> tuple[int, int, str] | None:
    """The id-like word (letters, digits, _ . / -) under a column, with its span."""
    for match in _WORD.finditer(line):
        if match.start() <= column <= match.end():
            return match.start(), match.end(), match.group(0)
    return None


def offset_of(lines: list[str], line: int, column: int) -> int:
    """The character offset in "\\n"-joined `lines` of a 0-based position."""
    return sum(len(text) + 1 for text in lines[:line]) + column


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The 0-based (line, column) of a character offset in text."""
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def smallest_change(old: str, new: str) -> tuple[int, int, str]:
    """(start, end, replacement) turning `old` into `new` with one edit of the differing middle."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, new[start:end_new]
