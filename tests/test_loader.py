"""The loader: typed records with lines; malformed files become findings and never stop the load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plaintext_crm.errors import ToolError
from plaintext_crm.records.loader import find_workspace, load_workspace, workspace_root
from plaintext_crm.records.model import DEAL_KEYS

GOOD_DEAL = """\
---
title: Website redesign
client: acme
owner: ana
stage: proposal
value: 24000
probability: 0.6
created: 2026-09-01
expected_close: 2026-12-15
next_action: Send revised proposal
next_action_due: 2026-11-28
stage_since: 2026-10-20
key_constraints: Launch before the trade fair
budget_holder: CFO
---
Notes.

## 2026-10-20 Proposal sent
Sent v1.
"""


def codes(findings) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.code) for f in findings)


def test_typed_deal_with_lines_and_unknown_keys(make_workspace) -> None:
    root = make_workspace({"deals/website.md": GOOD_DEAL, "clients/acme.md": "---\nname: Acme\n---\n"})
    workspace, findings = load_workspace(root)
    assert findings == []
    deal = workspace.deals["website"]
    assert deal.value == 24000 and deal.probability == 0.6
    assert deal.next_action_due == dt.date(2026, 11, 28)
    assert deal.key_constraints == ("Launch before the trade fair",)
    assert deal.location("next_action_due").line == 11
    assert deal.location("lost_reason").line == 1
    assert deal.extra_fields(DEAL_KEYS) == {"budget_holder": "CFO"}
    assert [(entry.date, entry.title, entry.line) for entry in deal.history] == [
        (dt.date(2026, 10, 20), "Proposal sent", 18)]
    assert workspace.clients["acme"].display_name == "Acme"


MALFORMED = {
    "deals/bad-yaml.md": ("---\ntitle: x\nvalue: [1, 2\nstage: lead\n---\n", 4, "started on line 3"),
    "deals/no-front-matter.md": ("Just notes\n", 1, "no front matter"),
    "deals/a-list.md": ("---\n- title\n- stage\n---\n", 2, "not a list"),
    "deals/empty.md": ("", 1, "empty file"),
    "deals/latin1.md": (b"---\ntitle: x\n\nowner: Jos\xe9\n---\n", 4, "not valid UTF-8"),
    "deals/unclosed.md": ("---\ntitle: x\n", 1, "not closed"),
}


def test_each_malformed_file_is_a_finding_and_the_rest_loads(make_workspace) -> None:
    files = {path: text for path, (text, _line, _message) in MALFORMED.items()}
    root = make_workspace({**files, "deals/good.md": GOOD_DEAL})
    workspace, findings = load_workspace(root)
    assert list(workspace.deals) == ["good"]
    by_path = {finding.path: finding for finding in findings}
    assert set(by_path) == set(MALFORMED)
    for path, (_text, line, message) in MALFORMED.items():
        finding = by_path[path]
        assert (finding.code, finding.line) == ("F001", line), path
        assert message in finding.message, path


def test_invalid_values_are_f002_at_their_key_line(make_workspace) -> None:
    deal = ("---\ntitle: X\nvalue: 12k\nprobability: 40\ncreated: 2026-02-30\n"
            "expected_close: next month\nowner: ana\n---\n")
    project = ("---\ntitle: P\nstatus: running\ntasks:\n  - id: a\n    status: finished\n    duration: -2\n"
               "  - title: no id\n  - id: c\n    depends_on: [{task: a, type: XX}]\n---\n")
    root = make_workspace({"deals/x.md": deal, "projects/p.md": project})
    workspace, findings = load_workspace(root)
    assert codes(findings) == [
        ("deals/x.md", 3, "F002"), ("deals/x.md", 4, "F002"), ("deals/x.md", 5, "F002"), ("deals/x.md", 6, "F002"),
        ("projects/p.md", 3, "F002"), ("projects/p.md", 6, "F002"), ("projects/p.md", 7, "F002"),
        ("projects/p.md", 8, "F002"), ("projects/p.md", 10, "F002"),
    ]
    assert workspace.deals["x"].value is None and workspace.deals["x"].created is None
    assert [task.id for task in workspace.projects["p"].tasks] == ["a", "c"]
    messages = " | ".join(f.message for f in findings)
    assert "'2026-02-30' is not a valid date" in messages
    assert "task 'a': 'status': 'finished' is not one of todo, doing, done, blocked" in messages


def test_dependencies_syntax(make_workspace) -> None:
    project = """\
    ---
    title: P
    tasks:
      - id: design
        duration: 3
      - id: build
        depends_on: [design, {task: design, type: ss, lag: 2}, other/launch, {task: x, lag: -1}]
    ---
    """
    workspace, findings = load_workspace(make_workspace({"projects/p.md": project}))
    assert findings == []
    deps = workspace.projects["p"].tasks[1].depends_on
    assert [(d.project, d.task, d.type, d.lag) for d in deps] == [
        (None, "design", "FS", 0), (None, "design", "SS", 2), ("other", "launch", "FS", 0), (None, "x", "FS", -1)]
    assert deps[2].ref == "other/launch" and deps[0].line == 7


def test_workspace_without_crm_yaml_uses_defaults(make_workspace) -> None:
    workspace, findings = load_workspace(make_workspace({"deals/d.md": GOOD_DEAL}, config=None))
    assert findings == []
    assert [stage.id for stage in workspace.config.stages] == [
        "lead", "qualified", "proposal", "negotiation", "won", "lost"]
    assert workspace.config.path is None


def test_bad_config_values_are_findings_with_lines(make_workspace) -> None:
    config = ("name: X\npipeline:\n  - {stage: lead, probability: 2}\n  - {stage: won, closed: yes}\n"
              "working_days: [mon, funday]\nlint: {D003: loud}\n")
    workspace, findings = load_workspace(make_workspace({}, config=config))
    assert codes(findings) == [("crm.yaml", 2, "C001"), ("crm.yaml", 3, "C001"), ("crm.yaml", 4, "C001"),
                               ("crm.yaml", 5, "C001"), ("crm.yaml", 6, "C001")]
    assert any(f.line == 2 and "no stage with 'closed: won'" in f.message for f in findings)
    assert workspace.config.stage("lead").probability == 0.0  # type: ignore[union-attr]


def test_unparsable_config_is_f001(make_workspace) -> None:
    _workspace, findings = load_workspace(make_workspace({}, config="name: [x\n"))
    assert codes(findings) == [("crm.yaml", 2, "F001")]


def test_find_workspace_walks_up(make_workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace({"deals/d.md": GOOD_DEAL})
    assert find_workspace(root / "deals") == root.resolve()
    monkeypatch.chdir(root / "deals")
    assert workspace_root(None) == root.resolve()


def test_no_workspace_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="no workspace found"):
        find_workspace(tmp_path)
    with pytest.raises(ToolError, match="does not exist"):
        workspace_root(tmp_path / "missing")
