"""Tracked fields (stage, owner, value...) of one committed deal version, read fast and as the loader reads them."""

from __future__ import annotations

import re
from typing import Any

from plaintext_crm.records.frontmatter import ParsedFile, parse_record, parse_yaml_mapping, split_front_matter
from plaintext_crm.records.loader import build_deal

# Deal fields whose every committed change is kept.
TRACKED = ("stage", "owner", "value", "currency", "expected_close", "stage_since")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*[ \t]*:(?:[ \t]|$)")
_TRACKED_LINE = re.compile(r"^(" + "|".join(TRACKED) + r")[ \t]*:")
_OPENERS = {'"': '"', "'": "'", "[": "]", "{": "}"}
# Line breaks other than \n that str.splitlines (and so the loader) honours: leave those files to it.
_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# The fences frontmatter.split_front_matter finds (python-frontmatter's): `---` first, then the first
# line of three or more dashes.
_OPENING_FENCE = re.compile(r"---[ \t]*(?:\n|$)")
_CLOSING_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)


def front_matter_text(text: str) -> str | None:
    """The YAML between the fences, as frontmatter.split_front_matter finds it; None without front matter.

    Files with only newline line breaks (nearly all) skip splitting the whole text into lines.
    """
    text = text.removeprefix("\ufeff")
    if _ODD_BREAKS.search(text):
        split = split_front_matter(text)
        return split[0] if isinstance(split, tuple) else None
    opening = _OPENING_FENCE.match(text)
    if opening is None:
        return None
    closing = _CLOSING_FENCE.search(text, opening.end())
    return text[opening.end():closing.start()] if closing else None


class DealFieldReader:
    """Typed tracked fields of a deal file, read the way the loader reads them.

    Most record files keep these keys as simple one-line `key: value` entries; those lines are read
    one by one and each distinct line is parsed once, which is ~20x cheaper than parsing the whole
    front matter of every version. Anything unusual (quoted or flow-style keys, a tracked key whose
    value continues on the next line) falls back to the full parser.
    """

    def __init__(self) -> None:
        self._lines: dict[str, dict[str, Any]] = {}
        self._documents: dict[str, dict[str, Any] | None] = {}  # front matter text -> fields
        self.full_parses = 0

    def read(self, raw: bytes) -> dict[str, Any] | None:
        """The tracked fields of one version, or None when its front matter cannot be read."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        front = front_matter_text(text)
        if front is None:
            return None
        if front in self._documents:  # most edits change the notes, not the front matter
            return self._documents[front]
        values = None if _ODD_BREAKS.search(front) else self._scan(front)
        if values is None:
            values = self._full(raw)
        self._documents[front] = values
        return values

    def _scan(self, front: str) -> dict[str, Any] | None:
        """The fields from simple `key: value` lines; None when the front matter needs the full parser."""
        lines = front.split("\n")
        values: dict[str, Any] = {}
        for number, line in enumerate(lines):
            if not line or line[0] in " \t#":
                continue
            if not _SIMPLE_KEY.match(line):
                return None
            value = line.split(":", 1)[1].strip()
            if value[:1] in _OPENERS and value[-1:] != _OPENERS[value[:1]]:
                return None  # a quoted or flow value that may go on over the next lines
            if _TRACKED_LINE.match(line):
                following = lines[number + 1] if number + 1 < len(lines) else ""
                if following[:1] in (" ", "\t", "-") and following.strip() and not following.lstrip().startswith("#"):
                    return None
                typed = self._line(line)
                if typed is None:
                    return None
                values.update(typed)
        return {key: values.get(key) for key in TRACKED}

    def _line(self, line: str) -> dict[str, Any] | None:
        cached = self._lines.get(line)
        if cached is None:
            parsed = parse_yaml_mapping(line, 2)
            if not isinstance(parsed, tuple):
                return None
            data, key_lines, _traps = parsed
            deal = build_deal(ParsedFile("deals/x.md", data, key_lines), [])
            cached = {key: getattr(deal, key) for key in data if key in TRACKED}
            self._lines[line] = cached
        return cached

    def _full(self, raw: bytes) -> dict[str, Any] | None:
        self.full_parses += 1
        return read_deal_fields(raw)


def read_deal_fields(raw: bytes) -> dict[str, Any] | None:
    """The tracked fields of one deal version through the full parser (the reference for DealFieldReader)."""
    parsed = parse_record("deals/x.md", raw)
    if parsed.data is None:
        return None
    deal = build_deal(parsed, [])
    return {key: getattr(deal, key) for key in TRACKED}
