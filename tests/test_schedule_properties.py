"""Property-based tests of the schedule on random dependency DAGs (hypothesis)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.delivery.schedule import Schedule, TaskSchedule, schedule_workspace
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Dependency, Project, Task, Workspace

START = dt.date(2026, 12, 7)
TODAY = dt.date(2026, 11, 26)


def make_task(index: int, duration: int, depends_on: tuple[Dependency, ...]) -> Task:
    return Task(id=f"t{index}", title=None, owner=None, start=None, due=None, duration=duration, status="todo",
                depends_on=depends_on, milestone=duration == 0, approval=None, line=1)


def make_workspace(tasks: list[Task], due: dt.date | None, config: Config) -> Workspace:
    project = Project(id="p", path="projects/p.md", fields={}, key_lines={}, body="", body_line=1, history=(),
                      lint_ignore=(), traps=(), title=None, client=None, deal=None, owner=None, status="active",
                      start=START, due=due, depends_on=(), tasks=tuple(tasks))
    return Workspace(Path("."), config, {}, {}, {"p": project}, ("projects/p.md",))


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[Task], Config]:
    count = draw(st.integers(1, 14))
    tasks = []
    for index in range(count):
        duration = draw(st.integers(0, 8))
        preds = draw(st.lists(st.integers(0, index - 1), max_size=3, unique=True)) if index else []
        depends_on = tuple(Dependency(task=f"t{pred}", type=draw(st.sampled_from(["FS", "FS", "SS", "FF", "SF"])),
                                      lag=draw(st.integers(-3, 5))) for pred in preds)
        tasks.append(make_task(index, duration, depends_on))
    working_days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.sets(st.dates(START, START + dt.timedelta(days=120)), max_size=6))
    return tasks, Config(working_days=frozenset(working_days), holidays=frozenset(holidays))


def boundaries(result: Schedule, item: TaskSchedule) -> tuple[int, int]:
    """Working-day numbers of a task's start and of the boundary after its finish."""
    calendar = result.calendar
    start = calendar.number(item.earliest_start)
    return start, start + item.duration


@settings(max_examples=150, deadline=None)
@given(dags())
def test_every_dependency_is_respected(dag: tuple[list[Task], Config]) -> None:
    tasks, config = dag
    result = schedule_workspace(make_workspace(tasks, None, config), TODAY)
    planned = result.projects["p"].tasks
    floor = result.calendar.number(START)
    for task in tasks:
        start, finish = boundaries(result, planned[task.id])
        assert start >= floor
        assert planned[task.id].earliest_finish >= planned[task.id].earliest_start
        for dependency in task.depends_on:
            pred_start, pred_finish = boundaries(result, planned[dependency.task])
            required = {"FS": (start, pred_finish), "SS": (start, pred_start), "FF": (finish, pred_finish),
                        "SF": (finish, pred_start)}[dependency.type]
            assert required[0] >= required[1] + dependency.lag


@settings(max_examples=150, deadline=None)
@given(dags(), st.integers(0, 60))
def test_feasible_due_date_gives_no_negative_slack_and_a_zero_slack_critical_path(
        dag: tuple[list[Task], Config], spare: int) -> None:
    tasks, config = dag
    finish = schedule_workspace(make_workspace(tasks, None, config), TODAY).projects["p"].finish
    due = finish + dt.timedelta(days=spare)
    project = schedule_workspace(make_workspace(tasks, due, config), TODAY).projects["p"]
    assert project.finish == finish
    slacks = [item.slack for item in project.tasks.values()]
    assert all(slack is not None and slack >= 0 for slack in slacks)
    assert project.critical_path, "some task always finishes last"
    for task_id in project.critical_path:
        assert project.tasks[task_id].slack == 0
    for item in project.tasks.values():
        assert item.latest_start is not None and item.latest_start >= item.earliest_start


@settings(max_examples=100, deadline=None)
@given(dags(), st.integers(1, 20))
def test_early_due_date_makes_the_critical_path_negative(dag: tuple[list[Task], Config], early: int) -> None:
    tasks, config = dag
    plain = schedule_workspace(make_workspace(tasks, None, config), TODAY)
    calendar = plain.calendar
    # standard CPM: the project ends at the latest start + duration (a milestone's start) on working-day offsets
    end = max(calendar.number(item.earliest_start) + item.duration for item in plain.projects["p"].tasks.values())
    due = calendar.date(end - 1 - early)
    project = schedule_workspace(make_workspace(tasks, due, config), TODAY).projects["p"]
    assert project.slack == -early
    assert min(item.slack for item in project.tasks.values() if item.slack is not None) == -early
    # the tasks that set the end are the ones with the least slack
    last = [item for item in project.tasks.values()
            if calendar.number(item.earliest_start) + item.duration == end]
    assert all(item.slack == -early for item in last)


@st.composite
def messy_workspaces(draw: st.DrawFn) -> Workspace:
    """Several projects with every kind of link: unknown, self, cross-project, project-level, cycles; explicit
    and actual dates, statuses, duplicated ids, approvals."""
    project_ids = [f"p{index}" for index in range(draw(st.integers(1, 4)))]
    projects = {}
    for project_id in project_ids:
        count = draw(st.integers(0, 7))
        tasks = []
        for index in range(count):
            refs = draw(st.lists(st.tuples(st.sampled_from([None, *project_ids, "ghost"]),
                                           st.sampled_from([f"t{n}" for n in range(8)])), max_size=3))
            depends_on = tuple(Dependency(task=task, project=project, type=draw(st.sampled_from(["FS", "SS", "FF", "SF"])),
                                          lag=draw(st.integers(-10, 10))) for project, task in refs)
            start = draw(st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
            due = draw(st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
            status = draw(st.sampled_from(["todo", "doing", "done", "blocked"]))
            duration = draw(st.none() | st.integers(0, 30))
            task_id = f"t{draw(st.integers(0, 7))}"  # ids may repeat
            tasks.append(Task(id=task_id, title=None, owner=None, start=start, due=due, duration=duration,
                              status=status, depends_on=depends_on, milestone=draw(st.booleans()),
                              approval=None, line=index + 2))
        projects[project_id] = Project(
            id=project_id, path=f"projects/{project_id}.md", fields={}, key_lines={}, body="", body_line=1,
            history=(), lint_ignore=(), traps=(), title=None, client=None, deal=None, owner=None,
            status=draw(st.sampled_from([None, "active", "done", "on_hold"])),
            start=draw(st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))),
            due=draw(st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))),
            depends_on=tuple(draw(st.lists(st.sampled_from([*project_ids, "ghost"]), max_size=2))),
            tasks=tuple(tasks))
    return Workspace(Path("."), Config(), {}, {}, projects, tuple(project.path for project in projects.values()))


@pytest.mark.slow  # runs for seconds: many generated examples
@settings(max_examples=200, deadline=None)
@given(messy_workspaces())
def test_any_workspace_schedules_without_error(workspace: Workspace) -> None:
    from plaintext_crm.delivery.status import project_statuses

    result = schedule_workspace(workspace, TODAY)
    statuses = project_statuses(workspace, result, TODAY)
    assert set(result.projects) == set(workspace.projects) == set(statuses)
    for project_id, project in workspace.projects.items():
        assert set(result.projects[project_id].tasks) == {task.id for task in project.tasks}
    for cycle in result.cycles:
        assert cycle.path[0] == cycle.path[-1] and cycle.location.path.startswith("projects/")
