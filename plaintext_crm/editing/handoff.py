"""The hand-off from sale to delivery: a won deal becomes projects/<deal-id>.md, from the kickoff template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plaintext_crm.editing.atomic import inspect_target
from plaintext_crm.editing.edit import FileChange, new_file, plan_edit
from plaintext_crm.editing.record_templates import find_template, render_record
from plaintext_crm.errors import ToolError
from plaintext_crm.records.config import DEFAULT_HANDOFF_FIELDS, Config
from plaintext_crm.records.dates import promised_finish
from plaintext_crm.records.frontmatter import ParsedFile
from plaintext_crm.records.loader import build_deal
from plaintext_crm.records.model import DEAL_KEYS, Deal, Workspace
from plaintext_crm.records.workdays import WorkCalendar

STANDARD_HANDOFF = DEFAULT_HANDOFF_FIELDS  # the kickoff template names these; others go to extra_handoff


def missing_handoff_fields(config: Config, deal: Deal, values: Mapping[str, Any] | None = None) -> list[str]:
    """The hand-off fields crm.yaml requires that the deal lacks or has unusable (`Deal.handoff_gaps`, what
    D004 and F002 report), in crm.yaml's order; with `values`, as if they were written into the deal."""
    if values:
        deal = build_deal(ParsedFile(deal.path, {**deal.fields, **values}), [])
    missing, invalid = deal.handoff_gaps(config.handoff_fields)
    gaps = {*missing, *invalid}
    return [key for key in config.handoff_fields if key in gaps]


def member_name(workspace: Workspace, member_id: str | None) -> str:
    """A team member's name, or the id itself when the team does not list them."""
    if member_id is None:
        return "(nobody)"
    member = workspace.config.team.get(member_id)
    return member.name if member else member_id


@dataclass(frozen=True, slots=True)
class HandoffPlan:
    """What `handoff` will do: create the project, set the deal's `project` key; and what it read."""

    project: FileChange
    deal: FileChange
    due: dt.date | None
    notes: tuple[str, ...]


def plan_handoff(workspace: Workspace, deal: Deal, today: dt.date, owner: str | None = None) -> HandoffPlan:
    """Plan the project for a won deal with a complete hand-off; raise ToolError saying why not."""
    rel = f"projects/{deal.id}.md"
    _check_ready(workspace, deal, rel)
    due = promised_finish(deal.promised_timeline, deal.kickoff_date, WorkCalendar.from_config(workspace.config))
    notes = []
    if due is not None:
        notes.append(f"due {due} from the promised timeline '{deal.promised_timeline}'")
    elif deal.promised_timeline:
        notes.append(f"due left empty: cannot read a date from the promised timeline '{deal.promised_timeline}'")
    if owner is None:  # the salesperson hands over; who runs delivery is a decision, not a default
        notes.append("owner left empty: give --owner MEMBER, or set `owner:` in the project, for who runs it")
    context = kickoff_context(workspace, deal, today, owner, due)
    template = find_template(workspace.root, "kickoff.md")
    text = render_record(template, context, rel)
    project = new_file(workspace.root, rel, text, (f"created from {template.source} for deal '{deal.id}'",))
    deal_change = plan_edit(workspace.root, deal.path, {"project": deal.id}, order=DEAL_KEYS)
    return HandoffPlan(project, deal_change, due, tuple(notes))


def _check_ready(workspace: Workspace, deal: Deal, rel: str) -> None:
    """Refuse (ToolError) a deal that is not won, has an incomplete hand-off, or was handed off already."""
    config = workspace.config
    if not workspace.is_won(deal):
        raise ToolError(f"deal '{deal.id}' is in stage '{deal.stage}', not won; "
                        f"win it first with `plaintext-crm move {deal.id} "
                        f"{next((s.id for s in config.stages if s.is_won), 'won')}`")
    missing = missing_handoff_fields(config, deal)
    if missing:
        raise ToolError(f"the hand-off of deal '{deal.id}' is incomplete: missing {', '.join(missing)}; "
                        f"fill them in {deal.path}")
    same = [other for other in workspace.projects.values() if other.id.lower() == deal.id.lower()]
    if same or inspect_target(workspace.root, rel) is not None:  # links and folders are refused there
        raise ToolError(f"{same[0].path if same else rel} already exists; deal '{deal.id}' was handed off already")
    project_id = workspace.project_of(deal)
    if project_id is not None:
        project = workspace.projects[project_id]
        how = f"its project is '{project_id}' ({project.path})" if project_id == deal.project \
            else f"{project.path} names it as its deal"
        raise ToolError(f"deal '{deal.id}' was handed off already: {how}")


def kickoff_context(workspace: Workspace, deal: Deal, today: dt.date, owner: str | None,
                    due: dt.date | None) -> dict[str, Any]:
    """What the kickoff template may use: the deal's context carried over (docs/editing.md lists it)."""
    config = workspace.config
    kickoff = deal.kickoff_date
    client = workspace.clients.get(deal.client or "")
    return {
        "id": deal.id, "today": today, "title": deal.title or deal.id, "client": deal.client,
        "client_name": client.display_name if client else deal.client or "",
        "deal": deal.id, "deal_title": deal.display_title, "deal_owner": deal.owner,
        "deal_owner_name": member_name(workspace, deal.owner), "owner": owner,
        "owner_name": member_name(workspace, owner),
        "status": "active" if kickoff is not None and kickoff <= today else "planned",
        "kickoff_status": "done" if kickoff is not None and kickoff < today else "todo",
        "start": kickoff, "due": due, "value": deal.value, "currency": deal.currency or config.currency,
        # the project's budget (invoices share it): the deal's value when it is in the workspace currency
        "budget": (int(deal.value) if float(deal.value).is_integer() else deal.value)
        if deal.value is not None and deal.currency in (None, config.currency) else None,
        "closed_on": deal.closed_on, "scope_summary": deal.scope_summary,
        "promised_timeline": deal.promised_timeline, "key_constraints": list(deal.key_constraints),
        "main_stakeholder": deal.main_stakeholder, "kickoff_date": kickoff,
        "extra_handoff": {key: deal.fields.get(key) for key in config.handoff_fields if key not in STANDARD_HANDOFF},
    }
