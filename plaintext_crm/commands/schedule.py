"""`plaintext-crm schedule`: each project's plan, health, critical path and promise drift; one project's tasks."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import click

from plaintext_crm.delivery.status import DeliveryFigures
from plaintext_crm.errors import ToolError
from plaintext_crm.escape import json_dumps, terminal
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.model import Workspace

FORMATS = ("text", "json")


def _days(count: int) -> str:
    return f"{abs(count)} working day{'s' if abs(count) != 1 else ''}"


def _relative(days: int, later: str, earlier: str) -> str:
    """'5 working days late' and the like; 'on the day' for 0."""
    return "on the day" if days == 0 else f"{_days(days)} {later if days > 0 else earlier}"


def render_projects(workspace: Workspace, figures: DeliveryFigures, today: dt.date) -> str:
    """Two to four lines per project, then a summary of healths and schedule problems.

    Each line is escaped as a whole (plaintext_crm.escape.terminal): titles, ids and reasons hold
    workspace text, and their control and bidi characters are shown as escapes."""
    status_date = figures.schedule.status_date or today
    lines = [f"Schedule on {today:%a %Y-%m-%d}" + (f", status date {status_date:%a %Y-%m-%d}"
                                                   if status_date != today else "")]
    for project_id, project in sorted(workspace.projects.items()):
        planned, status = figures.schedule.projects[project_id], figures.statuses[project_id]
        lines += ["", f"{project.path}: {project.display_title} - {status.health}, {status.percent_complete}% done"]
        when = f"  planned {planned.start} -> {planned.finish}"
        if status.plan_note is not None:
            when += f" ({status.plan_note}: no early or late claims)"
        elif planned.due is not None and planned.slack is not None:
            when += f", due {planned.due} ({_relative(planned.slack, 'to spare', 'behind')})"
        if status.promise is not None and status.promise.finish is not None and status.drift is not None:
            when += f"; promised {status.promise.finish} ({_relative(status.drift, 'late', 'early')})"
        lines.append(when)
        if status.active and planned.critical_path:
            lines.append("  critical path: " + " -> ".join(planned.critical_path))
        if status.next_milestone is not None:
            lines.append(f"  next milestone: {status.next_milestone.title} {status.next_milestone.date}")
        lines += [f"  {reason}" for reason in status.reasons]
    groups = figures.by_health()
    count = len(workspace.projects)
    lines += ["", f"{count} project{'s' if count != 1 else ''}: "
              + (", ".join(f"{len(ids)} {health}" for health, ids in groups.items()) or "none")]
    problems = len(figures.schedule.cycles) + len(figures.schedule.conflicts)
    if problems:
        lines.append(f"{problems} schedule problem{'s' if problems != 1 else ''} (P001/P002): "
                     "see `plaintext-crm lint`")
    return "\n".join(terminal(line) for line in lines) + "\n"


def render_tasks(workspace: Workspace, figures: DeliveryFigures, project_id: str) -> str:
    """One project's tasks in schedule order: state, earliest and latest dates, slack, blockers.

    Cells are escaped before the columns are measured; the other lines are escaped as a whole."""
    planned, status = figures.schedule.projects[project_id], figures.statuses[project_id]
    project = workspace.projects[project_id]
    header = ("task", "state", "days", "start", "finish", "latest start", "latest finish", "slack")
    rows = [header]
    for task_id, item in planned.tasks.items():
        mark = "*" if item.critical else " "
        rows.append((mark + terminal(task_id), status.tasks[task_id].state, str(item.duration), str(item.earliest_start),
                     str(item.earliest_finish), str(item.latest_start or "-"), str(item.latest_finish or "-"),
                     "-" if item.slack is None else str(item.slack)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [terminal(f"{project.path}: {project.display_title} - {status.health}"), ""]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += ["", "* critical (slack <= 0); dates are working days, finishes the last working day"]
    for task_id, state in status.tasks.items():
        for blocker in state.blockers:
            lines.append(terminal(f"{task_id}: {blocker.message}"))
    return "\n".join(lines) + "\n"


@click.command("schedule")
@workspace_argument
@today_option
@click.option("--project", "project_id", metavar="ID", help="Show this project's tasks (id = file name).")
@click.option("--status-date", "status_date", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Plan unfinished work from this day (default: today).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools (the `schedule` of data.json).")
def schedule(workspace: Path | None, today: dt.date, project_id: str | None, status_date: dt.datetime | None,
             output_format: str) -> None:
    """Show each project's planned dates, health, critical path and drift from the promise.

    See docs/delivery.md for how the schedule is computed.
    """
    from plaintext_crm.delivery.status import delivery_figures
    from plaintext_crm.records.loader import workspace_root
    from plaintext_crm.records.parse_cache import load_workspace_cached

    loaded, _findings = load_workspace_cached(workspace_root(workspace))
    if project_id is not None and project_id not in loaded.projects:
        close = difflib.get_close_matches(project_id, list(loaded.projects), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ToolError(terminal(f"no project '{project_id}'{hint}: projects are "
                                 f"{', '.join(sorted(loaded.projects)) or 'none'}"))
    figures = delivery_figures(loaded, today, status_date.date() if status_date is not None else None)
    if output_format == "json":
        data = figures.project_data(project_id) if project_id else figures.to_data()
        click.echo(json_dumps(data))
    elif project_id:
        click.echo(render_tasks(loaded, figures, project_id), nl=False)
    else:
        click.echo(render_projects(loaded, figures, today), nl=False)
