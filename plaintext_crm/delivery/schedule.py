"""Delivery schedules by the critical path method: dependencies, cycles, working days, slack.

Projects are scheduled one after another in the topological order (graphlib) of their dependencies
(project-level `depends_on` and cross-project task links), so another project's finish is known; within
a project a forward pass in task order gives earliest starts and finishes and a backward pass gives
latest dates, slack and the critical path. Cycles are reported and one link of each is left out.
All arithmetic is on working-day numbers (see workdays.py). The conventions are documented in
docs/delivery.md: a task occupies the working days from its start to its finish, both included;
a milestone takes no time and sits on the first working day its dependencies allow; latest dates
follow standard CPM (finish = start + duration on working-day offsets). Unfinished work is planned
from the status date ("reschedule uncompleted work"): never in the past.
"""

from __future__ import annotations

import datetime as dt
import graphlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from plaintext_crm.findings import Location
from plaintext_crm.records.model import Dependency, Project, Task, Workspace
from plaintext_crm.records.workdays import WorkCalendar

DEFAULT_DURATION = 1  # working days of a task that gives neither a duration nor a start and a due date



@dataclass(frozen=True, slots=True)
class TaskSchedule:
    """A task's computed dates. Finishes are the last working day of the task (inclusive)."""

    project: str
    task: str
    duration: int  # working days; 0 for a milestone
    earliest_start: dt.date
    earliest_finish: dt.date  # a milestone's finish is its start
    latest_start: dt.date | None  # None for a done task: it has no slack left to spend
    latest_finish: dt.date | None
    slack: int | None  # total slack in working days; negative when the project is behind its due date
    critical: bool
    actual: bool  # start (and for a done task, finish) are recorded facts, not computed
    driver: str | None  # the dependency that set the earliest start ("design", "other/launch"), if one did
    rescheduled: bool = False  # the status date moved it: unfinished work planned before the status date


@dataclass(frozen=True, slots=True)
class ProjectSchedule:
    """A project's computed plan: its tasks' dates, planned start and finish, and critical path."""

    project: str
    start: dt.date  # earliest start of the project: the floor its tasks start from
    finish: dt.date  # planned finish: the latest earliest-finish of its tasks
    due: dt.date | None
    slack: int | None  # working days from the planned finish to the due date; negative when behind
    tasks: Mapping[str, TaskSchedule]  # in schedule order: each task after the tasks it depends on
    critical_path: tuple[str, ...]  # ids of unfinished tasks with zero or negative slack, in schedule order


@dataclass(frozen=True, slots=True)
class Cycle:
    """A dependency cycle; the schedule ignores one of its links (`ignored`) and goes on."""

    level: str  # "task" or "project"
    path: tuple[str, ...]  # in depends-on order, the first repeated at the end
    ignored: str  # "the dependency of 'design' on 'build'": the link the schedule left out
    location: Location

    @property
    def description(self) -> str:
        return " -> ".join(self.path)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A task whose written dates disagree with what its dependencies and duration allow."""

    project: str
    task: str
    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """The schedule of a whole workspace."""

    projects: Mapping[str, ProjectSchedule]
    cycles: tuple[Cycle, ...]
    conflicts: tuple[Conflict, ...]
    calendar: WorkCalendar
    order: tuple[str, ...] = ()  # project ids in the order they were scheduled (dependencies first)
    status_date: dt.date | None = None  # unfinished work is planned from this day (today unless given)

    def task(self, project_id: str, task_id: str) -> TaskSchedule | None:
        project = self.projects.get(project_id)
        return project.tasks.get(task_id) if project else None


def task_duration(task: Task, calendar: WorkCalendar) -> int:
    """Working days a task takes: 0 for a milestone, else `duration`, else start..due, else 1."""
    if task.milestone:
        return 0
    if task.duration is not None:
        return task.duration
    if task.start is not None and task.due is not None:
        return max(1, calendar.between(task.start, task.due))
    return DEFAULT_DURATION


def remaining_days(task: Task, duration: int) -> int | None:
    """Working days left on a task in progress: `remaining`, else from `percent` (rounded up), else None."""
    if task.remaining is not None:
        return task.remaining
    if task.percent is not None:
        return math.ceil(duration * (100 - task.percent) / 100)
    return None


def _has_actual_start(task: Task) -> bool:
    return task.status in ("doing", "done") and task.start is not None


def _earliest_by(dependency: Dependency, pred_start: int, pred_finish: int, duration: int) -> int:
    """The earliest start (working-day number) a dependency allows a task of `duration` days."""
    kind, lag = dependency.type, dependency.lag
    if kind == "SS":
        return pred_start + lag
    if kind == "FF":
        return pred_finish + lag - duration
    if kind == "SF":
        return pred_start + lag - duration
    return pred_finish + lag


def _rotated(found: list[str]) -> list[str]:
    """A cycle from graphlib (each node before the one waiting for it, the first repeated last) in
    depends-on order, starting from its smallest node so that the report is stable."""
    nodes = list(reversed(found[:-1]))
    first = nodes.index(min(nodes))
    return nodes[first:] + nodes[:first]


@dataclass(slots=True)
class _Plan:
    """One project's tasks and links, and the working-day numbers the passes compute for them."""

    project: Project
    tasks: dict[str, Task]  # the first task of each id, in file order
    internal: dict[str, list[Dependency]]  # dependencies on tasks of the same project
    external: dict[str, list[tuple[Dependency, _Plan]]]  # dependencies on tasks of projects scheduled before
    order: list[str]
    start: int = 0
    end: int = 0  # the working-day number after the last task's finish (FS successors may start on it)
    es: dict[str, int] = field(default_factory=dict)
    ef: dict[str, int] = field(default_factory=dict)  # exclusive: es + duration
    duration: dict[str, int] = field(default_factory=dict)
    driver: dict[str, Dependency | None] = field(default_factory=dict)
    finishes: dict[str, int] = field(default_factory=dict)  # inclusive: a task's last working day
    rescheduled: set[str] = field(default_factory=set)  # tasks the status date moved
    finish: int = 0  # the latest of the finishes (the project's start when it has no task)


