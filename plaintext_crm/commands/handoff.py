"""`plaintext-crm handoff DEAL`: create the delivery project of a won deal and link the two."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plaintext_crm.commands.edit_support import (
    ID_FORM,
    check_owner,
    dry_run_option,
    finish,
    id_refusal,
    open_deal,
)
from plaintext_crm.editing.handoff import plan_handoff
from plaintext_crm.errors import ToolError
from plaintext_crm.options import today_option, workspace_argument


@click.command()
@click.argument("deal")
@workspace_argument
@click.option("--owner", metavar="MEMBER", help="Who runs the project (default: nobody yet; the salesperson "
              "who won the deal is not made its owner).")
@dry_run_option
@today_option
def handoff(deal: str, workspace: Path | None, owner: str | None, dry_run: bool, today: dt.date) -> None:
    """Hand a won DEAL over to delivery: create projects/<deal-id>.md and set the deal's `project`.

    The project comes from templates/kickoff.md of the workspace (else the built-in one): client, deal,
    owner (--owner; else left empty), start on the kickoff date, due from the promised timeline when it can be read, the hand-off
    fields in the front matter and the body, and the kickoff checklist as a Markdown task list.
    Refuses a deal that is not won, an incomplete hand-off, or a project that exists already.
    """
    loaded, record = open_deal(workspace, deal)
    problem = id_refusal(record.id)
    if problem is not None:  # the project file takes the deal's id as its name
        raise ToolError(f"{record.path}: the deal's id cannot name its project ({problem}); rename the deal file "
                        f"first ({ID_FORM}); nothing was written")
    if owner is not None:
        check_owner(loaded, owner, "--owner")
    plan = plan_handoff(loaded, record, today, owner)
    finish([plan.project, plan.deal], dry_run, plan.notes)
