"""History on the site: data.json stage fields, the This week page, client timelines and the activity feed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from plaintext_crm.analysis import analyze
from plaintext_crm.history.activity import activity
from plaintext_crm.history.record_history import read_history
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.site.builder import build_site
from tests.history_support import TODAY, ScriptedRepo, deal, scripted

pytestmark = pytest.mark.git


def test_activity_feed_groups_each_commit_newest_first(tmp_path: Path) -> None:
    repo = scripted(tmp_path / "repo")
    history = read_history(repo.root, use_cache=False)
    feed = activity(history, limit=3)
    assert [(item.commit.date.isoformat(), item.commit.author, item.commit.subject) for item in feed] == [
        ("2026-11-12", "Ben Okafor", "Drop old deal"), ("2026-11-10", "Cy Twombly", "App deal"),
        ("2026-11-02", "Ana Ruiz", "Negotiating")]
    assert [(event.path, event.action, event.details, event.exists) for item in feed for event in item.events] == [
        ("deals/old.md", "deleted", (), False),
        ("deals/app.md", "created", ("stage: qualified",), True),
        ("projects/p.md", "created", (), True),
        ("deals/acme-site.md", "edited", ("stage: proposal → negotiation",
                                          "expected close: 2026-12-01 → 2027-01-15"), True)]
    first = activity(history, events_per_commit=1)[-1]
    assert (first.commit.subject, [event.path for event in first.events], first.more) == (
        "Acme: website lead", ["clients/acme.md"], 2)
    client_feed = activity(history, ["clients/acme.md", "deals/acme-site.md"])
    assert [item.commit.subject for item in client_feed] == [
        "Negotiating", "Rename the Acme deal", "Proposal sent", "Qualified the Acme site", "Acme: website lead"]
    assert client_feed[1].events[0].details == ("from deals/site.md",)


def test_history_figures_without_git(make_workspace) -> None:
    root = make_workspace({"deals/x.md": deal("proposal", extra="stage_since: 2026-11-01\n")})
    workspace, _ = load_workspace(root)
    figures = analyze(workspace, TODAY).history
    assert figures.this_week is None and figures.recent == ()
    assert figures.this_week_problem is not None and "not a git repository" in figures.this_week_problem
    assert figures.deals["x"]["stage_since"] == "2026-11-01" and figures.deals["x"]["days_in_stage"] == 25
    assert figures.to_data()["available"] is False


def test_site_shows_history(tmp_path: Path) -> None:
    repo = scripted(tmp_path / "repo")
    repo.commit("2026-11-24T09:00:00+00:00", "ana", {"deals/app.md": deal("proposal", owner="cy")},
                message="App proposal")
    out = tmp_path / "site"
    build_site(repo.root, out, TODAY, use_cache=False)
    data = json.loads((out / "data.json").read_text())
    app = data["deals"]["app"]
    assert (app["stage_since"], app["days_in_stage"]) == ("2026-11-24", 2)
    assert [(span["stage"], span["entered"], span["left"], span["author"], span["days"])
            for span in app["stage_history"]] == [("qualified", "2026-11-10", "2026-11-24", "Cy Twombly", 14),
                                                  ("proposal", "2026-11-24", None, "Ana Ruiz", 2)]
    assert data["history"]["available"] is True and data["history"]["recent_activity"][0]["subject"] == "App proposal"
    week = (out / "this-week.html").read_text()
    assert re.search(r"Advanced <span class=\"muted\">\(1\)</span>", week)
    assert "qualified → proposal" in week and "deals/app.html" in week
    client = (out / "clients" / "acme.html").read_text()
    assert "Rename the Acme deal" in client and "renamed deals/acme-site.md: from deals/site.md" in client
    overview = (out / "index.html").read_text()
    assert "Recent activity" in overview and "App proposal" in overview
    deal_page = (out / "deals" / "acme-site.html").read_text()
    assert "Stage history" in deal_page and "Created 1 Sep 2026 by Ana Ruiz" in deal_page
    forecast = (out / "forecast.html").read_text()
    assert "Stage conversion" in forecast


def test_a_commit_rerenders_history_pages(tmp_path: Path) -> None:
    repo = ScriptedRepo(tmp_path / "repo")
    repo.commit("2026-11-01T09:00:00+00:00", "ana", {"crm.yaml": "name: T\n", "deals/a.md": deal("lead")})
    out = tmp_path / "site"
    build_site(repo.root, out, TODAY)
    first = json.loads((out / "data.json").read_text())["deals"]["a"]["stage_history"]
    # Same file content, new commit (an amended author): nothing on disk changed but the history did.
    repo.git("commit", "-q", "--amend", "--no-edit", "--reset-author", author="ben",
             when="2026-11-03T09:00:00+00:00")
    result = build_site(repo.root, out, TODAY)
    second = json.loads((out / "data.json").read_text())["deals"]["a"]["stage_history"]
    assert result.reused == 0
    assert (first[0]["author"], first[0]["entered"]) == ("Ana Ruiz", "2026-11-01")
    assert (second[0]["author"], second[0]["entered"]) == ("Ben Okafor", "2026-11-03")
    page = (out / "deals" / "a.html").read_text()
    assert "Ben Okafor" in page

