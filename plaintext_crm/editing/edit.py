"""Round-trip-safe, atomic edits of record files: change the named front matter keys, keep every other byte.

Why a text edit and not ruamel.yaml: a ruamel round trip re-indents sequences, drops extra spaces after a
colon, turns `~` into an empty value, rewrites CRLF as LF and reads YAML 1.2 where the loader reads 1.1
(see docs/editing.md for the measurement). Here the value's exact span comes from PyYAML's composer marks,
only that span is replaced, and the result is parsed again with the loader's own parser and compared
with the original before anything is written: an edit that would change any other key is refused.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from plaintext_crm.editing.atomic import (
    EditError,
    FileStamp,
    inspect_target,
    read_bytes,
    read_text,
    remove_created,
    write_atomic,
)
from plaintext_crm.records.frontmatter import parse_yaml_mapping, split_front_matter
from plaintext_crm.records.reading import ParseProblem

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DASH_PREFIX = re.compile(r"^[ \t]*-[ \t]+$")


class _Remove:
    """Marker value: delete the key."""

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()
Updates = Mapping[str, Any]  # key -> new value (str, int, float, bool, date, list of scalars, None) or REMOVE


# --- rendering values as YAML that the loader reads back exactly -------------------------------------------

def same_value(left: Any, right: Any) -> bool:
    """Equality that also compares types, so `True` is not `1` and the text '2026-01-01' is not a date."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same_value(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same_value(a, b) for a, b in zip(left, right))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def _reads_back(rendered: str, value: Any) -> bool:
    parsed = parse_yaml_mapping(f"k: {rendered}\n", 1)
    if isinstance(parsed, ParseProblem):
        return False
    data, _lines, traps = parsed
    return not traps and same_value(data.get("k"), value)


def _dump(value: Any, **options: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False,
                          **options)
    text = text.removesuffix("\n...\n")
    return text.rstrip("\n")


def _check_scalar(value: Any) -> None:
    if value is None or isinstance(value, bool | int | float | str | dt.date):
        return
    raise TypeError(f"cannot write a {type(value).__name__} as a front matter value")


