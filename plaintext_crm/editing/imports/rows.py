"""Rows of an export -> incoming records: each column's role read into a typed value, the rest kept as extras."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plaintext_crm.editing.imports.csvread import ImportFailed, Table
from plaintext_crm.editing.imports.values import (
    DateReader,
    decimal_comma,
    parse_amount,
    slash_order,
    snake_case,
    source_id,
)
from plaintext_crm.editing.imports.vendors import DATE_ROLES, Vendor
from plaintext_crm.records.model import CLIENT_KEYS, COMMON_KEYS, DEAL_KEYS

MAX_PROBLEMS_SHOWN = 20
ID_ROLES = frozenset({"source_id", "company_id", "deal_id"})


@dataclass(frozen=True, slots=True)
class Incoming:
    """One row of an export, read: its roles as values, the other columns as extra front matter keys."""

    table: str
    line: int
    roles: Mapping[str, Any]  # role -> value (dates are dates, amounts numbers, ids int or text)
    extras: Mapping[str, str] = field(default_factory=dict)  # front matter key -> cell text

    @property
    def where(self) -> str:
        return f"{self.table}:{self.line}"

    def text(self, role: str) -> str | None:
        value = self.roles.get(role)
        return None if value is None else str(value)


def extra_keys(headers: Iterable[str], reserved: Iterable[str], prefix: str) -> dict[str, str]:
    """header -> front matter key for the columns without a role: snake_case, never a key the import
    writes itself (those get `prefix_`), never the same key twice (a number is added)."""
    taken = set(reserved)
    keys: dict[str, str] = {}
    for header in headers:
        key = snake_case(header)
        if key in taken:
            key = f"{prefix}_{key}"
        base, number = key, 2
        while key in taken:
            key, number = f"{base}_{number}", number + 1
        taken.add(key)
        keys[header] = key
    return keys


RESERVED = frozenset({*DEAL_KEYS, *CLIENT_KEYS, *COMMON_KEYS, "id", "pipeline", "domain", "created",
                      "hubspot_id", "pipedrive_id", "imported_owner", "imported_company", "role", "email", "phone"})


def date_order(tables: Sequence[tuple[Table, Mapping[str, str]]], given: bool | None) -> DateReader:
    """One DateReader for the whole import: the --date-format order, else the order the dates show; an
    import whose `a/b/YYYY` dates could be either is refused, naming the first such cell."""
    if given is not None:
        return DateReader(given)
    cells: list[tuple[str, int, str]] = []
    for table, roles in tables:
        date_headers = [header for header, role in roles.items() if role in DATE_ROLES]
        cells += [(table.name, row.line, row.cells[header]) for row in table.rows for header in date_headers
                  if row.cells.get(header, "").strip()]
    try:
        order = slash_order(value for _name, _line, value in cells)
    except ValueError as exc:
        raise ImportFailed(f"{exc}; say which with --date-format; nothing was written") from None
    if order is None:
        for name, line, value in cells:
            try:
                DateReader(None).read(value)
            except ValueError as exc:
                if "could be day-month" in str(exc):
                    raise ImportFailed(f"{name}:{line}: {exc}; no date of the import settles it "
                                       "(none has a day past 12); nothing was written") from None
    return DateReader(order)


def read_cell(role: str, text: str, dates: DateReader, comma_decimal: bool | None = None) -> Any:
    """The typed value of one cell in its role; ValueError saying why it cannot be read."""
    if role in DATE_ROLES:
        return dates.read(text)
    if role in ID_ROLES:
        return source_id(text.split(";")[0]) if role != "source_id" else source_id(text)
    if role == "value":
        return parse_amount(text, comma_decimal)
    if role == "probability":
        amount, _currency = parse_amount(text.replace("%", ""))
        number = float(amount) / 100 if amount > 1 or "%" in text else float(amount)
        if not 0 <= number <= 1:
            raise ValueError(f"'{text}' is not a probability (0-1 or 0-100%)")
        return number
    if role == "currency":
        code = text.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"'{text}' is not a three-letter currency code")
        return code
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()  # Excel writes CRLF inside quoted cells
    if role == "content":
        return text
    return " ".join(text.split()) if "\n" not in text else text


def read_rows(table: Table, roles: Mapping[str, str], extras: Mapping[str, str], dates: DateReader,
              problems: list[str]) -> list[Incoming]:
    """Every row of `table` read; unreadable cells become `problems` (file:line: column: why)."""
    found = []
    value_headers = [header for header, role in roles.items() if role == "value"]
    comma = decimal_comma(row.cells[header] for row in table.rows for header in value_headers)
    for row in table.rows:
        values: dict[str, Any] = {}
        kept: dict[str, str] = {}
        for header, cell in row.cells.items():
            if not cell.strip():
                continue
            role = roles.get(header)
            if role is None:
                kept[extras[header]] = cell.strip()
                continue
            if role in values:  # two columns with one role (Record ID and Deal ID): the first one counts
                continue
            try:
                values[role] = read_cell(role, cell, dates, comma)
            except ValueError as exc:
                problems.append(f"{table.name}:{row.line}: column '{header}': {exc}")
        found.append(Incoming(table.name, row.line, values, kept))
    return found


def roles_of(table: Table, vendor: Vendor, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """(header -> role, header -> extra key) of a vendor's `kind` file."""
    roles: dict[str, str] = {}
    for header in table.headers:
        role = vendor.role(kind, header)
        if role is not None:
            roles[header] = role
    reserved = {*RESERVED, vendor.id_key}
    others = [header for header in table.headers if header not in roles]
    keys = extra_keys([vendor.unprefixed(kind, header) for header in others], reserved, vendor.name)
    return roles, {header: keys[vendor.unprefixed(kind, header)] for header in others}


def raise_problems(problems: Sequence[str]) -> None:
    """Stop the import when any cell could not be read, listing them."""
    if not problems:
        return
    shown = "\n  ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = f"\n  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
    raise ImportFailed(f"{len(problems)} cell{'s' if len(problems) != 1 else ''} cannot be read; fix the export "
                       f"or the options, then run the import again (nothing was written):\n  {shown}{more}")


_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)


def note_text(content: str) -> str:
    """A note's text as Markdown: Pipedrive's HTML reduced to lines, no line able to open a heading."""
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", content))) if "<" in content else content
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = ["\\" + line if line.lstrip().startswith("#") else line for line in lines]
    return "\n".join(lines).strip()


def note_heading(day: dt.date, text: str) -> tuple[str, str]:
    """(`## 2026-10-20 Call with Marco`, the rest of the note) from a note's date and text."""
    first, _, rest = text.partition("\n")
    title = first.lstrip("\\").strip() or "Note"
    if len(title) > 80:
        title, rest = title[:77].rstrip() + "...", text
    return f"## {day.isoformat()} {title}", rest.strip()
