"""Split a record file into YAML front matter and Markdown body, keeping line numbers; parse the YAML.

python-frontmatter strips the text (so line numbers shift) and turns a non-mapping front matter
into {} silently; the linter needs exact positions, so this module does its own split.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from sys import intern
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


# Records repeat the same keys, stages, owners and days thousands of times. Parsed values share one
# object each (interned strings, one date object per day), so pickling records for the cache or a
# worker's reply stores each once per file: the warm cache loads about 15% faster and is smaller.
_DAYS: dict[dt.date, dt.date] = {}
SHARED_TEXT_LENGTH = 40  # shorter string values are interned; longer ones (titles, notes) rarely repeat


class InvalidDate(str):
    """A scalar that looks like a date but is not one (2026-02-30); kept as text so the file still loads."""

    __slots__ = ()


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_WILDCARD: tuple[tuple[str, re.Pattern[str]], ...] = tuple(_BaseLoader.yaml_implicit_resolvers.get(None, ()))
# PyYAML's implicit resolvers by first character, as Resolver.resolve looks them up (wildcards last).
_IMPLICIT = {first: (*resolvers, *_WILDCARD) for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
             if first is not None}
# Plain scalars repeat across records (days, stages, owners, numbers): their tags are remembered, for
# short values and up to a bound, so a long-running server does not grow without end.
_RESOLVED: dict[str, str] = {}
_RESOLVED_MAX = 100_000
assert not _BaseLoader.yaml_path_resolvers  # the resolve() below relies on the safe loader having none


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that records YAML 1.1 traps instead of failing or silently converting."""

    def __init__(self, stream: str, first_line: int) -> None:
        super().__init__(stream)
        self.first_line = first_line
        self.traps: list[YamlTrap] = []

    # libyaml calls these for every node. PyYAML's versions build lists and check path resolvers
    # (this loader has none) on each call; these give the same tags with less work.
    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        """A plain scalar gets the tag of the first implicit resolver whose pattern matches; anything
        else the default tag of its kind."""
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            resolved = _RESOLVED.get(value)
            if resolved is None:
                resolved = _STR
                for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
                    if regexp.match(value):
                        resolved = tag
                        break
                if len(value) <= SHARED_TEXT_LENGTH and len(_RESOLVED) < _RESOLVED_MAX:
                    _RESOLVED[value] = resolved
            return resolved
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Only path resolvers need the path."""

    def ascend_resolver(self) -> None:
        """Only path resolvers need the path."""

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
            value = value.date()
        return _DAYS.setdefault(value, value)


_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader.construct_trapped_bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_trapped_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)

# --- A faster road through the same YAML 1.1 semantics ------------------------------------------------
# libyaml parses and composes in C, but then calls the Python resolver for every node and PyYAML's
# generic constructor (memo tables, generators for nested collections) builds the values: most of the
# parse time of a record. Front matter is plain mappings, lists and scalars, so parse_yaml_mapping
# builds those itself with the loader's own scalar constructors, in the same walk that notes key
# lines; anything rarer (anchors and aliases, merge keys, explicit collection tags) goes the general way.

# Scalar tags whose constructors return a value directly (no generator, no reference to other nodes).
_SCALAR_TAGS = frozenset({_STR, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                          "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})
class _Unusual(Exception):
    """The document uses something the fast walk leaves to PyYAML's general constructor."""


def _construct(loader: _Loader, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int],
               duplicates: list[YamlTrap]) -> Any:
    """The value of `node` as SafeConstructor would build it (with the loader's trap-recording scalar
    constructors), noting the line of every key path and every duplicate key on the way."""
    kind = type(node)
    tag = node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR:
            value = node.value
            return intern(value) if len(value) <= SHARED_TEXT_LENGTH else value
        if tag not in _SCALAR_TAGS:
            raise _Unusual
        return loader.yaml_constructors[tag](loader, node)
    first_line = loader.first_line
    if kind is yaml.MappingNode:
        if tag != _MAP:
            raise _Unusual
        mapping: dict[Any, Any] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag not in _SCALAR_TAGS:
                raise _Unusual  # merge (<<) and value (=) keys, collections as keys
            name = intern(key_node.value)
            if name in seen:
                duplicates.append(YamlTrap(key_node.start_mark.line + first_line, "duplicate-key", name,
                                           f"key '{name}' appears twice; only the last value counts"))
            seen.add(name)
            key_path = path + (name,)
            lines[key_path] = key_node.start_mark.line + first_line
            key = name if key_node.tag == _STR else _construct(loader, key_node, key_path, lines, duplicates)
            mapping[key] = _construct(loader, value_node, key_path, lines, duplicates)
        return mapping
    if tag != _SEQ:
        raise _Unusual
    items = []
    for index, item in enumerate(node.value):
        item_path = path + (index,)
        lines[item_path] = item.start_mark.line + first_line
        items.append(_construct(loader, item, item_path, lines, duplicates))
    return items


def split_front_matter(text: str) -> tuple[str, str, int] | ParseProblem:
    """Split text into (yaml_text, body, body_line); yaml_text starts on line 2 of the file."""
    text = text.removeprefix("\ufeff")
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


def parse_yaml_mapping(yaml_text: str, first_line: int, *, fast: bool = True
                       ) -> tuple[dict[str, Any], dict[KeyPath, int], list[YamlTrap]] | ParseProblem:
    """Parse YAML that must be a mapping; return its data, the line of every key path, and traps.

    `first_line` is the file line on which yaml_text starts (2 for front matter). `fast=False` builds
    the values with PyYAML's general constructor only (the fast walk gives the same result; tests
    compare them).
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
        data = None
        if fast and "&" not in yaml_text:  # no anchor, so no alias: every node is reached once
            duplicates: list[YamlTrap] = []
            try:
                data = _construct(loader, node, (), key_lines, duplicates)
                loader.traps[:0] = duplicates
            except _Unusual:
                key_lines.clear()
                del loader.traps[:]
                data = None
        if data is None:
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
