"""Output injection through names and values (issue #11 item 3): every output escapes for its own syntax.

A file name or a field value may hold CR/LF, ESC/OSC sequences, BEL, backspace, bidi overrides, HTML or
Markdown. The .ics feed must keep exactly its real events, terminal text must show such characters
visibly (one finding, one line), JSON stays JSON, GitHub annotations follow the workflow-command rules,
and `changes --format markdown` must render no markup and keep its tables whole. N001/N002 flag the
unsafe file names with a suggested rename.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt

from plaintext_crm.cli import cli

TODAY = "2026-11-26"
CONFIG = """\
name: Test Studio
currency: EUR
team:
  ana: {name: Ana Ruiz}
  ben: {name: "Ben; Okafor, Jr.: Sales ü"}
pipeline:
  - {stage: lead, probability: 0.1}
  - {stage: proposal, probability: 0.5}
  - {stage: won, probability: 1.0, closed: won}
  - {stage: lost, probability: 0.0, closed: lost}
"""
CLIENT = "---\nname: Acme\nowner: ana\n---\n"
FORGED_ICS = ("x@y\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nDTSTART;VALUE=DATE:20261127\r\n"
              "SUMMARY:Wire 50k EUR to IBAN DE00 1234\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nX-Y:z")
FORGED_LINT = "a\nREADME.md:9:1: D001 [error] forged finding\nb"
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r\b\b\u202eevil\u2066x\u2069"
# Characters no output may pass raw to a terminal: C0/C1 controls (newline aside), DEL, bidi
# embeddings/overrides/isolates, zero-width and other format characters, line/paragraph separators.
HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
FINDING_LINE = re.compile(r"^[^\n]+:\d+:\d+: [A-Z]\d{3} \[(error|warning|info)\] .*$")


def deal(title: str = "Deal", owner: str = "ana", stage: str = "lead", action: str = "Call",
         due: str = "2026-11-30", client: str = "acme") -> str:
    """A deal file; every value written as a YAML double-quoted string (json.dumps is valid YAML there)."""
    return (f"---\ntitle: {json.dumps(title)}\nclient: {json.dumps(client)}\nowner: {json.dumps(owner)}\n"
            f"stage: {json.dumps(stage)}\nvalue: 1000\nexpected_close: 2026-12-20\n"
            f"next_action: {json.dumps(action)}\nnext_action_due: {due}\n---\nNotes.\n")


def workspace(root: Path, files: dict[str, str | bytes], config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in {"crm.yaml": config, "clients/acme.md": CLIENT, **files}.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
    return root


def invoke(root: Path, *args: str) -> Result:
    """Run the real CLI in `root` (the workspace found from the current folder)."""
    cwd = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, list(args), env={"PLAINTEXT_CRM_TODAY": TODAY})
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def assert_visible(text: str) -> None:
    """No hidden character reaches the terminal; lone surrogates (undecodable bytes) neither."""
    assert HIDDEN.search(text) is None, repr(HIDDEN.findall(text))
    text.encode("utf-8")


# ---------------------------------------------------------------- the escaping functions


def test_terminal_shows_control_and_bidi_characters_visibly() -> None:
    from plaintext_crm.escape import terminal

    assert terminal("plain text, ünïcødé 東京 €") == "plain text, ünïcødé 東京 €"
    assert terminal("a\nb\r\x1b[31m\x07\b\t\x7f\x9b") == "a\\nb\\r\\x1b[31m\\x07\\x08\\t\\x7f\\x9b"
    assert terminal("\u202eexe.md\u2066\u2069\u200b\ufeff\u2028") == "\\u202eexe.md\\u2066\\u2069\\u200b\\ufeff\\u2028"
    assert terminal("bad\udcff") == "bad\\udcff"  # a byte that was not UTF-8 (surrogateescape)
    assert terminal("tag\U000e0041") == "tag\\U000e0041"  # invisible tag characters


def test_the_hidden_class_covers_every_control_format_and_separator_character() -> None:
    from plaintext_crm.escape import HIDDEN, is_hidden

    missed = [f"U+{code:04X}" for code in range(0x110000) if is_hidden(chr(code)) and not HIDDEN.match(chr(code))]
    assert missed == []


def test_json_dumps_stays_json_without_hidden_characters() -> None:
    from plaintext_crm.escape import json_dumps

    value = {"a\u202e": "x\x1b\x9b\u2028\udcff\U000e0041 ü €"}
    text = json_dumps(value)
    assert_visible(text)
    assert "ü €" in text
    assert json.loads(text) == value


def test_ics_text_and_uid() -> None:
    from plaintext_crm.escape import ics_text, ics_uid

    assert ics_text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert ics_text("bell\x07esc\x1b[1m\u202eok\udcff\ttab") == "bellesc[1mok\ufffd\ttab"
    assert ics_uid("acme-site_2.v1") == "followup-acme-site_2.v1@plaintext-crm"  # safe ids keep their UID
    uid = ics_uid(FORGED_ICS)
    assert re.fullmatch(r"followup-[A-Za-z0-9._%-]+@plaintext-crm", uid), uid
    assert ics_uid("a b") != ics_uid("a%20b") and ics_uid("é") != ics_uid("e")


def test_workflow_data_escapes_percent_and_line_breaks() -> None:
    from plaintext_crm.escape import workflow_data

    assert workflow_data("100%\r\n::error::x") == "100%25\\r\\n::error::x"


def test_markdown_text_is_inert() -> None:
    from plaintext_crm.escape import markdown_text

    assert markdown_text("a|b") == "a&#124;b"
    assert markdown_text("<script>") == "&lt;script&gt;"
    assert markdown_text("it's \"q\" & \\<") == "it&#x27;s &quot;q&quot; &amp; \\\\&lt;"
    rendered = MarkdownIt("commonmark", {"html": True}).render(markdown_text("it's \"q\" & \\< #1 `a|b`"))
    assert rendered == "<p>it's &quot;q&quot; &amp; \\&lt; #1 `a|b`</p>\n"
    assert markdown_text("line\nbreak") == "line break"
    assert markdown_text("# *x* _y_ `z` [l](u) ![i](s) ~s~ $m$") == (
        "\\# \\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\!\\[i\\](s) \\~s\\~ \\$m\\$")


# ---------------------------------------------------------------- .ics


def parse_ics(raw: bytes) -> list[icalendar.Event]:
    text = raw.decode("utf-8")
    physical = text.split("\r\n")
    assert physical[-1] == "" and all(len(line.encode("utf-8")) <= 75 for line in physical), "unfolded line"
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", ""), "bare CR or LF"
    assert HIDDEN.search(text.replace("\r\n", "")) is None, "control character in the feed"
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar.errors == [] if hasattr(calendar, "errors") else True
    return list(calendar.walk("VEVENT"))


def clean_text(value: str) -> str:
    """What a TEXT value reads back as: line breaks as \\n, other control and bidi characters dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return "".join(char for char in value if char == "\n" or char == "\t" or
                   unicodedata.category(char) not in ("Cc", "Cs") and not "\u202a" <= char <= "\u202e"
                   and not "\u2066" <= char <= "\u2069")


