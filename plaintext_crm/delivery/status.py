"""Delivery status from a schedule: task states and blockers, project health, promise drift, kickoff checklists."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plaintext_crm.delivery.schedule import (
    ProjectSchedule,
    ProjectSpan,
    Schedule,
    TaskSchedule,
    schedule_workspace,
)
from plaintext_crm.records.dated_notes import unfenced_lines
from plaintext_crm.records.dates import promised_finish
from plaintext_crm.records.model import Deal, Project, Task, Workspace
from plaintext_crm.records.workdays import WorkCalendar

TASK_STATES = ("done", "late", "blocked", "waiting", "in progress", "ready")
HEALTHS = ("on track", "at risk", "late", "on hold", "done", "cancelled")

_CHECKBOX = re.compile(r"^[ ]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX])\][ \t]+(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why a task cannot go ahead: an unfinished dependency, an approval, its status, or a whole project."""

    kind: str  # "dependency", "approval", "status" or "project"
    ref: str  # the task ref or project id it waits for ("" for its own status)
    needed: str = ""  # dependency: "done" or "started"; approval: who approves
    status: str = ""  # the status of what it waits for (a task's or an approval's)
    overdue: bool = False  # a dependency past its date: it should have finished (or started) by the status date

    @property
    def blocking(self) -> bool:
        """Something stops the task (its status, an approval, a dependency past its date); else it only waits."""
        return self.kind in ("status", "approval") or self.overdue

    @property
    def message(self) -> str:
        """'waits for 'design' to be done (it is doing)' and the like."""
        if self.kind == "status":
            return "marked blocked"
        if self.kind == "project":
            return f"waits for project '{self.ref}' to finish"
        if self.kind == "approval":
            return f"waits for {self.needed}'s approval of '{self.ref}' ({self.status})"
        past = ", past its date" if self.overdue else ""
        return f"waits for '{self.ref}' to be {self.needed} (it is {self.status}{past})"


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task's derived state and what holds it up."""

    task: str
    state: str  # one of TASK_STATES
    late: bool  # due (or planned to finish) before today and not done
    blockers: tuple[Blocker, ...]

    @property
    def blocked(self) -> bool:
        """Something stops it: marked blocked, an approval, or a dependency past its date."""
        return self.state == "blocked" or (self.state == "late" and any(item.blocking for item in self.blockers))

    @property
    def waiting(self) -> bool:
        """Not stopped, but waiting for unfinished work before it (dependencies or projects on schedule)."""
        return self.state == "waiting" or (self.state == "late" and bool(self.blockers) and not self.blocked)


@dataclass(frozen=True, slots=True)
class Promise:
    """What the sale promised: the deal's promised_timeline read as a finish date, when it can be."""

    text: str
    finish: dt.date | None  # None when the text is not understood
    anchor: dt.date | None  # the kickoff (else the project's planned start) a span counts from; None for a date


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    text: str
    done: bool
    line: int  # the file line


@dataclass(frozen=True, slots=True)
class Checklist:
    """The Markdown task list (`- [ ]`, `- [x]`) of a project's notes."""

    items: tuple[ChecklistItem, ...]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.items)) if self.items else 0


@dataclass(frozen=True, slots=True)
class Milestone:
    task: str
    title: str
    date: dt.date
    done: bool


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """Everything the pages and data.json say about a project's delivery, computed once."""

    project: str
    health: str  # one of HEALTHS
    reasons: tuple[str, ...]  # why it is at risk or late
    percent_complete: int  # done share of the working days of all tasks (task count when all are milestones)
    planned_start: dt.date
    planned_finish: dt.date
    due: dt.date | None
    next_milestone: Milestone | None
    milestones: tuple[Milestone, ...]
    promise: Promise | None
    drift: int | None  # working days the planned finish lies after the promised one (negative: earlier);
    # None when there is no readable promise, or no claim can be made (`plan_note`)
    tasks: Mapping[str, TaskState]
    pending_approvals: tuple[tuple[str, str], ...]  # (task id, who approves)
    checklist: Checklist
    plan_note: str | None = None  # "on hold", "cancelled", "not planned yet": no early or late claims

    @property
    def active(self) -> bool:
        return self.health not in ("done", "cancelled")

    @property
    def drifted(self) -> bool:
        return self.drift is not None and self.drift > 0


