"""The linter's forward-pass plan agrees with the full schedule, and the site completes it instead of planning again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plaintext_crm.analysis import analyze
from plaintext_crm.delivery.schedule import Schedule, plan_workspace, schedule_workspace
from plaintext_crm.records.loader import load_workspace


def same(first: Schedule, second: Schedule) -> bool:
    """Equal schedules (the calendar compares by identity, so it is left out)."""
    return (first.projects, first.cycles, first.conflicts, first.order) == (
        second.projects, second.cycles, second.conflicts, second.order)


EXAMPLE = Path(__file__).resolve().parent.parent / "workspace-example"
TODAY = dt.date(2026, 11, 26)

CYCLIC = """\
---
title: Launch
client: acme
owner: ana
status: active
start: 2026-12-07
due: 2026-12-11
depends_on: [other]
tasks:
  - {id: design, duration: 3, depends_on: [review]}
  - {id: build, duration: 5, depends_on: [design]}
  - {id: review, duration: 1, depends_on: [build], due: 2026-12-08, start: 2026-12-07}
---
"""
OTHER = """\
---
title: Other
client: acme
owner: ana
tasks:
  - {id: a, duration: 2, depends_on: [launch/build]}
---
"""


@pytest.mark.parametrize("files", [None, {"projects/launch.md": CYCLIC, "projects/other.md": OTHER}])
def test_plan_matches_the_full_schedule(make_workspace, files: dict[str, str] | None) -> None:
    root = EXAMPLE if files is None else make_workspace(files)
    workspace, _ = load_workspace(root)
    full = schedule_workspace(workspace, TODAY)
    plan = plan_workspace(workspace, TODAY)
    assert plan.cycles == full.cycles and plan.conflicts == full.conflicts
    if files is not None:
        assert plan.cycles and plan.conflicts  # the case exercises both
    assert {project_id: (span.start, span.finish) for project_id, span in plan.spans.items()} == {
        project_id: (item.start, item.finish) for project_id, item in full.projects.items()}
    assert same(plan.schedule(), full)
    assert plan.schedule() is plan.schedule()  # the backward pass runs once


@pytest.mark.slow  # reads this checkout's git history
def test_the_analysis_completes_the_plan_the_rules_read() -> None:
    workspace, _ = load_workspace(EXAMPLE)
    analysis = analyze(workspace, TODAY)
    plan = analysis.plan
    assert analysis.plan is plan
    figures = analysis.delivery
    assert figures.schedule is plan.schedule()
    assert analysis.delivery is figures
    assert same(figures.schedule, schedule_workspace(workspace, TODAY))
