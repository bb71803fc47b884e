"""Scheduling against hand-computed schedules: working days, lags and leads, dependency types, explicit dates,
milestones, cross-project links, slack and the critical path, cycles."""

from __future__ import annotations

import datetime as dt

import pytest

from plaintext_crm.delivery.schedule import Schedule, schedule_workspace
from plaintext_crm.findings import Location
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.workdays import WorkCalendar
from tests.schedule_support import CONFIG, project

D = dt.date
TODAY = D(2026, 11, 26)


def schedule(make_workspace, projects: dict[str, str], deals: dict[str, str] | None = None,
             today: dt.date = TODAY) -> Schedule:
    files = {f"projects/{name}.md": text for name, text in projects.items()}
    files.update({f"deals/{name}.md": text for name, text in (deals or {}).items()})
    workspace, findings = load_workspace(make_workspace(files, config=CONFIG))
    assert findings == []
    return schedule_workspace(workspace, today)


def dates(result: Schedule, project_id: str = "p") -> dict[str, tuple[dt.date, dt.date]]:
    return {task_id: (item.earliest_start, item.earliest_finish)
            for task_id, item in result.projects[project_id].tasks.items()}


def test_calendar_numbers_skip_weekends_and_holidays() -> None:
    calendar = WorkCalendar(range(5), [D(2026, 12, 24), D(2026, 12, 25), D(2026, 12, 27)])
    assert calendar.add(D(2026, 12, 23), 1) == D(2026, 12, 28)  # Thu, Fri holidays; weekend
    assert calendar.add(D(2026, 12, 26), 0) == D(2026, 12, 28)  # a Saturday counts from Monday
    assert calendar.add(D(2026, 12, 28), -1) == D(2026, 12, 23)
    assert calendar.between(D(2026, 12, 21), D(2026, 12, 31)) == 7
    assert calendar.between(D(2026, 12, 24), D(2026, 12, 25)) == 0
    assert calendar.number_on_or_before(D(2026, 12, 27)) == calendar.number(D(2026, 12, 23))
    day = D(2026, 1, 1)
    for _ in range(800):  # number() and date() are inverse on working days, and monotonic
        if calendar.is_working_day(day):
            assert calendar.date(calendar.number(day)) == day
        assert calendar.date(calendar.number(day)) >= day
        day += dt.timedelta(days=1)


def test_calendar_with_other_working_days() -> None:
    calendar = WorkCalendar([0, 2, 4])  # Mon, Wed, Fri
    assert calendar.add(D(2026, 12, 7), 1) == D(2026, 12, 9)
    assert calendar.add(D(2026, 12, 7), 3) == D(2026, 12, 14)
    assert calendar.between(D(2026, 12, 7), D(2026, 12, 13)) == 3


def test_finish_to_start_with_lag_lead_weekends_and_holidays(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 3},
        {"id": "b", "duration": 2, "depends_on": [{"task": "a", "lag": 2}]},
        {"id": "c", "duration": 1, "depends_on": [{"task": "b", "lag": -1}]},
        {"id": "d", "duration": 5, "depends_on": ["c"]},
        {"id": "e", "duration": 3, "start": D(2026, 12, 23)},
    ])})
    assert dates(result) == {
        "a": (D(2026, 12, 7), D(2026, 12, 9)),  # Mon..Wed
        "b": (D(2026, 12, 14), D(2026, 12, 15)),  # two days of lag: Thu, Fri wait; starts Monday
        "c": (D(2026, 12, 15), D(2026, 12, 15)),  # a one-day lead: starts on b's last day
        "d": (D(2026, 12, 16), D(2026, 12, 22)),  # over the weekend
        "e": (D(2026, 12, 23), D(2026, 12, 29)),  # 24, 25 holidays, 26, 27 weekend
    }


