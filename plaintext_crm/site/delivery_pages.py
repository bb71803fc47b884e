"""The delivery pages: the projects list, a page per project (Gantt, dependency graph, blockers), the portfolio."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from plaintext_crm.delivery.schedule import ProjectSchedule, Schedule, TaskSchedule
from plaintext_crm.delivery.status import HEALTHS, DeliveryFigures, ProjectStatus, TaskState
from plaintext_crm.escape import file_name_part
from plaintext_crm.records.audience import ANOTHER_PROJECT
from plaintext_crm.records.model import Project, Task
from plaintext_crm.site import gantt
from plaintext_crm.site.pages import Page, SiteData, findings_key, page_type, relative

ATTENTION = ("late", "at risk", "on track", "on hold", "done", "cancelled")  # the projects list's order
assert set(ATTENTION) == set(HEALTHS)


def css(value: str) -> str:
    """A state or health as a CSS class suffix: 'in progress' -> 'in-progress'."""
    return value.replace(" ", "-")


@dataclass(frozen=True)
class TaskRow:
    """A task on its project page: as written, as scheduled, and its derived state."""

    task: Task
    planned: TaskSchedule
    state: TaskState


def task_rows(project: Project, planned: ProjectSchedule, status: ProjectStatus) -> list[TaskRow]:
    """The project's tasks in schedule order (each after the tasks it waits for)."""
    first: dict[str, Task] = {}
    for task in project.tasks:
        first.setdefault(task.id, task)
    return [TaskRow(first[task_id], item, status.tasks[task_id]) for task_id, item in planned.tasks.items()]


def task_anchor(task_id: str) -> str:
    """The id of a task's row in the project page's Tasks table, which its Gantt bar and graph box link to
    (percent-quoted: an HTML id has no spaces, and the link's fragment is the same text)."""
    return "task-" + quote(task_id, safe="")


def _tooltip(row: TaskRow) -> str:
    item = row.planned
    when = f"{item.earliest_start}" if row.task.milestone else f"{item.earliest_start} → {item.earliest_finish}"
    slack = "" if item.slack is None else f" · slack {item.slack} working days"
    return (f"{row.task.title or row.task.id} ({row.task.id}): {when} · {item.duration} working days{slack}"
            f" · {row.state.state}" + (" · critical" if item.critical else ""))


def project_gantt(project: Project, rows: list[TaskRow], status_date: Any,
                  schedule: Schedule | None = None) -> Any:
    """The project's Gantt chart as inline SVG; tasks of other projects it waits for (found in `schedule`)
    come first, dashed, labelled `project/task`, with an arrow to the task waiting for each."""
    bars = []
    links = []
    outside: set[str] = set()
    critical = {row.task.id for row in rows if row.planned.critical}
    for row in rows:
        for dependency in row.task.depends_on:
            if dependency.project in (None, project.id):
                links.append(gantt.Link(dependency.task, row.task.id, dependency.type,
                                        dependency.task in critical and row.task.id in critical))
                continue
            other = schedule.task(dependency.project or "", dependency.task) if schedule is not None else None
            if other is None:
                continue  # unknown (R001) or hidden from this audience
            if dependency.ref not in outside:
                outside.add(dependency.ref)
                bars.append(gantt.Bar(dependency.ref, dependency.ref, other.earliest_start, other.earliest_finish,
                                      other.duration == 0, False, "external",
                                      f"{dependency.ref} (another project): {other.earliest_start} → "
                                      f"{other.earliest_finish}", external=True))
            links.append(gantt.Link(dependency.ref, row.task.id, dependency.type))
    bars += [gantt.Bar(row.task.id, row.task.title or row.task.id, row.planned.earliest_start,
                       row.planned.earliest_finish, row.task.milestone, row.planned.critical, css(row.state.state),
                       _tooltip(row), href="#" + task_anchor(row.task.id),
                       marker=row.task.due if row.state.state != "done" else None) for row in rows]
    return gantt.timeline(f"Schedule of {project.display_title}",
                          "Each task from its earliest start to its earliest finish, unfinished work never before "
                          "the status date; milestones as diamonds; the critical path in red; arrows from each "
                          "task to the tasks waiting for it (dashed rows are tasks of other projects); a tick "
                          "marks a task's due date.", bars, links, status_date, today_label="status date",
                          table="tasks-table")