NAMES = [FORGED_ICS, "x@y\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil\nEND:VEVENT\nBEGIN:VEVENT\nX-Y:z",
         "x\rUID:evil", "semi;colon,comma:colon", "café-ünïcødé-東京", "bell\x07esc\x1b[31mred\u202e"]


@pytest.mark.parametrize("name", NAMES, ids=["crlf-forgery", "lf-forgery", "cr", "punctuation", "non-ascii",
                                             "controls"])
def test_ics_keeps_exactly_the_real_events(tmp_path: Path, name: str) -> None:
    title = "Q1; phase 2, part: 3 — Zürich\x1b[2J\u202e\nSUMMARY:Wire 50k"
    action = "Call; then, email:\nfollow\r\nup \\ done"
    root = workspace(tmp_path / "ws", {
        "deals/plain.md": deal(),
        f"deals/{name}.md": deal(title=title, owner="ben", action=action, due="2026-12-01"),
    })
    result = invoke(root, "followups", "--format", "ics")
    assert result.exit_code == 0, result.output
    events = parse_ics(result.stdout_bytes)
    assert len(events) == 2
    uids = [str(event["UID"]) for event in events]
    assert uids[0] == "followup-plain@plaintext-crm"
    assert re.fullmatch(r"followup-[A-Za-z0-9._%-]+@plaintext-crm", uids[1]), uids
    assert len(set(uids)) == 2 and "evil" not in uids
    assert [event.get("X-Y") for event in events] == [None, None]
    forged = events[1]
    assert str(forged["SUMMARY"]) == clean_text(f"{action} - {title}")
    assert str(forged["DESCRIPTION"]) == clean_text(
        f"Deal: {title} ({name})\nClient: Acme\nStage: lead\nOwner: Ben; Okafor, Jr.: Sales ü")
    assert forged.decoded("DTSTART").isoformat() == "2026-12-01"


