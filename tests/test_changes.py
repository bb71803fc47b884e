"""`plaintext-crm changes`: a scripted repository compared between two points, as text, Markdown and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.history import notices
from tests.history_support import ScriptedRepo, deal

pytestmark = pytest.mark.git

CONFIG = """\
name: Test
currency: EUR
exchange_rates: {USD: 0.5}
team: {ana: {name: Ana Ruiz}, ben: {name: Ben Okafor}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> ScriptedRepo:
    return scripted(tmp_path / "repo")


def scripted(top: Path, workspace: str = "") -> ScriptedRepo:
    """A week of pipeline work in two commits, plus an uncommitted new deal."""
    repo = ScriptedRepo(top, workspace)
    repo.commit("2026-11-01T10:00:00+00:00", "ana", {
        "crm.yaml": CONFIG,
        "deals/a.md": deal("lead", value=10000),
        "deals/b.md": deal("proposal", value=20000),
        "deals/c.md": deal("negotiation", owner="ben", value=30000),
        "deals/d.md": deal("qualified", owner="ben", value=5000),
        "deals/e.md": deal("proposal", value=16000, extra="currency: USD\n"),
        "deals/old-name.md": deal("lead", value=2000),
    }, message="Start")
    repo.commit("2026-11-20T10:00:00+00:00", "ben", {
        "deals/a.md": deal("qualified", value=10000),
        "deals/b.md": deal("won", value=20000),
        "deals/c.md": deal("lost", owner="ben", value=30000),
        "deals/d.md": deal("lead", owner="ana", value=5000),
        "deals/e.md": deal("proposal", value=16000, expected_close="2027-02-01", extra="currency: USD\n"),
        "deals/f.md": deal("lead", owner="ben", value=4000),
    }, renames={"deals/old-name.md": "deals/new-name.md"}, message="Week's work")
    repo.write({"deals/g.md": deal("lead", value=1000)})  # not committed yet
    return repo


def run(repo: ScriptedRepo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["changes", str(repo.root), "--today", "2026-11-26", *args])
    return result.exit_code, result.output


def test_text_report_of_the_last_seven_days(repo: ScriptedRepo) -> None:
    code, output = run(repo)
    start = repo.git("rev-parse", "--short=7", "HEAD~1").strip()
    assert code == 0
    assert output == f"""\
Changes from start of 2026-11-19 ({start}) to working tree

Added (2)
  f  lead                               ben        4,000 EUR  Deal
  g  lead                               ana        1,000 EUR  Deal

Won (1)
  b  proposal -> won                    ana        20,000 EUR  Deal

Lost (1)
  c  negotiation -> lost                ben        30,000 EUR  Deal

Advanced (1)
  a  lead -> qualified                  ana        10,000 EUR  Deal

Slipped back (1)
  d  qualified -> lead                  ana        5,000 EUR  Deal

Owner changes (1)
  d  ben -> ana                         ana        5,000 EUR  Deal

Expected close pushed (1)
  e  2026-12-01 -> 2027-02-01 (+62 days) ana        8,000 EUR  Deal

Open pipeline:      75,000 EUR -> 30,000 EUR (-45,000 EUR)
Weighted pipeline:  38,950 EUR -> 7,700 EUR (-31,250 EUR)
"""


def test_json_between_two_revisions(repo: ScriptedRepo) -> None:
    code, output = run(repo, "--since", "HEAD~1", "--until", "HEAD", "--format", "json")
    assert code == 0
    data = json.loads(output)
    assert data["until"]["commit"] == repo.git("rev-parse", "HEAD").strip()
    assert [item["id"] for item in data["added"]] == ["f"]  # g is not committed
    assert data["renamed"] == [{"from": "old-name", "to": "new-name"}]
    assert data["removed"] == []
    assert data["won"] == [{"id": "b", "title": "Deal", "owner": "ana", "value": 20000.0,
                            "before": "proposal", "after": "won"}]
    assert data["close_pushes"][0]["before"] == "2026-12-01" and data["close_pushes"][0]["after"] == "2027-02-01"
    assert data["open_pipeline"]["before"]["value"] == 75000.0
    assert data["open_pipeline"]["after"]["value"] == 29000.0
    assert data["open_pipeline"]["change"] == -46000.0
    assert data["weighted_pipeline"]["after"]["value"] == 7600.0


def test_markdown_summary(repo: ScriptedRepo) -> None:
    code, output = run(repo, "--since", "2026-11-19", "--format", "markdown")
    assert code == 0
    assert "| Open pipeline | 75,000 EUR | 30,000 EUR | -45,000 EUR |" in output
    assert "| Weighted pipeline | 38,950 EUR | 7,700 EUR | -31,250 EUR |" in output
    assert "### Won (1)\n\n| Deal | Stage | Owner | Value |\n|---|---|---|---:|\n" \
           "| `b` Deal | proposal -> won | ana | 20,000 EUR |\n" in output
    assert "### Removed" not in output


def test_since_a_date_before_the_first_commit_counts_every_deal_as_added(repo: ScriptedRepo) -> None:
    code, output = run(repo, "--since", "2026-01-01", "--format", "json")
    data = json.loads(output)
    assert code == 0 and data["since"] == {"label": "start of 2026-01-01 (before the first commit)", "commit": None}
    assert [item["id"] for item in data["added"]] == ["a", "b", "c", "d", "e", "f", "g", "new-name"]


def test_unknown_revision_and_no_git_are_failures(repo: ScriptedRepo, make_workspace) -> None:
    code, output = run(repo, "--since", "no-such-tag")
    assert code == 2 and "'no-such-tag' is neither a date (YYYY-MM-DD) nor a commit git knows" in output
    root = make_workspace({"deals/a.md": deal("lead")})
    result = CliRunner().invoke(cli, ["changes", str(root)])
    assert result.exit_code == 2
    assert "changes needs the workspace's git history: not a git repository" in result.output
    assert "Traceback" not in result.output


def test_shallow_clone_reports_and_says_so(repo: ScriptedRepo, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess


    monkeypatch.setattr(notices, "_SAID", set())  # notices are said once per process
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "g", when="2026-11-25T10:00:00+00:00")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", repo.top.as_uri(), str(clone)], check=True,
                   capture_output=True)
    result = CliRunner().invoke(cli, ["changes", str(clone), "--today", "2026-11-26", "--since", "HEAD~1",
                                      "--format", "json"])
    assert result.exit_code == 0
    assert "note: shallow clone: history starts on 2026-11-20" in result.stderr
    assert [item["id"] for item in json.loads(result.stdout)["added"]] == ["g"]


