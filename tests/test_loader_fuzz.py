"""The loader on random bytes and on random YAML-ish text (hypothesis).

- No exception escapes: every problem is a finding.
- Every finding, trap and key line has the file's path and a line from 1 to the file's line count
  (lines are "\\n"-separated, as editors and `path:line` links count them).
- Every file the loader accepts (no F001) gives the front matter python-frontmatter reads from it, the
  library a team's own scripts use: what `frontmatter.loads(text).metadata` returns. The differences,
  deliberate and documented in docs/format.md ("Front matter and python-frontmatter"):
  * a timestamp with a time of day is read as its date (python-frontmatter keeps the datetime);
  * an impossible date (2026-02-30) is kept as its text with an F002 finding where it is used, where
    python-frontmatter raises ValueError;
  * a byte-order mark is skipped with a Y001 warning, where python-frontmatter finds no front matter;
  * a top-level key YAML reads as something else than text (`yes:`, `1:`) is an F002 error, where
    python-frontmatter raises TypeError.
  Everything else a file can hold (fences with trailing blanks, CRLF, tabs, anchors and merge keys,
  tags, NaN) must agree exactly, types included.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plaintext_crm.lint.run import lint_workspace
from plaintext_crm.records.frontmatter import ParsedFile, parse_record
from plaintext_crm.records.loader import build_record, load_workspace

TODAY = dt.date(2026, 11, 26)
# CI runs a few hundred examples per property (about half a minute in all); set PLAINTEXT_CRM_FUZZ_EXAMPLES
# to fuzz longer before a release or after changing the loader.
EXAMPLES = int(os.environ.get("PLAINTEXT_CRM_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- a grammar of YAML-ish front matter ------------------------------------------------------------------

KEYS = ["title", "client", "owner", "stage", "value", "probability", "expected_close", "next_action_due",
        "tasks", "id", "duration", "depends_on", "lag", "type", "status", "contacts", "name", "lint_ignore",
        "budget", "notes"]
ODD_KEYS = ["yes", "No", "on", "1", "0x1F", "2026-11-26", "null", "~", "<<", "a b", "é", "k-ey", "'quoted'",
            '"dq"', "x" * 30, "? x", "[a]", "{b: 1}", "&a k", "*a", "!!str 1", "title"]
PLAIN = ["ana", "lead", "proposal", "won", "Website relaunch", "yes", "No", "on", "off", "y", "true", "False",
         "~", "null", "", "0", "-7", "+12", "012", "0o17", "0x1F", "0b101", "1_000", "12:30", "1:02:03",
         "1e3", "1.5", "1.0e+400", "-1.0e+400", ".inf", "-.Inf", ".nan", ".NaN", "2026-11-26", "2026-02-30",
         "2026-11-26 10:30:00", "2026-11-26T10:30:00Z", "2026-1-5", "9999-12-31", "0001-01-01", "café",
         "naïve façade", "日本語", "emoji 🎉", "x" * 50, "1" * 30, "10000000000000001", "2.0e+15", "100000000",
         "a #b", "'it''s'", '"esc \\t \\n \\u00e9 \\x41"', '"\\N\\_\\L\\P"', "'0123'", '"yes"', '""', "''",
         "!!str 0123", "!!int '42'", "!!float 3", "!!binary aGVsbG8=", "!!timestamp 2026-01-05", "!!null x"]
WILD = ["a: b", "- dash", "#c", '"unterminated', "'multi\n  line'", '"\\ud800"', '"a\\\n  b"', "!!bool ana",
        "!!int ana", "!!float x", "!!timestamp x", "!!set x", "!!omap x", "!!seq x", "!!map x", "!custom x",
        "!!python/object:os.system x", "!<tag:yaml.org,2002:str> x", "!!binary %%%", "&a", "*a", "*zz", "|", ">",
        "@x", "`x", "%x", "{", "[", "]", "}", ",", "? x", ": x", "---", "...", "- - -"]
ODD = ["\t", "\x00", "\x07", "\x1b", "\x85", "\u2028", "\u2029", "\ufeff", "\u202e", "\r", "\x0b", "\x0c",
       "\x1c", "\xa0", "\U0001f389", "\ufffe", "\\", "%", "@", "`", "|", ">", "&", "*", "!", "?", ":", ",", "[",
       "]", "{", "}", "#", "'", '"', "-", " ", "a", "b", "0", "9", ".", "\n"]
ANCHORS = ["a"] * 8 + ["b", "c"]  # aliases mostly name the anchor a `base:` line defines
NEW_ANCHORS = list("bcdefghijklmnopqrstuvwxyz")  # duplicate anchors are errors


def pieces(alphabet: list[str], most: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=most).map("".join)


@st.composite
def scalars(draw: st.DrawFn, wild: bool) -> str:
    """A scalar as written in YAML: plain, quoted or tagged; in wild documents anything at all."""
    if wild and draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(st.sampled_from(WILD), pieces(ODD, 6)))
    return draw(st.sampled_from(PLAIN))


def flows(wild: bool) -> st.SearchStrategy[str]:
    """Flow values: scalars, [lists] and {mappings}, sometimes anchored (&a), or an alias (*a)."""
    leaf = st.one_of(*[scalars(wild)] * 12,
                     st.builds(lambda name, value: f"&{name} {value}", st.sampled_from(NEW_ANCHORS), scalars(wild)),
                     st.builds(lambda name: f"*{name}", st.sampled_from(ANCHORS)))
    return st.recursive(leaf, lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"),
        st.builds(lambda name, value: f"&{name} {value}", st.sampled_from(NEW_ANCHORS),
                  st.lists(children, min_size=1, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")),
    ), max_leaves=6)


@st.composite
def yaml_lines(draw: st.DrawFn, wild: bool) -> list[str]:
    """Lines of a block mapping: keys with flow values, nested blocks, lists, block scalars, anchors
    defined early and used later, merge keys, comments; wild documents add junk, tabs, odd indents."""
    lines: list[str] = []
    if draw(st.integers(0, 4)):
        lines.append("base: &a {owner: ana, stage: lead, value: 5}")
    flow = flows(wild)
    for _ in range(draw(st.integers(0, 7))):
        indent = draw(st.sampled_from(["", "", "", " ", "  ", "\t"])) if wild else ""
        key = draw(st.sampled_from(KEYS + (ODD_KEYS if wild else ODD_KEYS[:8])))
        kind = draw(st.integers(0, 9))
        if kind <= 3:
            lines.append(f"{indent}{key}: {draw(flow)}")
        elif kind == 4:
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  - {draw(flow)}" for _ in range(draw(st.integers(0, 3)))]
        elif kind == 5:
            lines.append(f"{indent}{key}:")
            if draw(st.booleans()):
                lines.append(f"{indent}  <<: *{draw(st.sampled_from(ANCHORS))}")
            lines += [f"{indent}  {draw(st.sampled_from(KEYS))}: {draw(flow)}" for _ in range(draw(st.integers(0, 3)))]
        elif kind == 6:
            lines.append(f"{indent}{key}: {draw(st.sampled_from(['|', '>', '|-', '>+', '|2']))}")
            lines += [f"{indent}  {draw(scalars(wild))}" for _ in range(draw(st.integers(0, 3)))]
        elif kind == 7:
            lines.append(f"{indent}{key}: {draw(flow)}  # {draw(scalars(wild))}")
        elif kind == 8:
            lines.append(draw(st.sampled_from(["", "# a comment", "   ", "<<: *a", "<<: [*a, *b]", "x: &a [*a]",
                                               "y: &b {k: *b}", "bomb: &c [*a, *a, *a, *a, *a, *a, *a, *a]"])))
        elif wild:
            lines.append(indent + draw(pieces(ODD, 12)))
        else:
            lines.append(f"{key}: {draw(scalars(wild))}")
    return lines


@st.composite
def record_texts(draw: st.DrawFn) -> str:
    """A record file: maybe a BOM, an opening fence (or not), YAML-ish lines, a closing fence, a body."""
    wild = draw(st.integers(0, 2)) == 0
    newline = draw(st.sampled_from(["\n"] * 6 + ["\r\n", "\r\n", "\r"] if wild else ["\n"] * 3 + ["\r\n"]))
    opening = draw(st.sampled_from(["---"] * 24 + ["--- ", "---\t", "----", " ---", "", "...", "---\r", "--- #"]))
    closing = draw(st.sampled_from(["---"] * 24 + ["--- ", "---\t \t", "-----", "...", "", "---\x0b", "--- x"]))
    body = draw(st.lists(st.sampled_from(["Notes.", "", "---", "## 2026-11-20 Call with Jane", "## 2026-02-30 x",
                                          "## 9999-12-31 far", "```", "# Heading", "- item", "\u2028", "\r",
                                          "\x85 body", "...", "\x0c"]), max_size=5))
    lines = [opening, *draw(yaml_lines(wild)), closing, *body]
    text = newline.join(lines) + draw(st.sampled_from([newline, "", newline * 2]))
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text


# --- the properties ----------------------------------------------------------------------------------

def line_count(raw: bytes) -> int:
    return raw.count(b"\n") + 1


def check_lines(parsed: ParsedFile, path: str, raw: bytes) -> None:
    """Every line the loader reports for this file is one of its lines."""
    last = line_count(raw)
    record, findings = build_record(parsed)
    for finding in findings:
        assert finding.path == path
        assert 1 <= finding.line <= last, (finding, last)
    for trap in parsed.traps:
        assert 1 <= trap.line <= last, (trap, last)
    for key, line in parsed.key_lines.items():
        assert 1 <= line <= last, (key, line, last)
    if parsed.problem is None:
        assert 1 <= parsed.body_line <= last + 1
    if record is not None:
        for entry in record.history:
            assert 1 <= entry.line <= last, (entry, last)


def as_we_read(value: Any) -> Any:
    """python-frontmatter's value with our one deliberate conversion: a datetime is read as its date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dict):
        return {as_we_read(key): as_we_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_we_read(item) for item in value]
    return value