class _Scheduler:
    """Orders projects and tasks, breaks cycles, runs the passes; `run()` returns the Schedule."""

    def __init__(self, workspace: Workspace, today: dt.date, status_date: dt.date | None = None) -> None:
        self.workspace = workspace
        self.today = today
        self.status_date = status_date or today
        self.calendar = WorkCalendar.from_config(workspace.config)
        self.now = self.calendar.number(self.status_date)  # unfinished work starts no earlier
        self.projects = workspace.projects
        self.plans: dict[str, _Plan] = {}
        self.dropped: set[tuple[str, str]] = set()  # (project, project it depends on) links left out
        self.cycles: list[Cycle] = []
        self.conflicts: list[Conflict] = []

    # -- ordering ---------------------------------------------------------------------------------

    def project_order(self) -> list[str]:
        """Project ids in dependency order; each project cycle is reported and one of its links dropped."""
        links: dict[str, dict[str, list[Location]]] = {}
        for project_id, project in self.projects.items():
            preds = links[project_id] = {}
            for other in project.depends_on:
                if other in self.projects:
                    preds.setdefault(other, []).append(project.location("depends_on"))
            for task in project.tasks:
                for dependency in task.depends_on:
                    target = dependency.project
                    if target and target != project_id and target in self.projects:
                        preds.setdefault(target, []).append(Location(project.path, dependency.line))
        while True:
            graph = {project_id: [other for other in preds if (project_id, other) not in self.dropped]
                     for project_id, preds in links.items()}
            try:
                return list(graphlib.TopologicalSorter(graph).static_order())
            except graphlib.CycleError as error:
                nodes = _rotated(list(error.args[1]))
                waiting, pred = nodes[0], nodes[1 % len(nodes)]
                self.dropped.add((waiting, pred))
                self.cycles.append(Cycle("project", (*nodes, nodes[0]),
                                         f"the dependency of project '{waiting}' on project '{pred}'",
                                         links[waiting][pred][0]))

    def plan(self, project: Project) -> _Plan:
        """A project's tasks and links, with its tasks in dependency order (task cycles broken)."""
        tasks: dict[str, Task] = {}
        for task in project.tasks:
            tasks.setdefault(task.id, task)  # a duplicated id is the linter's business (F003)
        internal: dict[str, list[Dependency]] = {}
        external: dict[str, list[tuple[Dependency, _Plan]]] = {}
        for task_id, task in tasks.items():
            own: list[Dependency] = []
            others: list[tuple[Dependency, _Plan]] = []
            internal[task_id], external[task_id] = own, others
            for dependency in task.depends_on:
                other = dependency.project or project.id
                if other == project.id:
                    if dependency.task in tasks:  # unknown references are R001's business
                        own.append(dependency)
                elif (other in self.plans and (project.id, other) not in self.dropped
                      and dependency.task in self.plans[other].tasks):
                    others.append((dependency, self.plans[other]))
        return _Plan(project, tasks, internal, external, self.task_order(project, tasks, internal))

    def task_order(self, project: Project, tasks: dict[str, Task],
                   internal: dict[str, list[Dependency]]) -> list[str]:
        position = {task_id: index for index, task_id in enumerate(tasks)}
        if all(position[dependency.task] < position[task_id]
               for task_id, dependencies in internal.items() for dependency in dependencies):
            return list(tasks)  # written in dependency order already: nothing to sort
        while True:
            graph = {task_id: [dependency.task for dependency in dependencies]
                     for task_id, dependencies in internal.items()}
            try:
                return list(graphlib.TopologicalSorter(graph).static_order())
            except graphlib.CycleError as error:
                nodes = _rotated(list(error.args[1]))
                waiting, pred = nodes[0], nodes[1 % len(nodes)]
                dependency = next(item for item in internal[waiting] if item.task == pred)
                internal[waiting].remove(dependency)
                self.cycles.append(Cycle("task", (*nodes, nodes[0]),
                                         f"the dependency of '{waiting}' on '{pred}'",
                                         Location(project.path, dependency.line)))

    # -- forward pass -----------------------------------------------------------------------------

    def project_floor(self, project: Project) -> int:
        """Working-day number the project's tasks start from, before project-level dependencies."""
        if project.start is not None:
            return self.calendar.number(project.start)
        starts = [task.start for task in project.tasks if task.start is not None]
        if starts:
            return self.calendar.number(min(starts))
        deal = self.workspace.deals.get(project.deal) if project.deal else None
        if deal is not None and deal.kickoff_date is not None:
            return self.calendar.number(deal.kickoff_date)
        return self.calendar.number(self.today)

    def forward(self, plan: _Plan) -> None:
        calendar = self.calendar
        project = plan.project
        floor = self.project_floor(project)
        for other in project.depends_on:
            if other in self.plans and (project.id, other) not in self.dropped:
                floor = max(floor, self.plans[other].end)
        es: dict[str, int] = {}
        ef: dict[str, int] = {}
        durations: dict[str, int] = {}
        drivers: dict[str, Dependency | None] = {}
        now = self.now
        for task_id in plan.order:
            task = plan.tasks[task_id]
            duration = task_duration(task, calendar)
            driver = None
            done = task.status == "done"
            ended = task.finished or task.due  # a done task's actual finish
            if done and ended is not None and duration == 0:
                start = calendar.number(task.start or ended)
            elif done and ended is not None:
                finish = calendar.number_on_or_before(ended) + 1
                start = calendar.number(task.start) if task.start is not None else finish - duration
                duration = max(0, finish - start)
            elif _has_actual_start(task):
                start = calendar.number(task.start)  # type: ignore[arg-type]
                if task.status == "doing" and duration:
                    # in progress: finishes at the status date plus the work left, never before the status date
                    left = remaining_days(task, duration)
                    finish = max(start, now) + max(left, 1) if left is not None else max(start + duration, now + 1)
                    if finish != start + duration:
                        plan.rescheduled.add(task_id)
                    duration = finish - start
            else:
                start = floor
                if task.start is not None:
                    start = max(start, calendar.number(task.start))
                for dependency in plan.internal[task_id]:
                    candidate = _earliest_by(dependency, es[dependency.task], ef[dependency.task], duration)
                    if candidate > start:
                        start, driver = candidate, dependency
                for dependency, other_plan in plan.external[task_id]:
                    candidate = _earliest_by(dependency, other_plan.es[dependency.task],
                                             other_plan.ef[dependency.task], duration)
                    if candidate > start:
                        start, driver = candidate, dependency
                if not done and start < now:  # unfinished work is never planned in the past
                    start, driver = now, None
                    plan.rescheduled.add(task_id)
                    if task.status == "doing" and duration:
                        left = remaining_days(task, duration)
                        duration = max(left, 1) if left is not None else duration
            es[task_id], ef[task_id] = start, start + duration
            durations[task_id], drivers[task_id] = duration, driver
        plan.start = floor
        plan.end = max(ef.values(), default=floor)
        plan.es, plan.ef, plan.duration, plan.driver = es, ef, durations, drivers
        plan.finishes = {task_id: ef[task_id] - 1 if durations[task_id] else es[task_id] for task_id in plan.order}
        plan.finish = max(plan.finishes.values(), default=floor)

    # -- backward pass ----------------------------------------------------------------------------

    def backward(self, plan: _Plan) -> ProjectSchedule:
        calendar = self.calendar
        project = plan.project
        es, durations, drivers = plan.es, plan.duration, plan.driver
        finishes, finish = plan.finishes, plan.finish
        due = calendar.number_on_or_before(project.due) if project.due is not None else None
        # Standard CPM on working-day offsets: every task (a milestone too) finishes at start + duration, and
        # the project ends at the latest of those; a far due date gives no slack.
        target = plan.end if due is None else min(plan.end, due + 1)
        successors: dict[str, list[tuple[str, Dependency]]] = {task_id: [] for task_id in plan.order}
        for task_id, dependencies in plan.internal.items():
            for dependency in dependencies:
                successors[dependency.task].append((task_id, dependency))
        ls: dict[str, int] = {}
        lf: dict[str, int] = {}
        for task_id in reversed(plan.order):
            if plan.tasks[task_id].status == "done":
                continue  # done work has no slack to spend and holds nothing up
            duration = durations[task_id]
            latest = target
            for succ, dependency in successors[task_id]:
                if succ not in lf:
                    continue
                kind, lag = dependency.type, dependency.lag
                if kind == "SS":
                    bound = ls[succ] - lag + duration
                elif kind == "FF":
                    bound = lf[succ] - lag
                elif kind == "SF":
                    bound = lf[succ] - lag + duration
                else:
                    bound = ls[succ] - lag
                latest = min(latest, bound)
            lf[task_id], ls[task_id] = latest, latest - duration
        date = calendar.date
        results: dict[str, TaskSchedule] = {}
        critical = []
        for task_id in plan.order:
            task = plan.tasks[task_id]
            duration = durations[task_id]
            latest_start = ls.get(task_id)
            slack = latest_start - es[task_id] if latest_start is not None else None
            is_critical = slack is not None and slack <= 0
            if is_critical:
                critical.append(task_id)
            driver = drivers[task_id]
            results[task_id] = TaskSchedule(
                project.id, task_id, duration, date(es[task_id]), date(finishes[task_id]),
                date(latest_start) if latest_start is not None else None,
                date(lf[task_id] - 1 if duration else lf[task_id]) if latest_start is not None else None,
                slack, is_critical,
                _has_actual_start(task) or (task.status == "done" and (task.finished or task.due) is not None),
                driver.ref if driver is not None else None, task_id in plan.rescheduled)
        return ProjectSchedule(project.id, date(plan.start), date(finish), project.due,
                               due + 1 - plan.end if due is not None else None, results, tuple(critical))

    # -- conflicts --------------------------------------------------------------------------------

    def _finish_of(self, plan: _Plan, dependency: Dependency) -> dt.date:
        """The last working day of the task a dependency names (its date for a milestone)."""
        other = plan
        if dependency.project and dependency.project != plan.project.id:
            other = self.plans[dependency.project]
        last = other.ef[dependency.task] - 1 if other.duration[dependency.task] else other.es[dependency.task]
        return self.calendar.date(last)

    def check_conflicts(self, plan: _Plan, task: Task, finishes: dict[str, int]) -> None:
        """P002, at most one per date: a started task that began before a dependency allowed; a task planned
        past its due date; else a task whose written start its dependencies push later."""
        calendar = self.calendar
        project = plan.project
        es, durations = plan.es, plan.duration
        start, duration = es[task.id], durations[task.id]
        if _has_actual_start(task):
            links = [(dependency, plan) for dependency in plan.internal[task.id]] + plan.external[task.id]
            for dependency, pred_plan in links:
                pred_es, pred_ef = pred_plan.es, pred_plan.ef
                allowed = _earliest_by(dependency, pred_es[dependency.task], pred_ef[dependency.task],
                                       duration)
                if allowed > start:
                    self.conflicts.append(Conflict(
                        project.id, task.id, Location(project.path, task.line_of("start")),
                        f"task '{task.id}' started on {task.start}, but its dependency on '{dependency.ref}' "
                        f"({dependency.type}) allows {calendar.date(allowed)} at the earliest"))
        if task.due is not None and finishes[task.id] > calendar.number_on_or_before(task.due):
            driver = plan.driver[task.id]
            if driver is not None:
                why = (f"it waits for '{driver.ref}', which finishes {self._finish_of(plan, driver)}, and takes "
                       f"{duration} working days from {calendar.date(start)}")
            elif task.id in plan.rescheduled:
                why = (f"unfinished work is planned from the status date {self.status_date}, and it takes "
                       f"{duration} working days from {calendar.date(start)}")
            else:
                verb = "started" if _has_actual_start(task) else "starts"
                why = f"it {verb} {calendar.date(start)} and takes {duration} working days"
            self.conflicts.append(Conflict(project.id, task.id, Location(project.path, task.line_of("due")),
                                           f"task '{task.id}' is due {task.due}, but is planned to finish "
                                           f"{calendar.date(finishes[task.id])}: {why}"))
        elif task.start is not None and not _has_actual_start(task) and plan.driver[task.id] is not None \
                and start > calendar.number(task.start):
            driver = plan.driver[task.id]
            assert driver is not None
            self.conflicts.append(Conflict(project.id, task.id, Location(project.path, task.line_of("start")),
                                           f"task '{task.id}' starts {task.start} as written, but waits for "
                                           f"'{driver.ref}' ({driver.type}), which finishes "
                                           f"{self._finish_of(plan, driver)}: planned from {calendar.date(start)}"))

    # -- everything -------------------------------------------------------------------------------

    def plan_all(self) -> PlannedWorkspace:
        """Order, plan and run the forward pass over every project, checking written dates as it goes."""
        for project_id in self.project_order():
            plan = self.plan(self.projects[project_id])
            self.plans[project_id] = plan
            self.forward(plan)
            for task_id in plan.order:
                task = plan.tasks[task_id]
                if task.status != "done" and (task.due is not None or task.start is not None):
                    self.check_conflicts(plan, task, plan.finishes)
        date = self.calendar.date
        spans = {project_id: ProjectSpan(date(self.plans[project_id].start), date(self.plans[project_id].finish))
                 for project_id in self.projects}
        return PlannedWorkspace(tuple(self.cycles), tuple(self.conflicts), self.calendar, spans, self)

    def run(self) -> Schedule:
        """The full schedule: the forward pass, then latest dates, slack and critical paths."""
        return self.plan_all().schedule()


