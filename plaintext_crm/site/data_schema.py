"""The JSON Schema (2020-12) of data.json: records typed by records/fields.py, the rest as data.py writes it."""

from __future__ import annotations

from typing import Any

from plaintext_crm.records.fields import (
    APPROVAL_FIELDS,
    CLIENT_FIELDS,
    COMMON_FIELDS,
    DEAL_FIELDS,
    DEPENDENCY_TYPES,
    PROJECT_FIELDS,
    TASK_FIELDS,
    Field,
)
from plaintext_crm.records.schema import DIALECT, SCHEMA_BASE
from plaintext_crm.site.data import DATA_VERSION

_DAY = {"type": "string", "format": "date"}
_OPTIONAL_DAY = {"anyOf": [{"type": "null"}, _DAY]}
_LINES = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
_TEXTS = {"type": "array", "items": {"type": "string"}}
_DEPENDENCY = {"type": "object", "required": ["task", "project", "type", "lag", "line"], "properties": {
    "task": {"type": "string"}, "project": {"type": ["string", "null"]}, "type": {"enum": list(DEPENDENCY_TYPES)},
    "lag": {"type": "integer"}, "line": {"type": "integer"}}}
_CONTACT = {"type": "object", "required": ["name"],
            "properties": {key: {"type": ["string", "null"]} for key in ("name", "role", "email", "phone")}}


def _typed(spec: Field) -> dict[str, Any]:
    """The JSON form of a record's typed value for one declared field (None when missing or invalid)."""
    kind = spec.kind
    schema: dict[str, Any]
    if kind == "text":
        schema = {"type": ["string", "null"]}
    elif kind == "texts":
        schema = _TEXTS
    elif kind == "date":
        schema = _OPTIONAL_DAY
    elif kind == "owners":
        schema = {"type": ["string", "null"], "description": "The first owner (`owners` lists them all)."}
    elif kind in ("number", "probability", "effort", "percent"):
        schema = {"type": ["number", "null"]}
    elif kind == "whole":
        schema = {"type": ["integer", "null"]}
    elif kind == "choice":
        schema = {"enum": [*spec.choices, None]}
    elif kind == "flag":
        schema = {"type": "boolean"}
    elif kind == "contacts":
        schema = {"type": "array", "items": _CONTACT}
    elif kind == "tasks":
        schema = {"type": "array", "items": _object(TASK_FIELDS, {
            "line": {"type": "integer"}, "key_lines": _LINES, "fields": {"type": "object"}, "owners": _TEXTS})}
    elif kind == "dependencies":
        schema = {"type": "array", "items": _DEPENDENCY}
    elif kind == "approval":
        schema = {"anyOf": [{"type": "null"}, _object(APPROVAL_FIELDS, {})]}
    elif kind == "invoice":
        schema = {"anyOf": [{"type": "null"}, {
            "type": "object", "required": ["share", "amount"],
            "properties": {"share": {"type": ["number", "null"], "description": "Per cent of the budget."},
                           "amount": {"type": ["number", "null"]}}}]}
    else:
        raise ValueError(f"no data.json schema for a field of kind {kind!r}")
    return {"description": spec.doc, **schema}


def _object(fields: tuple[Field, ...], more: dict[str, Any]) -> dict[str, Any]:
    properties = {**{spec.name: _typed(spec) for spec in fields}, **more}
    return {"type": "object", "required": list(properties), "properties": properties}


_RECORD_BASE = {
    "id": {"type": "string", "description": "The file name without .md."},
    "path": {"type": "string", "description": "Relative to the workspace, / separators."},
    "fields": {"type": "object", "description": "The front matter as written, unknown keys included."},
    "body": {"type": "string", "description": "The Markdown after the front matter."},
    "body_line": {"type": "integer", "description": "The file line on which the body starts."},
    "history": {"type": "array", "description": "Dated headings of the body (## 2026-11-20 Call).", "items": {
        "type": "object", "required": ["date", "title", "text", "line"],
        "properties": {"date": _DAY, "title": {"type": "string"}, "text": {"type": "string"},
                       "line": {"type": "integer"}}}},
    "lines": {**_LINES, "description": "The line of each top-level key."},
}


