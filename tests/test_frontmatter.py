"""Front matter splitting and YAML parsing keep exact line numbers and report traps."""

from __future__ import annotations

import datetime as dt

from plaintext_crm.records.frontmatter import InvalidDate, parse_record, split_front_matter
from plaintext_crm.records.reading import ParseProblem


def test_split_keeps_body_and_its_first_line() -> None:
    yaml_text, body, body_line = split_front_matter("---\na: 1\nb: 2\n---\n\nNotes\n")  # type: ignore[misc]
    assert yaml_text == "a: 1\nb: 2\n"
    assert body == "\nNotes\n"
    assert body_line == 5


def test_body_containing_fence_lines_is_kept_whole() -> None:
    parsed = parse_record("deals/x.md", b"---\na: 1\n---\nintro\n---\nmore\n")
    assert parsed.body == "intro\n---\nmore\n"


def test_crlf_file_parses_with_lines() -> None:
    parsed = parse_record("deals/x.md", b"---\r\ntitle: A\r\nstage: lead\r\n---\r\nbody\r\n")
    assert parsed.problem is None
    assert parsed.data == {"title": "A", "stage": "lead"}
    assert parsed.key_lines[("stage",)] == 3


def test_key_lines_for_nested_tasks() -> None:
    text = "---\ntitle: P\ntasks:\n  - id: a\n    due: 2026-01-05\n  - id: b\n    depends_on: [a]\n---\n"
    parsed = parse_record("projects/p.md", text.encode())
    assert parsed.key_lines[("tasks", 0, "due")] == 5
    assert parsed.key_lines[("tasks", 1)] == 6
    assert parsed.key_lines[("tasks", 1, "depends_on", 0)] == 7
    assert parsed.data is not None and parsed.data["tasks"][0]["due"] == dt.date(2026, 1, 5)


def test_yaml_error_line_is_a_file_line() -> None:
    parsed = parse_record("deals/x.md", b"---\ntitle: ok\nvalue: 1\n  stage: lead\n---\n")
    assert parsed.problem is not None
    assert parsed.problem.line == 4
    assert "invalid YAML" in parsed.problem.message


def test_list_front_matter_is_a_problem_not_an_empty_mapping() -> None:
    parsed = parse_record("deals/x.md", b"---\n- a\n- b\n---\n")
    assert parsed.problem == ParseProblem(2, "front matter must be a mapping of keys to values, not a list")


def test_missing_and_unclosed_front_matter() -> None:
    assert parse_record("a.md", b"title: x\n").problem.message.startswith("no front matter")  # type: ignore[union-attr]
    unclosed = parse_record("a.md", b"---\ntitle: x\n")
    assert unclosed.problem is not None and "not closed" in unclosed.problem.message


def test_empty_file() -> None:
    problem = parse_record("a.md", b"").problem
    assert problem is not None and problem.line == 1 and problem.message.startswith("empty file")


def test_non_utf8_names_the_line() -> None:
    problem = parse_record("a.md", b"---\ntitle: x\nnote: caf\xe9\n---\n").problem
    assert problem is not None and problem.line == 3 and "UTF-8" in problem.message


def test_yaml_11_traps_are_recorded_with_lines() -> None:
    text = "---\ncountry: NO\nzip: 01234\nat: 12:30\nok: true\nd: 2026-02-30\nd2: 2026-02-28\n---\n"
    parsed = parse_record("clients/x.md", text.encode())
    assert parsed.problem is None and parsed.data is not None
    kinds = {trap.kind: trap.line for trap in parsed.traps}
    assert kinds == {"bool-word": 2, "octal": 3, "sexagesimal": 4, "invalid-date": 6}
    assert parsed.data["d"] == "2026-02-30" and isinstance(parsed.data["d"], InvalidDate)
    assert parsed.data["d2"] == dt.date(2026, 2, 28)


def test_duplicate_key_is_a_trap() -> None:
    parsed = parse_record("deals/x.md", b"---\nstage: lead\nstage: won\n---\n")
    assert [(trap.kind, trap.line) for trap in parsed.traps] == [("duplicate-key", 3)]