def test_start_to_start_finish_to_finish_start_to_finish(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 5},
        {"id": "ss", "duration": 4, "depends_on": [{"task": "a", "type": "SS", "lag": 2}]},
        {"id": "ff", "duration": 2, "depends_on": [{"task": "a", "type": "FF"}]},
        {"id": "ff-lag", "duration": 2, "depends_on": [{"task": "a", "type": "FF", "lag": 3}]},
        {"id": "sf", "duration": 2, "depends_on": [{"task": "a", "type": "SF", "lag": 3}]},
        {"id": "lead", "duration": 2, "depends_on": [{"task": "a", "type": "SS", "lag": -4}]},
    ])})
    assert dates(result) == {
        "a": (D(2026, 12, 7), D(2026, 12, 11)),
        "ss": (D(2026, 12, 9), D(2026, 12, 14)),
        "ff": (D(2026, 12, 10), D(2026, 12, 11)),  # finishes with a
        "ff-lag": (D(2026, 12, 15), D(2026, 12, 16)),  # finishes 3 working days after a
        "sf": (D(2026, 12, 8), D(2026, 12, 9)),  # finishes by a's start + 3
        "lead": (D(2026, 12, 7), D(2026, 12, 8)),  # never before the project start
    }


def test_milestones_take_no_time(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 3},
        {"id": "m", "milestone": True, "depends_on": ["a"]},
        {"id": "b", "duration": 2, "depends_on": ["m"]},
        {"id": "kickoff", "milestone": True, "duration": 0},
    ])})
    assert dates(result) == {
        "a": (D(2026, 12, 7), D(2026, 12, 9)),
        "m": (D(2026, 12, 10), D(2026, 12, 10)),  # the first working day after a
        "b": (D(2026, 12, 10), D(2026, 12, 11)),  # may start on the milestone's day
        "kickoff": (D(2026, 12, 7), D(2026, 12, 7)),
    }
    assert result.projects["p"].tasks["m"].duration == 0


def test_slack_and_critical_path(make_workspace) -> None:
    tasks = [
        {"id": "a", "duration": 3},
        {"id": "b", "duration": 1},
        {"id": "c", "duration": 2, "depends_on": ["a"]},
        {"id": "end", "milestone": True, "depends_on": ["c", "b"]},
    ]
    far = schedule(make_workspace, {"p": project(tasks, due=D(2027, 3, 1))}).projects["p"]
    assert far.finish == D(2026, 12, 14)  # the milestone after c (ends Fri 12-11)
    assert {task_id: item.slack for task_id, item in far.tasks.items()} == {"a": 0, "b": 4, "c": 0, "end": 0}
    assert far.critical_path == ("a", "c", "end")  # a far due date gives the critical path no slack
    assert far.tasks["b"].latest_start == D(2026, 12, 11) and far.tasks["b"].latest_finish == D(2026, 12, 11)
    # standard CPM: the work ends Fri 12-11 (the milestone at its end), 52 working days before 2027-03-01
    # (without the four holidays)
    assert far.slack == 52


def test_early_due_date_gives_negative_slack(make_workspace, tmp_path) -> None:
    tasks = [
        {"id": "a", "duration": 3},
        {"id": "b", "duration": 1},
        {"id": "c", "duration": 2, "depends_on": ["a"]},
    ]
    late = schedule(make_workspace, {"p": project(tasks, due=D(2026, 12, 9))}).projects["p"]
    assert late.finish == D(2026, 12, 11) and late.slack == -2
    assert {task_id: item.slack for task_id, item in late.tasks.items()} == {"a": -2, "b": 2, "c": -2}
    assert late.tasks["a"].latest_start == D(2026, 12, 3)  # the Thursday before the start
    assert late.critical_path == ("a", "c")


def test_slack_through_ss_and_ff_links(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 5},
        {"id": "b", "duration": 2, "depends_on": [{"task": "a", "type": "SS", "lag": 1}]},
        {"id": "c", "duration": 2, "depends_on": [{"task": "a", "type": "FF"}]},
        {"id": "d", "duration": 4, "depends_on": ["b"]},
    ])}).projects["p"]
    # a 7..11, b 8..9, c 10..11, d 10..15; finish Tue 15th
    assert {task_id: (item.slack, item.critical) for task_id, item in result.tasks.items()} == {
        "a": (0, True),  # through b's SS link: a later start delays b, then d
        "b": (0, True), "c": (2, False), "d": (0, True)}


