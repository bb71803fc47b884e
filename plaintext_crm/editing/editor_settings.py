"""VS Code set-up written by `init`: crm.yaml's JSON Schema and a `yaml.schemas` entry in .vscode/settings.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plaintext_crm.editing.atomic import FileStamp, inspect_target, read_bytes, write_atomic
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.schema import SCHEMA_BASE, config_schema

SETTINGS_FILE = ".vscode/settings.json"
SCHEMA_FILE = ".vscode/crm.schema.json"
SCHEMAS_KEY = "yaml.schemas"  # the setting of the YAML extension (redhat.vscode-yaml)
SCHEMA_REF = "./" + SCHEMA_FILE


class NotMerged(Exception):
    """settings.json exists but cannot be merged without losing what the user wrote (say why)."""


def merge_settings(data: bytes | None) -> bytes | None:
    """settings.json's new bytes with crm.yaml mapped to its schema; None when it already is.

    A file that is not plain JSON (VS Code allows comments and trailing commas) or whose `yaml.schemas`
    is not a mapping is never rewritten: NotMerged says what to add by hand."""
    if data is None or not data.strip():
        settings: dict[str, Any] = {}
    else:
        try:
            settings = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NotMerged(f"it is not plain JSON ({exc.__class__.__name__}: comments or trailing commas?)") from None
        if not isinstance(settings, dict):
            raise NotMerged("it is not a JSON object")
    schemas = settings.setdefault(SCHEMAS_KEY, {})
    if not isinstance(schemas, dict):
        raise NotMerged(f"its '{SCHEMAS_KEY}' is not a mapping")
    mapped = schemas.get(SCHEMA_REF)
    if mapped == CONFIG_FILE or (isinstance(mapped, list) and CONFIG_FILE in mapped):
        return None
    if isinstance(mapped, list):
        schemas[SCHEMA_REF] = [*mapped, CONFIG_FILE]
    else:
        schemas[SCHEMA_REF] = [CONFIG_FILE]
    return (json.dumps(settings, indent=4, ensure_ascii=False) + "\n").encode("utf-8")


def schema_text() -> bytes:
    return (json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_vscode_settings(directory: Path) -> tuple[list[str], str | None]:
    """Write the schema file and merge settings.json (atomically, never through a link): what was written,
    and a warning when settings.json had to be left alone."""
    written: list[str] = []
    if inspect_target(directory, SCHEMA_FILE) is None:
        write_atomic(directory, SCHEMA_FILE, schema_text(), None)
        written.append(SCHEMA_FILE)
    else:
        old, schema_stamp = read_bytes(directory, SCHEMA_FILE)
        if old != schema_text() and SCHEMA_BASE.encode() in old:  # ours, from another version: refresh it
            write_atomic(directory, SCHEMA_FILE, schema_text(), schema_stamp)
            written.append(f"{SCHEMA_FILE} (updated)")
    data: bytes | None = None
    stamp: FileStamp | None = None
    if inspect_target(directory, SETTINGS_FILE) is not None:
        data, stamp = read_bytes(directory, SETTINGS_FILE)
    try:
        merged = merge_settings(data)
    except NotMerged as exc:
        return written, (f"left {SETTINGS_FILE} as it is ({exc}); add \"{SCHEMAS_KEY}\": "
                         f"{{\"{SCHEMA_REF}\": [\"{CONFIG_FILE}\"]}} to it yourself")
    if merged is not None:
        write_atomic(directory, SETTINGS_FILE, merged, stamp)
        written.append(SETTINGS_FILE if data is None else f"{SETTINGS_FILE} (added {SCHEMAS_KEY} for {CONFIG_FILE})")
    return written, None

