"""Rule behaviour beyond the documented examples: edge cases, precedence, the context's history seam, policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plaintext_crm.analysis import analyze
from plaintext_crm.errors import ToolError
from plaintext_crm.findings import Severity
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.history.stages import StageDates
from plaintext_crm.lint.registry import REGISTRY, run_rules
from plaintext_crm.lint.run import lint_workspace
from plaintext_crm.records.loader import load_workspace

TODAY = dt.date(2026, 11, 26)
CLIENT = "---\nname: Acme\nowner: ana\n---\n"


def deal(**fields: object) -> str:
    base = {"title": "Site", "client": "acme", "owner": "ana", "stage": "proposal",
            "next_action": "Call", "next_action_due": "2026-12-01"}
    base.update(fields)
    lines = [f"{key}: {value}" for key, value in base.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n"


_COUNT = iter(range(1_000_000))


def lint(make_workspace, files: dict[str, str], config: str | None = None,
         history_stage_since: dict[str, dt.date] | None = None) -> list[tuple]:
    extra = {"crm.yaml": config} if config is not None else {}
    root = make_workspace({"clients/acme.md": CLIENT, **extra, **files}, name=f"ws{next(_COUNT)}")
    workspace, load_findings = load_workspace(root)
    if history_stage_since is not None:
        analysis = analyze(workspace, TODAY, GitHistory.none(), load_findings)
        vars(analysis)["stage_dates"] = StageDates(history_stage_since, {})  # what git history would resolve
        found = list(analysis.findings)
    else:
        found = lint_workspace(workspace, load_findings, TODAY)
    return sorted((f.path, f.line, f.code) for f in found)


def test_closed_deals_need_no_next_action_and_are_never_overdue(make_workspace) -> None:
    files = {"deals/won.md": deal(stage="lost", lost_reason="price", closed_on="2026-11-01",
                                  next_action=None, next_action_due="2026-01-01")}
    assert lint(make_workspace, files) == []


def test_invalid_due_date_is_f002_only(make_workspace) -> None:
    assert lint(make_workspace, {"deals/x.md": deal(next_action_due="soon")}) == [("deals/x.md", 7, "F002")]


def test_without_a_team_any_owner_goes_and_an_inactive_owner_may_keep_closed_deals(make_workspace) -> None:
    assert lint(make_workspace, {"deals/x.md": deal(owner="whoever")}, config="name: X\n") == []
    closed = deal(owner="old", stage="lost", lost_reason="price", closed_on="2026-11-01")
    assert lint(make_workspace, {"deals/x.md": closed}) == []


def test_handoff_fields_come_from_crm_yaml_and_an_empty_key_points_at_its_line(make_workspace) -> None:
    config = "team:\n  ana: {name: Ana}\nhandoff_fields: [kickoff_date, budget_code]\n"
    won = deal(stage="won", closed_on="2026-11-01", kickoff_date="2027-01-04", budget_code="''")
    assert lint(make_workspace, {"deals/x.md": won}, config=config) == [("deals/x.md", 10, "D004")]


def test_rotting_uses_git_history_when_the_front_matter_is_silent(make_workspace) -> None:
    config = ("team:\n  ana: {name: Ana}\npipeline:\n  - {stage: proposal, probability: 0.5, rot_days: 14}\n"
              "  - {stage: won, closed: won}\n")
    files = {"deals/x.md": deal()}
    assert lint(make_workspace, files, config=config) == []  # neither known: skipped
    found = lint(make_workspace, files, config=config, history_stage_since={"x": dt.date(2026, 10, 1)})
    assert found == [("deals/x.md", 5, "D006")]  # on the stage line
    # history_stage_since holds the resolved date: deal_history lets a stage_since git does not contradict win.
    front = {"deals/x.md": deal(stage_since="2026-11-20")}
    assert lint(make_workspace, front, config=config, history_stage_since={"x": dt.date(2026, 11, 20)}) == []
    assert lint(make_workspace, front, config=config) == []  # without history: the front matter's date


def test_any_lost_reason_without_a_list(make_workspace) -> None:
    lost = deal(stage="lost", lost_reason="they vanished", closed_on="2026-11-01")
    assert lint(make_workspace, {"deals/x.md": lost}, config="name: X\n") == []


@pytest.mark.parametrize(("deal_fields", "project", "expected"), [
    ({"project": "site"}, "---\ntitle: P\nclient: acme\nowner: ana\n---\n", []),
    ({}, "---\ntitle: P\nclient: acme\ndeal: x\nowner: ana\n---\n", []),
    ({}, None, [("deals/x.md", 11, "H001")]),
    ({"kickoff_date": "2026-11-26"}, None, []),  # kicking off today has not passed yet
])
def test_won_without_project(make_workspace, deal_fields, project, expected) -> None:
    fields: dict[str, object] = {
        "stage": "won", "closed_on": "2026-11-01", "scope_summary": "s", "promised_timeline": "4 weeks",
        "key_constraints": "[none]", "main_stakeholder": "Jane", "kickoff_date": "2026-11-16", "next_action": None,
        "next_action_due": None}
    fields.update(deal_fields)
    files = {"deals/x.md": deal(**fields)}
    if project:
        files["projects/site.md"] = project
    assert lint(make_workspace, files) == expected


def test_references_across_projects(make_workspace) -> None:
    other = "---\ntitle: Other\nclient: acme\nowner: ana\ntasks:\n  - {id: launch, duration: 1}\n---\n"
    project = """\
        ---
        title: P
        client: acme
        owner: ana
        depends_on: [other, ghost]
        tasks:
          - id: a
            owner: zed
            depends_on: [other/launch, other/lunch, nowhere/x, {task: b, type: SS}]
          - {id: b, duration: 2}
        ---
        """
    assert lint(make_workspace, {"projects/other.md": other, "projects/p.md": project}) == [
        ("projects/p.md", 5, "R001"),  # project ghost
        ("projects/p.md", 8, "R001"),  # owner zed
        ("projects/p.md", 9, "R001"),  # other/lunch
        ("projects/p.md", 9, "R001"),  # nowhere/x
    ]


def test_yaml_traps_in_crm_yaml_except_lint_off_and_not_invalid_dates(make_workspace) -> None:
    config = "team:\n  ana: {name: Ana}\ncountry: NO\nlint:\n  D009: off\n"
    files = {"deals/x.md": deal(expected_close="2026-02-30", title="Site\ntitle: Again")}
    assert lint(make_workspace, files, config=config) == [
        ("crm.yaml", 3, "Y001"), ("deals/x.md", 3, "Y001"), ("deals/x.md", 9, "F002")]  # 3: the second title


def test_unknown_keys_typos_only(make_workspace) -> None:
    config = "team:\n  ana: {name: Ana}\nhandoff_field: [kickoff_date]\n"
    files = {"deals/x.md": deal(**{"Next-Action": "x", "industry": "coffee", "budget_holder": "CFO"}),
             "projects/p.md": "---\ntitle: P\nclient: acme\nowner: ana\ntasks:\n  - {id: a, duraton: 3}\n---\n"}
    assert lint(make_workspace, files, config=config) == [
        ("crm.yaml", 3, "K001"), ("deals/x.md", 8, "K001"), ("projects/p.md", 6, "K001")]


def test_unknown_rule_code_in_crm_yaml(make_workspace) -> None:
    config = "team:\n  ana: {name: Ana}\nlint:\n  D004: warning\n  X999: off\n"
    assert lint(make_workspace, {}, config=config) == [("crm.yaml", 5, "C002")]


def test_policy_overrides_severity_and_lint_ignore_takes_prefixes(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": CLIENT,
                           "deals/late.md": deal(next_action_due="2026-11-01"),
                           "deals/quiet.md": deal(next_action_due="2026-11-01", lint_ignore="[d0]")},
                          config="team:\n  ana: {name: Ana}\nlint:\n  D003: error\n")
    workspace, load_findings = load_workspace(root)
    found = lint_workspace(workspace, load_findings, TODAY)
    assert [(f.path, f.code, f.severity) for f in found] == [("deals/late.md", "D003", Severity.ERROR)]


def test_a_crashing_rule_is_a_tool_error(make_workspace, monkeypatch) -> None:
    def broken(rule, ctx):
        raise KeyError("boom")

    monkeypatch.setitem(REGISTRY, "D001", REGISTRY["D001"].__class__(
        "D001", "owner-required", Severity.ERROR, "x", broken))
    workspace, _ = load_workspace(make_workspace({"clients/acme.md": CLIENT}))
    with pytest.raises(ToolError, match="rule D001 owner-required failed: KeyError"):
        run_rules(analyze(workspace, TODAY, GitHistory.none()))


def test_duplicate_ids_ignoring_case(make_workspace, tmp_path: Path) -> None:
    files = {"deals/Site.md": deal(), "deals/site.md": deal()}
    assert lint(make_workspace, files) == [("deals/site.md", 1, "F003")]