def test_ics_of_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"deals/plain.md": deal()})
    with open(os.fsencode(root / "deals") + b"/bad\xff\nUID:evil.md", "w", encoding="utf-8") as handle:
        handle.write(deal(due="2026-12-01"))
    result = invoke(root, "followups", "--format", "ics")
    assert result.exit_code == 0, result.output
    events = parse_ics(result.stdout_bytes)
    assert [str(event["UID"]) for event in events] == ["followup-plain@plaintext-crm",
                                                       "followup-bad%FF%0AUID%3Aevil@plaintext-crm"]


def test_site_feeds_are_escaped_too(tmp_path: Path) -> None:
    from plaintext_crm.records.loader import load_workspace
    from plaintext_crm.sales.figures import deal_figures, followups_from
    from plaintext_crm.sales.ics import followup_feeds, followups_ics

    root = workspace(tmp_path / "ws", {f"deals/{FORGED_ICS}.md": deal(owner="ben", title=HOSTILE)})
    loaded, _ = load_workspace(root)
    today = dt.date(2026, 11, 26)
    result = followups_from(deal_figures(loaded, today), loaded.config, today)
    feeds = followup_feeds(result, "Studio\r\nX-EVIL:1", today)
    assert [feed.filename for feed in feeds] == ["followups.ics", "followups-ben.ics"]
    for feed in feeds:
        assert len(parse_ics(feed.text.encode("utf-8"))) == 1
    assert "X-EVIL" not in icalendar.Calendar.from_ical(followups_ics([], "A\nX-EVIL:1", today))


# ---------------------------------------------------------------- lint output


def hostile_workspace(root: Path) -> Path:
    return workspace(root, {
        f"deals/{FORGED_LINT}.md": deal(),
        "deals/values.md": deal(title=HOSTILE, owner=HOSTILE, stage="lead\r" + HOSTILE, client=HOSTILE),
        f"deals/{HOSTILE}.md": deal(),
    })


def test_lint_text_one_line_per_finding(tmp_path: Path) -> None:
    root = hostile_workspace(tmp_path / "ws")
    findings = json.loads(invoke(root, "lint", "--format", "json").output)["findings"]
    result = invoke(root, "lint")
    assert result.exit_code == 1
    assert_visible(result.output)
    lines = result.output.splitlines()
    assert len(lines) == len(findings) + 1
    assert all(FINDING_LINE.match(line) for line in lines[:-1]), lines
    assert not any(line.startswith("README.md") for line in lines)
    assert "\\x1b]0;pwned\\x07" in result.output and "\\u202eevil" in result.output
    assert {finding["code"] for finding in findings} >= {"D001", "R001", "D005", "N001"}