def _record(fields: tuple[Field, ...], more: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = _object((*fields, *COMMON_FIELDS), {**_RECORD_BASE, **(more or {})})
    return {"type": "object", "additionalProperties": schema}


_SCHEDULE = {"type": "object", "description": "Planned dates, health, drift and each task's computed dates "
                                              "(docs/delivery.md).",
             "properties": {"health": {"type": "string"}, "planned_start": _OPTIONAL_DAY,
                            "planned_finish": _OPTIONAL_DAY, "critical_path": _TEXTS,
                            "tasks": {"type": "object", "additionalProperties": {"type": "object"}}}}
_WEEK_LOAD = {"type": "object", "required": ["week", "booked", "capacity", "tasks"], "properties": {
    "week": _DAY, "booked": {"type": "number"}, "capacity": {"type": "number"},
    "tasks": {"type": "array", "items": {"type": "object", "required": ["project", "task", "days"], "properties": {
        "project": {"type": "string"}, "task": {"type": "string"}, "days": {"type": "number"}}}}}}
_REVENUE_MONTH = {"type": "object", "required": ["month", "invoiced", "booked", "weighted_pipeline"], "properties": {
    "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "invoiced": {"type": "number"},
    "booked": {"type": "number"}, "weighted_pipeline": {"type": "number"}}}
_STAGE = {"type": "object", "required": ["id", "probability", "rot_days", "closed"], "properties": {
    "id": {"type": "string"}, "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "rot_days": {"type": ["integer", "null"]}, "closed": {"enum": ["won", "lost", None]},
    "is_open": {"type": "boolean"}, "is_won": {"type": "boolean"}, "is_lost": {"type": "boolean"}}}
_WORKSPACE = {"type": "object", "required": ["name", "currency", "team", "pipeline", "handoff_fields",
                                             "lost_reasons", "exchange_rates"], "properties": {
    "name": {"type": "string"}, "currency": {"type": "string"},
    "team": {"type": "object", "additionalProperties": {
        "type": "object", "required": ["id", "name", "email", "active"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": ["string", "null"]},
                       "active": {"type": "boolean"}}}},
    "pipeline": {"type": "array", "items": _STAGE},
    "handoff_fields": _TEXTS,
    "lost_reasons": {"anyOf": [{"type": "null"}, _TEXTS]},
    "exchange_rates": {"type": "object", "additionalProperties": {"type": "number"}},
}}
_FINDING = {"type": "object", "required": ["path", "line", "column", "code", "rule", "severity", "message"],
            "additionalProperties": False, "properties": {
    "path": {"type": "string"}, "line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1},
    "code": {"type": "string", "pattern": "^[A-Z][0-9]{3}$"}, "rule": {"type": "string"},
    "severity": {"enum": ["error", "warning", "info"]}, "message": {"type": "string"}}}


def data_schema() -> dict[str, Any]:
    """The schema of data.json (version DATA_VERSION)."""
    properties = {
        "version": {"const": DATA_VERSION},
        "generator": {"type": "string"},
        "today": _DAY,
        "workspace": _WORKSPACE,
        "files": _TEXTS,
        "clients": _record(CLIENT_FIELDS),
        "deals": _record(DEAL_FIELDS),
        "projects": _record(PROJECT_FIELDS, {"schedule": _SCHEDULE}),
        "findings": {"type": "array", "items": _FINDING},
        "figures": {"type": "object", "description": "Sales figures (docs/metrics.md).", "required": [
            "today", "currency", "deals", "board", "followups", "overview", "handoffs", "forecast"]},
        "pages": {"type": "object", "description": "Record file -> its page in the site.",
                  "additionalProperties": {"type": "string"}},
        "history": {"type": "object", "description": "What git history says (docs/history.md).",
                    "required": ["available"]},
        "forecast_accuracy": {"type": "array", "description": "The last 12 complete months: the weighted "
                              "forecast at each month's first day against what was won (docs/metrics.md).",
                              "items": {"type": "object", "required": ["month", "forecast_at_start", "won", "ratio"],
                                        "properties": {"month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
                                                       "forecast_at_start": {"type": "number"},
                                                       "won": {"type": "number"},
                                                       "ratio": {"type": ["number", "null"]}}}},
        "slippage": {"type": "object", "description": "Deal id -> how often its expected_close moved later "
                     "(docs/history.md).", "additionalProperties": {
                         "type": "object", "required": ["count", "days", "moves"]}},
        "workload": {"type": ["object", "null"], "description": "Working days booked per member and week against "
                     "capacity, 12 weeks from the status date (docs/delivery.md).",
                     "additionalProperties": {"type": "array", "items": _WEEK_LOAD}},
        "revenue": {"type": ["array", "null"], "description": "Invoices sent and planned beside the weighted "
                    "pipeline, by month (docs/delivery.md).", "items": _REVENUE_MONTH},
    }
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + "data", "title": "plaintext-crm data.json",
            "type": "object", "required": list(properties), "additionalProperties": False,
            "properties": properties}
