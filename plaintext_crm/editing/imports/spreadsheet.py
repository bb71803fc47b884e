"""`import csv`: a spreadsheet's columns -> front matter keys through the mapping, each cell read by its key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from plaintext_crm.editing.imports.cells import DATE_KEYS, read_cell_for
from plaintext_crm.editing.imports.csvread import Table
from plaintext_crm.editing.imports.mapping import ImportMapping, Seen
from plaintext_crm.editing.imports.plan import Draft, Skipped
from plaintext_crm.editing.imports.rows import extra_keys
from plaintext_crm.editing.imports.values import DateReader
from plaintext_crm.editing.imports.vendors import HUBSPOT, PIPEDRIVE
from plaintext_crm.records.model import CLIENT_KEYS, COMMON_KEYS, DEAL_KEYS

COMPUTED_PREFIX = "computed:"  # export's figures (weighted value, slack...): not front matter, never imported
KIND_FOLDERS = {"deal": "deals", "client": "clients"}
KNOWN = {"deals": ("id", *DEAL_KEYS, *COMMON_KEYS, "company"), "clients": ("id", *CLIENT_KEYS, *COMMON_KEYS)}
# Vendor roles that are simply one of our keys: a spreadsheet with HubSpot or Pipedrive headers maps itself.
_ROLE_KEYS = {"title": "title", "stage": "stage", "value": "value", "currency": "currency", "owner": "owner",
              "created": "created", "expected_close": "expected_close", "close_date": "expected_close",
              "lost_reason": "lost_reason", "next_action": "next_action", "next_activity_date": "next_action_due",
              "probability": "probability", "company": "company", "name": "name", "stage_changed": "stage_since"}


def column_synonyms(kind: str) -> dict[str, str]:
    """Header key -> front matter key, from the vendors' headers and a few words people use."""
    synonyms = {"company": "company", "organization": "company", "account": "company", "deal": "title",
                "amount": "value", "deal value": "value", "due": "next_action_due", "next step": "next_action"}
    vendor_kind = "deals" if kind == "deals" else "companies"
    for vendor in (HUBSPOT, PIPEDRIVE):
        for header, role in vendor.headers[vendor_kind].items():
            if role in _ROLE_KEYS and _ROLE_KEYS[role] in KNOWN[kind]:
                synonyms.setdefault(header, _ROLE_KEYS[role])
    return synonyms


def seen_in(table: Table, columns: Mapping[str, str | None]) -> Seen:
    """The stages and owners of a spreadsheet, for its mapping."""
    stages: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    for row in table.rows:
        for header, key in columns.items():
            cell = row.cells.get(header, "").strip()
            if cell and key == "stage":
                stages[cell] += 1
            elif cell and key == "owner":
                owners[cell] += 1
    return Seen(stages, Counter(), owners, tuple(columns))


def date_columns(columns: Mapping[str, str | None]) -> dict[str, str]:
    """header -> "date" for the columns holding dates (what date_order looks at)."""
    return {header: "date" for header, key in columns.items() if key in DATE_KEYS}


def spreadsheet_drafts(table: Table, kind: str, mapping: ImportMapping, dates: DateReader,
                       problems: list[str]) -> tuple[list[Draft], list[Skipped]]:
    """One draft per row: mapped columns as their keys, the others as snake_case extra keys."""
    columns = {header: mapping.columns.get(header) for header in table.headers
               if not header.startswith(COMPUTED_PREFIX)}
    extras = extra_keys([header for header, key in columns.items() if not key],
                        {*KNOWN[kind], *(key for key in columns.values() if key)}, "sheet")
    drafts: list[Draft] = []
    skipped: list[Skipped] = []
    name_key = "title" if kind == "deals" else "name"
    for row in table.rows:
        fields: dict[str, Any] = {}
        company: str | None = None
        record_id: str | None = None
        for header, mapped in columns.items():
            cell = row.cells.get(header, "")
            if not cell.strip():
                continue
            key = mapped or extras[header]
            if key == "id":
                record_id = cell.strip()
                continue
            try:
                value = read_cell_for(key, cell, dates)
            except ValueError as exc:
                problems.append(f"{table.name}:{row.line}: column '{header}': {exc}")
                continue
            if key == "company":
                company = str(value)
            elif key == "stage":
                fields[key] = mapping.stages.get(value) or value
            elif key == "owner":
                owner = mapping.owners.get(value)
                fields["owner" if owner else "imported_owner"] = owner or value
            else:
                fields[key] = value
        name = fields.get(name_key)
        if not record_id and not isinstance(name, str):
            skipped.append(Skipped(f"{table.name}:{row.line}", f"the row has neither an id nor a {name_key}"))
            continue
        drafts.append(Draft(kind, f"{table.name}:{row.line}", fields, str(name or record_id),
                            explicit_id=record_id,
                            company=(company, None) if company and kind == "deals" and "client" not in fields
                            else None))
    return drafts, skipped


def mapping_columns(table: Table, kind: str) -> dict[str, str | None]:
    """The identity column mapping of a table whose headers are already our keys (our own export)."""
    return {header: header if header in KNOWN[kind] else None for header in table.headers
            if not header.startswith(COMPUTED_PREFIX)}


def known_keys(kind: str) -> Sequence[str]:
    return KNOWN[kind]
