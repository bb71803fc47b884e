"""People's workload across projects: effort shared by owners over planned days, capacity, away days, P004,
the `workload` command and data.json's `workload`."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from plaintext_crm.analysis import analyze
from plaintext_crm.cli import cli
from plaintext_crm.delivery.workload import Workload
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.records.loader import load_workspace
from tests.schedule_support import project
from tests.support import EXAMPLE

D = dt.date
STATUS = D(2026, 12, 7)  # a Monday

CONFIG = """\
name: Test Studio
team:
  ana: {name: Ana Ruiz}
  ben: {name: Ben Okafor, capacity: 3}
  cy: {name: Cy Lee, away: [2026-12-08, {from: 2026-12-14, to: 2026-12-18}]}
holidays: [2026-12-24, 2026-12-25]
"""


def analysis_of(make_workspace, projects: dict[str, str], name: str = "ws"):
    workspace, findings = load_workspace(make_workspace({f"projects/{key}.md": text for key, text in projects.items()},
                                                        config=CONFIG, name=name))
    assert findings == []
    return analyze(workspace, STATUS, GitHistory(workspace.root))


def week(workload: Workload, member: str, monday: dt.date):
    return next(load for load in workload.people[member] if load.week == monday)


def test_effort_is_spread_over_planned_days_and_shared_by_owners(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {"p": project([
        {"id": "design", "duration": 10, "owner": ["ana", "ben"], "effort": 6},  # 0.6 a day, 0.3 each
        {"id": "copy", "duration": 5, "owner": "ana"},  # effort = duration: a full day a day
        {"id": "launch", "milestone": True, "owner": "ana", "depends_on": ["design", "copy"]},
    ])})
    workload = analysis.workload
    assert workload.weeks[0] == STATUS and len(workload.weeks) == 12
    first = week(workload, "ana", STATUS)
    assert (first.booked, first.capacity) == (6.5, 5.0)  # 1.5 of design + 5 of copy
    assert first.over and [(item.task, item.days) for item in first.tasks] == [("copy", 5.0), ("design", 1.5)]
    assert week(workload, "ben", STATUS).booked == 1.5 and week(workload, "ben", STATUS).capacity == 3.0
    assert week(workload, "ana", D(2026, 12, 14)).booked == 1.5
    assert week(workload, "ana", D(2026, 12, 21)).booked == 0  # the milestone books nothing
    found = [finding for finding in analysis.findings if finding.code == "P004"]
    copy_owner_line = analysis.workspace.projects["p"].task("copy").line_of("owner")
    message = ("'ana' is booked 6.5 working days in the week of 2026-12-07, over a capacity of 5: "
               "p/copy (5), p/design (1.5)")
    assert [(finding.line, finding.message) for finding in found] == [(copy_owner_line, message)]


def test_capacity_counts_out_holidays_away_days_and_days_before_the_status_date(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {"p": project([{"id": "a", "duration": 1, "owner": "cy"}])})
    workload = analysis.workload
    assert week(workload, "cy", STATUS).capacity == 4.0  # away on the 8th
    assert week(workload, "cy", D(2026, 12, 14)).capacity == 0.0  # away all week
    assert week(workload, "ana", D(2026, 12, 21)).capacity == 3.0  # two holidays
    assert week(workload, "ben", D(2026, 12, 21)).capacity == 1.8  # 3 days a week, 3 of 5 days open


def test_done_work_and_inactive_projects_book_nobody(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {
        "p": project([{"id": "a", "duration": 5, "owner": "ana", "status": "done", "start": D(2026, 12, 7),
                       "finished": D(2026, 12, 11)}]),
        "q": project([{"id": "b", "duration": 5, "owner": "ana"}], status="on_hold"),
    })
    assert all(load.booked == 0 for load in analysis.workload.people["ana"])
    assert analysis.workload.overbooked() == []


def test_a_project_page_share(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {
        "p": project([{"id": "a", "duration": 5, "owner": "ana"}]),
        "q": project([{"id": "b", "duration": 5, "owner": "ben"}]),
    })
    share = analysis.workload.for_project("p")
    assert list(share.people) == ["ana"] and week(share, "ana", STATUS).booked == 5.0


def test_workload_command_on_the_example() -> None:
    result = CliRunner().invoke(cli, ["workload", str(EXAMPLE), "--today", "2026-11-26", "--weeks", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split() == ["person", "23", "Nov", "30", "Nov", "07", "Dec"]
    assert lines[4].split() == ["leo", "1.84/2", "4.61/5", "5.07/5!"]
    assert lines[-1] == "1 overbooked week (P004)"
    assert ("leo, week of 2026-12-07: 5.07 of 5 days: quanta-launch/launch-site-build (1.67), "
            "atlas-dashboard/frontend-build (1.5), helix-website/qa (1), kite-mobile-app/app-build (0.9)") in lines
    data = json.loads(CliRunner().invoke(cli, ["workload", str(EXAMPLE), "--today", "2026-11-26",
                                               "--format", "json"]).output)
    assert set(data) == {"ana", "leo", "maya", "priya", "sam"} and len(data["leo"]) == 12
    assert data["leo"][2] == {"week": "2026-12-07", "booked": 5.07, "capacity": 5.0, "tasks": [
        {"project": "quanta-launch", "task": "launch-site-build", "days": 1.67},
        {"project": "atlas-dashboard", "task": "frontend-build", "days": 1.5},
        {"project": "helix-website", "task": "qa", "days": 1.0},
        {"project": "kite-mobile-app", "task": "app-build", "days": 0.9}]}
    assert data["sam"][1]["capacity"] == 3.0 and data["maya"][5]["capacity"] == 0.0  # part-time; away at new year


def test_every_owner_of_a_task_must_be_in_the_team(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {"p": project([{"id": "a", "duration": 2, "owner": ["ana", "zed"]}])})
    assert [finding.message for finding in analysis.findings
            if finding.code == "R001" and "owner" in finding.message] == ["task 'a': owner 'zed' is not in the team"]
    assert analysis.workspace.projects["p"].tasks[0].owners == ("ana", "zed")