def test_lint_json_keeps_the_data_and_hides_nothing(tmp_path: Path) -> None:
    root = hostile_workspace(tmp_path / "ws")
    result = invoke(root, "lint", "--format", "json")
    assert result.exit_code == 1
    assert_visible(result.output)
    paths = {finding["path"] for finding in json.loads(result.output)["findings"]}
    assert f"deals/{FORGED_LINT}.md" in paths and f"deals/{HOSTILE}.md" in paths


def test_lint_github_annotations(tmp_path: Path) -> None:
    root = hostile_workspace(tmp_path / "ws")
    findings = json.loads(invoke(root, "lint", "--format", "json").output)["findings"]
    result = invoke(root, "lint", "--format", "github")
    assert_visible(result.output)
    lines = result.output.splitlines()
    assert len(lines) == len(findings) + 1
    pattern = re.compile(r"^::(error|warning|notice) file=([^,:]*),line=\d+,col=\d+,title=[^,:]*::[^\r\n]*$")
    assert all(pattern.match(line) for line in lines[:-1]), lines
    files = [pattern.match(line).group(2) for line in lines[:-1]]  # type: ignore[union-attr]
    assert all("\n" not in name and "," not in name and ":" not in name for name in files)


def test_lint_of_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"deals/plain.md": deal()})
    with open(os.fsencode(root / "deals") + b"/bad\xff.md", "w", encoding="utf-8") as handle:
        handle.write(deal())
    for output_format, *cache in (("text",), ("json",), ("github",), ("text", "--no-cache")):
        result = invoke(root, "lint", "--format", output_format, *cache)
        assert result.exit_code == 1, result.output
        assert_visible(result.output)
        assert "bad\\udcff" in result.output


# ---------------------------------------------------------------- the file-name rule


@pytest.mark.parametrize(("name", "code", "reason", "rename"), [
    (FORGED_ICS, "N001", "control characters (\\r, \\n)", "deals/x-y-end-vevent-begin-vevent-uid-evil"),
    ("rlo\u202egpj.exe", "N001", "invisible or bidi control characters (\\u202e)", "deals/rlogpj-exe.md"),
    ("zero\u200bwidth", "N001", "invisible or bidi control characters (\\u200b)", "deals/zerowidth.md"),
    ("Acme Site", "N001", "whitespace", "deals/acme-site.md"),
    ("nbsp\u00a0site", "N001", "whitespace", "deals/nbsp-site.md"),
    ("a:b?c", "N001", "characters not allowed in file names on Windows (:, ?)", "deals/a-b-c.md"),
    ("café-zürich", "N002", "characters other than", "deals/cafe-zurich.md"),
    ("a&b+c", "N002", "characters other than", "deals/a-b-c.md"),
    ("-dash", "N002", "starts with", "deals/dash.md"),
    ("東京", "N002", "characters other than", "deals/deal-"),
])
def test_unsafe_file_names_are_flagged_with_a_rename(tmp_path: Path, name: str, code: str, reason: str,
                                                     rename: str) -> None:
    root = workspace(tmp_path / "ws", {"deals/ok-name_2.v1.md": deal(), f"deals/{name}.md": deal()})
    result = invoke(root, "lint", "--format", "json", "--select", "N")
    findings = json.loads(result.output)["findings"]
    assert [(finding["path"], finding["line"], finding["code"]) for finding in findings] == [
        (f"deals/{name}.md", 1, code)]
    message = findings[0]["message"]
    assert reason in message and f"rename it to {rename}" in message, message
    assert_visible(message)
    assert result.exit_code == (1 if code == "N001" else 0)


def test_renames_do_not_clash_with_existing_ids(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"deals/acme-site.md": deal(), "deals/Acme Site.md": deal()})
    findings = json.loads(invoke(root, "lint", "--format", "json", "--select", "N").output)["findings"]
    assert "rename it to deals/acme-site-2.md" in findings[0]["message"]


def test_plain_ids_and_capitals_are_not_flagged(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"deals/acme-site.md": deal(), "deals/Acme_Site.2.md": deal()})
    result = invoke(root, "lint", "--format", "json", "--select", "N")
    assert json.loads(result.output)["findings"] == []


# ---------------------------------------------------------------- followups and schedule text


