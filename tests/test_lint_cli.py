"""`plaintext-crm lint` and `plaintext-crm rules` as users run them: exact lines, JSON shape, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.records.cache_store import cache_folder
from tests.support import EXAMPLE, EXAMPLE_TODAY

# What workspace-example/README.md's "Deliberate problems" table implies, and nothing else.
EXAMPLE_FINDINGS = [
    ("deals/atlas-logistics-annual-report.md", 5, "D004"),  # key_constraints, on the `stage: won` line
    ("deals/atlas-logistics-annual-report.md", 5, "D004"),  # kickoff_date
    ("deals/atlas-logistics-tracking-portal.md", 11, "D006"),
    ("deals/helix-health-brand-guidelines.md", 10, "D006"),
    ("deals/helix-health-patient-portal.md", 11, "D006"),
    ("deals/kite-finance-investor-deck.md", 1, "D007"),
    ("deals/museum-of-maps-digital-archive.md", 13, "D003"),
    ("deals/oakridge-school-website.md", 12, "D003"),
    ("deals/pinecrest-hotels-booking-flow.md", 12, "D003"),
    ("deals/pinecrest-hotels-microsite.md", 19, "H001"),
    ("deals/quanta-robotics-trade-show.md", 13, "D003"),
    ("deals/quanta-robotics-website.md", 13, "D003"),
    ("deals/tidewater-bikes-app.md", 1, "D002"),
    ("deals/verde-energy-community-app.md", 12, "D003"),
    ("projects/atlas-dashboard.md", 9, "P005"),  # invoices 9000 short of the budget
    ("projects/atlas-dashboard.md", 66, "P002"),  # task uat
    ("projects/helix-website.md", 4, "P003"),  # planned finish drifts past the promise
    ("projects/quanta-launch.md", 45, "P004"),  # leo overbooked in the week of 2026-12-07
]

DEAL = """\
---
title: Website
client: acme
owner: ana
stage: {stage}
next_action: Call Jane
next_action_due: {due}
---
"""
CLIENT = "---\nname: Acme\nowner: ana\n---\n"


def run(*args: str, cwd: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None):
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.slow  # reads this checkout's git history
def test_example_workspace_yields_exactly_its_story(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("lint", "--format", "json", "--today", EXAMPLE_TODAY, "--no-cache", cwd=EXAMPLE,
                 monkeypatch=monkeypatch)
    document = json.loads(result.stdout)
    assert [(item["path"], item["line"], item["code"]) for item in document["findings"]] == EXAMPLE_FINDINGS
    errors = sum(1 for item in document["findings"] if item["severity"] == "error")
    assert document["summary"]["errors"] == errors and result.exit_code == 1
    d004 = [item["message"] for item in document["findings"] if item["code"] == "D004"]
    assert d004 == ["won deal is missing hand-off field 'key_constraints'",
                    "won deal is missing hand-off field 'kickoff_date'"]


def test_text_output_lines_sorted_relative_to_cwd_and_summary(make_workspace, monkeypatch) -> None:
    root = make_workspace({
        "clients/acme.md": CLIENT,
        "deals/b-late.md": DEAL.format(stage="proposal", due="2026-11-20"),
        "deals/a-won.md": "---\ntitle: W\nclient: acme\nowner: ana\nstage: won\nclosed_on: 2026-11-01\n"
                          "scope_summary: s\npromised_timeline: 4 weeks\nkey_constraints: [none]\n"
                          "main_stakeholder: Jane\nkickoff_date:\n---\n",
    })
    result = run("lint", "ws", "--today", "2026-11-26", cwd=root.parent, monkeypatch=monkeypatch)
    assert result.stdout.splitlines() == [
        "ws/deals/a-won.md:11:1: D004 [error] won deal is missing hand-off field 'kickoff_date'",
        "ws/deals/b-late.md:7:1: D003 [warning] next action 'Call Jane' was due 2026-11-20 (6 days ago)",
        "Found 1 error, 1 warning (3 records checked).",
    ]
    assert result.exit_code == 1


def test_named_files_show_only_their_findings_but_the_workspace_is_evaluated(make_workspace, monkeypatch) -> None:
    root = make_workspace({
        "deals/orphan.md": DEAL.format(stage="lead", due="2026-12-01").replace("client: acme", "client: gone"),
        "deals/late.md": DEAL.format(stage="lead", due="2026-11-01"),
        "clients/acme.md": CLIENT,
    })
    result = run("lint", "deals/orphan.md", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    assert result.stdout.splitlines() == [
        "deals/orphan.md:3:1: R001 [error] client 'gone' does not exist (no clients/gone.md)",
        "Found 1 error, 0 warnings (3 records checked).",
    ]
    # The client file is clean itself: the reference problem belongs to the deal.
    result = run("lint", "clients/acme.md", "--today", "2026-11-26")
    assert result.stdout.splitlines() == ["No problems: 3 records checked."] and result.exit_code == 0
    # A folder inside the workspace shows the findings of the files under it.
    result = run("lint", "deals", "--today", "2026-11-26", "--format", "json")
    assert {item["path"] for item in json.loads(result.stdout)["findings"]} == {"deals/orphan.md", "deals/late.md"}


def test_exit_codes_strict_select_ignore(make_workspace, monkeypatch) -> None:
    root = make_workspace({"clients/acme.md": CLIENT, "deals/late.md": DEAL.format(stage="lead", due="2026-11-01")})
    monkeypatch.chdir(root)
    assert run("lint", "--today", "2026-11-26").exit_code == 0  # a warning does not fail
    assert run("lint", "--today", "2026-11-26", "--strict").exit_code == 1
    assert run("lint", "--today", "2026-11-26", "--strict", "--ignore", "D003").exit_code == 0
    assert run("lint", "--today", "2026-11-26", "--strict", "--select", "R,F").exit_code == 0
    assert run("lint", "--today", "2026-11-26", "--strict", "--select", "d").exit_code == 1
    bad = run("lint", "--select", "Z9")
    assert bad.exit_code == 2 and "no rule code starts with Z9" in bad.stderr


def test_json_shape(make_workspace, monkeypatch) -> None:
    root = make_workspace({"clients/acme.md": CLIENT, "deals/late.md": DEAL.format(stage="lead", due="2026-11-01")})
    result = run("lint", "--format", "json", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    assert json.loads(result.stdout) == {
        "findings": [{"path": "deals/late.md", "line": 7, "column": 1, "code": "D003", "rule": "next-action-overdue",
                      "severity": "warning", "message": "next action 'Call Jane' was due 2026-11-01 (25 days ago)"}],
        "summary": {"errors": 0, "warnings": 1, "info": 0, "findings": 1, "records": 2, "exit_code": 0},
    }


def test_github_annotations(make_workspace, monkeypatch) -> None:
    root = make_workspace({"clients/acme.md": CLIENT, "deals/x.md": DEAL.format(stage="pitch", due="2026-12-01")})
    result = run("lint", "--format", "github", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    assert result.stdout.splitlines()[0] == (
        "::error file=deals/x.md,line=5,col=1,title=D005 unknown-stage::stage 'pitch' is not in the pipeline "
        "(lead, qualified, proposal, negotiation, won, lost)")


def test_crm_yaml_policy_and_lint_ignore(make_workspace, monkeypatch) -> None:
    config_lines = "lint:\n  D003: error\n  D009: off\n"
    root = make_workspace({
        "crm.yaml": "team:\n  ana: {name: Ana}\n" + config_lines,
        "clients/acme.md": CLIENT,
        "deals/late.md": DEAL.format(stage="lead", due="2026-11-01").replace("---\n", "---\nexpected_close: 2026-10-01\n", 1),
        "deals/quiet.md": DEAL.format(stage="lead", due="2026-11-01").replace("---\n", "---\nlint_ignore: [D00]\n", 1),
    })
    result = run("lint", "--format", "json", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    findings = json.loads(result.stdout)["findings"]
    assert [(item["path"], item["code"], item["severity"]) for item in findings] == [
        ("deals/late.md", "D003", "error")]
    assert result.exit_code == 1


@pytest.mark.parametrize(("args", "message"), [
    (["lint", "nowhere"], "no such file or folder: nowhere"),
    (["lint", "--today", "26/11/2026"], "is not a date"),
    (["lint", "--format", "xml"], "Invalid value for '--format'"),
])
@pytest.mark.slow  # a CLI process
def test_usage_errors_exit_2_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "crm.yaml").write_text("name: X\n")
    result = subprocess.run([sys.executable, "-m", "plaintext_crm", *args], cwd=tmp_path, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_no_workspace_is_exit_2(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "notes.md").write_text("hello\n")
    monkeypatch.chdir(tmp_path)
    result = run("lint")
    assert result.exit_code == 2 and "no workspace found" in result.stderr
    result = run("lint", "notes.md")
    assert result.exit_code == 2 and "no workspace at notes.md" in result.stderr


def test_init_workspace_lints_clean(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", "fresh", "--no-git").exit_code == 0
    result = run("lint", "fresh", "--strict")
    assert result.stdout.strip() == "No problems: 0 records checked." and result.exit_code == 0


@pytest.mark.slow  # a CLI process
def test_lint_imports_neither_jinja2_nor_markdown_it(tmp_path: Path) -> None:
    (tmp_path / "crm.yaml").write_text("name: X\n")
    code = ("import sys; from plaintext_crm.cli import main; sys.argv=['plaintext-crm','lint'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2','markdown_it','ruamel')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_rules_command_lists_every_rule() -> None:
    result = run("rules")
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["C001", "invalid-config", "error"]
    assert any(line.split()[:3] == ["D004", "handoff-required", "error"] for line in lines)
    codes = [item["code"] for item in json.loads(run("rules", "--format", "json").stdout)]
    assert codes == sorted(codes) and {"F001", "R001", "H001", "Y001", "K001", "C002"} <= set(codes)


def test_missing_libyaml_is_said_once(make_workspace, monkeypatch) -> None:
    root = make_workspace({"clients/acme.md": CLIENT})
    monkeypatch.setattr("plaintext_crm.commands.lint.HAVE_LIBYAML", False)
    result = run("lint", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    assert result.stderr.count("without libyaml") == 1 and result.exit_code == 0


def test_verbose_says_what_came_from_the_cache(make_workspace, monkeypatch) -> None:
    root = make_workspace({"clients/acme.md": CLIENT, "deals/late.md": DEAL.format(stage="lead", due="2026-12-01")})
    run("lint", "--today", "2026-11-26", cwd=root, monkeypatch=monkeypatch)
    result = run("lint", "-v", "--today", "2026-11-26")
    assert ": 2 files from the cache, 0 parsed (1 process)" in result.stderr
    assert list(cache_folder(root).glob("records-*.cache")) and not (root / ".plaintext-crm").exists()
