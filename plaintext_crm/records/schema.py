"""JSON Schemas (2020-12) of crm.yaml and of each record kind's front matter, generated from records/fields.py."""

from __future__ import annotations

import re
from typing import Any

from plaintext_crm.records.fields import (
    APPROVAL_FIELDS,
    CLIENT_FIELDS,
    COMMON_FIELDS,
    DEAL_FIELDS,
    DEPENDENCY_TYPES,
    MAX_AMOUNT,
    MAX_WORKING_DAYS,
    PROJECT_FIELDS,
    SETTINGS,
    TASK_FIELDS,
    Field,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "urn:plaintext-crm:schema:"  # $id of each schema: urn:plaintext-crm:schema:deal

_TEXT = {"type": ["string", "number", "null"]}
_BLANK = {"type": "string", "pattern": "^\\s*$"}
# A date as the loader reads it: YYYY-MM-DD (a time after it is dropped), in the years 1900 to 2999.
_DATE = {"anyOf": [{"type": "null"}, _BLANK,
                   {"type": "string", "format": "date", "pattern": "^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"}]}
_TEXTS = {"anyOf": [_TEXT, {"type": "array", "items": {"type": ["string", "number"]}}]}
_DEPENDENCY = {"anyOf": [
    {"type": ["string", "integer"], "minLength": 1},
    {"type": "object", "required": ["task"], "properties": {
        "task": {"type": ["string", "integer"], "description": "A task id, or project-id/task-id."},
        "type": {"enum": [*DEPENDENCY_TYPES, *(kind.lower() for kind in DEPENDENCY_TYPES)],
                 "description": "FS finish-to-start (default), SS, FF or SF."},
        "lag": {"type": "integer", "minimum": -MAX_WORKING_DAYS, "maximum": MAX_WORKING_DAYS,
                "description": "Working days after (negative: before) the dependency allows."},
    }},
]}
_CONTACT = {"anyOf": [{"type": "string", "minLength": 1}, {
    "type": "object", "required": ["name"],
    "properties": {key: {"type": ["string", "number", "null"]} for key in ("name", "role", "email", "phone")},
}]}


def value_schema(spec: Field) -> dict[str, Any]:
    """The JSON Schema of the values the loader accepts for one declared field, with its description."""
    kind = spec.kind
    schema: dict[str, Any]
    if kind == "text":
        schema = dict(_TEXT)
    elif kind in ("texts", "owners"):
        schema = dict(_TEXTS)
    elif kind == "date":
        schema = dict(_DATE)
    elif kind == "number":
        schema = {"type": ["number", "null"], "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT}
    elif kind == "probability":
        schema = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    elif kind == "whole":
        schema = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_WORKING_DAYS}
    elif kind == "effort":
        schema = {"type": ["number", "null"], "minimum": 0, "maximum": MAX_WORKING_DAYS}
    elif kind == "percent":
        schema = {"anyOf": [{"type": ["number", "null"], "minimum": 0, "maximum": 100},
                            {"type": "string", "pattern": "^\\s*[0-9]+(?:\\.[0-9]+)?\\s*%\\s*$"}]}
    elif kind == "invoice":
        schema = {"anyOf": [{"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": MAX_AMOUNT},
                            {"type": "string", "pattern": "^\\s*[0-9]+(?:\\.[0-9]+)?\\s*%\\s*$"}]}
    elif kind == "choice":
        # the loader strips the text, and reads a blank value as missing
        pattern = "^\\s*(?:" + "|".join(re.escape(choice) for choice in spec.choices) + ")?\\s*$"
        schema = {"anyOf": [{"enum": [*spec.choices, None]}, {"type": "string", "pattern": pattern}]}
    elif kind == "flag":
        schema = {"type": ["boolean", "null"]}
    elif kind == "contacts":
        schema = {"type": ["array", "null"], "items": _CONTACT}
    elif kind == "tasks":
        schema = {"type": ["array", "null"], "items": mapping_schema(TASK_FIELDS, required=("id",))}
    elif kind == "dependencies":
        schema = {"anyOf": [{"type": "null"}, _DEPENDENCY, {"type": "array", "items": _DEPENDENCY}]}
    elif kind == "approval":
        schema = {"anyOf": [{"type": "null"}, mapping_schema(APPROVAL_FIELDS)]}
    else:
        raise ValueError(f"no schema for a field of kind {kind!r}")
    return {"description": spec.doc, **schema}


def mapping_schema(fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with the declared fields; other keys are allowed (the tool keeps keys it does not know)."""
    schema: dict[str, Any] = {"type": "object", "properties": {spec.name: value_schema(spec) for spec in fields}}
    if required:
        schema["required"] = list(required)
    return schema


def _document(name: str, title: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + name, "title": title, **body}


RECORD_SCHEMAS = {"client": ("clients", CLIENT_FIELDS), "deal": ("deals", DEAL_FIELDS),
                  "project": ("projects", PROJECT_FIELDS)}


def record_schema(name: str) -> dict[str, Any]:
    """The schema of the front matter of a client, deal or project file."""
    folder, fields = RECORD_SCHEMAS[name]
    return _document(name, f"plaintext-crm {name} front matter ({folder}/ID.md)",
                     mapping_schema((*fields, *COMMON_FIELDS)))


def config_schema() -> dict[str, Any]:
    """The schema of crm.yaml."""
    properties = {setting.name: {"description": setting.doc, **setting.schema} for setting in SETTINGS}
    return _document("crm", "plaintext-crm workspace settings (crm.yaml)",
                     {"type": "object", "properties": properties})
