"""`plaintext-crm next DEAL ACTION --due DATE`: set a deal's next action and its due date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plaintext_crm.commands.edit_support import (
    ask,
    date_converter,
    date_value,
    dry_run_option,
    fail_missing,
    finish,
    open_deal,
)
from plaintext_crm.editing.edit import plan_edit
from plaintext_crm.errors import ToolError
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.dates import DATE_HELP
from plaintext_crm.records.model import DEAL_KEYS


@click.command("next")
@click.argument("deal")
@click.argument("action")
@workspace_argument
@click.option("--due", metavar="DATE", help=f"When the action is due: {DATE_HELP}.")
@dry_run_option
@today_option
def next_action(deal: str, action: str, workspace: Path | None, due: str | None, dry_run: bool,
                today: dt.date) -> None:
    """Set DEAL's next action to ACTION, due on --due (the most common edit of all).

    DEAL is a deal id (or the path of its file). Only next_action and next_action_due change; every
    other byte of the file stays as it was.
    """
    loaded, record = open_deal(workspace, deal)
    if not action.strip():
        raise ToolError("ACTION is empty: say what happens next, e.g. \"Call Jane about the proposal\"")
    missing: list[str] = []
    due_date = date_value(due, today, "--due", loaded) if due is not None else \
        ask(None, f"Due ({DATE_HELP})", date_converter(today, loaded), default="+3d", missing=missing,
            option="--due DATE")
    fail_missing(missing, "`next`")
    notes = []
    if due_date is not None and due_date < today:
        notes.append(f"note: {due_date} is before today ({today}); lint reports it as overdue (D003)")
    if not loaded.is_open(record):
        notes.append(f"note: the deal is {record.stage}; next actions are checked on open deals only")
    change = plan_edit(loaded.root, record.path, {"next_action": action.strip(), "next_action_due": due_date},
                       order=DEAL_KEYS)
    finish([change], dry_run, notes)
