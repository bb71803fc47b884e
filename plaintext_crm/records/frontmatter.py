"""Split a record file into YAML front matter and Markdown body, keeping line numbers; parse the YAML.

python-frontmatter strips the text (so line numbers shift) and turns a non-mapping front matter
into {} silently; the linter needs exact positions, so this module does its own split. It finds the
fences where python-frontmatter does, so a file this module accepts gives a team's own scripts the
same front matter (tests/test_loader_fuzz.py holds it to that; docs/format.md lists the differences).

Record files are untrusted: YAML aliases that recurse or multiply ("billion laughs"), nesting past a
bound and files past a size limit are parse problems, never a hang, a traceback or a huge value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from sys import intern
from typing import Any

import yaml

from plaintext_crm.records.reading import MAX_FILE_BYTES, ParseProblem, decode, too_large
from plaintext_crm.records.yaml_aliases import RefusedYaml, expansion_problem

try:
    from yaml import CSafeLoader as _BaseLoader

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    HAVE_LIBYAML = False

KeyPath = tuple[str | int, ...]

# The first line opens the front matter; the first later line of three or more dashes (then only
# whitespace) closes it: python-frontmatter's boundary `^-{3,}\s*$`. Lines are "\n"-separated there
# and here (a "\r" before the "\n" is whitespace), whatever else str.splitlines or YAML call a break.
_OPENING_FENCE = re.compile(r"---[ \t]*\r?(?:\n|$)")
CLOSING_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)
_DOTS_LINE = re.compile(r"^\.\.\.[ \t]*\r?$", re.MULTILINE)
# YAML also breaks lines at a lone "\r", NEL, LS and PS: where front matter holds one, its marks' lines
# are mapped back to the file's "\n"-separated lines.
_OTHER_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

MAX_NUMBER_CHARACTERS = 1000  # a longer integer is refused before it is built (Python prints 4300 digits)
MAX_DEPTH = 64  # nesting levels of front matter; real records use a handful
_OCTAL_LOOKING = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+$")
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True, slots=True)
class YamlTrap:
    """A value PyYAML (YAML 1.1) read differently from what the writer probably meant."""

    line: int  # 1-based line in the file
    kind: str  # "bool-word", "octal", "sexagesimal", "invalid-date", "non-finite", "duplicate-key",
    #            "byte-order-mark", "key-not-text"
    text: str  # the raw scalar as written
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
_MERGE = "tag:yaml.org,2002:merge"
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

    def _refuse(self, node: yaml.ScalarNode, what: str) -> RefusedYaml:
        """An explicitly tagged scalar that is not what its tag says (`!!int ana`): PyYAML's constructors
        raise ValueError, KeyError or AttributeError there, without a position."""
        return RefusedYaml(node.start_mark.line, f"'{str(node.value)[:40]}' is tagged {str(node.tag).rsplit(':', 1)[-1]} "
                                              f"but is not {what}")

    def construct_trapped_bool(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.construct_yaml_bool(node)
        except (KeyError, AttributeError):
            raise self._refuse(node, "true or false") from None
        if str(node.value).lower() in _BOOL_WORDS:
            self._trap(node, "bool-word",
                       f"'{node.value}' is read as {str(value).lower()} (YAML 1.1); quote it if you meant text")
        return value

    def construct_trapped_int(self, node: yaml.ScalarNode) -> Any:
        raw = str(node.value)
        if len(raw) > MAX_NUMBER_CHARACTERS:  # Python turns at most 4300 digits into a number or back
            raise RefusedYaml(node.start_mark.line, f"a number of {len(raw):,} characters is too long to read; "
                                                 "quote it if it is text")
        try:
            value = self.construct_yaml_int(node)
        except (ValueError, IndexError):
            raise self._refuse(node, "a whole number") from None
        if _OCTAL_LOOKING.match(raw):
            self._trap(node, "octal", f"'{raw}' is read as the octal number {value}; quote it to keep the digits")
        elif _SEXAGESIMAL.match(raw):
            self._trap(node, "sexagesimal", f"'{raw}' is read as the base-60 number {value}; quote it if it is a time")
        return value

    def construct_marked_float(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.construct_yaml_float(node)
        except (ValueError, IndexError):
            raise self._refuse(node, "a number") from None
        if not math.isfinite(value):  # .nan, .inf, or a number too large for a float (1.0e+400)
            self._trap(node, "non-finite", f"'{node.value}' is read as {shown_number(value)}, which is not a number "
                                           "that can be counted with")
        return value

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.construct_yaml_timestamp(node)
        except ValueError as exc:
            self._trap(node, "invalid-date", f"'{node.value}' is not a valid date ({exc})")
            return InvalidDate(node.value)
        except (AttributeError, TypeError):
            raise self._refuse(node, "a date") from None
        if isinstance(value, dt.datetime):
            value = value.date()
        return _DAYS.setdefault(value, value)


_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader.construct_trapped_bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_trapped_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_marked_float)

# --- A faster road through the same YAML 1.1 semantics ------------------------------------------------
# libyaml parses and composes in C, but then calls the Python resolver for every node and PyYAML's
# generic constructor (memo tables, generators for nested collections) builds the values: most of the
# parse time of a record. Front matter is plain mappings, lists and scalars, so parse_yaml_mapping
# builds those itself with the loader's own scalar constructors, in the same walk that notes key
# lines; anything rarer (anchors and aliases, merge keys, explicit collection tags) goes the general way.

# Scalar tags whose constructors return a value directly (no generator, no reference to other nodes).
_SCALAR_TAGS = frozenset({_STR, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                          "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})
def _key_not_text(key_node: yaml.Node, first_line: int) -> YamlTrap:
    """A top-level key YAML reads as something else than text: python-frontmatter refuses the file."""
    shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a list or mapping"
    return YamlTrap(key_node.start_mark.line + first_line, "key-not-text", str(shown)[:40],
                    f"the key '{str(shown)[:40]}' is not read as text (YAML 1.1); quote it: python-frontmatter "
                    "and other tools need text keys")


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
    if len(path) >= MAX_DEPTH:
        raise RefusedYaml(node.start_mark.line, f"front matter nests deeper than {MAX_DEPTH} levels")
    if kind is yaml.MappingNode:
        if tag != _MAP:
            raise _Unusual
        mapping: dict[Any, Any] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag not in _SCALAR_TAGS:
                raise _Unusual  # merge (<<) and value (=) keys, collections as keys
            if not path and key_node.tag != _STR:
                duplicates.append(_key_not_text(key_node, first_line))
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
    """Split text into (yaml_text, body, body_line); yaml_text starts on line 2 of the file.

    The fences are python-frontmatter's: the first line is `---` (trailing blanks allowed), and the
    first later line of three or more dashes closes the front matter. A leading byte-order mark is
    skipped (parse_record warns about it: python-frontmatter then sees no front matter)."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return ParseProblem(1, "empty file: a record needs front matter between '---' lines")
    opening = _OPENING_FENCE.match(text)
    if opening is None:
        return ParseProblem(1, "no front matter: the file must start with a '---' line")
    start = opening.end()
    closing = CLOSING_FENCE.search(text, start)
    if closing is None:
        hint = (" ('...' does not close front matter here, as in python-frontmatter)"
                if _DOTS_LINE.search(text, start) else "")
        return ParseProblem(1, f"front matter is not closed: add a '---' line after the last key{hint}")
    fence_end = text.find("\n", closing.start())
    body = text[fence_end + 1:] if fence_end >= 0 else ""
    body_line = text.count("\n", 0, closing.start()) + 2
    return text[start:closing.start()], body, body_line


