"""People's workload across projects: working days booked per person and week against their capacity.

A task's `effort` (working days of work, default its planned duration) is spread evenly over the working
days the schedule plans it on and shared equally by its owners. Only unfinished work of active projects
(not on hold, done or cancelled) on or after the status date counts; milestones take no work. A week's
capacity is the member's `capacity` (days a week) times the share of the week's working days they are
there for: not a holiday, not `away`, not before the status date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from plaintext_crm.delivery.schedule import Schedule
from plaintext_crm.records.config import DEFAULT_CAPACITY, Member
from plaintext_crm.records.model import Project, Workspace
from plaintext_crm.records.workdays import WorkCalendar

DEFAULT_WEEKS = 12
INACTIVE = ("on_hold", "done", "cancelled")


@dataclass(frozen=True, slots=True)
class Booking:
    """The working days one task books a person for in one week."""

    project: str
    task: str
    title: str
    days: float


@dataclass(frozen=True, slots=True)
class WeekLoad:
    """One person's week: booked days against capacity, and the tasks behind them."""

    week: dt.date  # the Monday
    booked: float
    capacity: float
    tasks: tuple[Booking, ...]

    @property
    def over(self) -> bool:
        """Booked over capacity (by more than a rounding error)."""
        return self.booked > self.capacity + 1e-9

    @property
    def percent(self) -> int:
        """Booked as a share of capacity (0 when there is no capacity and nothing booked)."""
        if self.capacity <= 0:
            return 0 if self.booked <= 0 else 999
        return round(100 * self.booked / self.capacity)


@dataclass(frozen=True)
class Workload:
    """Each person's booked days per week for `weeks` weeks from the status date's week."""

    weeks: tuple[dt.date, ...]
    people: Mapping[str, tuple[WeekLoad, ...]]  # member id -> one WeekLoad per week, in `weeks` order

    def overbooked(self) -> list[tuple[str, WeekLoad]]:
        """(member, week) over capacity, by member then week."""
        return [(member, load) for member, loads in self.people.items() for load in loads if load.over]

    def for_project(self, project_id: str) -> Workload:
        """The same table counting only one project's tasks (people without any of its work left out)."""
        people = {}
        for member, loads in self.people.items():
            kept = tuple(WeekLoad(load.week, _round(sum(item.days for item in load.tasks if item.project == project_id)),
                                  load.capacity, tuple(item for item in load.tasks if item.project == project_id))
                         for load in loads)
            if any(load.tasks for load in kept):
                people[member] = kept
        return Workload(self.weeks, people)

    def to_data(self) -> dict[str, list[dict[str, object]]]:
        """data.json's `workload`: {member: [{week, booked, capacity, tasks}]}."""
        return {member: [{"week": load.week.isoformat(), "booked": load.booked, "capacity": load.capacity,
                          "tasks": [{"project": item.project, "task": item.task, "days": item.days}
                                    for item in load.tasks]} for load in loads]
                for member, loads in self.people.items()}


def _round(value: float) -> float:
    return round(value, 2)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def workload(workspace: Workspace, schedule: Schedule, status_date: dt.date, weeks: int = DEFAULT_WEEKS) -> Workload:
    """Booked days against capacity per person and week, for `weeks` weeks from the status date's week."""
    calendar = schedule.calendar
    first = _monday(status_date)
    mondays = tuple(first + dt.timedelta(weeks=index) for index in range(max(weeks, 0)))
    horizon = first + dt.timedelta(weeks=len(mondays)) - dt.timedelta(days=1)
    booked: dict[str, dict[dt.date, dict[tuple[str, str], float]]] = {}
    titles: dict[tuple[str, str], str] = {}
    for project in workspace.projects.values():
        if project.status in INACTIVE:
            continue
        _book_project(project, schedule, calendar, status_date, horizon, booked, titles)
    members: dict[str, Member] = {member.id: member for member in workspace.config.team.values() if member.active}
    for member_id in booked:
        members.setdefault(member_id, workspace.config.team.get(member_id) or Member(member_id, member_id))
    per_week = len(calendar.working_days) or 5
    people: dict[str, tuple[WeekLoad, ...]] = {}
    for member_id in sorted(members):
        member = members[member_id]
        capacity_per_day = (member.capacity if member.capacity is not None else DEFAULT_CAPACITY) / per_week
        loads = []
        for monday in mondays:
            open_days = sum(1 for day in _days(max(monday, status_date), monday + dt.timedelta(days=6))
                            if calendar.is_working_day(day) and not member.is_away(day))
            tasks = booked.get(member_id, {}).get(monday, {})
            bookings = tuple(Booking(key[0], key[1], titles[key], _round(days))
                             for key, days in sorted(tasks.items(), key=lambda item: (-item[1], item[0])))
            loads.append(WeekLoad(monday, _round(sum(tasks.values())), _round(capacity_per_day * open_days), bookings))
        people[member_id] = tuple(loads)
    return Workload(mondays, people)


def _book_project(project: Project, schedule: Schedule, calendar: WorkCalendar, status_date: dt.date,
                  horizon: dt.date, booked: dict[str, dict[dt.date, dict[tuple[str, str], float]]],
                  titles: dict[tuple[str, str], str]) -> None:
    """Add the unfinished work of one project's tasks to `booked` (member -> Monday -> (project, task) -> days)."""
    planned_project = schedule.projects.get(project.id)
    if planned_project is None:
        return
    seen: set[str] = set()
    for task in project.tasks:
        planned = planned_project.tasks.get(task.id)
        if task.id in seen or planned is None or task.status == "done" or task.milestone or not task.owners:
            continue
        seen.add(task.id)
        if planned.duration <= 0:
            continue
        effort = task.effort if task.effort is not None else float(planned.duration)
        # planned.duration is the number of working days from its start to its finish
        per_owner_day = effort / planned.duration / len(task.owners)
        key = (project.id, task.id)
        titles[key] = task.title or task.id
        for day in _days(max(planned.earliest_start, status_date), min(planned.earliest_finish, horizon)):
            if not calendar.is_working_day(day):
                continue
            monday = _monday(day)
            for owner in dict.fromkeys(task.owners):
                week = booked.setdefault(owner, {}).setdefault(monday, {})
                week[key] = week.get(key, 0.0) + per_owner_day
