"""The fast front matter walk gives exactly what PyYAML's general constructor gives: values, key lines, traps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.records.frontmatter import InvalidDate, _Loader, parse_yaml_mapping
from plaintext_crm.records.reading import ParseProblem

# Plain scalars YAML 1.1 reads as something else than text, and some it leaves as text.
TRICKY_SCALARS = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "Null", "", "0123", "0o17", "0x1F", "0b101",
    "1_000", "+12", "-7", "12:30", "1:02:03", "1e3", "1.5", ".inf", "-.Inf", ".nan", "2026-11-26", "2026-02-30",
    "2026-11-26 10:30:00", "2026-11-26T10:30:00Z", "2026-1-5", "'quoted yes'", '"0123"', "plain text", "a: b c",
    "café", "!!str 0123", "!!int '42'", "!!float 3", "!!binary aGVsbG8=", "[a, 1, no]", "{k: yes, 2: x}", "-",
]


def both(text: str) -> tuple[Any, Any]:
    return parse_yaml_mapping(text, 2), parse_yaml_mapping(text, 2, fast=False)


def assert_same(text: str) -> None:
    fast, general = both(text)
    if isinstance(general, ParseProblem):
        assert fast == general
        return
    assert not isinstance(fast, ParseProblem)
    fast_data, fast_lines, fast_traps = fast
    data, lines, traps = general
    assert fast_data == data
    assert repr(fast_data) == repr(data)  # same types too: True is not 1, a date is not its text
    assert fast_lines == lines
    assert sorted(fast_traps, key=repr) == sorted(traps, key=repr)


@pytest.mark.parametrize("value", TRICKY_SCALARS)
def test_each_tricky_scalar_as_value_list_item_and_key(value: str) -> None:
    key = value if value and not value.startswith(("!!", "[", "{", "-", "'", '"')) and ":" not in value else "k"
    assert_same(f"a: {value}\nlist:\n  - {value}\n  - x\nnested:\n  inner: {value}\n{key}: 1\n")


@pytest.mark.parametrize("text", [
    "tasks:\n  - id: a\n    due: 2026-01-05\n    milestone: yes\n  - id: b\n    depends_on: [a, {task: a, type: SS}]\n",
    "stage: lead\nstage: won\nnested:\n  x: 1\n  x: 2\n",
    "yes: 1\nYes: 2\n1: one\n2026-01-01: day\n",
    "base: &b {owner: ana}\ndeal:\n  <<: *b\n  stage: lead\n",  # anchors and merge keys: the general way
    "a: &x yes\nb: *x\n",
    "inline:\n  <<: {owner: ana}\n  stage: lead\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "? [complex, key]\n: value\n",
    "a: !custom x\n",
    "a: !!binary not base64 at all %%%\n",
    "date: 2026-02-30\nwhen: 2026-11-26 25:00:00\n",
    "",
    "# only a comment\n",
])
def test_documents_read_the_same_both_ways(text: str) -> None:
    assert_same(text)


def test_fast_walk_values_and_lines() -> None:
    parsed = parse_yaml_mapping("country: NO\nzip: 01234\nday: 2026-02-30\ntasks:\n  - id: a\n    n: 3\n", 2)
    assert not isinstance(parsed, ParseProblem)
    data, lines, traps = parsed
    assert data == {"country": False, "zip": 668, "day": "2026-02-30", "tasks": [{"id": "a", "n": 3}]}
    assert isinstance(data["day"], InvalidDate)
    assert lines[("tasks", 0, "n")] == 7 and lines[("tasks", 0)] == 6
    assert {(trap.kind, trap.line) for trap in traps} == {("bool-word", 2), ("octal", 3), ("invalid-date", 4)}


def test_timestamp_with_time_is_a_date() -> None:
    parsed = parse_yaml_mapping("at: 2026-11-26 10:30:00\n", 2)
    assert not isinstance(parsed, ParseProblem) and parsed[0] == {"at": dt.date(2026, 11, 26)}


keys = st.sampled_from(["title", "stage", "yes", "No", "0123", "due", "id", "tasks", "x"])
scalars = st.sampled_from(TRICKY_SCALARS)


def render(value: Any, indent: int) -> str:
    """Block YAML of a generated tree: dicts of (key, value) pairs, lists, and scalar texts."""
    pad = " " * indent
    if isinstance(value, str):
        return f" {value}\n"
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return "\n" + "".join(f"{pad}{key}:{render(item, indent + 2)}" for key, item in value)
    if not value:
        return " []\n"
    return "\n" + "".join(f"{pad}-{render(item, indent + 2)}" for item in value)


trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.lists(st.tuples(keys, children), min_size=1, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(keys, trees), min_size=1, max_size=6))
def test_generated_documents_read_the_same_both_ways(pairs: list[tuple[str, Any]]) -> None:
    text = "".join(f"{key}:{render(value, 2)}" for key, value in pairs)
    assert_same(text)


@pytest.mark.parametrize("value", [*TRICKY_SCALARS, "<<", "=", "NULL", "TRUE", "0.", "-.5", "+.inf", "1:20.5",
                                   "0b1_0", "190:20:30", "2026-11-26t10:30:00.5+01:00", "x" * 60])
def test_resolver_gives_pyyaml_tags(value: str) -> None:
    """The loader's own resolve() (with its memory of plain scalars) answers as PyYAML's Resolver does."""
    reference = yaml.resolver.Resolver()
    loader = _Loader("", 2)
    for implicit in ((True, False), (False, True), (False, False)):
        expected = reference.resolve(yaml.ScalarNode, value, implicit)
        assert loader.resolve(yaml.ScalarNode, value, implicit) == expected
        assert loader.resolve(yaml.ScalarNode, value, implicit) == expected  # remembered the same
    for kind in (yaml.SequenceNode, yaml.MappingNode):
        assert loader.resolve(kind, None, (True, False)) == reference.resolve(kind, None, (True, False))
