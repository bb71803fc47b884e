"""A deterministic "today": --today, else PLAINTEXT_CRM_TODAY, else the calendar."""

from __future__ import annotations

import datetime as dt
import os

from plaintext_crm.errors import ToolError

TODAY_ENV = "PLAINTEXT_CRM_TODAY"


def resolve_today(option: str | dt.date | None = None) -> dt.date:
    """Today's date for date-dependent rules and figures; fixed by --today or the environment."""
    if isinstance(option, dt.date):
        return option
    for source, value in (("--today", option), (TODAY_ENV, os.environ.get(TODAY_ENV))):
        if value:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ToolError(f"{source}: '{value}' is not a date; use YYYY-MM-DD") from None
    return dt.date.today()
