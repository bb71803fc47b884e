"""Delivery schedules by the critical path method: dependencies, cycles, working days, slack.

One forward pass over every task of every project in topological order (graphlib) gives earliest
starts and finishes; a backward pass per project gives latest dates, slack and the critical path.
All arithmetic is on working-day numbers (see workdays.py). The conventions are documented in
docs/delivery.md: a task occupies the working days from its start to its finish, both included;
a milestone takes no time and sits on the first working day its dependencies allow.
"""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Mapping
from dataclasses import dataclass

from plaintext_crm.findings import Location
from plaintext_crm.model import Dependency, Project, Task, Workspace
from plaintext_crm.workdays import WorkCalendar

DEFAULT_DURATION = 1  # working days of a task that gives neither a duration nor a start and a due date

# Graph nodes: (project id, task id) for a task; (project id, START) and (project id, END) bracket a project
# so that a project-level dependency is one edge END(other) -> START(project).
START = "\x00start"
END = "\x00end"
Node = tuple[str, str]


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


@dataclass(frozen=True, slots=True)
class ProjectSchedule:
    """A project's computed plan: its tasks' dates, planned start and finish, and critical path."""

    project: str
    start: dt.date  # earliest start of the project: the floor its tasks start from
    finish: dt.date  # planned finish: the latest earliest-finish of its tasks
    due: dt.date | None
    slack: int | None  # working days from the planned finish to the due date; negative when behind
    tasks: Mapping[str, TaskSchedule]
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

    def task(self, project_id: str, task_id: str) -> TaskSchedule | None:
        project = self.projects.get(project_id)
        return project.tasks.get(task_id) if project else None


@dataclass(slots=True)
class _Edge:
    """A link in the scheduling graph: `succ` waits for `pred`."""

    pred: Node
    succ: Node
    dependency: Dependency | None  # None for structural links and project-level dependencies
    location: Location | None  # where a removable (user-written) link is written


def task_duration(task: Task, calendar: WorkCalendar) -> int:
    """Working days a task takes: 0 for a milestone, else `duration`, else start..due, else 1."""
    if task.milestone:
        return 0
    if task.duration is not None:
        return task.duration
    if task.start is not None and task.due is not None:
        return max(1, calendar.between(task.start, task.due))
    return DEFAULT_DURATION


def _has_actual_start(task: Task) -> bool:
    return task.status in ("doing", "done") and task.start is not None


def _ref(node: Node, home: str | None) -> str:
    project, task = node
    if task in (START, END):
        return project
    return task if project == home else f"{project}/{task}"