def test_explicit_dates(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 5},
        {"id": "later", "duration": 2, "start": D(2026, 12, 16), "depends_on": ["a"]},  # start no earlier than
        {"id": "earlier", "duration": 2, "start": D(2026, 12, 8), "depends_on": ["a"]},  # deps win
        {"id": "spanned", "start": D(2026, 12, 14), "due": D(2026, 12, 18)},  # duration from start..due
        {"id": "sat", "duration": 1, "start": D(2026, 12, 12)},  # a Saturday moves to Monday
        {"id": "guess", "depends_on": ["a"]},  # neither duration nor dates: one day
    ])})
    assert dates(result) == {
        "a": (D(2026, 12, 7), D(2026, 12, 11)),
        "later": (D(2026, 12, 16), D(2026, 12, 17)),
        "earlier": (D(2026, 12, 14), D(2026, 12, 15)),
        "spanned": (D(2026, 12, 14), D(2026, 12, 18)),
        "sat": (D(2026, 12, 14), D(2026, 12, 14)),
        "guess": (D(2026, 12, 14), D(2026, 12, 14)),
    }
    assert [conflict.message for conflict in result.conflicts] == [  # the written start cannot hold
        ("task 'earlier' starts 2026-12-08 as written, but waits for 'a' (FS), which finishes 2026-12-11: "
        "planned from 2026-12-14")]


def test_actual_dates_of_done_and_started_tasks_are_kept(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 5, "status": "done", "start": D(2026, 12, 7), "due": D(2026, 12, 15)},
        {"id": "b", "duration": 3, "status": "doing", "start": D(2026, 12, 16), "depends_on": ["a"]},
        {"id": "c", "duration": 2, "depends_on": ["b"]},
    ])})
    assert dates(result) == {
        "a": (D(2026, 12, 7), D(2026, 12, 15)),  # took 7 days, not 5: the recorded finish counts
        "b": (D(2026, 12, 16), D(2026, 12, 18)),
        "c": (D(2026, 12, 21), D(2026, 12, 22)),
    }
    done = result.projects["p"].tasks["a"]
    assert done.actual and done.slack is None and not done.critical and done.latest_start is None
    assert result.projects["p"].tasks["b"].actual


def test_conflicts_with_written_dates(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "build", "duration": 10},
        {"id": "uat", "duration": 3, "start": D(2026, 12, 14), "due": D(2026, 12, 16), "depends_on": ["build"]},
        {"id": "early", "duration": 2, "status": "doing", "start": D(2026, 12, 8), "depends_on": ["build"]},
        {"id": "short", "duration": 10, "start": D(2026, 12, 7), "due": D(2026, 12, 11)},
        {"id": "old", "duration": 5, "status": "done", "start": D(2026, 12, 1), "due": D(2026, 12, 2)},
    ])})
    messages = {conflict.task: conflict.message for conflict in result.conflicts}
    assert messages == {
        "uat": "task 'uat' is due 2026-12-16, but is planned to finish 2026-12-23: it waits for 'build', "
               "which finishes 2026-12-18, and takes 3 working days from 2026-12-21",
        "early": "task 'early' started on 2026-12-08, but its dependency on 'build' (FS) allows 2026-12-21 "
                 "at the earliest",
        "short": "task 'short' is due 2026-12-11, but is planned to finish 2026-12-18: it starts 2026-12-07 "
                 "and takes 10 working days",
    }
    # due of uat, start of early; short is written on one line (flow style)
    assert {conflict.task: conflict.location for conflict in result.conflicts} == {
        "uat": Location("projects/p.md", 12), "early": Location("projects/p.md", 17),
        "short": Location("projects/p.md", 19)}


def test_project_start_falls_back_to_task_start_then_kickoff_then_today(make_workspace) -> None:
    tasks = [{"id": "a", "duration": 2}, {"id": "b", "duration": 1, "start": D(2026, 12, 9)}]
    deal = "---\ntitle: D\nclient: acme\nowner: ana\nstage: won\nkickoff_date: 2026-12-14\n---\n"
    result = schedule(make_workspace, {
        "by-task": project(tasks, start=None),
        "by-kickoff": project([{"id": "a", "duration": 2}], start=None, deal="d"),
        "by-today": project([{"id": "a", "duration": 2}], start=None),
    }, deals={"d": deal})
    assert dates(result, "by-task")["a"] == (D(2026, 12, 9), D(2026, 12, 10))
    assert dates(result, "by-kickoff")["a"] == (D(2026, 12, 14), D(2026, 12, 15))
    assert dates(result, "by-today")["a"] == (TODAY, D(2026, 11, 27))