def render_inline(value: Any) -> str:
    """`value` as one line of YAML (a scalar or a flow list) that the loader reads back as exactly `value`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, list | tuple):
        items = list(value)
        for item in items:
            if isinstance(item, dict):  # a list of small mappings, like a client's contacts
                for part in item.values():
                    _check_scalar(part)
            else:
                _check_scalar(item)
        value = items
    elif isinstance(value, dict):  # one item of a block list of mappings: `- {name: Jana, role: CEO}`
        for part in value.values():
            _check_scalar(part)
    else:
        _check_scalar(value)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        candidates = [value.isoformat()]
    elif isinstance(value, str) and ("\n" in value or "\r" in value):
        candidates = [_dump(value, default_style='"')]
    else:
        candidates = [_dump(value), _dump(value, default_style='"')]
    for rendered in candidates:
        if "\n" not in rendered and _reads_back(rendered, value):
            return rendered
    raise EditError(f"cannot write {value!r} as a YAML value that reads back the same")


def render_block_items(values: Sequence[Any], prefix: str, newline: str) -> str:
    """A block list, one `prefix item` line per value, joined by `newline` (no trailing line break)."""
    return newline.join(prefix + render_inline(item) for item in values)


# --- locating keys in the front matter --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _KeySpan:
    key: str
    line_start: int  # start of the key's line
    key_start: int
    colon_end: int  # just after the ':'
    value_start: int
    value_end: int  # end of the value's last character (comments after it are not part of it)
    after: int  # start of the line after the value (after the blank lines a `|+` scalar keeps)
    node: yaml.Node


def _node_end(node: yaml.Node, text: str) -> int:
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark.index
        if node.style in ("|", ">"):  # block scalars own the blank lines after them: stop at the content
            end = node.start_mark.index + len(text[node.start_mark.index:end].rstrip())
        return int(end)
    if getattr(node, "flow_style", False) or not node.value:
        return int(node.end_mark.index)
    last = node.value[-1]
    return _node_end(last[1] if isinstance(node, yaml.MappingNode) else last, text)


def _node_after(node: yaml.Node, text: str) -> int:
    """Where the line after the value starts: new keys go there, a removal ends there."""
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        header = re.compile(r"[|>][0-9+-]*").match(text, node.start_mark.index)
        end = int(node.end_mark.index)
        if header and "+" in header.group(0) and end > 0 and text[end - 1] in "\r\n":
            return end  # keep chomping: the trailing blank lines are part of the value
    elif isinstance(node, yaml.SequenceNode | yaml.MappingNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _node_after(last[1] if isinstance(node, yaml.MappingNode) else last, text)
    return _line_end(text, _node_end(node, text))


def _line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def _line_end(text: str, index: int) -> int:
    """Index just after the line break that ends the line holding `index` (or the text's end)."""
    match = re.compile(r"\r\n|\r|\n").search(text, index)
    return match.end() if match else len(text)


def _compose(yaml_text: str, where: str) -> yaml.Node | None:
    # The same (libyaml) parser as the loader, so both agree on what is valid; its marks count characters.
    loader = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)(yaml_text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        raise EditError(f"{where}: the front matter is not valid YAML ({exc}); fix it before editing") from None
    finally:
        loader.dispose()


def _key_spans(root: yaml.MappingNode, text: str, where: str) -> dict[str, _KeySpan]:
    spans: dict[str, _KeySpan] = {}
    previous_end = 0
    for key_node, value_node in root.value:
        key = str(key_node.value)
        key_start = key_node.start_mark.index
        colon = re.compile(r"[ \t]*:").match(text, key_node.end_mark.index)
        value_start = value_node.start_mark.index
        if colon is None or value_start < colon.end() or key_start < previous_end:
            # `? complex key`, an alias (*x) pointing back at an earlier value, or another layout
            # whose span is not simply `key: value`: do not guess.
            spans.pop(key, None)
            spans[key] = _KeySpan(key, -1, key_start, -1, -1, -1, -1, value_node)
            continue
        value_end = _node_end(value_node, text)
        after = _node_after(value_node, text)
        spans[key] = _KeySpan(key, _line_start(text, key_start), key_start, colon.end(), value_start, value_end,
                              after, value_node)
        previous_end = max(value_end, colon.end())
    return spans


def _newline_of(text: str) -> str:
    match = re.search(r"\r\n|\r|\n", text)
    return match.group(0) if match else "\n"


def _on_one_line(text: str, start: int, end: int) -> bool:
    return "\n" not in text[start:end] and "\r" not in text[start:end]


def _replacement(text: str, span: _KeySpan, value: Any, indent: str, newline: str) -> tuple[int, int, str]:
    """(start, end, new text) replacing the value of an existing key."""
    node = span.node
    empty_old = isinstance(node, yaml.ScalarNode) and span.value_start == span.value_end
    flow_list = isinstance(node, yaml.SequenceNode) and node.flow_style
    if isinstance(value, list | tuple) and value and not flow_list:  # a flow list stays a flow list
        if isinstance(node, yaml.SequenceNode) and node.value:
            first = node.value[0].start_mark.index
            start = _line_start(text, first)
            prefix = text[start:first]
            if _DASH_PREFIX.match(prefix):  # keep the list's own indentation and dash spacing
                return start, span.value_end, render_block_items(value, prefix, newline)
        return span.colon_end, span.value_end, newline + render_block_items(value, indent + "  - ", newline)
    rendered = render_inline(value)
    same_line = _on_one_line(text, span.colon_end, span.value_start)
    if not empty_old and same_line and rendered:
        return span.value_start, span.value_end, rendered
    return span.colon_end, span.value_end, (" " + rendered) if rendered else ""


def _new_key_text(key: str, value: Any, indent: str, newline: str) -> str:
    if isinstance(value, list | tuple) and value:
        return f"{indent}{key}:{newline}{render_block_items(value, indent + '  - ', newline)}{newline}"
    rendered = render_inline(value)
    return f"{indent}{key}:{' ' + rendered if rendered else ''}{newline}"


def _anchor_for(key: str, order: Sequence[str], present: Sequence[str]) -> str | None:
    """The key after which a new `key` goes: the nearest key before it in `order` that is present."""
    if key not in order:
        return None
    for candidate in reversed(order[: order.index(key)]):
        if candidate in present:
            return candidate
    return None


def edit_front_matter(text: str, updates: Updates, *, order: Sequence[str] = (), where: str = "record") -> str:
    """Return `text` with the front matter keys in `updates` set (or removed with REMOVE).

    Only the edited keys' values change; every other character of the file stays as it was. A new key
    goes after the nearest key that precedes it in `order` (else at the end of the front matter).
    Raises EditError when the file cannot be edited safely.
    """
    for key in updates:
        if not _KEY.match(key):
            raise EditError(f"'{key}' is not a simple key name")
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    split = split_front_matter(text)
    if isinstance(split, ParseProblem):
        raise EditError(f"{where}:{split.line}: {split.message}; fix the file before editing it")
    yaml_text, body, _body_line = split
    head = text[len(bom):].splitlines(keepends=True)[0]
    offset = len(bom) + len(head)
    assert text[offset:offset + len(yaml_text)] == yaml_text
    before = parse_yaml_mapping(yaml_text, 2)
    if isinstance(before, ParseProblem):
        raise EditError(f"{where}:{before.line}: {before.message}; fix the file before editing it")
    old_data = before[0]
    root = _compose(yaml_text, where)
    if root is not None and (not isinstance(root, yaml.MappingNode) or root.flow_style):
        raise EditError(f"{where}: the front matter is written as a {{flow: mapping}}; edit this file by hand")
    spans = _key_spans(root, yaml_text, where) if root is not None else {}
    indent = yaml_text[_line_start(yaml_text, root.start_mark.index):root.start_mark.index] if root else ""
    newline = _newline_of(text)

    edits: list[tuple[int, int, str]] = []
    inserts: dict[int, list[str]] = {}
    insert_at: dict[str, int] = {}
    for key, value in updates.items():
        span = spans.get(key)
        if span is not None and (span.line_start < 0 or yaml_text[span.value_start] in "&*"):
            raise EditError(f"{where}: the value of '{key}' is written in a form this tool does not edit "
                            "(a complex key, an anchor or an alias); edit it by hand")
        if value is REMOVE:
            if span is None:
                continue
            if yaml_text[span.line_start:span.key_start].strip():
                raise EditError(f"{where}: '{key}' does not start its own line; remove it by hand")
            edits.append((span.line_start, span.after, ""))
        elif span is not None:
            edits.append(_replacement(yaml_text, span, value, indent, newline))
        else:
            anchor = _anchor_for(key, order, [*spans, *insert_at])
            if anchor in insert_at:
                position = insert_at[anchor]
            elif anchor is not None and updates.get(anchor) is not REMOVE:
                position = spans[anchor].after
            else:
                position = len(yaml_text)
            insert_at[key] = position
            inserts.setdefault(position, []).append(_new_key_text(key, value, indent, newline))
    for position, texts in inserts.items():
        edits.append((position, position, "".join(texts)))
    new_yaml = yaml_text
    for start, end, replacement in sorted(edits, key=lambda item: (item[0], item[1]), reverse=True):
        new_yaml = new_yaml[:start] + replacement + new_yaml[end:]
    new_text = text[:offset] + new_yaml + text[offset + len(yaml_text):]
    _verify(new_text, old_data, body, updates, where)
    return new_text


def _verify(new_text: str, old_data: Mapping[str, Any], old_body: str, updates: Updates, where: str) -> None:
    """Parse the edited text again: every key not in `updates` must be unchanged, each edited key as asked."""
    split = split_front_matter(new_text)
    parsed = parse_yaml_mapping(split[0], 2) if not isinstance(split, ParseProblem) else split
    if isinstance(parsed, ParseProblem) or isinstance(split, ParseProblem):
        raise EditError(f"{where}: the edit would break the front matter; nothing was written")
    new_data = parsed[0]
    if split[1] != old_body:
        raise EditError(f"{where}: the edit would change the Markdown body; nothing was written")
    untouched_old = [key for key in old_data if key not in updates]
    untouched_new = [key for key in new_data if key not in updates]
    if untouched_old != untouched_new or any(not same_value(old_data[key], new_data[key]) for key in untouched_old):
        raise EditError(f"{where}: the edit would change other keys (the file uses YAML anchors or an unusual "
                        "layout); nothing was written, edit it by hand")
    for key, value in updates.items():
        if value is REMOVE:
            ok = key not in new_data
        else:
            expected = [v.date() if isinstance(v, dt.datetime) else v for v in value] \
                if isinstance(value, list | tuple) else value
            ok = key in new_data and same_value(new_data[key], expected)
        if not ok:
            raise EditError(f"{where}: '{key}' would not read back as written; nothing was written")


# --- planned changes: diff for --dry-run, summary lines, apply with rollback -----------------------------

@dataclass(frozen=True, slots=True)
class FileChange:
    """One planned change of one file: its text before (None for a new file) and after."""

    root: Path
    rel: str  # workspace-relative, "/" separators
    before: str | None
    after: str
    stamp: FileStamp | None
    summary: tuple[str, ...] = ()  # what changed, one human line each

    @property
    def path(self) -> Path:
        return self.root / self.rel

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the change (from /dev/null for a new file)."""
        before = [] if self.before is None else self.before.splitlines(keepends=True)
        after = self.after.splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, "/dev/null" if self.before is None else f"a/{self.rel}",
                                     f"b/{self.rel}")
        return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                       for line in lines)


def plan_edit(root: Path, rel: str, updates: Updates, *, order: Sequence[str] = (),
              summary: Sequence[str] | None = None) -> FileChange:
    """Read `root/rel` and plan setting `updates`; the summary lists each key's old and new value."""
    text, stamp = read_text(root, rel)
    after = edit_front_matter(text, updates, order=order, where=rel)
    if summary is None:
        summary = describe_updates(text, updates)
    return FileChange(root, rel, text, after, stamp, tuple(summary))


def describe_updates(text: str, updates: Updates) -> list[str]:
    """`key: old -> new` lines for the keys whose value changes."""
    split = split_front_matter(text)
    parsed = parse_yaml_mapping(split[0], 2) if not isinstance(split, ParseProblem) else split
    old = parsed[0] if not isinstance(parsed, ParseProblem) else {}
    lines = []
    for key, value in updates.items():
        was = old.get(key, REMOVE)
        if value is REMOVE:
            if key in old:
                lines.append(f"{key}: {show(was)} -> (removed)")
        elif key not in old:
            lines.append(f"{key}: (new) {show(value)}")
        elif not same_value(was, list(value) if isinstance(value, tuple) else value):
            lines.append(f"{key}: {show(was)} -> {show(value)}")
    return lines


def show(value: Any) -> str:
    """A value as a user reads it in a summary line."""
    if value is None:
        return "(empty)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, str):
        return repr(value) if value.strip() != value or not value or "\n" in value else f"'{value}'"
    return str(value)


def new_file(root: Path, rel: str, text: str, summary: Sequence[str] = ()) -> FileChange:
    """Plan creating `root/rel`; refuses when it exists, or could not be written (see atomic.inspect_target)."""
    if inspect_target(root, rel) is not None:
        raise EditError(f"{rel} already exists; nothing was written")
    return FileChange(root, rel, None, text, None, tuple(summary))


def apply_changes(changes: Sequence[FileChange]) -> None:
    """Write every change in order; if one fails, undo the ones already written, then raise."""
    done: list[tuple[FileChange, list[str]]] = []
    try:
        for change in changes:
            if change.changed:
                done.append((change, write_atomic(change.root, change.rel, change.after.encode("utf-8"),
                                                  change.stamp)))
    except EditError:
        for change, folders in reversed(done):
            _undo(change, folders)
        raise


def _undo(change: FileChange, folders: Sequence[str]) -> None:
    after = change.after.encode("utf-8")
    try:
        if change.before is None:
            remove_created(change.root, change.rel, after, folders)
            return
        written, stamp = read_bytes(change.root, change.rel)
        if written == after:  # else someone changed it after us: leave their version
            write_atomic(change.root, change.rel, change.before.encode("utf-8"), stamp)
    except (OSError, EditError):  # pragma: no cover - best effort; the original error is raised
        pass
