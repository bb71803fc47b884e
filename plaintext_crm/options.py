"""Click options shared by several commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from plaintext_crm.clock import TODAY_ENV, resolve_today


def today_option(function: Any) -> Any:
    """`--today YYYY-MM-DD`, resolved (with PLAINTEXT_CRM_TODAY as fallback) to a date."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
        return resolve_today(value)

    return click.option("--today", metavar="YYYY-MM-DD", callback=convert, expose_value=True,
                        help=f"Treat this date as today (default: ${TODAY_ENV}, else the calendar).")(function)


def workspace_argument(function: Any) -> Any:
    """An optional WORKSPACE folder argument; without it the workspace around the current folder."""
    return click.argument("workspace", required=False,
                          type=click.Path(file_okay=False, path_type=Path))(function)
