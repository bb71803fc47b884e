"""Front matter text of a new record, fast for the common values and checked by reading it back."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from plaintext_crm.editing.atomic import EditError
from plaintext_crm.editing.edit import render_block_items, render_inline, same_value
from plaintext_crm.records.frontmatter import ParseProblem, parse_yaml_mapping

# Plain text YAML 1.1 reads back as the same text: starts with a letter, no `:` `#` or quotes, not a word
# YAML reads as a boolean or null.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 _.,&()/+-]*[A-Za-z0-9.)]$|^[A-Za-z]$")
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def inline(value: Any) -> str:
    """render_inline, without its read-back parse for the values that need none."""
    if isinstance(value, str) and _PLAIN.match(value) and value.casefold() not in _WORDS and "  " not in value:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return render_inline(value)


def front_matter(fields: Mapping[str, Any]) -> str:
    """`key: value` lines (lists as block lists) for a new file, in the order of `fields`."""
    lines = []
    for key, value in fields.items():
        if isinstance(value, list | tuple) and value:
            lines.append(f"{key}:\n" + render_block_items(list(value), "  - ", "\n"))
        else:
            rendered = inline(value)
            lines.append(f"{key}: {rendered}" if rendered else f"{key}:")
    return "\n".join(lines) + "\n"


def record_text(fields: Mapping[str, Any], body: str, where: str) -> str:
    """A whole new record file; raises EditError unless its front matter reads back as `fields`."""
    yaml_text = front_matter(fields)
    parsed = parse_yaml_mapping(yaml_text, 2)
    if isinstance(parsed, ParseProblem) or not same_value(dict(parsed[0]), {
            key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}):
        raise EditError(f"{where}: the imported values would not read back as written; nothing was written")
    return f"---\n{yaml_text}---\n{body}"