def parse_checklist(body: str, body_line: int) -> Checklist:
    """Every Markdown task-list item of a body, outside fenced code, with its file line."""
    items = []
    for index, line in unfenced_lines(body.splitlines()):
        match = _CHECKBOX.match(line)
        if match and match.group(2):
            items.append(ChecklistItem(match.group(2), match.group(1) != " ", body_line + index))
    return Checklist(tuple(items))


def parse_promise(text: str | None, kickoff: dt.date | None, calendar: WorkCalendar) -> Promise | None:
    """The deal's promised timeline read as a finish date by dates.promised_finish (None when there is none)."""
    if not text:
        return None
    finish = promised_finish(text, None, calendar)
    if finish is not None:  # readable without a kickoff: a date
        return Promise(text, finish, None)
    return Promise(text, promised_finish(text, kickoff, calendar), kickoff)


def _project_finished(project: Project) -> bool:
    return project.status == "done" or (bool(project.tasks) and all(task.status == "done" for task in project.tasks))


def is_active(project: Project) -> bool:
    """Neither cancelled nor finished: the projects whose health is not 'done' or 'cancelled'."""
    return project.status != "cancelled" and not _project_finished(project)


def plan_note(project: Project, health: str) -> str | None:
    """Why a project's plan makes no early or late claim: on hold, cancelled, or no work planned yet (only
    milestones, like a kickoff); None when it does."""
    if health in ("on hold", "cancelled"):
        return health
    if health != "done" and not any(not task.milestone for task in project.tasks):
        return "not planned yet"
    return None


def makes_claims(project: Project) -> bool:
    """Whether the plan of an active project may be called early or late (P003): not on hold, and some work
    is planned (not only milestones)."""
    return project.status != "on_hold" and any(not task.milestone for task in project.tasks)


def promise_drift(workspace: Workspace, project: Project, planned: ProjectSchedule | ProjectSpan,
                  calendar: WorkCalendar) -> tuple[Promise | None, int | None]:
    """What the project's deal promised, and the working days its planned finish lies after that promise
    (negative: earlier; None when there is no readable promise). The linter's P003 needs only this of
    a project's status, so it is computed here without the rest."""
    deal: Deal | None = workspace.deals.get(project.deal) if project.deal else None
    if deal is None:
        return None, None
    promise = parse_promise(deal.promised_timeline, deal.kickoff_date or planned.start, calendar)
    if promise is None or promise.finish is None:
        return promise, None
    return promise, calendar.number_on_or_before(planned.finish) - calendar.number_on_or_before(promise.finish)


