"""Quick fixes for findings whose fix is unambiguous: hand-off keys, misspelt keys and stages, next action dates,
and `lint_ignore` for a code."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from plaintext_crm.editing.atomic import EditError
from plaintext_crm.editing.edit import edit_front_matter
from plaintext_crm.findings import Finding
from plaintext_crm.lsp.state import record_of
from plaintext_crm.lsp.text import line_parts, split_lines
from plaintext_crm.records.fields import field_of
from plaintext_crm.records.model import DEAL_KEYS, Deal, Record, Workspace

PLACEHOLDER = "TODO"
_GUESS = re.compile(r"did you mean '([^']+)'\?")


@dataclass(frozen=True, slots=True)
class Fix:
    """A quick fix: its title, the finding it answers, and the whole new text of the document."""

    title: str
    finding: Finding
    new_text: str
    preferred: bool = False


def week_from(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7)


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


def fixes(workspace: Workspace, rel: str, text: str, findings: list[Finding], today: dt.date) -> Iterator[Fix]:
    """The quick fixes for `findings` of the document `rel` whose current text is `text`."""
    record = record_of(workspace, rel)
    offered: set[str] = set()  # one fix per title: five missing hand-off keys get one action
    for fix in _all_fixes(workspace, record, rel, text, findings, today):
        if fix.title not in offered:
            offered.add(fix.title)
            yield fix


def _all_fixes(workspace: Workspace, record: Record | None, rel: str, text: str, findings: list[Finding],
               today: dt.date) -> Iterator[Fix]:
    for finding in findings:
        try:
            yield from _fixes_for(workspace, record, text, finding, today)
        except EditError:
            continue  # a front matter the editor cannot change safely: no fix offered
        if record is not None:
            ignored = [str(code) for code in _as_list(record.fields.get("lint_ignore"))]
            try:
                new = edit_front_matter(text, {"lint_ignore": [*ignored, finding.code]}, where=rel)
            except EditError:
                continue
            yield Fix(f"Ignore {finding.code} in this record (lint_ignore)", finding, new)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _fixes_for(workspace: Workspace, record: Record | None, text: str, finding: Finding,
               today: dt.date) -> Iterator[Fix]:
    code = finding.code
    if code == "K001":
        fix = _rename_key(text, finding)
        if fix is not None:
            yield fix
        return
    if not isinstance(record, Deal):
        return
    if code == "D004":
        missing = record.handoff_gaps(workspace.config.handoff_fields)[0]
        if missing:
            values = {key: _placeholder(key, today) for key in missing}
            yield Fix(f"Insert the missing hand-off keys ({', '.join(missing)})", finding,
                      edit_front_matter(text, values, order=DEAL_KEYS, where=record.path), preferred=True)
    elif code == "D005" and record.stage is not None:
        stages = [stage.id for stage in workspace.config.stages]
        close = difflib.get_close_matches(record.stage.strip().lower(), stages, n=2, cutoff=0.6)
        if len(close) == 1:
            yield Fix(f"Change stage to '{close[0]}'", finding,
                      edit_front_matter(text, {"stage": close[0]}, where=record.path), preferred=True)
    elif code == "D002" and record.next_action_due is None and "next_action_due" not in record.key_lines:
        day = week_from(today)
        yield Fix(f"Set next_action_due to {day} (a week from today)", finding,
                  edit_front_matter(text, {"next_action_due": day}, order=DEAL_KEYS, where=record.path))
    elif code == "D003" and record.next_action_due is not None:
        day = week_from(today)
        yield Fix(f"Push next_action_due to {day} (a week from today)", finding,
                  edit_front_matter(text, {"next_action_due": day}, where=record.path), preferred=True)


def _placeholder(key: str, today: dt.date) -> object:
    """A value that reads as one to replace: TODO, or for a date the next Monday."""
    spec = field_of("deals", key)
    if spec is not None and spec.kind == "date":
        return next_monday(today)
    if spec is not None and spec.kind == "texts":
        return [PLACEHOLDER]
    return PLACEHOLDER


def _rename_key(text: str, finding: Finding) -> Fix | None:
    """K001: the misspelt key on the finding's line, renamed to the key its message suggests."""
    guess = _GUESS.search(finding.message)
    lines = split_lines(text)
    index = finding.line - 1
    if guess is None or not 0 <= index < len(lines):
        return None
    parts = line_parts(lines[index])
    if parts.key_span is None:
        return None
    start = sum(len(line) + 1 for line in lines[:index]) + parts.key_span[0]
    offsets = _raw_offset(text, start), _raw_offset(text, start + parts.key_span[1] - parts.key_span[0])
    new_text = text[:offsets[0]] + guess.group(1) + text[offsets[1]:]
    return Fix(f"Rename '{parts.key}' to '{guess.group(1)}'", finding, new_text, preferred=True)


def _raw_offset(text: str, offset: int) -> int:
    """An offset in the "\\r"-less lines of `text` as an offset in `text` itself (CRLF files)."""
    if "\r" not in text:
        return offset
    raw = 0
    seen = 0
    while seen < offset and raw < len(text):
        if text[raw] == "\r" and text[raw + 1:raw + 2] == "\n":
            raw += 1
            continue
        raw += 1
        seen += 1
    return raw
