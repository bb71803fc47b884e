"""Property tests: an edit changes exactly the keys it names; every other byte and value stays the same."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plaintext_crm.editing.edit import REMOVE, EditError, edit_front_matter, same_value
from plaintext_crm.records.frontmatter import parse_yaml_mapping, split_front_matter
from plaintext_crm.records.reading import ParseProblem

KEYS = ("title", "client", "owner", "stage", "value", "next_action", "next_action_due", "notes", "tags",
        "budget_holder", "kickoff_date", "key_constraints", "extra", "closed_on", "project")

plain_words = st.from_regex(r"[A-Za-z][A-Za-z0-9 .,()'/-]{0,18}[A-Za-z0-9.)]", fullmatch=True).filter(
    lambda s: s.lower() not in ("yes", "no", "on", "off", "y", "n", "true", "false", "null"))
any_line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff\x85"),
                   max_size=20)
comment = st.one_of(st.just(""), any_line.map(lambda s: "  # " + s))


@dataclass
class Entry:
    key: str
    lines: list[str]  # the entry's lines, without line endings


def _scalar_forms() -> st.SearchStrategy[str]:
    return st.one_of(
        plain_words,
        any_line.map(lambda s: "'" + s.replace("'", "''") + "'"),
        any_line.map(lambda s: json.dumps(s, ensure_ascii=False)),
        st.integers(-10**9, 10**9).map(str),
        st.sampled_from(["1.50", "0.25", "012", "NO", "yes", "~", "null", "true", "2026-02-30", "12:30"]),
        st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat),
    )


@st.composite
def entries(draw: Any, key: str) -> Entry:
    spelled = draw(st.sampled_from([key, key, key, f'"{key}"', f"'{key}'", f"{key} "]))
    form = draw(st.sampled_from(["scalar", "scalar", "empty", "flow", "block_list", "block_scalar", "mapping"]))
    gap = draw(st.sampled_from([" ", " ", "   ", "\t"]))
    note = draw(comment)
    if form == "scalar":
        return Entry(key, [f"{spelled}:{gap}{draw(_scalar_forms())}{note}"])
    if form == "empty":
        return Entry(key, [f"{spelled}:{note}"])
    if form == "flow":
        items = draw(st.lists(st.one_of(plain_words, any_line.map(lambda s: json.dumps(s, ensure_ascii=False))),
                              max_size=4))
        return Entry(key, [f"{spelled}:{gap}[{', '.join(items)}]{note}"])
    if form == "block_list":
        indent = draw(st.sampled_from(["", "  ", "    "]))
        items = draw(st.lists(_scalar_forms(), min_size=1, max_size=4))
        lines = [f"{spelled}:{note}"]
        for item in items:
            lines.append(f"{indent}- {item}")
            if draw(st.booleans()):
                lines.append(f"{indent}# between items")
        while lines[-1].lstrip().startswith("#"):
            lines.pop()
        return Entry(key, lines)
    if form == "block_scalar":
        style = draw(st.sampled_from(["|", ">", "|-", ">+"]))
        texts = draw(st.lists(plain_words, min_size=1, max_size=3))
        return Entry(key, [f"{spelled}: {style}{note}", *("  " + text for text in texts)])
    inner = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), _scalar_forms()), min_size=1,
                          max_size=3, unique_by=lambda pair: pair[0]))
    return Entry(key, [f"{spelled}:{note}", *(f"  {name}: {value}" for name, value in inner)])


new_values = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    plain_words,
    st.sampled_from(["NO", "yes", "012", "12:30", "- dash", "a: b", "# hash", "'quoted'", "[x]", "{y}", "---", "", " "]),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
    st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)),
    st.lists(st.one_of(plain_words, st.text(min_size=1, max_size=15), st.dates()), max_size=4),
)


@st.composite
def documents(draw: Any) -> tuple[str, list[Entry], str, str]:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=0, max_size=8, unique=True))
    parts = [draw(entries(key)) for key in keys]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = ["---"]
    for entry in parts:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["# a comment", "", "#", " # indented comment"])))
        lines.extend(entry.lines)
    lines.append("---")
    body = draw(st.sampled_from(["", "Notes.", "---", "Body\n---\nmore ---", "## 2026-01-01 Call\ntext", "\n\n"]))
    trailing = draw(st.sampled_from(["", newline]))
    text = newline.join(lines) + newline + body.replace("\n", newline) + trailing
    return text, parts, newline, body.replace("\n", newline) + trailing


def _data(text: str) -> dict[str, Any]:
    split = split_front_matter(text)
    assert not isinstance(split, ParseProblem), split
    parsed = parse_yaml_mapping(split[0], 2)
    assert not isinstance(parsed, ParseProblem), parsed
    return parsed[0]


def _expected(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.slow  # runs for seconds: many generated examples
@settings(max_examples=int(os.environ.get("EDIT_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_edit_changes_exactly_the_named_keys(document: tuple[str, list[Entry], str, str], data: Any) -> None:
    text, parts, newline, after_fence = document
    split = split_front_matter(text)
    assume(not isinstance(split, ParseProblem))
    parsed = parse_yaml_mapping(split[0], 2)
    assume(not isinstance(parsed, ParseProblem))
    before = parsed[0]
    assume(list(before) == [entry.key for entry in parts])  # generated documents are what they seem
    edited = data.draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True), label="edited keys")
    updates = {key: data.draw(st.one_of(new_values, st.just(REMOVE)) if key in before else new_values, label=key)
               for key in edited}
    order = data.draw(st.permutations(KEYS), label="order")
    result = edit_front_matter(text, updates, order=order)

    after = _data(result)
    for key, value in before.items():
        if key not in updates:
            assert same_value(after[key], value), key
    for key, value in updates.items():
        if value is REMOVE:
            assert key not in after
        else:
            assert same_value(after[key], _expected(value)), (key, after[key], value)
    assert [key for key in after if key not in updates] == [key for key in before if key not in updates]

    # Byte for byte: the body, the trailing newline and every line outside the edited entries.
    assert result.endswith(after_fence)
    assert result.startswith("---" + newline)
    old_front = split_front_matter(text)[0].split(newline)  # type: ignore[index]
    new_front = split_front_matter(result)[0].split(newline)  # type: ignore[index]
    assert all("\r" not in line and "\n" not in line for line in new_front)  # one newline style throughout
    edited_lines: set[int] = set()
    position = 0
    for entry in parts:
        while old_front[position] != entry.lines[0]:
            position += 1
        end = position + len(entry.lines)
        if re.search(r": [|>]\+", entry.lines[0]):  # keep chomping: the blank lines after it are its own
            while end < len(old_front) and old_front[end] == "":
                end += 1
        if entry.key in updates:
            edited_lines.update(range(position, end))
        position += len(entry.lines)
    matcher = difflib.SequenceMatcher(a=old_front, b=new_front, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            assert set(range(i1, i2)) <= edited_lines, (tag, old_front[i1:i2])


@pytest.mark.slow  # runs for seconds: many generated examples
@settings(max_examples=150, deadline=None)
@given(documents())
def test_an_empty_edit_changes_nothing(document: tuple[str, list[Entry], str, str]) -> None:
    text = document[0]
    split = split_front_matter(text)
    assume(not isinstance(split, ParseProblem) and not isinstance(parse_yaml_mapping(split[0], 2), ParseProblem))
    assert edit_front_matter(text, {}) == text


@settings(max_examples=200, deadline=None)
@given(new_values)
def test_setting_a_key_twice_reads_back_the_last_value(value: Any) -> None:
    text = "---\r\ntitle: x\r\n---\r\nbody"
    once = edit_front_matter(text, {"note": "first"})
    twice = edit_front_matter(once, {"note": value})
    assert same_value(_data(twice)["note"], _expected(value))
    assert twice.endswith("---\r\nbody")
    assert "\n" not in twice.replace("\r\n", "")


def test_edit_error_is_a_tool_error() -> None:
    from plaintext_crm.errors import ToolError

    assert issubclass(EditError, ToolError)
