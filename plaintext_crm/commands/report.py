"""`plaintext-crm report pipeline|forecast|owners|clients|projects`: the dashboards' tables in the terminal."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.reports.render import FORMATS
from plaintext_crm.reports.tables import REPORTS


def use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


@click.command("report")
@click.argument("name", type=click.Choice(REPORTS))
@workspace_argument
@today_option
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people (aligned columns), csv for spreadsheets, json for tools, markdown for pull requests.")
@click.option("--owner", metavar="ID", help="Only this owner's deals (or projects); `none` for those without one.")
@click.option("--as-of", "as_of", metavar="DATE|REV",
              help="The report as the workspace stood on that day (its last commit on or before it) or at that revision.")
@click.option("--no-cache", is_flag=True, help="Parse every file; neither read nor write the caches.")
def report(name: str, workspace: Path | None, today: dt.date, output_format: str, owner: str | None,
           as_of: str | None, no_cache: bool) -> None:
    """Print one of the site's dashboards as a table: pipeline (by stage), forecast (by month, with the
    forecast accuracy of past months), owners, clients or projects.

    The figures are the site's and data.json's, from the same analysis. Colour only on a terminal,
    and not with NO_COLOR set. Exit status 0 when the report is printed, 2 when it cannot be.
    """
    from plaintext_crm.analysis import load_analysis, load_analysis_as_of
    from plaintext_crm.records.loader import workspace_root
    from plaintext_crm.reports.render import render
    from plaintext_crm.reports.tables import BUILDERS
    from plaintext_crm.sales.analytics import owner_key

    root = workspace_root(workspace)
    analysis = (load_analysis_as_of(root, as_of, use_cache=not no_cache) if as_of is not None
                else load_analysis(root, today, use_cache=not no_cache))
    key = None
    if owner is not None:
        key = owner_key(None if owner == "none" else owner)
        known = set(analysis.workspace.config.team) | {figures.owner for figures in analysis.crm.deals.values()
                                                        if figures.owner}
        if owner != "none" and owner not in known:
            raise ToolError(f"no owner {terminal(owner)}: owners are {terminal(', '.join(sorted(known)))}")
    table = BUILDERS[name](analysis, key)
    click.echo(render(table, output_format, colour=use_colour(sys.stdout)), nl=False)
