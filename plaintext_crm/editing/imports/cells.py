"""Our own CSV cells: how export writes a front matter value and `import csv` reads it back exactly."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from plaintext_crm.editing.atomic import EditError
from plaintext_crm.editing.edit import render_inline, same_value
from plaintext_crm.editing.imports.values import DateReader, parse_amount
from plaintext_crm.records.frontmatter import InvalidDate, ParseProblem, parse_yaml_mapping

DATE_KEYS = frozenset({"created", "expected_close", "next_action_due", "stage_since", "closed_on", "kickoff_date",
                       "start", "due"})
NUMBER_KEYS = frozenset({"value", "probability"})
LIST_KEYS = frozenset({"key_constraints", "lint_ignore", "contacts", "depends_on"})
TEXT_KEYS = frozenset({"title", "client", "owner", "stage", "currency", "source", "next_action", "lost_reason",
                       "scope_summary", "promised_timeline", "main_stakeholder", "project", "name", "status",
                       "deal"})
LIST_SEPARATOR = "; "
# A cell starting with one of these is a formula to Excel and LibreOffice ("CSV injection"): text that does is
# written YAML-quoted ('=1+1'), which a spreadsheet shows as text and import csv reads back as the text.
FORMULA = ("=", "+", "-", "@", "\t", "\r")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$")


def read_yaml_scalar(text: str) -> Any:
    """A cell read as a bare front matter value would be (YAML 1.1, as the loader reads it); text when it
    is not one line of valid YAML."""
    if "\n" in text or "\r" in text:
        return text
    parsed = parse_yaml_mapping(f"k: {text}\n", 1)
    if isinstance(parsed, ParseProblem) or "k" not in parsed[0] or isinstance(parsed[0]["k"], InvalidDate):
        return text
    return parsed[0]["k"]


def read_number(text: str) -> int | float:
    """`12500` -> int, `0.25` / `1e+16` -> float, as written; else a human amount (`$12,500.00`)."""
    cleaned = text.strip()
    if _INT.match(cleaned):
        return int(cleaned)
    if _FLOAT.match(cleaned):
        return float(cleaned)
    return parse_amount(cleaned)[0]


def read_text_cell(text: str) -> Any:
    """A text or extra column's cell: what YAML reads when that is a date, number or boolean (as in front
    matter), else the text exactly as written (so `Acme # 2` keeps its `#`)."""
    value = read_yaml_scalar(text)
    return text if isinstance(value, str) else value


def read_cell_for(key: str, text: str, dates: DateReader) -> Any:
    """The front matter value of key `key` from a spreadsheet cell; ValueError when it cannot be one.

    A cell written as YAML (quoted, or a [flow list]) is read as YAML; else dates read any common date
    format, numbers any common amount style, lists split at `;`, and other cells as read_text_cell.
    """
    stripped = text.strip()
    if stripped[:1] in ("'", '"', "[", "{"):
        value = read_yaml_scalar(stripped)
        if value is not stripped:
            return value
    if key in DATE_KEYS:
        return dates.read(stripped)
    if key in NUMBER_KEYS:
        return read_number(stripped)
    if key in LIST_KEYS:
        return [item.strip() for item in stripped.split(";") if item.strip()]
    return read_text_cell(stripped)


_CHECK_DATES = DateReader(True)


def _natural(key: str, value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, InvalidDate):
        return value.isoformat() if not isinstance(value, dt.datetime) else value.date().isoformat()
    if key in NUMBER_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    if key in LIST_KEYS and isinstance(value, list) and all(isinstance(item, str) for item in value):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, str):
        return value
    return _yaml(value)


def _reads_back(key: str, cell: str, value: Any) -> bool:
    try:
        return same_value(read_cell_for(key, cell, _CHECK_DATES), value)
    except ValueError:
        return False


def write_cell(key: str, value: Any) -> str:
    """The cell `import csv` reads back as `value` for key `key`: ISO dates, lists joined by `; `, plain
    text; YAML (quoted text, [flow lists]) where the plain form would read back as something else."""
    if value is None:
        return ""
    natural = _natural(key, value)
    if _reads_back(key, natural, value) and not (isinstance(value, str | list) and natural.startswith(FORMULA)):
        return natural
    if isinstance(value, str):
        quoted = str(yaml.safe_dump(value, default_style="'", width=float("inf"), allow_unicode=True))
        quoted = quoted.removesuffix("\n...\n").strip()
        if _reads_back(key, quoted, value):
            return quoted
    return _yaml(value)


def _yaml(value: Any) -> str:
    try:
        return render_inline(value)
    except (EditError, TypeError):
        return str(yaml.safe_dump(value, default_flow_style=True, width=float("inf"), sort_keys=False,
                                  allow_unicode=True)).strip()