@dataclass(frozen=True, slots=True)
class ProjectSpan:
    """A project's planned start and finish, as in its ProjectSchedule."""

    start: dt.date
    finish: dt.date


@dataclass(eq=False)
class PlannedWorkspace:
    """The workspace after the forward pass: cycles, conflicts and each project's planned span.

    This is what the linter needs (P001-P003); the latest dates, slack and critical paths, which cost
    as much again, are computed on the first call of `schedule()`."""

    cycles: tuple[Cycle, ...]
    conflicts: tuple[Conflict, ...]
    calendar: WorkCalendar
    spans: Mapping[str, ProjectSpan]
    _scheduler: _Scheduler = field(repr=False)
    _schedule: Schedule | None = field(default=None, repr=False)

    def schedule(self) -> Schedule:
        """The full Schedule of the workspace (the backward pass runs once, on the first call)."""
        if self._schedule is None:
            scheduler = self._scheduler
            schedules = {project_id: scheduler.backward(plan) for project_id, plan in scheduler.plans.items()}
            ordered = {project_id: schedules[project_id] for project_id in scheduler.projects}
            self._schedule = Schedule(ordered, self.cycles, self.conflicts, self.calendar, tuple(schedules),
                                      scheduler.status_date)
        return self._schedule


def plan_workspace(workspace: Workspace, today: dt.date, status_date: dt.date | None = None) -> PlannedWorkspace:
    """The forward pass over every project: enough for cycles, conflicts and planned spans; call
    `.schedule()` on the result for the full Schedule without planning again."""
    return _Scheduler(workspace, today, status_date).plan_all()


def schedule_workspace(workspace: Workspace, today: dt.date, status_date: dt.date | None = None) -> Schedule:
    """Schedule every project of the workspace: unfinished work no earlier than `status_date` (default `today`);
    `today` is also the start of a project that gives no other."""
    return _Scheduler(workspace, today, status_date).run()
