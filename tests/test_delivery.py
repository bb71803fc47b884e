"""Delivery status: task states and blockers, health, promise drift, checklists; P001-P003 on workspaces."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plaintext_crm.delivery.schedule import schedule_workspace
from plaintext_crm.delivery.status import parse_checklist, parse_promise, project_statuses
from plaintext_crm.lint.run import run_lint
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.workdays import WorkCalendar
from tests.schedule_support import CONFIG, project

D = dt.date
TODAY = D(2026, 12, 10)  # a Thursday


def statuses(make_workspace, projects: dict[str, str], deals: dict[str, str] | None = None,
             today: dt.date = TODAY, name: str = "ws") -> dict[str, Any]:
    files = {f"projects/{record}.md": text for record, text in projects.items()}
    files.update({f"deals/{record}.md": text for record, text in (deals or {}).items()})
    workspace, findings = load_workspace(make_workspace(files, config=CONFIG, name=name))
    assert findings == []
    return project_statuses(workspace, schedule_workspace(workspace, today), today)


def test_task_states_and_blockers(make_workspace) -> None:
    result = statuses(make_workspace, {"p": project([
        {"id": "design", "duration": 3, "status": "done", "start": D(2026, 12, 7), "due": D(2026, 12, 9),
         "approval": {"by": "Jane", "status": "pending"}},
        {"id": "build", "duration": 5, "status": "doing", "start": D(2026, 12, 10)},
        {"id": "copy", "duration": 2, "depends_on": ["design"]},
        {"id": "test", "duration": 2, "depends_on": [{"task": "build", "type": "SS", "lag": 1}]},
        {"id": "docs", "duration": 2, "depends_on": [{"task": "build", "type": "FF"}]},
        {"id": "launch", "milestone": True, "depends_on": ["build", "test"]},
        {"id": "stuck", "duration": 1, "status": "blocked", "start": D(2026, 12, 14)},
        {"id": "overdue", "duration": 1, "due": D(2026, 12, 9), "start": D(2026, 12, 7)},
    ])})["p"]
    states = {task_id: (state.state, [blocker.message for blocker in state.blockers])
              for task_id, state in result.tasks.items()}
    assert states == {
        "design": ("done", []),
        "build": ("in progress", []),
        "copy": ("blocked", ["waits for Jane's approval of 'design' (pending)"]),
        "test": ("ready", []),  # start-to-start: build has started
        "docs": ("ready", []),  # finish-to-finish holds up the finish only
        "launch": ("waiting", ["waits for 'build' to be done (it is doing)", ("waits for 'test' to be done "
                                                                          "(it is todo)")]),
        "stuck": ("blocked", ["marked blocked"]),
        "overdue": ("late", []),
    }
    assert result.tasks["overdue"].late and not result.tasks["overdue"].blocked
    assert result.tasks["copy"].blocked and not result.tasks["test"].blocked
    assert result.pending_approvals == (("design", "Jane"),)


def test_project_dependency_blocks_until_the_other_project_is_done(make_workspace) -> None:
    result = statuses(make_workspace, {
        "brand": project([{"id": "a", "duration": 1, "status": "doing", "start": D(2026, 12, 7)}]),
        "shop": project([{"id": "b", "duration": 1}], depends_on=["brand"]),
        "old": project([{"id": "c", "duration": 1, "status": "done"}]),
        "next": project([{"id": "d", "duration": 1}], depends_on=["old"], start=D(2026, 12, 14)),
    })
    assert [blocker.message for blocker in result["shop"].tasks["b"].blockers] == [
        "waits for project 'brand' to finish"]
    assert result["next"].tasks["d"].state == "ready"


HEALTH_TASKS = [
    {"id": "a", "duration": 5, "status": "done", "start": D(2026, 12, 1), "due": D(2026, 12, 7)},
    {"id": "b", "duration": 5, "depends_on": ["a"]},
    {"id": "m", "milestone": True, "depends_on": ["b"]},
]


@pytest.mark.parametrize(("fields", "health", "reasons"), [
    ({"due": D(2027, 1, 29)}, "on track", ()),
    ({"due": D(2026, 12, 14)}, "at risk",
     ("the critical path runs 2 working days past the due date 2026-12-14 (planned finish 2026-12-17)",)),
    ({"due": D(2026, 12, 9)}, "late", ("the due date 2026-12-09 has passed",)),
    ({"due": D(2027, 1, 29), "status": "on_hold"}, "on hold", ()),
    ({"due": D(2027, 1, 29), "status": "cancelled"}, "cancelled", ()),
    ({"due": D(2027, 1, 29), "status": "done"}, "done", ()),
])
def test_health(make_workspace, fields: dict[str, Any], health: str, reasons: tuple[str, ...]) -> None:
    # b could start Tue 12-08 but is not done on the status date (Thu 12-10): it runs 10..16, and the
    # milestone sits on Thu 12-17; its work ends Wed 12-16, 2 working days past a due date of Mon 12-14
    result = statuses(make_workspace, {"p": project(HEALTH_TASKS, start=D(2026, 12, 1), **fields)})["p"]
    assert (result.health, result.reasons) == (health, reasons)
    assert result.percent_complete == 50
    assert result.next_milestone is not None and result.next_milestone.date == D(2026, 12, 17)


def test_a_late_critical_task_puts_the_project_at_risk(make_workspace) -> None:
    result = statuses(make_workspace, {"p": project([
        {"id": "a", "duration": 2, "status": "doing", "start": D(2026, 12, 1), "due": D(2026, 12, 2)},
        {"id": "b", "duration": 1, "depends_on": ["a"]},
    ], start=D(2026, 12, 1), due=D(2027, 1, 29))})["p"]
    assert result.health == "at risk"
    # a is not done on the status date 12-10: it runs to 12-10, so b (from 12-11) is not late any more
    assert result.reasons == ("late on the critical path: a",)


def test_percent_complete_counts_milestones_when_nothing_has_duration(make_workspace) -> None:
    result = statuses(make_workspace, {"p": project([
        {"id": "m1", "milestone": True, "status": "done", "due": D(2026, 12, 7)},
        {"id": "m2", "milestone": True},
        {"id": "m3", "milestone": True},
        {"id": "m4", "milestone": True},
    ])})["p"]
    assert result.percent_complete == 25


@pytest.mark.parametrize(("text", "kickoff", "finish", "anchored"), [
    ("2027-01-29", D(2026, 10, 12), D(2027, 1, 29), False),
    ("12 weeks", D(2026, 4, 6), D(2026, 6, 26), True),  # Mon + 12 weeks - 1 day = Sunday -> Friday
    ("16 weeks from kickoff", D(2026, 8, 3), D(2026, 11, 20), True),
    ("6 months", D(2026, 7, 1), D(2026, 12, 30), True),  # ends 12-31, a holiday here
    ("20 working days", D(2026, 12, 7), D(2027, 1, 7), True),
    ("soon, we hope", D(2026, 12, 7), None, True),
    ("12 weeks", None, None, False),
])
def test_promised_timelines(text: str, kickoff: dt.date | None, finish: dt.date | None, anchored: bool) -> None:
    calendar = WorkCalendar(range(5), [D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 31), D(2027, 1, 1)])
    promise = parse_promise(text, kickoff, calendar)
    assert promise is not None and promise.finish == finish
    assert (promise.anchor is not None) == anchored
    assert parse_promise(None, kickoff, calendar) is None


def test_checklist_items_outside_code_with_lines() -> None:
    body = "Notes\n\n## Kickoff checklist\n- [x] Kickoff held\n* [ ] Access\n1. [X] Numbered\n```\n- [ ] code\n```\n" \
           "- [ ]\n- not a task\n"
    checklist = parse_checklist(body, 10)
    assert [(item.text, item.done, item.line) for item in checklist.items] == [
        ("Kickoff held", True, 13), ("Access", False, 14), ("Numbered", True, 15)]
    assert (checklist.done, checklist.percent) == (2, 67)
    assert parse_checklist("", 1).percent == 0


DEAL = """\
---
title: Website relaunch
client: acme
owner: ana
stage: won
promised_timeline: {promise}
kickoff_date: 2026-12-07
project: p
---
"""


def test_drift_in_working_days(make_workspace) -> None:
    tasks = [{"id": "a", "duration": 15}, {"id": "b", "duration": 20, "depends_on": ["a"]}]  # 7 weeks
    result = statuses(make_workspace, {"p": project(tasks, deal="d")},
                      deals={"d": DEAL.format(promise="6 weeks from kickoff")})["p"]
    # from the status date Thu 12-10 (the kickoff 12-07 has passed): 35 working days, 4 holidays inside
    assert result.planned_finish == D(2027, 2, 2)
    assert result.promise is not None and result.promise.finish == D(2027, 1, 15)
    assert result.drift == 12 and result.drifted
    unreadable = statuses(make_workspace, {"p": project(tasks, deal="d")},
                          deals={"d": DEAL.format(promise="after the summer")}, name="other")["p"]
    assert unreadable.drift is None and not unreadable.drifted


# -- the example workspace, against values computed by hand (see docs/delivery.md) -------------------------

EXAMPLE_TODAY = D(2026, 11, 26)


@pytest.fixture(scope="module")
def example():
    from tests.support import EXAMPLE

    workspace, _findings = load_workspace(EXAMPLE)
    schedule = schedule_workspace(workspace, EXAMPLE_TODAY)
    return workspace, schedule, project_statuses(workspace, schedule, EXAMPLE_TODAY)


def test_example_project_plans(example) -> None:
    _workspace, schedule, _statuses = example
    planned = {project_id: (item.start, item.finish, item.slack) for project_id, item in schedule.projects.items()}
    assert planned == {
        # projects closed by a milestone gain a day of slack (standard CPM: the work before the milestone ends
        # a working day before the milestone's date); museum's unfinished work is planned from the status date
        "atlas-dashboard": (D(2026, 10, 12), D(2027, 1, 12), 14),
        "helix-website": (D(2026, 8, 3), D(2026, 12, 30), -10),
        "kite-mobile-app": (D(2026, 11, 9), D(2027, 3, 8), 15),
        "museum-website": (D(2026, 7, 1), D(2027, 1, 27), 46),
        "northwind-rebrand": (D(2026, 9, 14), D(2026, 12, 16), 2),
        "northwind-webshop": (D(2027, 1, 11), D(2027, 3, 22), 10),
        "quanta-launch": (D(2026, 11, 16), D(2027, 2, 2), 14),
        "verde-brand": (D(2026, 4, 6), D(2026, 6, 16), 9),
    }
    assert schedule.cycles == ()


def test_example_helix_critical_path_and_slack(example) -> None:
    _workspace, schedule, _statuses = example
    helix = schedule.projects["helix-website"]
    assert helix.critical_path == ("content-migration", "build", "accessibility-audit", "qa", "a11y-fixes", "launch")
    museum = schedule.projects["museum-website"]  # on hold: its blocked import is planned from the status date
    assert museum.tasks["collection-import"].rescheduled
    assert museum.tasks["collection-import"].earliest_start == EXAMPLE_TODAY
    expected = {  # task: (earliest start, earliest finish, latest start, latest finish, slack)
        # standard CPM: the launch milestone may sit as late as the working day after the due date 12-11
        "content-migration": (D(2026, 9, 7), D(2026, 11, 27), D(2026, 8, 31), D(2026, 11, 20), -5),
        "build": (D(2026, 9, 23), D(2026, 12, 4), D(2026, 9, 9), D(2026, 11, 20), -10),
        "accessibility-audit": (D(2026, 11, 30), D(2026, 12, 4), D(2026, 11, 30), D(2026, 12, 4), 0),
        "qa": (D(2026, 12, 7), D(2026, 12, 18), D(2026, 11, 23), D(2026, 12, 4), -10),
        "a11y-fixes": (D(2026, 12, 21), D(2026, 12, 29), D(2026, 12, 7), D(2026, 12, 11), -10),
        "launch": (D(2026, 12, 30), D(2026, 12, 30), D(2026, 12, 14), D(2026, 12, 14), -10),
    }
    for task_id, values in expected.items():
        item = helix.tasks[task_id]
        assert (item.earliest_start, item.earliest_finish, item.latest_start, item.latest_finish,
                item.slack) == values, task_id
    assert helix.tasks["discovery"].slack is None  # done


def test_example_cross_project_and_dependency_types(example) -> None:
    _workspace, schedule, _statuses = example
    kite = schedule.projects["kite-mobile-app"].tasks
    assert (kite["app-build"].earliest_start, kite["app-build"].earliest_finish) == (D(2026, 12, 9), D(2027, 2, 8))
    assert (kite["api-hookup"].earliest_start, kite["api-hookup"].earliest_finish) == (
        D(2026, 12, 23), D(2027, 2, 10))  # SS + 10 and across the Christmas closure
    assert kite["qa"].slack == 4 and kite["launch"].critical
    shop = schedule.projects["northwind-webshop"].tasks
    assert (shop["qa"].earliest_start, shop["qa"].earliest_finish) == (D(2027, 3, 8), D(2027, 3, 17))  # lead 3
    atlas = schedule.projects["atlas-dashboard"].tasks
    assert (atlas["uat"].earliest_start, atlas["uat"].earliest_finish) == (D(2026, 12, 14), D(2026, 12, 16))
    assert atlas["uat"].driver == "frontend-build"


def test_example_health_progress_milestones(example) -> None:
    _workspace, _schedule, statuses = example
    summary = {project_id: (status.health, status.percent_complete,
                            status.next_milestone.task if status.next_milestone else None, status.drift,
                            f"{status.checklist.done}/{len(status.checklist.items)}")
               for project_id, status in statuses.items()}
    assert summary == {
        "atlas-dashboard": ("on track", 38, "go-live", -13, "3/5"),
        "helix-website": ("at risk", 21, "launch", 26, "4/6"),
        "kite-mobile-app": ("on track", 9, "design-signoff", -14, "3/5"),
        "museum-website": ("on hold", 44, "launch", None, "3/5"),
        "northwind-rebrand": ("on track", 51, "identity-signoff", -2, "4/6"),
        "northwind-webshop": ("on track", 0, "launch", -9, "2/5"),
        "quanta-launch": ("on track", 14, "content-freeze", -8, "3/5"),
        "verde-brand": ("done", 100, None, -8, "4/4"),
    }
    assert statuses["kite-mobile-app"].pending_approvals == (("design-signoff", "Nina Park"),)
    assert statuses["northwind-rebrand"].pending_approvals == (("packaging-design", "Jana Holm"),)
    museum = statuses["museum-website"].tasks["collection-import"]
    # marked blocked; no longer "late": its work is planned from the status date instead of in the past
    assert museum.state == "blocked" and museum.blocked and not museum.late
    atlas = statuses["atlas-dashboard"].tasks
    assert [blocker.ref for blocker in atlas["uat"].blockers] == ["api-integration", "frontend-build"]
    shop = statuses["northwind-webshop"].tasks["visual-design"]
    assert [blocker.ref for blocker in shop.blockers] == ["northwind-rebrand", "ux-flows",
                                                          "northwind-rebrand/brand-guidelines"]


@pytest.mark.slow  # reads this checkout's git history
def test_example_delivery_findings() -> None:
    from tests.support import EXAMPLE

    result = run_lint(EXAMPLE, EXAMPLE_TODAY, use_cache=False)
    found = [(finding.path, finding.line, finding.code, finding.message) for finding in result.findings
             if finding.code.startswith("P")]
    assert found == [
        # the invoices of the example's atlas-dashboard come 9000 short of the deal's value
        ("projects/atlas-dashboard.md", 9, "P005", "invoices add up to 89,000.00 EUR, but the budget is 98,000.00 EUR"),
        # effort lines and invoices were added to the example's tasks: uat's due date moved from line 62 to 66
        ("projects/atlas-dashboard.md", 66, "P002",
         ("task 'uat' is due 2026-12-09, but is planned to finish 2026-12-16: it waits for 'frontend-build', "
         "which finishes 2026-12-11, and takes 3 working days from 2026-12-14")),
        ("projects/helix-website.md", 4, "P003",
         ("planned to finish 2026-12-30, 26 working days after the 2026-11-20 promised at the sale "
         "(deal 'helix-health-website': promised_timeline '16 weeks from kickoff', kickoff 2026-08-03)")),
        ("projects/quanta-launch.md", 45, "P004",
         ("'leo' is booked 5.07 working days in the week of 2026-12-07, over a capacity of 5: "
          "quanta-launch/launch-site-build (1.67), atlas-dashboard/frontend-build (1.5), helix-website/qa (1), "
          "kite-mobile-app/app-build (0.9)")),
    ]


def test_cycle_finding_names_the_cycle(make_workspace) -> None:
    root = make_workspace({"projects/p.md": project([
        {"id": "design", "duration": 2, "depends_on": ["review"]},
        {"id": "review", "duration": 1, "depends_on": ["design"]},
    ], due=D(2027, 1, 29))}, config=CONFIG)
    result = run_lint(root, TODAY, use_cache=False)
    assert [(finding.code, finding.message) for finding in result.findings if finding.code == "P001"] == [
        ("P001", ("dependency cycle: design -> review -> design (each depends on the next); scheduled as if the "
                 "dependency of 'design' on 'review' were not written"))]


def test_no_early_or_late_claims_without_a_plan_or_on_hold(make_workspace) -> None:
    kickoff_only = [{"id": "kickoff", "milestone": True}]
    result = statuses(make_workspace, {"p": project(kickoff_only, deal="d", status="planned")},
                      deals={"d": DEAL.format(promise="6 weeks from kickoff")})["p"]
    assert (result.plan_note, result.drift, result.drifted) == ("not planned yet", None, False)
    held = statuses(make_workspace, {"p": project([{"id": "a", "duration": 40}], deal="d", status="on_hold")},
                    deals={"d": DEAL.format(promise="6 weeks from kickoff")}, name="held")["p"]
    assert (held.health, held.plan_note, held.drift) == ("on hold", "on hold", None)
    working = statuses(make_workspace, {"p": project([{"id": "a", "duration": 40}], deal="d")},
                       deals={"d": DEAL.format(promise="6 weeks from kickoff")}, name="working")["p"]
    assert working.plan_note is None and working.drift is not None and working.drift > 0