class _Assessor:
    """Derives task states and project health for one workspace and schedule."""

    def __init__(self, workspace: Workspace, schedule: Schedule, today: dt.date) -> None:
        self.workspace = workspace
        self.schedule = schedule
        self.today = today
        self.tasks: dict[str, dict[str, Task]] = {}  # project id -> task id -> the first task with that id
        for project_id, project in workspace.projects.items():
            index = self.tasks[project_id] = {}
            for task in project.tasks:
                index.setdefault(task.id, task)
        self.finished = {project_id: _project_finished(project) for project_id, project in workspace.projects.items()}

    def overdue(self, ref_project: str, task: Task, kind: str) -> bool:
        """A dependency past its date: not done (FS) or not started (SS) by a date it gives or was planned to."""
        planned = self.schedule.task(ref_project, task.id)
        if kind == "SS":
            when = task.start or (planned.earliest_start if planned and not planned.rescheduled else None)
        else:
            when = task.due or (planned.earliest_finish if planned and not planned.rescheduled else None)
        return when is not None and when < self.today

    def blockers(self, project: Project, task: Task) -> list[Blocker]:
        found = []
        if task.status == "blocked":
            found.append(Blocker("status", ""))
        for other_id in project.depends_on:
            if other_id != project.id and self.finished.get(other_id) is False:
                found.append(Blocker("project", other_id))
        own = self.tasks[project.id]
        for dependency in task.depends_on:
            kind = dependency.type
            if kind == "FF" or kind == "SF":
                continue  # these hold up the finish, not the start
            pred = own.get(dependency.task) if dependency.project is None else \
                self.tasks.get(dependency.project, {}).get(dependency.task)
            if pred is None:
                continue
            status = pred.status
            if status == "done" or (kind == "SS" and status == "doing"):
                approval = pred.approval
                if kind == "FS" and approval is not None and approval.status in ("pending", "rejected"):
                    found.append(Blocker("approval", dependency.ref, approval.by or "the client", approval.status))
            else:
                found.append(Blocker("dependency", dependency.ref, "done" if kind == "FS" else "started", status,
                                     self.overdue(dependency.project or project.id, pred, kind)))
        return found

    def task_state(self, project: Project, task: Task, planned: TaskSchedule) -> TaskState:
        blockers = tuple(self.blockers(project, task)) if task.status != "done" else ()
        deadline = task.due or planned.earliest_finish
        late = task.status != "done" and deadline < self.today
        if task.status == "done":
            state = "done"
        elif late:
            state = "late"
        elif task.status == "doing":
            state = "in progress"
        elif any(blocker.blocking for blocker in blockers):
            state = "blocked"
        elif blockers:
            state = "waiting"
        else:
            state = "ready"
        return TaskState(task.id, state, late, blockers)

    def project_status(self, project: Project) -> ProjectStatus:
        planned = self.schedule.projects[project.id]
        calendar = self.schedule.calendar
        tasks = list(self.tasks[project.id].values())
        states = {task.id: self.task_state(project, task, planned.tasks[task.id]) for task in tasks}
        total = sum(planned.tasks[task.id].duration for task in tasks)
        if total:
            done = sum(planned.tasks[task.id].duration for task in tasks if task.status == "done")
            percent = round(100 * done / total)
        else:
            percent = round(100 * sum(task.status == "done" for task in tasks) / len(tasks)) if tasks else 0
        milestones = tuple(sorted((Milestone(task.id, task.title or task.id, planned.tasks[task.id].earliest_start,
                                             task.status == "done") for task in tasks if task.milestone),
                                  key=lambda milestone: (milestone.date, milestone.task)))
        upcoming = [milestone for milestone in milestones if not milestone.done]
        promise, drift = promise_drift(self.workspace, project, planned, calendar)
        health, reasons = self.health(project, planned, states)
        note = plan_note(project, health)
        if note is not None:
            drift = None
        approvals = tuple((task.id, task.approval.by or "the client") for task in tasks
                          if task.approval is not None and task.approval.status == "pending")
        return ProjectStatus(
            project=project.id, health=health, reasons=tuple(reasons), percent_complete=percent,
            planned_start=planned.start, planned_finish=planned.finish, due=project.due,
            next_milestone=upcoming[0] if upcoming else None, milestones=milestones, promise=promise, drift=drift,
            tasks=states, pending_approvals=approvals, checklist=parse_checklist(project.body, project.body_line),
            plan_note=note)

    def health(self, project: Project, planned: ProjectSchedule,
               states: Mapping[str, TaskState]) -> tuple[str, list[str]]:
        if project.status == "cancelled":
            return "cancelled", []
        if _project_finished(project):
            return "done", []
        if project.status == "on_hold":
            return "on hold", []
        reasons = []
        if project.due is not None and project.due < self.today:
            reasons.append(f"the due date {project.due} has passed")
            return "late", reasons
        if planned.slack is not None and planned.slack < 0:
            reasons.append(f"the critical path runs {-planned.slack} working days past the due date {project.due} "
                           f"(planned finish {planned.finish})")
        late_critical = [task_id for task_id in planned.critical_path if states[task_id].late]
        if late_critical:
            reasons.append("late on the critical path: " + ", ".join(late_critical))
        return ("at risk" if reasons else "on track"), reasons


