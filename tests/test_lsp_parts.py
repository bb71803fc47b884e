"""The language server's parts in process: text reading, diagnostic ranges, completion, hover, navigation, fixes,
symbols, and the workspace state that overlays buffers on disk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plaintext_crm.delivery.schedule import schedule_workspace
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.lsp import actions, completion, navigation, state, symbols
from plaintext_crm.lsp.diagnostics import finding_span, rule_link, to_diagnostic
from plaintext_crm.lsp.state import WorkspaceState
from plaintext_crm.lsp.text import context_at, line_parts, smallest_change, split_lines
from tests.lsp_support import ACME_CLIENT

TODAY = dt.date(2026, 11, 26)  # a Thursday

DEAL = """\
---
title: Website relaunch
client: acme
owner: ana
stage: proposal
value: 12000
next_action: Send the revised proposal
next_action_due: 2026-11-30
---
"""

PROJECT = """\
---
title: Site build
client: acme
owner: ana
status: active
start: 2026-11-02
due: 2026-11-13
tasks:
  - id: design
    title: Design
    duration: 5
    status: doing
  - id: build
    title: Build
    duration: 10
    status: todo
    depends_on: [design]
---
"""

OTHER_PROJECT = """\
---
title: Launch
client: acme
owner: ben
status: planned
tasks:
  - id: launch
    duration: 1
    depends_on:
      - site/build
