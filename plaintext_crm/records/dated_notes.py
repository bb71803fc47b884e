"""Dated notes in a record's Markdown body: `## 2026-10-20 Call with Marco` headings outside code fences."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from plaintext_crm.records.model import EARLIEST_DAY, LATEST_DAY, DatedNote

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})\b[ \t]*[-:–—]?[ \t]*(.*)$")
_FENCE_OPEN = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")


def unfenced_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) of the Markdown lines outside fenced code blocks (the fences themselves left out)."""
    fence: str | None = None
    for index, line in enumerate(lines):
        opened = _FENCE_OPEN.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield index, line


def dated_notes(body: str, body_line: int) -> list[DatedNote]:
    """Dated headings (`## 2026-11-20 Call with Jane`) in a Markdown body, with the text under each."""
    if "#" not in body:
        return []
    # Lines are "\n"-separated, as in every other line number (str.splitlines also breaks at \x0c,
    # \x1c, \x85, U+2028...).
    lines = body.split("\n")
    if "\r" in body:
        lines = [line.removesuffix("\r") for line in lines]
    entries: list[tuple[int, int, dt.date, str]] = []  # (index, level, date, title)
    headings: list[tuple[int, int]] = []  # (index, level) of every heading
    # Without a fence marker no line is inside a code block, so only lines starting with '#' can be
    # headings: most bodies skip the per-line fence tracking (a third of building a record).
    candidates = (unfenced_lines(lines) if "```" in body or "~~~" in body
                  else ((index, line) for index, line in enumerate(lines) if line[:1] == "#"))
    for index, line in candidates:
        heading = _HEADING.match(line)
        if not heading:
            continue
        level = len(heading.group(1))
        headings.append((index, level))
        dated = _DATED.match(heading.group(2))
        if dated:
            try:
                day = dt.date.fromisoformat(dated.group(1))
            except ValueError:
                continue
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                continue
            entries.append((index, level, day, dated.group(2).strip()))
    result = []
    for index, level, day, title in entries:
        end = next((other for other, other_level in headings if other > index and other_level <= level), len(lines))
        text = "\n".join(lines[index + 1:end]).strip("\n")
        result.append(DatedNote(day, title, text, body_line + index))
    return result
