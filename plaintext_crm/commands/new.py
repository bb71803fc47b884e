"""`plaintext-crm new client|deal|project ID`: write a new record from its template."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import click

from plaintext_crm.commands.edit_support import (
    ID_FORM,
    ask,
    check_client,
    check_owner,
    date_converter,
    date_value,
    dry_run_option,
    fail_missing,
    finish,
    id_refusal,
    interactive,
    open_workspace,
    text_converter,
)
from plaintext_crm.editing.atomic import inspect_target
from plaintext_crm.editing.edit import new_file
from plaintext_crm.editing.record_templates import find_template, id_advice, render_record
from plaintext_crm.errors import ToolError
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.dates import DATE_HELP
from plaintext_crm.records.fields import PROJECT_STATUSES
from plaintext_crm.records.model import Workspace

FOLDERS = {"client": "clients", "deal": "deals", "project": "projects"}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not _NUMBER.match(cleaned):
        raise ToolError(f"--value: '{text}' is not an amount; write digits only, like 24000 or 12500.50")
    value = float(cleaned)
    return int(value) if value.is_integer() else value


def _owner(loaded: Workspace, given: str | None, missing: list[str]) -> str | None:
    if given is not None:
        check_owner(loaded, given, "--owner")
        return given

    def convert(text: str) -> str:
        check_owner(loaded, text_converter(text), "owner")
        return text.strip()

    return ask(None, "Owner", convert, missing=missing, option="--owner")


def _client(loaded: Workspace, given: str | None, missing: list[str]) -> str | None:
    if given is not None:
        check_client(loaded, given)
        return given

    def convert(text: str) -> str:
        check_client(loaded, text_converter(text))
        return text.strip()

    return ask(None, "Client id", convert, missing=missing, option="--client")


def _refuse_existing(loaded: Workspace, folder: str, record_id: str) -> None:
    rel = f"{folder}/{record_id}.md"
    if inspect_target(loaded.root, rel) is not None:  # which also refuses links and odd entries, saying why
        raise ToolError(f"{rel} already exists; choose another id (nothing was written)")
    for existing in loaded.files:
        kind, _, name = existing.partition("/")
        if kind == folder and name[:-3].lower() == record_id.lower():
            raise ToolError(f"{existing} already exists; choose another id (nothing was written)")


@click.command()
@click.argument("kind", type=click.Choice(tuple(FOLDERS)))
@click.argument("record_id", metavar="ID")
@workspace_argument
@click.option("--title", help="Deal or project title.")
@click.option("--name", help="Client name (default: from the id).")
@click.option("--client", metavar="CLIENT_ID", help="The client (deal, project).")
@click.option("--owner", metavar="MEMBER", help="Who owns it: a team member id from crm.yaml.")
@click.option("--stage", help="Deal stage (default: the pipeline's first stage).")
@click.option("--value", metavar="AMOUNT", help="Deal value, digits only.")
@click.option("--currency", metavar="CODE", help="Deal currency when not crm.yaml's (USD, GBP...).")
@click.option("--source", help="Where it came from (referral, inbound, outbound...).")
@click.option("--expected-close", metavar="DATE", help="Deal: expected close date.")
@click.option("--next", "next_action", metavar="ACTION", help="Deal: the next action.")
@click.option("--due", metavar="DATE", help=f"Deal: the next action's due date; project: its due date ({DATE_HELP}).")
@click.option("--deal", metavar="DEAL_ID", help="Project: the deal it comes from.")
@click.option("--start", metavar="DATE", help="Project: start date (default: today).")
@click.option("--status", help="Client status (default: prospect) or project status (default: planned).")
@click.option("--contact", metavar="NAME", help="Client: the first contact's name.")
@click.option("--contact-role", metavar="ROLE", help="Client: the first contact's role.")
@click.option("--contact-email", metavar="EMAIL", help="Client: the first contact's email.")
@click.option("--notes", metavar="TEXT", help="Text for the record's first history entry.")
@dry_run_option
@today_option
def new(kind: str, record_id: str, workspace: Path | None, dry_run: bool, today: dt.date, **given: Any) -> None:
    """Write a new KIND record (client, deal or project) named ID from its template.

    The workspace's templates/<kind>.md wins over the built-in one. Required fields are asked for
    when run in a terminal, and must be given as options otherwise. Refuses an id that exists (in any
    letter case) or is not a safe file name; lowercase kebab-case (acme-website) is recommended.
    """
    problem = id_refusal(record_id)
    if problem:
        raise ToolError(f"cannot use {record_id!r} as an id: {problem}; {ID_FORM}; nothing was written")
    loaded = open_workspace(workspace)
    folder = FOLDERS[kind]
    _refuse_existing(loaded, folder, record_id)
    context = _context(kind, record_id, loaded, today, given)
    rel = f"{folder}/{record_id}.md"
    template = find_template(loaded.root, f"{kind}.md")
    text = render_record(template, context, rel)
    notes = [advice] if (advice := id_advice(record_id)) else []
    finish([new_file(loaded.root, rel, text, (f"from {template.source}",))], dry_run, notes)


def _context(kind: str, record_id: str, loaded: Workspace, today: dt.date, given: dict[str, Any]) -> dict[str, Any]:
    """The template variables for a new record; asks for or demands the required ones."""
    missing: list[str] = []
    context: dict[str, Any] = {"id": record_id, "today": today, "notes": given["notes"], "source": given["source"]}
    if kind == "client":
        default_name = record_id.replace("-", " ").replace("_", " ").title()
        name = given["name"] or (ask(None, "Name", text_converter, default=default_name) if interactive()
                                 else default_name)
        context.update(name=name, owner=_owner(loaded, given["owner"], missing),
                       status=given["status"] or "prospect", contact=given["contact"],
                       contact_role=given["contact_role"], contact_email=given["contact_email"])
        fail_missing(missing, "a new client")
        return context
    title = ask(given["title"], "Title", text_converter, missing=missing, option="--title")
    deal_id = given["deal"] if kind == "project" else None
    deal = loaded.deals.get(deal_id) if deal_id else None
    if deal_id and deal is None:
        raise ToolError(f"--deal: no deal '{deal_id}' (deals/{deal_id}.md)")
    client = _client(loaded, given["client"] or (deal.client if deal else None), missing)
    owner = _owner(loaded, given["owner"], missing)
    known = loaded.clients.get(client or "")
    context.update(title=title, client=client, owner=owner, client_name=known.display_name if known else client)
    if kind == "deal":
        open_ids = [candidate.id for candidate in loaded.config.open_stages]
        stage = given["stage"] or (open_ids[0] if open_ids else None)
        if stage not in open_ids:
            raise ToolError(f"--stage: a new deal starts in an open stage ({', '.join(open_ids)}); "
                            "win or lose it afterwards with `plaintext-crm move`")
        next_action = ask(given["next_action"], "Next action", text_converter, missing=missing, option="--next")
        due = date_value(given["due"], today, "--due", loaded) if given["due"] else \
            ask(None, f"Next action due ({DATE_HELP})", date_converter(today, loaded), default="+3d",
                missing=missing, option="--due")
        currency = given["currency"].strip().upper() if given["currency"] else None
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            raise ToolError(f"--currency: '{given['currency']}' is not a three-letter code like EUR or USD")
        context.update(stage=stage, value=_number(given["value"]), currency=currency, next_action=next_action,
                       next_action_due=due,
                       expected_close=date_value(given["expected_close"], today, "--expected-close", loaded))
    else:
        status = given["status"] or "planned"
        if status not in PROJECT_STATUSES:
            raise ToolError(f"--status: '{status}' is not one of {', '.join(PROJECT_STATUSES)}")
        context.update(deal=deal_id, status=status,
                       start=date_value(given["start"], today, "--start", loaded) or today,
                       due=date_value(given["due"], today, "--due", loaded))
    fail_missing(missing, f"a new {kind}")
    return context
