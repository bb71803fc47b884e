"""`plaintext-crm workload`: booked working days against capacity per person and week, across projects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plaintext_crm.delivery.workload import DEFAULT_WEEKS, Workload
from plaintext_crm.escape import json_dumps, terminal
from plaintext_crm.options import today_option, workspace_argument


def render_workload(workload: Workload, status_date: dt.date) -> str:
    """A table: one row per person, one column per week (booked/capacity, `!` when over), then the overbooked
    weeks with the tasks behind them. Names are escaped for the terminal."""
    header = ["person", *(f"{week:%d %b}" for week in workload.weeks)]
    rows = [header]
    for member, loads in workload.people.items():
        rows.append([terminal(member), *(f"{load.booked:g}/{load.capacity:g}" + ("!" if load.over else "")
                                         for load in loads)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [f"Workload from {status_date:%a %Y-%m-%d}: working days booked/capacity per week (! over capacity)", ""]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    over = workload.overbooked()
    if over:
        lines.append("")
        for member, load in over:
            tasks = ", ".join(f"{item.project}/{item.task} ({item.days:g})" for item in load.tasks)
            lines.append(terminal(f"{member}, week of {load.week}: {load.booked:g} of {load.capacity:g} days: {tasks}"))
    lines += ["", f"{len(over)} overbooked week{'s' if len(over) != 1 else ''} (P004)"]
    return "\n".join(lines) + "\n"


@click.command("workload")
@workspace_argument
@today_option
@click.option("--weeks", type=click.IntRange(1, 520), default=DEFAULT_WEEKS, show_default=True,
              help="How many weeks to show, from the status date's week.")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text for people, json for tools (the `workload` of data.json).")
def workload_command(workspace: Path | None, today: dt.date, weeks: int, output_format: str) -> None:
    """Show who is booked how many working days in each coming week, against their capacity.

    See docs/delivery.md (workload across projects).
    """
    from plaintext_crm.delivery.status import delivery_figures
    from plaintext_crm.delivery.workload import workload
    from plaintext_crm.records.loader import workspace_root
    from plaintext_crm.records.parse_cache import load_workspace_cached

    loaded, _findings = load_workspace_cached(workspace_root(workspace))
    figures = delivery_figures(loaded, today)
    table = workload(loaded, figures.schedule, today, weeks)
    if output_format == "json":
        click.echo(json_dumps(table.to_data()))
    else:
        click.echo(render_workload(table, today), nl=False)