def project_graph(site: SiteData, project: Project, rows: list[TaskRow], page_output: str) -> Any:
    """The project's task dependency graph (layered), with tasks of other projects it waits for."""
    nodes = [gantt.Node(row.task.id, row.task.id, css(row.state.state), row.planned.critical,
                        tooltip=_tooltip(row), href="#" + task_anchor(row.task.id)) for row in rows]
    critical = {row.task.id for row in rows if row.planned.critical}
    known = {row.task.id for row in rows}
    links = []
    outside: list[str] = []
    for row in rows:
        for dependency in row.task.depends_on:
            internal = dependency.project in (None, project.id)
            key = dependency.task if internal else dependency.ref
            if internal and dependency.task not in known:
                continue  # an unknown task: R001 reports it
            if not internal and dependency.project == ANOTHER_PROJECT:  # an audience's view: a hidden project
                key = ANOTHER_PROJECT
                if key not in outside:
                    outside.append(key)
                    nodes.append(gantt.Node(key, key, "external", external=True, tooltip="a project not shown here"))
            elif not internal and key not in outside:
                other = site.workspace.projects.get(dependency.project or "")
                if other is None or other.task(dependency.task) is None:
                    continue
                outside.append(key)
                href = site.project_url(other.id)
                nodes.append(gantt.Node(key, key, "external", external=True, tooltip=f"{key} (another project)",
                                        href=relative(href, page_output) if href else None))
            links.append(gantt.Link(key, row.task.id, dependency.type, key in critical and row.task.id in critical))
    return gantt.dependency_graph(f"Task dependencies of {project.display_title}",
                                  "Each task after the tasks it waits for, left to right; the critical path in red; "
                                  "dashed boxes are tasks of other projects.", nodes, links,
                                  order=[*outside, *(row.task.id for row in rows)], table="tasks-table")


def _sources(site: SiteData, project: Project) -> frozenset[str]:
    """The record files a project page reads: it, its deal and client, and every project it waits for."""
    workspace = site.workspace
    found = {project.path}
    pending = [project]
    seen = {project.id}
    while pending:
        current = pending.pop()
        found.add(current.path)
        if current.deal and current.deal in workspace.deals:
            found.add(workspace.deals[current.deal].path)
        if current.client and current.client in workspace.clients:
            found.add(workspace.clients[current.client].path)
        others = set(current.depends_on) | {dependency.project for task in current.tasks
                                            for dependency in task.depends_on if dependency.project}
        for other in sorted(others - seen):
            if other in workspace.projects:
                seen.add(other)
                pending.append(workspace.projects[other])
    return frozenset(found)


@page_type
def project_pages(site: SiteData) -> list[Page]:
    """projects/index.html and projects/<id>.html for every project that loaded."""
    delivery: DeliveryFigures = site.figures.delivery
    pages = [Page("projects/index.html", "Projects", "projects.html", _projects_context, section="projects",
                  records_only=True)]
    for project in site.workspace.projects.values():
        findings = site.findings_by_path.get(project.path, [])
        status = delivery.statuses[project.id]
        key = f"{findings_key(findings)}|{status.health}|{status.drift}"
        pages.append(Page(f"projects/{file_name_part(project.id)}.html", project.display_title, "project.html",
                          _project_context(project), sources=_sources(site, project), key=key,
                          section="projects", record=project.path))
    return pages


def _projects_context(site: SiteData) -> Mapping[str, Any]:
    delivery: DeliveryFigures = site.figures.delivery
    rank = {health: index for index, health in enumerate(ATTENTION)}
    projects = sorted(site.workspace.projects.values(),
                      key=lambda project: (rank[delivery.statuses[project.id].health],
                                           delivery.schedule.projects[project.id].finish, project.id))
    return {"projects": projects, "statuses": delivery.statuses, "plans": delivery.schedule.projects,
            "by_health": delivery.by_health(), "css": css}


