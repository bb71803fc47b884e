"""Planning from the status date (reschedule uncompleted work), and the standard CPM convention for
milestones checked task by task against an independent textbook forward/backward pass."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.delivery.schedule import Schedule, schedule_workspace
from plaintext_crm.delivery.status import project_statuses
from plaintext_crm.records.config import Config
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.model import Dependency, Project, Task, Workspace
from tests.schedule_support import CONFIG, project

D = dt.date


def schedule(make_workspace, tasks: list[dict], today: dt.date, status_date: dt.date | None = None,
             **fields) -> tuple[Workspace, Schedule]:
    workspace, findings = load_workspace(make_workspace({"projects/p.md": project(tasks, **fields)}, config=CONFIG))
    assert findings == []
    return workspace, schedule_workspace(workspace, today, status_date)


LATE = [  # planned from Mon 2026-12-07
    {"id": "design", "duration": 3, "status": "done", "start": D(2026, 12, 7), "finished": D(2026, 12, 10)},
    {"id": "build", "duration": 5, "status": "doing", "start": D(2026, 12, 11)},
    {"id": "copy", "duration": 2, "depends_on": ["design"], "due": D(2026, 12, 15)},
    {"id": "qa", "duration": 2, "depends_on": ["build", "copy"]},
    {"id": "launch", "milestone": True, "depends_on": ["qa"]},
]


def test_a_status_date_after_a_late_task_plans_it_from_the_status_date(make_workspace) -> None:
    # as written, copy ran Fri 12-11 .. Mon 12-14; on the status date Wed 12-16 it is not done: it starts then
    workspace, result = schedule(make_workspace, LATE, today=D(2026, 12, 16))
    tasks = result.projects["p"].tasks
    assert (tasks["design"].earliest_start, tasks["design"].earliest_finish) == (D(2026, 12, 7), D(2026, 12, 10))
    assert not tasks["design"].rescheduled  # done: its actual dates (start, finished)
    assert (tasks["copy"].earliest_start, tasks["copy"].earliest_finish) == (D(2026, 12, 16), D(2026, 12, 17))
    assert tasks["copy"].rescheduled and tasks["copy"].driver is None
    # build started Fri 12-11 and takes 5 days: it would end Thu 12-17, after the status date, so it keeps that
    assert (tasks["build"].earliest_start, tasks["build"].earliest_finish) == (D(2026, 12, 11), D(2026, 12, 17))
    assert (tasks["qa"].earliest_start, tasks["qa"].earliest_finish) == (D(2026, 12, 18), D(2026, 12, 21))
    assert tasks["launch"].earliest_start == D(2026, 12, 22)
    conflict = next(item for item in result.conflicts if item.task == "copy")
    assert conflict.message == ("task 'copy' is due 2026-12-15, but is planned to finish 2026-12-17: unfinished "
                                "work is planned from the status date 2026-12-16, and it takes 2 working days "
                                "from 2026-12-16")
    states = project_statuses(workspace, result, D(2026, 12, 16))["p"].tasks
    assert states["copy"].state == "late"  # its own due date has passed: still late
    # qa waits for build (in progress, on time) and for copy, past its due date: that blocks it
    assert [blocker.overdue for blocker in states["qa"].blockers] == [False, True]
    assert states["qa"].state == "blocked" and states["qa"].blocked
    assert states["qa"].blockers[1].message == "waits for 'copy' to be done (it is todo, past its date)"
    assert states["launch"].state == "waiting" and states["launch"].waiting and not states["launch"].blocked


def test_the_status_date_can_differ_from_today(make_workspace) -> None:
    _workspace, early = schedule(make_workspace, LATE, today=D(2026, 12, 16), status_date=D(2026, 12, 11))
    assert early.status_date == D(2026, 12, 11)
    tasks = early.projects["p"].tasks
    assert (tasks["copy"].earliest_start, tasks["copy"].earliest_finish) == (D(2026, 12, 11), D(2026, 12, 14))
    assert not tasks["copy"].rescheduled


@pytest.mark.parametrize(("extra", "finish"), [
    ({}, D(2026, 12, 14)),  # its full duration from its start: 5 days from Tue 12-08
    ({"remaining": 3}, D(2026, 12, 16)),  # the status date Mon 12-14 plus 3 working days
    ({"percent": 60}, D(2026, 12, 15)),  # 40 % of 5 days left: 2
    ({"remaining": 0}, D(2026, 12, 14)),  # never before the status date
])
def test_work_in_progress_finishes_at_the_status_date_plus_its_remaining_work(make_workspace, extra, finish) -> None:
    tasks = [{"id": "build", "duration": 5, "status": "doing", "start": D(2026, 12, 8), **extra},
             {"id": "next", "duration": 1, "depends_on": ["build"]}]
    _workspace, result = schedule(make_workspace, tasks, today=D(2026, 12, 14))
    planned = result.projects["p"].tasks
    assert planned["build"].earliest_start == D(2026, 12, 8)  # the actual start is kept
    assert planned["build"].earliest_finish == finish
    assert planned["next"].earliest_start > finish


def test_a_long_overdue_task_in_progress_finishes_no_earlier_than_the_status_date(make_workspace) -> None:
    tasks = [{"id": "build", "duration": 2, "status": "doing", "start": D(2026, 12, 7)}]
    _workspace, result = schedule(make_workspace, tasks, today=D(2026, 12, 16))
    assert result.projects["p"].tasks["build"].earliest_finish == D(2026, 12, 16)


def test_milestone_convention_of_the_issue(make_workspace) -> None:
    # a 5 d -> milestone m, beside b 6 d: standard CPM gives a and m one day of slack, b none
    tasks = [{"id": "a", "duration": 5}, {"id": "m", "milestone": True, "depends_on": ["a"]},
             {"id": "b", "duration": 6}]
    _workspace, result = schedule(make_workspace, tasks, today=D(2026, 12, 7))
    slack = {task_id: item.slack for task_id, item in result.projects["p"].tasks.items()}
    assert slack == {"a": 1, "m": 1, "b": 0}
    assert result.projects["p"].critical_path == ("b",)


# -- an independent textbook CPM, on offsets: ES/EF forward, LF/LS backward, slack = LS - ES ------------------

def textbook_cpm(durations: dict[str, int], preds: dict[str, list[str]]) -> dict[str, int]:
    """Total slack of every task: EF = ES + d, ES = max EF of predecessors (0 without), LF = min LS of
    successors (project end = max EF without), LS = LF - d. Tasks come in an order where predecessors are first."""
    es: dict[str, int] = {}
    ef: dict[str, int] = {}
    for task, duration in durations.items():
        es[task] = max((ef[pred] for pred in preds[task]), default=0)
        ef[task] = es[task] + duration
    end = max(ef.values())
    ls: dict[str, int] = {}
    for task in reversed(list(durations)):
        successors = [other for other in durations if task in preds[other]]
        lf = min((ls[other] for other in successors), default=end)
        ls[task] = lf - durations[task]
    return {task: ls[task] - es[task] for task in durations}


@st.composite
def networks(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, list[str]]]:
    count = draw(st.integers(1, 9))
    durations: dict[str, int] = {}
    preds: dict[str, list[str]] = {}
    for index in range(count):
        task = f"t{index}"
        durations[task] = draw(st.sampled_from([0, 0, 1, 2, 3, 5, 8]))  # 0: a milestone
        earlier = list(durations)[:-1]
        preds[task] = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
    return durations, preds


@settings(max_examples=150, deadline=None)
@given(networks())
def test_slack_matches_an_independent_textbook_cpm_task_by_task(network) -> None:
    durations, preds = network
    tasks = tuple(Task(id=task, title=None, owner=None, start=None, due=None, duration=duration or None,
                       status="todo", depends_on=tuple(Dependency(pred) for pred in preds[task]),
                       milestone=duration == 0, approval=None, line=1) for task, duration in durations.items())
    start = D(2026, 12, 7)
    plan = Project(id="p", path="projects/p.md", fields={}, key_lines={}, body="", body_line=1, history=(),
                   lint_ignore=(), traps=(), title=None, client=None, deal=None, owner=None, status="active",
                   start=start, due=None, depends_on=(), tasks=tasks)
    workspace = Workspace(root=Path("."), config=Config(), clients={}, deals={},
                          projects={"p": plan}, files=())
    result = schedule_workspace(workspace, start).projects["p"]
    assert {task: item.slack for task, item in result.tasks.items()} == textbook_cpm(durations, preds)
