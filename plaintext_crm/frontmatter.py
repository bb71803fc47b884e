"""Split a record file into YAML front matter and Markdown body, keeping line numbers; parse the YAML.

python-frontmatter strips the text (so line numbers shift) and turns a non-mapping front matter
into {} silently; the linter needs exact positions, so this module does its own split.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    HAVE_LIBYAML = False

KeyPath = tuple[str | int, ...]

_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")
_OCTAL_LOOKING = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+$")
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True, slots=True)
class YamlTrap:
    """A value PyYAML (YAML 1.1) read differently from what the writer probably meant."""

    line: int  # 1-based line in the file
    kind: str  # "bool-word", "octal", "sexagesimal", "invalid-date", "duplicate-key"
    text: str  # the raw scalar as written
    message: str


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Why a file could not be turned into a front matter mapping."""

    line: int
    message: str


@dataclass(slots=True)
class ParsedFile:
    """The result of reading one record file: picklable, so it can be cached and sent across processes."""

    path: str
    data: dict[str, Any] | None = None
    key_lines: dict[KeyPath, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    problem: ParseProblem | None = None
    traps: list[YamlTrap] = field(default_factory=list)


class InvalidDate(str):
    """A scalar that looks like a date but is not one (2026-02-30); kept as text so the file still loads."""

    __slots__ = ()


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that records YAML 1.1 traps instead of failing or silently converting."""

    def __init__(self, stream: str, first_line: int) -> None:
        super().__init__(stream)
        self.first_line = first_line
        self.traps: list[YamlTrap] = []

    def _trap(self, node: yaml.Node, kind: str, message: str) -> None:
        self.traps.append(YamlTrap(node.start_mark.line + self.first_line, kind, str(node.value), message))

    def construct_trapped_bool(self, node: yaml.ScalarNode) -> Any:
        value = self.construct_yaml_bool(node)
        if str(node.value).lower() in _BOOL_WORDS:
            self._trap(node, "bool-word",
                       f"'{node.value}' is read as {str(value).lower()} (YAML 1.1); quote it if you meant text")
        return value

    def construct_trapped_int(self, node: yaml.ScalarNode) -> Any:
        value = self.construct_yaml_int(node)
        raw = str(node.value)
        if _OCTAL_LOOKING.match(raw):
            self._trap(node, "octal", f"'{raw}' is read as the octal number {value}; quote it to keep the digits")
        elif _SEXAGESIMAL.match(raw):
            self._trap(node, "sexagesimal", f"'{raw}' is read as the base-60 number {value}; quote it if it is a time")
        return value

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.construct_yaml_timestamp(node)
        except ValueError as exc:
            self._trap(node, "invalid-date", f"'{node.value}' is not a valid date ({exc})")
            return InvalidDate(node.value)
        if isinstance(value, dt.datetime):
            return value.date()
        return value


_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader.construct_trapped_bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_trapped_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)


def split_front_matter(text: str) -> tuple[str, str, int] | ParseProblem:
    """Split text into (yaml_text, body, body_line); yaml_text starts on line 2 of the file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return ParseProblem(1, "empty file: a record needs front matter between '---' lines")
    lines = text.splitlines(keepends=True)
    if lines[0].rstrip("\r\n").rstrip() != "---":
        return ParseProblem(1, "no front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index].rstrip("\r\n")):
            yaml_text = "".join(lines[1:index])
            body = "".join(lines[index + 1:])
            return yaml_text, body, index + 2
    return ParseProblem(1, "front matter is not closed: add a '---' line after the last key")


def _collect_key_lines(node: yaml.Node, path: KeyPath, first_line: int, lines: dict[KeyPath, int],
                       loader: _Loader) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                loader._trap(key_node, "duplicate-key", f"key '{key}' appears twice; only the last value counts")
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + first_line
            _collect_key_lines(value_node, path + (key,), first_line, lines, loader)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + first_line
            _collect_key_lines(item, path + (index,), first_line, lines, loader)


def parse_yaml_mapping(yaml_text: str, first_line: int
                       ) -> tuple[dict[str, Any], dict[KeyPath, int], list[YamlTrap]] | ParseProblem:
    """Parse YAML that must be a mapping; return its data, the line of every key path, and traps.

    `first_line` is the file line on which yaml_text starts (2 for front matter).
    """
    loader = _Loader(yaml_text, first_line)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, loader.traps
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            return ParseProblem(node.start_mark.line + first_line,
                                f"front matter must be a mapping of keys to values, not {kind}")
        key_lines: dict[KeyPath, int] = {}
        _collect_key_lines(node, (), first_line, key_lines, loader)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else first_line
        context = exc.context or ""
        if exc.context_mark is not None and exc.context and exc.context_mark.line + first_line != line:
            context += f" (started on line {exc.context_mark.line + first_line})"
        what = " ".join(part for part in (context, exc.problem) if part)
        return ParseProblem(line, f"invalid YAML: {what or exc}")
    except yaml.YAMLError as exc:
        return ParseProblem(first_line, f"invalid YAML: {exc}")
    finally:
        loader.dispose()
    return data, key_lines, loader.traps


def decode(raw: bytes) -> str | ParseProblem:
    """Decode UTF-8 bytes, or say on which line the first bad byte is."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ParseProblem(line, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; "
                                  "save the file as UTF-8")


def parse_record(path: str, raw: bytes) -> ParsedFile:
    """Turn the bytes of one record file into a ParsedFile; never raises on bad content."""
    text = decode(raw)
    if isinstance(text, ParseProblem):
        return ParsedFile(path, problem=text)
    split = split_front_matter(text)
    if isinstance(split, ParseProblem):
        return ParsedFile(path, problem=split)
    yaml_text, body, body_line = split
    parsed = parse_yaml_mapping(yaml_text, 2)
    if isinstance(parsed, ParseProblem):
        return ParsedFile(path, body=body, body_line=body_line, problem=parsed)
    data, key_lines, traps = parsed
    return ParsedFile(path, data, key_lines, body, body_line, None, traps)