def _collect_key_lines(node: yaml.Node, path: KeyPath, first_line: int, lines: dict[KeyPath, int],
                       loader: _Loader) -> None:
    if len(path) >= MAX_DEPTH:
        raise RefusedYaml(node.start_mark.line, f"front matter nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if not path and key_node.tag not in (_STR, _MERGE):
                loader.traps.append(_key_not_text(key_node, first_line))
            if key in seen:
                loader._trap(key_node, "duplicate-key", f"key '{key}' appears twice; only the last value counts")
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + first_line
            _collect_key_lines(value_node, path + (key,), first_line, lines, loader)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + first_line
            _collect_key_lines(item, path + (index,), first_line, lines, loader)


def _line_map(yaml_text: str, first_line: int) -> Callable[[int], int]:
    """yaml line (0-based, as YAML counts breaks) -> the file's line, for text where YAML counts breaks
    that are not "\n": a lone "\r", NEL, LS, PS."""
    table = [first_line]
    line = first_line
    for match in _YAML_BREAK.finditer(yaml_text):
        line += match.group().endswith("\n")
        table.append(line)
    return lambda yaml_line: table[min(max(yaml_line, 0), len(table) - 1)]


def parse_yaml_mapping(yaml_text: str, first_line: int, *, fast: bool = True
                       ) -> tuple[dict[str, Any], dict[KeyPath, int], list[YamlTrap]] | ParseProblem:
    """Parse YAML that must be a mapping; return its data, the line of every key path, and traps.

    `first_line` is the file line on which yaml_text starts (2 for front matter). `fast=False` builds
    the values with PyYAML's general constructor only (the fast walk gives the same result; tests
    compare them). Lines are the file's "\n"-separated lines, whatever else YAML counts as a break.
    """
    # Substring tests first: a non-ASCII character is never searched for in ASCII text.
    if ("\r" not in yaml_text or _OTHER_BREAKS.search(yaml_text) is None) and "\x85" not in yaml_text \
            and "\u2028" not in yaml_text and "\u2029" not in yaml_text:
        # (A problem at the end of text without a final newline is on its last line, not one further.)
        return _parse_mapping(yaml_text, first_line, fast,
                              lambda yaml_line: min(yaml_line, yaml_text.count("\n")) + first_line)
    line_of = _line_map(yaml_text, first_line)
    parsed = _parse_mapping(yaml_text, first_line, fast, line_of)
    if isinstance(parsed, ParseProblem):
        return parsed
    data, key_lines, traps = parsed
    return (data, {path: line_of(line - first_line) for path, line in key_lines.items()},
            [replace(trap, line=line_of(trap.line - first_line)) for trap in traps])


def _parse_mapping(yaml_text: str, first_line: int, fast: bool, line_of: Callable[[int], int]
                   ) -> tuple[dict[str, Any], dict[KeyPath, int], list[YamlTrap]] | ParseProblem:
    """parse_yaml_mapping, with lines counted as YAML does; `line_of` gives a problem's file line."""
    # Only aliases can make a value bigger than its text, or contain itself: check them before
    # composing, and only in text that could hold one (an alias needs an anchor).
    if "*" in yaml_text and "&" in yaml_text:
        refused = expansion_problem(yaml_text, _BaseLoader)
        if refused is not None:
            return ParseProblem(line_of(refused.line), refused.message)
    loader = _Loader(yaml_text, first_line)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, loader.traps
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            return ParseProblem(line_of(node.start_mark.line),
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
    except RefusedYaml as exc:
        return ParseProblem(line_of(exc.line), exc.message)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = line_of(mark.line) if mark is not None else first_line
        context = exc.context or ""
        if exc.context_mark is not None and exc.context and line_of(exc.context_mark.line) != line:
            context += f" (started on line {line_of(exc.context_mark.line)})"
        what = " ".join(part for part in (context, exc.problem) if part)
        return ParseProblem(line, f"invalid YAML: {what or exc}")
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a NUL, a control character): its position is an offset into
        # the UTF-8 bytes (libyaml) or into the text (PyYAML's own reader).
        before = yaml_text.encode("utf-8")[:exc.position].decode("utf-8", "replace") if HAVE_LIBYAML \
            else yaml_text[:exc.position]
        character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        return ParseProblem(first_line + before.count("\n"),
                            f"invalid YAML: the character U+{character:04X} is not allowed in YAML; remove it")
    except yaml.YAMLError as exc:
        return ParseProblem(first_line, f"invalid YAML: {exc}")
    except (ValueError, KeyError, AttributeError, TypeError, IndexError, OverflowError) as exc:
        # A constructor of PyYAML's failing on a value it was not meant for: never a traceback.
        return ParseProblem(first_line, f"invalid YAML: {type(exc).__name__}: {exc}"[:300])
    except RecursionError:  # PyYAML's pure-Python composer on deep nesting (libyaml stops at 1000 levels)
        return ParseProblem(first_line, f"front matter nests deeper than {MAX_DEPTH} levels")
    finally:
        loader.dispose()
    return data, key_lines, loader.traps


def shown_number(value: Any) -> str:
    """A number for a message: as YAML writes it (.nan, .inf), shortened when very long."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"


def parse_record(path: str, raw: bytes) -> ParsedFile:
    """Turn the bytes of one record file into a ParsedFile; never raises on bad content."""
    if len(raw) > MAX_FILE_BYTES:
        return ParsedFile(path, problem=too_large(len(raw)))
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
    if text.startswith("\ufeff"):
        traps.insert(0, YamlTrap(1, "byte-order-mark", "\ufeff", "the file starts with a byte-order mark: "
                                 "python-frontmatter and other tools then find no front matter; save it as "
                                 "UTF-8 without BOM"))
    return ParsedFile(path, data, key_lines, body, body_line, None, traps)