def same(ours: Any, theirs: Any) -> bool:
    """Equal values of the same types (True is not 1, a date not its text), NaN equal to NaN."""
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, float):
        return ours == theirs or (math.isnan(ours) and math.isnan(theirs))
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(same(ours[key], theirs[key]) for key in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    return bool(ours == theirs)


def check_oracle(parsed: ParsedFile, raw: bytes) -> None:
    """A file we accept gives the front matter python-frontmatter reads, or a documented difference."""
    if parsed.problem is not None:
        return
    text = raw.decode("utf-8")
    try:
        theirs: Any = frontmatter.loads(text).metadata
    except ValueError:  # an impossible date: we keep its text and report it where it is used (F002)
        assert any(trap.kind == "invalid-date" for trap in parsed.traps)
        return
    except TypeError:  # "keywords must be strings": a top-level key like `yes:` or `1:`, F002 for us
        assert any(trap.kind == "key-not-text" for trap in parsed.traps)
        return
    if text.startswith("\ufeff"):  # python-frontmatter finds no front matter after a byte-order mark
        assert theirs == {} and any(trap.kind == "byte-order-mark" for trap in parsed.traps)
        return
    assert same(parsed.data, as_we_read(theirs)), (parsed.data, theirs)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(raw: bytes) -> None:
    parsed = parse_record("deals/fuzz.md", raw)
    check_lines(parsed, "deals/fuzz.md", raw)
    check_oracle(parsed, raw)


@FUZZ
@given(st.binary(max_size=200).map(lambda tail: b"---\n" + tail))
def test_random_bytes_after_a_fence(raw: bytes) -> None:
    parsed = parse_record("projects/fuzz.md", raw)
    check_lines(parsed, "projects/fuzz.md", raw)
    check_oracle(parsed, raw)


@pytest.mark.slow  # runs for seconds: many generated examples
@settings(max_examples=2 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_texts(), st.sampled_from(["clients/fuzz.md", "deals/fuzz.md", "projects/fuzz.md"]))
def test_random_yaml_ish_records(text: str, path: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    parsed = parse_record(path, raw)
    check_lines(parsed, path, raw)
    check_oracle(parsed, raw)


@pytest.mark.slow  # runs for seconds: many generated examples
def test_the_grammar_reaches_the_interesting_cases() -> None:
    """The generator is not vacuous: among its files some are accepted, some refused, some use aliases."""
    accepted = refused = aliased = 0

    @settings(max_examples=300, deadline=None, database=None)
    @given(record_texts())
    def count(text: str) -> None:
        nonlocal accepted, refused, aliased
        parsed = parse_record("deals/fuzz.md", text.encode("utf-8", "surrogatepass"))
        accepted += parsed.problem is None and bool(parsed.data)
        refused += parsed.problem is not None
        aliased += parsed.problem is None and "*" in text and "&" in text

    count()
    assert accepted > 30 and refused > 30 and aliased > 3, (accepted, refused, aliased)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    for kind in ("clients", "deals", "projects"):
        (root / kind).mkdir()
    (root / "deals" / "plain.md").write_text("---\ntitle: Plain\nowner: ana\nstage: lead\n---\n", encoding="utf-8")
    return root


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.one_of(record_texts().map(lambda text: "\n".join(text.split("\n")[1:])), st.text(max_size=200)),
       record=record_texts(), kind=st.sampled_from(["clients", "deals", "projects"]))
@pytest.mark.slow  # runs for seconds: many generated examples
def test_whole_workspace_loads_and_lints(fuzz_root: Path, config: str, record: str, kind: str) -> None:
    """crm.yaml and a record from the grammar, through load_workspace and every lint rule."""
    raw_config = config.encode("utf-8", "surrogatepass")
    raw_record = record.encode("utf-8", "surrogatepass")
    assume(len(raw_config) < 4000)
    (fuzz_root / "crm.yaml").write_bytes(raw_config)
    for folder in ("clients", "deals", "projects"):
        (fuzz_root / folder / "fuzz.md").unlink(missing_ok=True)
    (fuzz_root / kind / "fuzz.md").write_bytes(raw_record)
    workspace, findings = load_workspace(fuzz_root)
    every = lint_workspace(workspace, findings, TODAY)
    lines = {"crm.yaml": line_count(raw_config), f"{kind}/fuzz.md": line_count(raw_record),
             "deals/plain.md": 6}
    for finding in every:
        assert finding.path in lines, finding
        assert 1 <= finding.line <= lines[finding.path], (finding, lines[finding.path])