---
"""


def finding(line: int, code: str = "D005", column: int = 1, rule: str = "unknown-stage") -> Finding:
    return Finding("deals/site.md", line, column, code, rule, Severity.ERROR, "message")


@pytest.fixture
def snapshot(make_workspace: Callable[..., Path]) -> state.Snapshot:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": DEAL, "projects/site.md": PROJECT,
                           "projects/launch.md": OTHER_PROJECT})
    return WorkspaceState(root, lambda: TODAY).analyse()


# --- reading text -------------------------------------------------------------------------------------------

def test_line_parts_find_the_key_and_the_value_without_a_comment() -> None:
    parts = line_parts("  owner: ana  # the account lead")
    assert (parts.key, parts.key_span, parts.value, parts.value_span) == ("owner", (2, 7), "ana", (9, 12))
    item = line_parts("      - site/build")
    assert (item.key, item.value, item.value_span) == (None, "site/build", (8, 18))
    assert line_parts("    - id: design").key_span == (6, 8)


def test_context_knows_the_key_of_a_value_a_list_item_and_a_flow_list() -> None:
    lines = split_lines(PROJECT)
    assert context_at(lines, 4, 10).key == "status"  # type: ignore[union-attr]
    flow = context_at(lines, 16, 21)
    assert flow is not None and (flow.parents, flow.key, flow.prefix) == (("tasks",), "depends_on", "desi")
    other = split_lines(OTHER_PROJECT)
    item = context_at(other, 9, 12)
    assert item is not None and (item.parents, item.key) == (("tasks",), "depends_on")
    typing = context_at(lines, 7, 3)
    assert typing is not None and typing.key is None and typing.prefix == "tas"
    assert context_at(lines, 18, 0) is None  # the body is not front matter
    inline = context_at(["---", "  - {task: design, type: S", "---"], 1, 26)
    assert inline is not None and (inline.key, inline.prefix) == ("type", "S")


def test_smallest_change_replaces_only_the_middle() -> None:
    assert smallest_change("stage: pitch\n", "stage: proposal\n") == (8, 12, "roposal")
    assert smallest_change("a\n", "a\nb: 1\n") == (2, 2, "b: 1\n")


# --- diagnostics --------------------------------------------------------------------------------------------

def test_a_finding_points_at_the_value_the_key_or_the_opening_fence() -> None:
    lines = split_lines(DEAL.replace("stage: proposal", "stage: pitch  # hm"))
    assert finding_span(lines, finding(5)) == (4, 7, 12)  # the value `pitch`, not its comment
    assert finding_span(lines, finding(5, "K001", rule="unknown-key")) == (4, 0, 5)  # the key
    assert finding_span(lines, finding(1, "D001", rule="owner-required")) == (0, 0, 3)  # a missing key: `---`
    assert finding_span(lines, finding(3, column=3)) == (2, 2, 12)
    assert finding_span(lines, finding(99)) == (len(lines) - 1, 0, 0)
    empty = split_lines("---\nowner:\n---\n")
    assert finding_span(empty, finding(2, "D001")) == (1, 0, 5)  # no value: the key


def test_a_diagnostic_carries_code_severity_and_the_rule_link() -> None:
    diagnostic = to_diagnostic(split_lines(DEAL), finding(5), "https://docs.example/rules.md")
    assert diagnostic.code == "D005" and diagnostic.source == "plaintext-crm"
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href == "https://docs.example/rules.md#d005-unknown-stage"
    assert rule_link(finding(1, "K001", rule="unknown-key")).endswith("rules.md#k001-unknown-key")
    assert int(diagnostic.severity or 0) == 1


def test_every_rule_link_names_a_heading_of_docs_rules_md() -> None:
    from plaintext_crm.lint.registry import all_rules
    from plaintext_crm.lsp.diagnostics import default_rules_url

    rules = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    assert default_rules_url() == rules.as_uri()  # a source checkout links to its own docs
    headings = {line[3:].strip() for line in rules.read_text(encoding="utf-8").splitlines() if line.startswith("## ")}
    for code, rule in all_rules().items():
        assert f"{code} {rule.name}" in headings
        link = rule_link(Finding("x.md", 1, 1, code, rule.name, Severity.ERROR, ""))
        assert link.endswith(f"#{code.lower()}-{rule.name}")


# --- completion ---------------------------------------------------------------------------------------------

def complete(snapshot: state.Snapshot, rel: str, text: str, line: int, column: int) -> list[tuple[str, str | None]]:
    lines = split_lines(text)
    context = context_at(lines, line, column)
    assert context is not None
    items = completion.complete(snapshot.workspace, rel, lines, line, context, TODAY)
    return [(item.label, item.detail) for item in items]


def test_completion_of_keys_leaves_out_those_written_and_documents_each(snapshot: state.Snapshot) -> None:
    text = DEAL.replace("value: 12000\n", "va\n")
    labels = [label for label, _detail in complete(snapshot, "deals/site.md", text, 5, 2)]
    assert "value" in labels and "stage" not in labels and "lint_ignore" in labels
    lines = split_lines(text)
    context = context_at(lines, 5, 2)
    assert context is not None
    item = next(item for item in completion.complete(snapshot.workspace, "deals/site.md", lines, 5, context, TODAY)
                if item.label == "value")
    assert "digits" in str(item.documentation)
    task_keys = complete(snapshot, "projects/site.md", PROJECT.replace("    status: todo", "    mi"), 15, 6)
    assert ("milestone", "flag") in task_keys


def test_completion_of_members_puts_active_ones_first_with_names(snapshot: state.Snapshot) -> None:
    lines = split_lines(DEAL.replace("owner: ana", "owner: "))
    context = context_at(lines, 3, 7)
    assert context is not None
    items = completion.complete(snapshot.workspace, "deals/site.md", lines, 3, context, TODAY)
    ordered = sorted(items, key=lambda item: item.sort_text or "")
    assert [(item.label, item.detail) for item in ordered] == [
        ("ana", "Ana Ruiz"), ("ben", "Ben Okafor"), ("old", "Old Timer (left)")]


def test_completion_of_ids_reasons_dates_and_dependency_types(snapshot: state.Snapshot) -> None:
    assert complete(snapshot, "projects/site.md", PROJECT.replace("client: acme", "client: "), 2, 8) == [
        ("acme", "Acme")]
    lost = DEAL.replace("stage: proposal", "stage: lost\nlost_reason: ")
    assert [label for label, _ in complete(snapshot, "deals/site.md", lost, 5, 13)] == ["price", "timing"]
    due = DEAL.replace("next_action_due: 2026-11-30", "next_action_due: ")
    assert complete(snapshot, "deals/site.md", due, 7, 17) == [
        ("2026-11-26", "today"), ("2026-11-30", "next Monday"), ("2026-12-03", "+1 week")]
    tasks = [label for label, _ in complete(snapshot, "projects/site.md", PROJECT, 16, 20)]
    assert tasks == ["design", "build", "launch/launch"]
    kinds = complete(snapshot, "projects/site.md", PROJECT.replace("[design]", "[{task: design, type: }]"), 16, 38)
    assert [label for label, _ in kinds] == ["FS", "SS", "FF", "SF"]
    statuses = complete(snapshot, "projects/site.md", PROJECT.replace("status: active", "status: "), 4, 8)
    assert [label for label, _ in statuses] == ["planned", "active", "on_hold", "done", "cancelled"]


def test_completion_of_crm_yaml_settings(snapshot: state.Snapshot) -> None:
    lines = ["name: Studio", "pi"]
    context = context_at(["---", "pi", "---"], 1, 2)
    assert context is not None
    items = completion.complete(snapshot.workspace, "crm.yaml", lines, 1, context, TODAY)
    assert "pipeline" in [item.label for item in items]


# --- hover and navigation -----------------------------------------------------------------------------------

def hover(snapshot: state.Snapshot, rel: str, text: str, line: int, column: int) -> str | None:
    lines = split_lines(text)
    target = navigation.target_at(snapshot.workspace, rel, lines, line, column)
    assert target is not None
    return navigation.hover_text(snapshot.workspace, target, TODAY,
                                 lambda: schedule_workspace(snapshot.workspace, TODAY))


def test_hover_says_who_and_what_an_id_is(snapshot: state.Snapshot) -> None:
    client = hover(snapshot, "deals/site.md", DEAL, 2, 9)
    assert client is not None and "**Acme** (client)" in client and "open deals: 1 of 1" in client
    assert "Website relaunch: proposal, 12,000 EUR" in client
    member = hover(snapshot, "deals/site.md", DEAL, 3, 8)
    assert member is not None and "**Ana Ruiz** (ana, active)" in member and "open deals: 1" in member
    stage = hover(snapshot, "deals/site.md", DEAL, 4, 9)
    assert stage == "**proposal** (stage)\n\nprobability 0.5, never rots"
    key = hover(snapshot, "deals/site.md", DEAL, 5, 2)
    assert key is not None and key.startswith("**value**:")


def test_hover_on_a_task_shows_its_plan_slack_and_criticality(snapshot: state.Snapshot) -> None:
    text = hover(snapshot, "projects/site.md", PROJECT, 16, 21)
    assert text is not None
    assert "**Design** (task site/design, doing)" in text
    # in progress without a recorded start, and not done on the status date (today): planned from today
    assert "planned 2026-11-26 to 2026-12-02 (5 working days)" in text
    assert "on the critical path" in text
    other = hover(snapshot, "projects/launch.md", OTHER_PROJECT, 9, 12)
    assert other is not None and "task site/build" in other


def test_definitions_and_references(snapshot: state.Snapshot) -> None:
    workspace = snapshot.workspace
    lines = split_lines(OTHER_PROJECT)
    target = navigation.target_at(workspace, "projects/launch.md", lines, 9, 12)
    assert target is not None and (target.kind, target.scope, target.id) == ("task", "site", "build")
    assert navigation.definition(workspace, target) == navigation.Location("projects/site.md", 13)
    assert list(navigation.references(workspace, target)) == [navigation.Location("projects/launch.md", 10)]
    owner = navigation.target_at(workspace, "deals/site.md", split_lines(DEAL), 3, 8)
    assert owner is not None and navigation.definition(workspace, owner) == navigation.Location("crm.yaml", 4)
    client = navigation.Target("clients", "acme")
    assert sorted(where.path for where in navigation.references(workspace, client)) == [
        "deals/site.md", "projects/launch.md", "projects/site.md"]
    assert navigation.definition(workspace, navigation.Target("clients", "nobody")) is None


# --- code actions -------------------------------------------------------------------------------------------

def fix_titles(snapshot: state.Snapshot, rel: str, text: str, code: str) -> dict[str, str]:
    found = [finding for finding in snapshot.findings.get(rel, ()) if finding.code == code]
    assert found, snapshot.findings.get(rel)
    return {fix.title: fix.new_text for fix in actions.fixes(snapshot.workspace, rel, text, found, TODAY)}


def analysed(make_workspace: Callable[..., Path], deal: str, name: str = "ws") -> state.Snapshot:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": deal}, name=name)
    return WorkspaceState(root, lambda: TODAY).analyse()


def test_fixes_for_a_misspelt_stage_and_key(make_workspace: Callable[..., Path]) -> None:
    deal = DEAL.replace("stage: proposal", "stage: proposl").replace("expected", "x").replace(
        "value: 12000", "value: 12000\nexpected_close_date: 2026-12-18")
    snapshot = analysed(make_workspace, deal)
    stage = fix_titles(snapshot, "deals/site.md", deal, "D005")
    assert stage["Change stage to 'proposal'"] == deal.replace("stage: proposl", "stage: proposal")
    assert "Ignore D005 in this record (lint_ignore)" in stage
    key = fix_titles(snapshot, "deals/site.md", deal, "K001")
    assert key["Rename 'expected_close_date' to 'expected_close'"] == deal.replace("expected_close_date", "expected_close")


def test_fixes_for_next_action_dates_and_lint_ignore(make_workspace: Callable[..., Path]) -> None:
    overdue = DEAL.replace("2026-11-30", "2026-11-02").replace("---\n\n", "---\n").replace(
        "value: 12000", "value: 12000\nlint_ignore: [D006]")
    snapshot = analysed(make_workspace, overdue)
    fixes = fix_titles(snapshot, "deals/site.md", overdue, "D003")
    assert fixes["Push next_action_due to 2026-12-03 (a week from today)"] == overdue.replace("2026-11-02", "2026-12-03")
    assert fixes["Ignore D003 in this record (lint_ignore)"] == overdue.replace("[D006]", "[D006, D003]")
    missing = DEAL.replace("next_action_due: 2026-11-30\n", "")
    snapshot = analysed(make_workspace, missing, "second")
    fixes = fix_titles(snapshot, "deals/site.md", missing, "D002")
    assert fixes["Set next_action_due to 2026-12-03 (a week from today)"] == DEAL.replace("2026-11-30", "2026-12-03")


def test_hand_off_fix_inserts_every_missing_key_once(make_workspace: Callable[..., Path]) -> None:
    won = DEAL.replace("stage: proposal", "stage: won\nclosed_on: 2026-11-20\nscope_summary:")
    snapshot = analysed(make_workspace, won)
    fixes = fix_titles(snapshot, "deals/site.md", won, "D004")
    [title] = [title for title in fixes if title.startswith("Insert")]
    fixed = fixes[title]
    assert "scope_summary: TODO\n" in fixed and "key_constraints:\n  - TODO\n" in fixed
    assert "kickoff_date: 2026-11-30\n" in fixed and fixed.count("scope_summary") == 1
    after = analysed_again(snapshot, fixed)
    assert [finding.code for finding in after.findings.get("deals/site.md", ())] == []


def analysed_again(snapshot: state.Snapshot, text: str) -> state.Snapshot:
    again = WorkspaceState(snapshot.workspace.root, lambda: TODAY)
    again.open("deals/site.md", text)
    return again.analyse()


# --- symbols ------------------------------------------------------------------------------------------------

def test_symbols_of_a_project_and_of_the_workspace(snapshot: state.Snapshot) -> None:
    found = symbols.document_symbols(snapshot.workspace, "projects/site.md")
    assert [(symbol.name, symbol.kind, symbol.line) for symbol in found if symbol.kind == "task"] == [
        ("design", "task", 8), ("build", "task", 12)]
    assert [symbol.name for symbol in symbols.workspace_symbols(snapshot.workspace, "site")] == ["site", "site"]
    assert [symbol.kind for symbol in symbols.workspace_symbols(snapshot.workspace, "relaunch")] == ["deal"]
    assert [symbol.name for symbol in symbols.document_symbols(snapshot.workspace, "deals/site.md")][:2] == [
        "title", "client"]


# --- state --------------------------------------------------------------------------------------------------

def test_only_changed_buffers_and_files_are_parsed_again(make_workspace: Callable[..., Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": DEAL, "deals/other.md": DEAL})
    workspace_state = WorkspaceState(root, lambda: TODAY)
    workspace_state.analyse()
    built: list[str] = []
    original = state.build_record
    monkeypatch.setattr(state, "build_record", lambda item: built.append(item.path) or original(item))
    workspace_state.open("deals/site.md", DEAL.replace("ana", "ben"))
    workspace_state.analyse()
    workspace_state.analyse()
    assert built == ["deals/site.md"]
    (root / "deals/other.md").write_text(DEAL.replace("12000", "13000") + "\n", encoding="utf-8")
    workspace_state.analyse()  # while typing, files on disk are looked at every SWEEP_SECONDS only
    assert built == ["deals/site.md"]
    workspace_state.look_at_disk()  # a save, a watcher's report, or SWEEP_SECONDS later
    snapshot = workspace_state.analyse()
    assert built == ["deals/site.md", "deals/other.md"]
    assert snapshot.workspace.deals["other"].value == 13000
    assert snapshot.workspace.deals["site"].owner == "ben"


def test_unsaved_files_and_an_unsaved_crm_yaml_count(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"deals/site.md": DEAL})
    workspace_state = WorkspaceState(root, lambda: TODAY)
    assert "R001" in [finding.code for finding in workspace_state.analyse().findings["deals/site.md"]]
    workspace_state.open("clients/acme.md", ACME_CLIENT)
    assert "deals/site.md" not in workspace_state.analyse().findings
    workspace_state.open("crm.yaml", "team: {ben: {name: Ben}}\n")
    codes = [finding.code for finding in workspace_state.analyse().findings["deals/site.md"]]
    assert codes == ["D001"]
    workspace_state.close("crm.yaml")
    workspace_state.close("clients/acme.md")
    assert [finding.code for finding in workspace_state.analyse().findings["deals/site.md"]] == ["R001"]


def test_files_deleted_under_the_server_and_no_crm_yaml(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": DEAL}, config=None)
    workspace_state = WorkspaceState(root, lambda: TODAY)
    assert workspace_state.analyse().findings == {}
    (root / "clients/acme.md").unlink()  # the folder's stamp changes: seen without being told
    assert [finding.code for finding in workspace_state.analyse().findings["deals/site.md"]] == ["R001"]
    (root / "deals").rename(root / "old-deals")
    assert workspace_state.analyse().workspace.deals == {}


# --- any text, any position ---------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="abc:-_/[]{},#'\" \n\t\r0123456789", max_size=80), line=st.integers(0, 8),
       column=st.integers(0, 30), rel=st.sampled_from(["deals/site.md", "projects/site.md", "crm.yaml"]))
def test_reading_any_text_at_any_position_never_raises(snapshot: state.Snapshot, text: str, line: int, column: int,
                                                      rel: str) -> None:
    document = "---\n" + text + "\n---\n"
    lines = split_lines(document)
    line = min(line, len(lines) - 1)
    column = min(column, len(lines[line]))
    context = context_at(lines, line, column)
    if context is not None:
        completion.complete(snapshot.workspace, rel, lines, line, context, TODAY)
    target = navigation.target_at(snapshot.workspace, rel, lines, line, column)
    if target is not None:
        navigation.hover_text(snapshot.workspace, target, TODAY, lambda: schedule_workspace(snapshot.workspace, TODAY))
        navigation.definition(snapshot.workspace, target)
        list(navigation.references(snapshot.workspace, target))
    finding_span(lines, Finding(rel, line + 1, 1, "K001", "unknown-key", Severity.WARNING,
                                "unknown key 'x': did you mean 'title'?"))
    list(actions.fixes(snapshot.workspace, rel, document, [
        Finding(rel, line + 1, 1, code, "rule", Severity.ERROR, "did you mean 'title'?")
        for code in ("K001", "D002", "D003", "D004", "D005")], TODAY))


def test_a_bad_today_is_logged_and_the_calendar_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from plaintext_crm.lsp.server import CrmLanguageServer

    monkeypatch.setenv("PLAINTEXT_CRM_TODAY", "someday")
    server = CrmLanguageServer()
    assert server.today() == dt.date.today()
    server.today_text = "2026-11-26"
    assert server.today() == TODAY


def test_a_misspelt_setting_or_task_key_is_renamed_in_place(make_workspace: Callable[..., Path]) -> None:
    config = "name: Studio\nhandof_fields: [scope_summary]\n"
    project = PROJECT.replace("    duration: 10\n", "    duraton: 10\n")
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "projects/site.md": project}, config=config)
    snapshot = WorkspaceState(root, lambda: TODAY).analyse()
    settings = fix_titles(snapshot, "crm.yaml", config, "K001")
    assert settings == {"Rename 'handof_fields' to 'handoff_fields'": config.replace("handof_", "handoff_")}
    task = fix_titles(snapshot, "projects/site.md", project, "K001")
    assert task["Rename 'duraton' to 'duration'"] == PROJECT