class _Scheduler:
    """Builds the graph, breaks cycles, and runs the passes; `run()` returns the Schedule."""

    def __init__(self, workspace: Workspace, today: dt.date) -> None:
        self.workspace = workspace
        self.today = today
        self.calendar = WorkCalendar.from_config(workspace.config)
        self.projects = workspace.projects
        self.tasks: dict[Node, Task] = {}
        self.preds: dict[Node, list[_Edge]] = {}
        self.succs: dict[Node, list[_Edge]] = {}
        self.cycles: list[Cycle] = []
        self.conflicts: list[Conflict] = []

    # -- graph ------------------------------------------------------------------------------------

    def _link(self, edge: _Edge) -> None:
        self.preds[edge.succ].append(edge)
        self.succs[edge.pred].append(edge)

    def build_graph(self) -> None:
        for project_id, project in self.projects.items():
            for marker in (START, END):
                self.preds[(project_id, marker)] = []
                self.succs[(project_id, marker)] = []
            for task in project.tasks:
                node = (project_id, task.id)
                if node not in self.tasks:  # a duplicated id is the linter's business; the first one counts
                    self.tasks[node] = task
                    self.preds[node] = []
                    self.succs[node] = []
        for project_id, project in self.projects.items():
            start, end = (project_id, START), (project_id, END)
            for other in dict.fromkeys(project.depends_on):
                if other in self.projects:
                    self._link(_Edge((other, END), start, None, project.location("depends_on")))
            for task in project.tasks:
                node = (project_id, task.id)
                if self.tasks[node] is not task:
                    continue
                self._link(_Edge(start, node, None, None))
                self._link(_Edge(node, end, None, None))
                for dependency in task.depends_on:
                    pred = (dependency.project or project_id, dependency.task)
                    if pred in self.tasks:  # unknown references are R001's business
                        self._link(_Edge(pred, node, dependency, Location(project.path, dependency.line)))

    def order(self) -> list[Node]:
        """Every node in dependency order; each cycle found is recorded and one of its links dropped."""
        while True:
            sorter = graphlib.TopologicalSorter({node: [edge.pred for edge in edges]
                                                 for node, edges in self.preds.items()})
            try:
                return list(sorter.static_order())
            except graphlib.CycleError as error:
                self._break_cycle(list(error.args[1]))

    def _break_cycle(self, found: list[Node]) -> None:
        # graphlib lists each node before the one that waits for it; reverse to depends-on order.
        nodes = list(reversed(found[:-1]))
        links = []  # (waiting node, edge) for each link of the cycle that a user wrote
        for index, node in enumerate(nodes):
            pred = nodes[(index + 1) % len(nodes)]
            edge = next(edge for edge in self.preds[node] if edge.pred == pred)
            if edge.location is not None:
                links.append((node, edge))
        waiting, edge = min(links, key=lambda item: (item[0][0], item[0][1] != START, item[0][1]))
        self.preds[edge.succ].remove(edge)
        self.succs[edge.pred].remove(edge)
        first = nodes.index(waiting)
        nodes = nodes[first:] + nodes[:first]
        assert edge.location is not None
        if any(task in (START, END) for _project, task in nodes):
            path = [project for project, _task in nodes]
            path = [project for index, project in enumerate(path) if index == 0 or path[index - 1] != project]
            if len(path) > 1 and path[-1] == path[0]:
                path.pop()
            level = "project"
        else:
            home = nodes[0][0] if all(project == nodes[0][0] for project, _ in nodes) else None
            path = [_ref(node, home) for node in nodes]
            level = "task"
        home = waiting[0]
        ignored = f"the dependency of '{_ref(waiting, home)}' on '{_ref(edge.pred, home)}'"
        if edge.dependency is None:
            ignored = f"the dependency of project '{waiting[0]}' on project '{edge.pred[0]}'"
        self.cycles.append(Cycle(level, (*path, path[0]), ignored, edge.location))

    # -- forward pass -----------------------------------------------------------------------------

    def project_floor(self, project: Project) -> int:
        """Working-day number the project's tasks start from (before project-level dependencies)."""
        if project.start is not None:
            return self.calendar.number(project.start)
        starts = [task.start for task in project.tasks if task.start is not None]
        if starts:
            return self.calendar.number(min(starts))
        deal = self.workspace.deals.get(project.deal) if project.deal else None
        if deal is not None and deal.kickoff_date is not None:
            return self.calendar.number(deal.kickoff_date)
        return self.calendar.number(self.today)

    def forward(self, order: list[Node]) -> None:
        calendar = self.calendar
        self.es: dict[Node, int] = {}
        self.ef: dict[Node, int] = {}
        self.duration: dict[Node, int] = {}
        self.driver: dict[Node, _Edge | None] = {}
        for node in order:
            project_id, task_id = node
            if task_id == START:
                floor = self.project_floor(self.projects[project_id])
                for edge in self.preds[node]:
                    floor = max(floor, self.ef[edge.pred])
                self.es[node] = self.ef[node] = floor
                continue
            if task_id == END:
                finish = max([self.ef[edge.pred] for edge in self.preds[node]], default=self.es[(project_id, START)])
                self.es[node] = self.ef[node] = finish
                continue
            task = self.tasks[node]
            duration = task_duration(task, calendar)
            driver = None
            if task.status == "done" and task.due is not None and duration == 0:
                start = calendar.number(task.start or task.due)
            elif task.status == "done" and task.due is not None:
                finish = calendar.number_on_or_before(task.due) + 1
                start = calendar.number(task.start) if task.start is not None else finish - duration
                duration = max(0, finish - start)
            elif _has_actual_start(task):
                assert task.start is not None
                start = calendar.number(task.start)
            else:
                start = self.es[(project_id, START)]
                if task.start is not None:
                    start = max(start, calendar.number(task.start))
                for edge in self.preds[node]:
                    if edge.dependency is not None:
                        candidate = self._earliest_by(edge, duration)
                        if candidate > start:
                            start, driver = candidate, edge
            self.duration[node] = duration
            self.es[node] = start
            self.ef[node] = start + duration
            self.driver[node] = driver

    def _earliest_by(self, edge: _Edge, duration: int) -> int:
        """The earliest start `edge.succ` may have because of this dependency."""
        dependency = edge.dependency
        assert dependency is not None
        pred_start, pred_finish, lag = self.es[edge.pred], self.ef[edge.pred], dependency.lag
        if dependency.type == "SS":
            return pred_start + lag
        if dependency.type == "FF":
            return pred_finish + lag - duration
        if dependency.type == "SF":
            return pred_start + lag - duration
        return pred_finish + lag

    # -- backward pass ----------------------------------------------------------------------------

    def _finish_number(self, node: Node) -> int:
        """Working-day number of the task's last day (its start for a milestone)."""
        return self.ef[node] - 1 if self.duration[node] > 0 else self.es[node]

    def backward(self, project: Project, nodes: list[Node]) -> ProjectSchedule:
        calendar = self.calendar
        start = self.es[(project.id, START)]
        finish = max((self._finish_number(node) for node in nodes), default=start)
        target = finish
        due = calendar.number_on_or_before(project.due) if project.due is not None else None
        if due is not None:
            target = min(finish, due)  # a far due date gives no slack; an early one makes it negative
        ls: dict[Node, int] = {}
        lf: dict[Node, int] = {}
        results: dict[str, TaskSchedule] = {}
        for node in reversed(nodes):
            task = self.tasks[node]
            duration = self.duration[node]
            done = task.status == "done"
            if not done:
                latest = target + 1 if duration > 0 else target
                for edge in self.succs[node]:
                    succ = edge.succ
                    if edge.dependency is None or succ not in lf:  # other projects and done tasks impose nothing
                        continue
                    lag = edge.dependency.lag
                    kind = edge.dependency.type
                    if kind == "SS":
                        latest = min(latest, ls[succ] - lag + duration)
                    elif kind == "FF":
                        latest = min(latest, lf[succ] - lag)
                    elif kind == "SF":
                        latest = min(latest, lf[succ] - lag + duration)
                    else:
                        latest = min(latest, ls[succ] - lag)
                lf[node], ls[node] = latest, latest - duration
            results[task.id] = self._task_schedule(project.id, node, ls.get(node), lf.get(node))
        ordered = {node[1]: results[node[1]] for node in nodes}
        critical = tuple(task_id for task_id, item in ordered.items() if item.critical)
        return ProjectSchedule(project.id, calendar.date(start), calendar.date(finish), project.due,
                               due - finish if due is not None else None, ordered, critical)

    def _task_schedule(self, project_id: str, node: Node, ls: int | None, lf: int | None) -> TaskSchedule:
        calendar = self.calendar
        task = self.tasks[node]
        duration = self.duration[node]
        slack = ls - self.es[node] if ls is not None else None
        latest_finish = None
        if lf is not None:
            latest_finish = calendar.date(lf - 1 if duration > 0 else lf)
        driver = self.driver[node]
        return TaskSchedule(
            project=project_id, task=task.id, duration=duration,
            earliest_start=calendar.date(self.es[node]), earliest_finish=calendar.date(self._finish_number(node)),
            latest_start=calendar.date(ls) if ls is not None else None, latest_finish=latest_finish,
            slack=slack, critical=slack is not None and slack <= 0,
            actual=task.status == "done" and task.due is not None or _has_actual_start(task),
            driver=_ref(driver.pred, project_id) if driver is not None else None,
        )

    # -- conflicts --------------------------------------------------------------------------------

    def find_conflicts(self, project: Project, nodes: list[Node]) -> None:
        calendar = self.calendar
        for node in nodes:
            task = self.tasks[node]
            if task.status == "done":
                continue
            if _has_actual_start(task):
                for edge in self.preds[node]:
                    if edge.dependency is not None and self._earliest_by(edge, self.duration[node]) > self.es[node]:
                        allowed = calendar.date(self._earliest_by(edge, self.duration[node]))
                        self.conflicts.append(Conflict(project.id, task.id,
                                                       Location(project.path, task.line_of("start")),
                                                       f"task '{task.id}' started on {task.start}, but its "
                                                       f"dependency on '{edge.dependency.ref}' "
                                                       f"({edge.dependency.type}) allows {allowed} at the earliest"))
            if task.due is not None and self._finish_number(node) > calendar.number_on_or_before(task.due):
                finish = calendar.date(self._finish_number(node))
                start = calendar.date(self.es[node])
                driver = self.driver[node]
                if driver is not None:
                    why = (f"it waits for '{_ref(driver.pred, project.id)}', which finishes "
                           f"{calendar.date(self._finish_number(driver.pred))}, and takes "
                           f"{self.duration[node]} working days from {start}")
                else:
                    verb = "started" if _has_actual_start(task) else "starts"
                    why = f"it {verb} {start} and takes {self.duration[node]} working days"
                self.conflicts.append(Conflict(project.id, task.id, Location(project.path, task.line_of("due")),
                                               f"task '{task.id}' is due {task.due}, but is planned to finish "
                                               f"{finish}: {why}"))

    # -- everything -------------------------------------------------------------------------------

    def run(self) -> Schedule:
        self.build_graph()
        order = self.order()
        self.forward(order)
        by_project: dict[str, list[Node]] = {project_id: [] for project_id in self.projects}
        for node in order:
            if node[1] not in (START, END):
                by_project[node[0]].append(node)
        schedules = {}
        for project_id, project in self.projects.items():
            schedules[project_id] = self.backward(project, by_project[project_id])
            self.find_conflicts(project, by_project[project_id])
        return Schedule(schedules, tuple(self.cycles), tuple(self.conflicts), self.calendar)


def schedule_workspace(workspace: Workspace, today: dt.date) -> Schedule:
    """Schedule every project of the workspace; `today` is only the start of a project that gives no other."""
    return _Scheduler(workspace, today).run()
