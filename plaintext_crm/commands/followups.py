"""`plaintext-crm followups`: each owner's overdue, due and missing next actions, as text, JSON or iCalendar."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import json_dumps, terminal
from plaintext_crm.json_data import to_data
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.sales.figures import DealFigures, FollowUpLists, FollowUps, OwnerFollowUps

FORMATS = ("text", "json", "ics")
SECTIONS = (("overdue", "overdue"), ("due_today", "due today"), ("this_week", "due this week"),
            ("later", "later"), ("missing", "no next action"))


def _line(figures: DealFigures, prefix: str) -> str:
    path, title = terminal(prefix + figures.path), terminal(figures.title)
    if figures.next_action_due is None:
        return f"{path}: {title} has no dated next action"
    when = figures.next_action_due.isoformat()
    if figures.days_overdue:
        when += f", {figures.days_overdue} day{'s' if figures.days_overdue != 1 else ''} overdue"
    return f"{path}: {terminal(str(figures.next_action))} ({when}) - {title}"


def render_text(followups: FollowUps, owners: tuple[OwnerFollowUps, ...], later: bool, prefix: str = "") -> str:
    """Per owner, one line per deal: `deals/x.md: next action (due) - deal title`, then a summary.

    `prefix` is put before each record path (the workspace folder seen from the current one). Names
    and values show their control and bidi characters as escapes: each deal is exactly one line.
    """
    today = followups.today
    lines = [(f"Follow-ups on {today:%a %Y-%m-%d} (this week: {followups.week_start:%a %d %b} - "
             f"{followups.week_end:%a %d %b})")]
    totals = dict.fromkeys((key for key, _ in SECTIONS), 0)
    for owner in owners:
        lines += ["", terminal(owner.owner.name) + (f" ({terminal(owner.owner.id)})" if owner.owner.id else "")]
        shown = 0
        for key, heading in SECTIONS:
            items: tuple[DealFigures, ...] = getattr(owner.lists, key)
            totals[key] += len(items)
            if not items or (key == "later" and not later):
                continue
            shown += len(items)
            lines.append(f"  {heading} ({len(items)})")
            lines += [f"    {_line(figures, prefix)}" for figures in items]
        if not shown:
            lines.append("  nothing due this week")
    if not owners:
        lines += ["", "No open deals."]
    summary = ", ".join(f"{totals[key]} {heading}" for key, heading in SECTIONS)
    lines += ["", summary + (" (add --later to list those)" if totals["later"] and not later else "")]
    return "\n".join(lines) + "\n"


def _lists_data(lists: FollowUpLists) -> dict[str, list[dict[str, object]]]:
    return {key: [to_data(figures, nested=False) for figures in getattr(lists, key)] for key, _ in SECTIONS}


def render_json(followups: FollowUps, owners: tuple[OwnerFollowUps, ...]) -> str:
    """The follow-up lists per owner with each deal's figures in full."""
    data = {"today": followups.today.isoformat(), "week_start": followups.week_start.isoformat(),
            "week_end": followups.week_end.isoformat(),
            "owners": [{"owner": to_data(owner.owner), **_lists_data(owner.lists)} for owner in owners]}
    return json_dumps(data) + "\n"


@click.command("followups")
@workspace_argument
@today_option
@click.option("--owner", "owner_ids", multiple=True, metavar="ID",
              help="Only this owner's follow-ups (repeat for several; `none` for deals without an owner).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, ics for an iCalendar feed of the dated next actions.")
@click.option("--later", is_flag=True, help="Also list next actions due after this week (text format).")
@click.option("--as-of", "as_of", metavar="DATE|REV",
              help="The follow-ups as they stood on that day (the last commit on or before it) or at that revision.")
def followups(workspace: Path | None, today: dt.date, owner_ids: tuple[str, ...], output_format: str,
              later: bool, as_of: str | None) -> None:
    """List each owner's overdue, due and missing next actions of open deals.

    See docs/metrics.md for what counts as overdue, due this week and missing.
    """
    from plaintext_crm.records.loader import workspace_root
    from plaintext_crm.records.parse_cache import load_workspace_cached
    from plaintext_crm.sales.figures import deal_figures, followups_from
    from plaintext_crm.sales.ics import followups_ics

    root = workspace_root(workspace)
    if as_of is not None:
        from plaintext_crm.history.as_of import read_snapshot

        snapshot = read_snapshot(root, as_of)
        loaded, today = snapshot.workspace, snapshot.today
    else:
        loaded, _findings = load_workspace_cached(root)
    result = followups_from(deal_figures(loaded, today), loaded.config, today)
    owners = result.owners
    if owner_ids:
        wanted = {None if owner_id == "none" else owner_id for owner_id in owner_ids}
        known = {owner.owner.id for owner in owners} | set(loaded.config.team)
        unknown = sorted(str(owner_id) for owner_id in wanted if owner_id is not None and owner_id not in known)
        if unknown:
            raise ToolError(f"no owner {terminal(', '.join(unknown))}: owners are "
                            f"{terminal(', '.join(sorted(loaded.config.team)))} "
                            "(team in crm.yaml) and any owner named by an open deal")
        owners = tuple(owner for owner in owners if owner.owner.id in wanted)
    if output_format == "json":
        text = render_json(result, owners)
    elif output_format == "ics":
        scheduled = [figures for owner in owners for figures in owner.lists.scheduled]
        title = "follow-ups" if not owner_ids else "follow-ups of " + ", ".join(owner.owner.name for owner in owners)
        text = followups_ics(scheduled, loaded.config.name, today, title)
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # bytes, to keep the CRLF line ends RFC 5545 wants
        sys.stdout.buffer.flush()
        return
    else:
        prefix = Path(os.path.relpath(root, Path.cwd())).as_posix() + "/"
        text = render_text(result, owners, later, "" if prefix == "./" else prefix)
    click.echo(text, nl=False)