def test_cross_project_dependencies(make_workspace) -> None:
    result = schedule(make_workspace, {
        "shop": project([
            {"id": "photos", "duration": 2, "depends_on": ["brand/shoot"]},
            {"id": "design", "duration": 3, "depends_on": [{"task": "brand/guide", "type": "SS", "lag": 1}]},
        ], start=D(2026, 12, 7)),
        "brand": project([
            {"id": "shoot", "duration": 4},
            {"id": "guide", "duration": 5, "depends_on": ["shoot"]},
        ], start=D(2026, 12, 7)),
        "after": project([{"id": "x", "duration": 1}], start=D(2026, 12, 1), depends_on=["brand"]),
    })
    assert dates(result, "shop") == {"photos": (D(2026, 12, 11), D(2026, 12, 14)),
                                     "design": (D(2026, 12, 14), D(2026, 12, 16))}
    assert result.projects["shop"].tasks["design"].driver == "brand/guide"
    # shoot 7..10, guide 11..17: the whole project waits for brand's finish and starts Fri 12-18
    assert dates(result, "after") == {"x": (D(2026, 12, 18), D(2026, 12, 18))}
    assert result.projects["after"].start == D(2026, 12, 18)
    assert result.cycles == ()


def test_task_cycle_is_reported_and_the_rest_schedules(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "design", "duration": 2, "depends_on": ["review"]},
        {"id": "build", "duration": 3, "depends_on": ["design"]},
        {"id": "review", "duration": 1, "depends_on": ["build"]},
        {"id": "self", "duration": 1, "depends_on": ["self"]},
        {"id": "free", "duration": 2},
    ])})
    paths = sorted(cycle.description for cycle in result.cycles)
    assert paths == ["build -> design -> review -> build", "self -> self"]
    assert {cycle.level for cycle in result.cycles} == {"task"}
    ignored = {cycle.ignored for cycle in result.cycles}
    assert ignored == {"the dependency of 'build' on 'design'", "the dependency of 'self' on 'self'"}
    assert dates(result)["free"] == (D(2026, 12, 7), D(2026, 12, 8))
    # build no longer waits for design: build 7..9, review 10, design 11..14
    assert dates(result)["design"] == (D(2026, 12, 11), D(2026, 12, 14))


def test_project_cycle_is_reported(make_workspace) -> None:
    result = schedule(make_workspace, {
        "a": project([{"id": "x", "duration": 1}], depends_on=["b"]),
        "b": project([{"id": "y", "duration": 1, "depends_on": ["a/x"]}]),
        "c": project([{"id": "z", "duration": 1}]),
    })
    assert [(cycle.level, cycle.description) for cycle in result.cycles] == [("project", "a -> b -> a")]
    assert result.cycles[0].ignored == "the dependency of project 'a' on project 'b'"
    assert result.cycles[0].location.path == "projects/a.md"
    assert set(result.projects) == {"a", "b", "c"}


def test_projects_waiting_for_each_other_through_tasks_are_a_project_cycle(make_workspace) -> None:
    # projects are scheduled one after the other, so two projects cannot wait for each other even through
    # different tasks; the link from the first project (by id) is left out
    result = schedule(make_workspace, {
        "a": project([{"id": "x", "duration": 1, "depends_on": ["b/y"]}, {"id": "w", "duration": 2}]),
        "b": project([{"id": "y", "duration": 1, "depends_on": ["a/w"]}]),
    })
    assert [(cycle.level, cycle.description, cycle.ignored) for cycle in result.cycles] == [
        ("project", "a -> b -> a", "the dependency of project 'a' on project 'b'")]
    assert result.cycles[0].location.path == "projects/a.md"
    assert dates(result, "a")["x"] == (D(2026, 12, 7), D(2026, 12, 7))
    assert dates(result, "b")["y"] == (D(2026, 12, 9), D(2026, 12, 9))


def test_unknown_references_are_left_to_the_linter(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([
        {"id": "a", "duration": 2, "depends_on": ["nope", "ghost/task"]},
    ], depends_on=["ghost"])})
    assert dates(result) == {"a": (D(2026, 12, 7), D(2026, 12, 8))}


def test_empty_project(make_workspace) -> None:
    result = schedule(make_workspace, {"p": project([])})
    planned = result.projects["p"]
    assert planned.tasks == {} and planned.start == planned.finish == D(2026, 12, 7)
    assert planned.critical_path == ()


@pytest.mark.parametrize("status", ["done", "doing"])
def test_started_tasks_without_start_are_planned(make_workspace, status: str) -> None:
    result = schedule(make_workspace, {"p": project([{"id": "a", "duration": 2, "status": status}])})
    assert dates(result)["a"] == (D(2026, 12, 7), D(2026, 12, 8))