def project_statuses(workspace: Workspace, schedule: Schedule, today: dt.date) -> dict[str, ProjectStatus]:
    """The delivery status of every project, by id."""
    assessor = _Assessor(workspace, schedule, today)
    return {project_id: assessor.project_status(project) for project_id, project in workspace.projects.items()}


@dataclass(frozen=True)
class DeliveryFigures:
    """The schedule and every project's status: what the project pages, the portfolio and data.json show."""

    schedule: Schedule
    statuses: Mapping[str, ProjectStatus]

    def by_health(self) -> dict[str, list[str]]:
        """Project ids by health, in HEALTHS order (healths no project has are left out)."""
        grouped: dict[str, list[str]] = {health: [] for health in HEALTHS}
        for project_id, status in self.statuses.items():
            grouped[status.health].append(project_id)
        return {health: ids for health, ids in grouped.items() if ids}

    def open_projects(self) -> list[str]:
        """The open projects (every health but done and cancelled: on hold counts), by planned start then id.

        The one definition of "open projects": the overview's count and the portfolio's timeline use it.
        """
        open_ids = [project_id for project_id in self.schedule.order if self.statuses[project_id].active]
        return sorted(open_ids, key=lambda project_id: (self.schedule.projects[project_id].start, project_id))

    def health_key(self, project_ids: Iterable[str]) -> str:
        """What a page showing these projects' health line depends on, for page reuse between builds
        (a project's health can change with another project it waits for)."""
        parts = []
        for project_id in project_ids:
            status = self.statuses.get(project_id)
            if status is not None:
                parts.append(f"{project_id}:{status.health}:{status.percent_complete}:{status.drift}")
        return ",".join(parts)

    def project_data(self, project_id: str) -> dict[str, Any]:
        """A project's plan, health and each task's computed dates, JSON-able (dates as ISO text)."""
        return _project_data(self.schedule.projects[project_id], self.statuses[project_id])

    def to_data(self) -> dict[str, dict[str, Any]]:
        """project_data of every project, by id."""
        return {project_id: self.project_data(project_id) for project_id in sorted(self.statuses)}


def delivery_figures(workspace: Workspace, today: dt.date, status_date: dt.date | None = None) -> DeliveryFigures:
    """Schedule the workspace (unfinished work from `status_date`, default today) and derive every project's
    status as of the status date."""
    schedule = schedule_workspace(workspace, today, status_date)
    return DeliveryFigures(schedule, project_statuses(workspace, schedule, status_date or today))


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _project_data(planned: ProjectSchedule, status: ProjectStatus) -> dict[str, Any]:
    milestone = status.next_milestone
    promise = status.promise
    return {
        "health": status.health,
        "health_reasons": list(status.reasons),
        "percent_complete": status.percent_complete,
        "planned_start": _iso(planned.start),
        "planned_finish": _iso(planned.finish),
        "due": _iso(planned.due),
        "slack": planned.slack,
        "next_milestone": {"task": milestone.task, "title": milestone.title, "date": _iso(milestone.date)}
        if milestone else None,
        "promised": {"text": promise.text, "finish": _iso(promise.finish), "kickoff": _iso(promise.anchor)}
        if promise else None,
        "drift": status.drift,
        "plan_note": status.plan_note,
        "critical_path": list(planned.critical_path),
        "pending_approvals": [{"task": task, "by": who} for task, who in status.pending_approvals],
        "checklist": {"done": status.checklist.done, "total": len(status.checklist.items)},
        "tasks": {task_id: {
            "earliest_start": _iso(item.earliest_start), "earliest_finish": _iso(item.earliest_finish),
            "latest_start": _iso(item.latest_start), "latest_finish": _iso(item.latest_finish),
            "slack": item.slack, "critical": item.critical, "duration": item.duration,
            "state": status.tasks[task_id].state, "late": status.tasks[task_id].late,
            "blocked_by": [blocker.message for blocker in status.tasks[task_id].blockers],
            "rescheduled": item.rescheduled,
        } for task_id, item in planned.tasks.items()},
    }