def test_followups_text_shows_control_characters_visibly(tmp_path: Path) -> None:
    config = CONFIG.replace('"Ben; Okafor, Jr.: Sales ü"', json.dumps("Ben" + HOSTILE))
    files = {"deals/plain.md": deal(title=HOSTILE, action=HOSTILE, owner="ben"),
             f"deals/{FORGED_LINT}.md": deal(title="x\ny", due="2027-01-20"),
             "deals/none.md": deal(owner=HOSTILE, due="2026-11-20")}
    clean = {"deals/plain.md": deal(owner="ben"), "deals/forged.md": deal(due="2027-01-20"),
             "deals/none.md": deal(owner="zed", due="2026-11-20")}
    hostile = invoke(workspace(tmp_path / "hostile", files, config), "followups", "--later")
    plain = invoke(workspace(tmp_path / "plain", clean), "followups", "--later")
    assert hostile.exit_code == plain.exit_code == 0, hostile.output
    assert_visible(hostile.output)
    assert len(hostile.output.splitlines()) == len(plain.output.splitlines())
    assert "\\x1b]0;pwned\\x07" in hostile.output
    as_json = invoke(workspace(tmp_path / "json", files, config), "followups", "--format", "json")
    assert_visible(as_json.output)
    assert json.loads(as_json.output)["owners"]


def project(title: str, task: str) -> str:
    return (f"---\ntitle: {json.dumps(title)}\nclient: acme\nowner: ana\nstatus: active\nstart: 2026-11-30\n"
            f"due: 2026-12-04\ntasks:\n  - {{id: {json.dumps(task)}, duration: 3, title: {json.dumps(title)}}}\n"
            f"  - {{id: ship, milestone: true, title: {json.dumps(title)}, depends_on: [{json.dumps(task)}]}}\n"
            "---\n")


def test_schedule_text_shows_control_characters_visibly(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {f"projects/{FORGED_LINT}.md": project(HOSTILE, "t\n" + HOSTILE)})
    plain_root = workspace(tmp_path / "plain", {"projects/p.md": project("P", "t")})
    for args in ((), ("--project", FORGED_LINT)):
        result = invoke(root, "schedule", *args)
        plain = invoke(plain_root, "schedule", *(("--project", "p") if args else ()))
        assert result.exit_code == 0, result.output
        assert_visible(result.output)
        assert len(result.output.splitlines()) == len(plain.output.splitlines())
    result = invoke(root, "schedule", "--format", "json")
    assert_visible(result.output)
    missing = invoke(root, "schedule", "--project", "nope\x1b[2J")
    assert missing.exit_code == 2
    assert_visible(missing.output)


# ---------------------------------------------------------------- changes: text and markdown


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_DATE": "2026-11-10T12:00:00+00:00",
           "GIT_COMMITTER_DATE": "2026-11-10T12:00:00+00:00"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
       "a | b | c", "`code` *em* _u_ ~~s~~ ![i](https://tracker.example/p.gif)", "&lt;script&gt;"]


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    """Committed deals, then working-tree edits putting markup in titles, stages, owners and ids."""
    root = workspace(tmp_path / "ws", {f"deals/d{index}.md": deal(title=f"Deal {index}") for index in range(4)})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    for index, payload in enumerate(XSS[:4]):
        (root / f"deals/d{index}.md").write_text(deal(title=payload, stage="proposal" if index % 2 else payload,
                                                      owner=XSS[(index + 1) % len(XSS)]), encoding="utf-8")
    (root / "deals" / "new\n| x | y | z | w |\n<script>.md").write_text(
        deal(title=XSS[4], owner=XSS[5], stage=XSS[1]), encoding="utf-8")
    (root / "deals" / "d\u202ex.md").write_text(deal(title=HOSTILE, owner=HOSTILE), encoding="utf-8")
    return root