def _project_context(project: Project) -> Any:
    def context(site: SiteData) -> Mapping[str, Any]:
        delivery: DeliveryFigures = site.figures.delivery
        planned = delivery.schedule.projects[project.id]
        status = delivery.statuses[project.id]
        rows = task_rows(project, planned, status)
        output = f"projects/{file_name_part(project.id)}.html"
        deal = site.workspace.deals.get(project.deal or "")
        approvals = [row for row in rows if row.task.approval is not None]
        return {
            "project": project, "planned": planned, "status": status, "rows": rows, "deal": deal,
            "task_anchor": task_anchor,
            "client": site.workspace.clients.get(project.client or ""),
            "gantt": project_gantt(project, rows, delivery.schedule.status_date or site.today, delivery.schedule),
            "graph": project_graph(site, project, rows, output),
            "blocked": [row for row in rows if row.state.blocked],
            "waiting": [row for row in rows if row.state.waiting],
            "workload": site.figures.workload.for_project(project.id),
            "invoices": site.figures.invoices.get(project.id),
            "approvals": approvals,
            "cycles": [cycle for cycle in delivery.schedule.cycles if cycle.location.path == project.path],
            "conflicts": [conflict for conflict in delivery.schedule.conflicts if conflict.project == project.id],
            "findings": site.findings_by_path.get(project.path, []),
            "body": site.bodies[project.path], "css": css,
        }

    return context


@page_type
def portfolio_pages(site: SiteData) -> list[Page]:
    """portfolio.html: every active project on one timeline, and the cross-project dependency graph."""
    return [Page("portfolio.html", "Portfolio", "portfolio.html", _portfolio_context, section="portfolio",
                  records_only=True)]


def _portfolio_context(site: SiteData) -> Mapping[str, Any]:
    delivery: DeliveryFigures = site.figures.delivery
    workspace = site.workspace
    active = delivery.open_projects()
    bars = []
    for project_id in active:
        planned, status = delivery.schedule.projects[project_id], delivery.statuses[project_id]
        project = workspace.projects[project_id]
        href = site.project_url(project_id)
        drift = f" · {status.drift} working days past the promise" if status.drifted else ""
        bars.append(gantt.Bar(project_id, project.display_title, planned.start, planned.finish, False,
                              status.health in ("at risk", "late"), css(status.health),
                              f"{project.display_title}: {planned.start} → {planned.finish} · {status.health} · "
                              f"{status.percent_complete}% done{drift}", href=href, marker=project.due,
                              flagged=status.drifted))
    links = []
    for project_id, project in workspace.projects.items():
        waits_for = dict.fromkeys([*project.depends_on, *(dependency.project for task in project.tasks
                                                          for dependency in task.depends_on if dependency.project)])
        for other in waits_for:
            if other and other != project_id and other in workspace.projects:
                links.append(gantt.Link(other, project_id))
    linked = {key for link in links for key in (link.pred, link.succ)}
    shown = [project_id for project_id in delivery.schedule.order if project_id in linked]
    nodes = [gantt.Node(project_id, project_id, css(delivery.statuses[project_id].health),
                        delivery.statuses[project_id].health in ("at risk", "late"),
                        tooltip=f"{workspace.projects[project_id].display_title} · "
                                f"{delivery.statuses[project_id].health}",
                        href=site.project_url(project_id)) for project_id in shown]
    timeline = gantt.timeline("Portfolio timeline", "Every active project from its planned start to its planned "
                              "finish, coloured by health; a tick marks the due date, a flag a plan past the "
                              "promise; arrows for projects waiting for others.", bars,
                              [link for link in links if link.pred in active and link.succ in active],
                              delivery.schedule.status_date or site.today, css_class="gantt portfolio",
                              today_label="status date", table="portfolio-table")
    graph = gantt.dependency_graph("Cross-project dependencies", "Projects after the projects they wait for "
                                   "(whole-project or task dependencies).", nodes,
                                   [link for link in links if link.pred in shown and link.succ in shown],
                                   order=shown)
    return {"active": active, "statuses": delivery.statuses, "plans": delivery.schedule.projects,
            "timeline": timeline, "graph": graph, "has_links": bool(links), "css": css,
            "cycles": [cycle for cycle in delivery.schedule.cycles if cycle.level == "project"]}