def test_workspace_in_a_sub_folder_gives_the_same_report(repo: ScriptedRepo, tmp_path: Path) -> None:
    nested = scripted(tmp_path / "code", workspace="sales/crm")
    (nested.root / "deals" / "a.md").write_text(deal("proposal", value=10000))  # edited, not committed
    (repo.root / "deals" / "a.md").write_text(deal("proposal", value=10000))
    reports = []
    for item in (repo, nested):
        code, output = run(item, "--format", "json")
        assert code == 0
        data = json.loads(output)
        del data["since"]
        reports.append(data)
    assert reports[0] == reports[1]
    assert [item["after"] for item in reports[1]["advanced"]] == ["proposal"]


def test_until_a_date_means_the_end_of_that_day(repo: ScriptedRepo) -> None:
    code, output = run(repo, "--since", "2026-11-01", "--until", "2026-11-01", "--format", "json")
    data = json.loads(output)
    first = repo.git("rev-parse", "HEAD~1").strip()
    assert code == 0 and data["until"] == {"label": f"end of 2026-11-01 ({first[:7]})", "commit": first}
    assert [item["id"] for item in data["added"]] == ["a", "b", "c", "d", "e", "old-name"]
    assert data["open_pipeline"]["after"]["value"] == 75000.0


def test_a_repository_without_commits_is_a_clear_failure(tmp_path: Path) -> None:
    empty = ScriptedRepo(tmp_path / "empty")
    empty.write({"crm.yaml": CONFIG, "deals/a.md": deal("lead")})
    code, output = run(empty)
    assert code == 2 and "the repository has no commits yet" in output