def test_changes_markdown_renders_no_markup_and_keeps_its_tables(changed: Path) -> None:
    result = invoke(changed, "changes", "--since", "2026-11-11", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert_visible(result.output)
    data = json.loads(invoke(changed, "changes", "--since", "2026-11-11", "--format", "json").output)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(result.output)
    # Only the report's own markup: headings, paragraphs, tables, code spans, alignment styles.
    tags = re.findall(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^>]*)>", html)
    assert {name for _, name, _ in tags} <= {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td",
                                              "code", "em"}, tags
    assert {attributes for _, _, attributes in tags} <= {"", ' style="text-align:right"'}, tags
    assert html.count("<em>") == len([line for line in result.output.splitlines() if line.startswith("_Note")])
    tables = re.findall(r"<table>.*?</table>", html, flags=re.DOTALL)
    sections = [key for key in ("added", "won", "lost", "advanced", "slipped_back", "owner_changes",
                                "close_pushes", "removed") if data[key]]
    assert len(tables) == 1 + len(sections)
    for table, key in zip(tables[1:], sections, strict=True):
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL)
        assert len(rows) == 1 + len(data[key]), (key, table)
        assert all(len(re.findall(r"<t[dh]", row)) == 4 for row in rows), table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, not dropped


def test_changes_text_shows_control_characters_visibly(changed: Path) -> None:
    result = invoke(changed, "changes", "--since", "2026-11-11")
    assert result.exit_code == 0, result.output
    assert_visible(result.output)
    data = json.loads(invoke(changed, "changes", "--since", "2026-11-11", "--format", "json").output)
    listed = sum(len(data[key]) for key in ("added", "won", "lost", "advanced", "slipped_back",
                                            "owner_changes", "close_pushes", "removed"))
    sections = sum(1 for key in ("added", "won", "lost", "advanced", "slipped_back", "owner_changes",
                                 "close_pushes", "removed") if data[key])
    assert len(result.output.splitlines()) == 2 + listed + 2 * sections + 2


def test_error_messages_show_control_characters_visibly(changed: Path) -> None:
    """A ToolError names what the user typed or what the workspace holds: no raw escape reaches stderr."""
    result = invoke(changed, "changes", "--since", "HEAD\x1b]0;pwned\x07\n\u202e")
    assert result.exit_code == 2
    assert_visible(result.output)
    assert "HEAD\\x1b]0;pwned\\x07\\n\\u202e" in result.output
    missing = invoke(changed, "lint", "deals/none\x1b]0;pwned\x07\u202e.md")  # any command's ToolError
    assert missing.exit_code == 2
    assert_visible(missing.output)
    assert "none\\x1b]0;pwned\\x07\\u202e.md" in missing.output


def test_watch_and_serve_report_names_escaped() -> None:
    from plaintext_crm.findings import Finding, Severity
    from plaintext_crm.site.incremental import UpdateResult
    from plaintext_crm.site.watch import report_update

    finding = Finding(f"deals/{FORGED_LINT}.md", 1, 1, "F001", "invalid-front-matter", Severity.ERROR, HOSTILE)
    result = UpdateResult(False, 3, 1, 1, 0, 1, 1, 0.1, 0.1, (finding,), (f"deals/{FORGED_LINT}.md",))
    said: list[str] = []
    report_update(result, said.append, said.append)
    assert len(said) == 2
    for line in said:
        assert_visible(line)
        assert "\n" not in line


def test_json_hidden_escapes_del_in_ascii_text_and_hidden_characters_in_any_text() -> None:
    """The ASCII shortcut of json_hidden (no scan for printable text) still escapes DEL, the one hidden
    ASCII character json.dumps leaves; other text is scanned as before."""
    from plaintext_crm.escape import json_hidden

    assert json_hidden('{"a":"x\x7fy"}\n') == '{"a":"x\\u007fy"}\n'
    assert json_hidden('{"a":"plain"}\n') == '{"a":"plain"}\n'
    assert json_hidden('{"a":"é\u202e\x7f"}') == '{"a":"é\\u202e\\u007f"}'
    assert json_hidden('{"a":"é"}\n') == '{"a":"é"}\n'
