"""`plaintext-crm digest`: each owner's daily digest (what is overdue, due, rotting, stuck, late) as text,
Markdown, HTML or JSON (docs/notify.md)."""

from __future__ import annotations

from pathlib import Path

import click

from plaintext_crm.options import workspace_argument

FORMATS = ("text", "markdown", "html", "json")


@click.command("digest")
@workspace_argument
@click.option("--today", metavar="YYYY-MM-DD",
              help="Treat this date as today (default: $PLAINTEXT_CRM_TODAY, else today in notify.time_zone).")
@click.option("--owner", "owner_ids", multiple=True, metavar="ID", help="Only this owner's digest (repeatable).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, markdown for chat and pasting, html as mailed, json for tools.")
def digest(workspace: Path | None, today: str | None, owner_ids: tuple[str, ...], output_format: str) -> None:
    """Print each owner's digest: overdue next actions (oldest first), due today, due this week, open deals
    without a next action, rotting deals, won deals waiting for delivery, and for project owners late
    critical tasks, approvals waiting and milestones this week. Owners with nothing due are left out.
    """
    from plaintext_crm.analysis import load_analysis
    from plaintext_crm.notify.digest import chosen_digests
    from plaintext_crm.notify.render_html import render_html
    from plaintext_crm.notify.render_json import render_json
    from plaintext_crm.notify.render_markdown import render_markdowns
    from plaintext_crm.notify.render_text import render_texts
    from plaintext_crm.notify.schedule import team_today
    from plaintext_crm.records.config import load_config
    from plaintext_crm.records.loader import workspace_root

    root = workspace_root(workspace)
    day = team_today(today, load_config(root)[0].notify.time_zone)
    found = chosen_digests(load_analysis(root, day), owner_ids)
    if output_format == "json":
        text = render_json(found)
    elif output_format == "markdown":
        text = render_markdowns(found)
    elif output_format == "html":
        shown = [render_html(item) for item in found if not item.empty]
        text = "\n".join(shown) if shown else "<!-- No digest: nothing is due. -->\n"
    else:
        text = render_texts(found)
    click.echo(text, nl=False)
