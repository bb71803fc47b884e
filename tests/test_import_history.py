"""History tells the truth after an import: counts by the records' own dates, one "imported N records" event."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plaintext_crm.analysis import analyze
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.records.loader import load_workspace
from tests.history_support import ScriptedRepo
from tests.import_support import IMPORT_CONFIG, fill_mapping, hubspot_args, run

pytestmark = pytest.mark.git
TODAY = dt.date(2026, 11, 6)


def imported_repo(tmp_path: Path) -> ScriptedRepo:
    """A repository with crm.yaml (2026-10-01), then the HubSpot sample imported in one commit (2026-11-05)."""
    repo = ScriptedRepo(tmp_path / "ws")
    repo.commit("2026-10-01T09:00:00+00:00", "ana", {"crm.yaml": IMPORT_CONFIG}, message="Start")
    assert run(*hubspot_args(repo.root)).exit_code == 1
    fill_mapping(repo.root, {"  Mystery Stage:   # 1 row, could not map": "  Mystery Stage: lead"})
    assert run(*hubspot_args(repo.root)).exit_code == 0
    repo.commit("2026-11-05T16:00:00+00:00", "ana", message="Import from HubSpot")
    return repo


def test_this_week_counts_imported_deals_by_their_own_dates(tmp_path: Path) -> None:
    repo = imported_repo(tmp_path)
    workspace, _findings = load_workspace(repo.root)
    figures = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    week = figures.this_week
    assert week is not None
    # Only Hooli was created in the last seven days (2026-11-02); the won and lost deals closed in March and
    # June: an import is not a week of new business.
    assert [item.id for item in week.added] == ["hooli-pitch"]
    assert week.won == () and week.lost == ()
    assert [item.id for item in week.imported] == ["acme-mobile-app", "acme-website-redesign",
                                                   "globex-brand-refresh", "initech-intranet"]
    text = run("changes", str(repo.root), today=TODAY.isoformat()).output
    assert "Added (1)\n" in text and "Won (" not in text and "Imported (their own dates are older) (4)\n" in text


def test_the_import_commit_is_one_event_in_activity_and_timelines(tmp_path: Path) -> None:
    repo = imported_repo(tmp_path)
    workspace, _findings = load_workspace(repo.root)
    figures = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    newest = figures.recent[0]
    assert newest.commit.subject == "Import from HubSpot"
    assert [(event.action, event.details, len(event.records)) for event in newest.events] == \
        [("imported", ("9 records",), 9)]
    assert newest.more == 0
    timeline = figures.record_activity(["clients/globex.md", "deals/globex-brand-refresh.md"])
    assert [(item.commit.subject, [event.action for event in item.events]) for item in timeline] == \
        [("Import from HubSpot", ["imported"])]


def test_stage_durations_use_the_record_dates_until_git_sees_a_stage_change(tmp_path: Path) -> None:
    repo = imported_repo(tmp_path)
    workspace, _findings = load_workspace(repo.root)
    figures = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    won = figures.deals["globex-brand-refresh"]
    assert (won["stage_since"], won["days_in_stage"]) == ("2026-03-20", (TODAY - dt.date(2026, 3, 20)).days)
    path = repo.root / "deals" / "hooli-pitch.md"
    repo.commit("2026-11-06T10:00:00+00:00", "ben",
                {"deals/hooli-pitch.md": path.read_text(encoding="utf-8").replace("stage: lead", "stage: qualified")},
                message="Hooli qualified")
    workspace, _findings = load_workspace(repo.root)
    moved = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    hooli = moved.deals["hooli-pitch"]
    assert [(span["stage"], span["entered"]) for span in hooli["stage_history"]] == \
        [("lead", "2026-11-05"), ("qualified", "2026-11-06")]
    week = moved.this_week
    assert week is not None and [item.id for item in week.added] == ["hooli-pitch"]


def test_the_example_committed_at_once_is_not_a_week_of_new_business(tmp_path: Path) -> None:
    """The issue's case: the example workspace in one commit said 40 deals added and 10 won this week."""

    from tests.support import copy_example_with_history

    repo = ScriptedRepo(tmp_path / "ex")
    copy_example_with_history(repo.root)
    repo.commit("2026-11-25T10:00:00+00:00", "ana", message="Our pipeline")
    workspace, _findings = load_workspace(repo.root)
    week = analyze(workspace, dt.date(2026, 11, 26), GitHistory(workspace.root, use_cache=False)).history.this_week
    assert week is not None
    # by their own dates: created on or after 2026-11-19, closed on or after it
    assert sorted(item.id for item in week.added) == sorted(
        deal.id for deal in workspace.deals.values() if deal.created and deal.created >= dt.date(2026, 11, 19))
    assert [item.id for item in week.won] == ["atlas-logistics-annual-report"]
    assert len(week.added) + len(week.imported) == len(workspace.deals) == 40
    assert len(week.added) < 5


def test_the_site_of_a_freshly_imported_workspace_counts_by_the_records_dates(tmp_path: Path) -> None:
    repo = imported_repo(tmp_path)
    out = tmp_path / "site"
    result = run("build", str(repo.root), "-o", str(out), today=TODAY.isoformat())
    assert result.exit_code in (0, 1), result.output  # 1: the imported records still have lint errors
    overview = (out / "index.html").read_text(encoding="utf-8")
    assert "imported 9 records (their own dates are older than this commit)" in overview
    client = (out / "clients" / "globex.html").read_text(encoding="utf-8")
    assert "imported 9 records, among them clients/globex.md, deals/globex-brand-refresh.md" in client
    week = (out / "this-week.html").read_text(encoding="utf-8")
    assert 'id="imported-title">Imported (their own dates are older) <span class="muted">(4)</span>' in week
    assert 'id="added-title">Added <span class="muted">(1)</span>' in week and 'id="won-title"' not in week
