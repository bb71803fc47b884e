"""`plaintext-crm move DEAL STAGE`: change a deal's stage; won needs the hand-off, lost a reason."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

import click

from plaintext_crm.commands.edit_support import (
    ask,
    date_converter,
    date_value,
    dry_run_option,
    fail_missing,
    finish,
    interactive,
    open_deal,
    text_converter,
)
from plaintext_crm.editing.edit import REMOVE, plan_edit
from plaintext_crm.editing.handoff import missing_handoff_fields
from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.config import Stage
from plaintext_crm.records.dates import DATE_HELP
from plaintext_crm.records.model import DEAL_KEYS, Deal, Workspace, lost_reason_valid

# Hand-off fields with their own option; any other field crm.yaml requires is given with --set.
HANDOFF_OPTIONS = {"scope_summary": "--scope-summary", "promised_timeline": "--promised-timeline",
                   "key_constraints": "--key-constraint", "main_stakeholder": "--main-stakeholder",
                   "kickoff_date": "--kickoff-date"}


def _stage(loaded: Workspace, name: str) -> Stage:
    stage = loaded.config.stage(name) or next(
        (candidate for candidate in loaded.config.stages if candidate.id.lower() == name.strip().lower()), None)
    if stage is None:
        ids = [candidate.id for candidate in loaded.config.stages]
        close = difflib.get_close_matches(name.strip().lower(), ids, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ToolError(terminal(f"no stage '{name}' in the pipeline (stages: {', '.join(ids)}){hint}"))
    return stage


def _handoff_values(loaded: Workspace, today: dt.date, given: dict[str, Any], extra: tuple[str, ...]) -> dict[str, Any]:
    values = {key: value for key, value in given.items() if value not in (None, ())}
    if "key_constraints" in values:
        values["key_constraints"] = [item.strip() for item in values["key_constraints"] if item.strip()]
    if "kickoff_date" in values:
        values["kickoff_date"] = date_value(values["kickoff_date"], today, "--kickoff-date", loaded)
    for item in extra:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key.isidentifier():
            raise ToolError(f"--set '{item}': write it as FIELD=VALUE, e.g. --set budget_holder=CFO")
        if key in ("stage", "stage_since", "closed_on", "lost_reason"):
            raise ToolError(f"--set {key}: `move` sets {key} itself")
        values[key] = date_value(value, today, f"--set {key}", loaded) if key.endswith(("_date", "_due")) \
            else value.strip()
    return values


def _ask_handoff(loaded: Workspace, record: Deal, today: dt.date, values: dict[str, Any]) -> list[str]:
    """Ask for the missing hand-off fields in a terminal; return the ones still missing."""
    missing = missing_handoff_fields(loaded.config, record, values)
    if not missing or not interactive():
        return missing
    click.echo(f"Winning '{terminal(record.id)}' needs the hand-off for delivery:")
    for key in missing:
        label = key.replace("_", " ").capitalize()
        if key == "key_constraints":
            answer = ask(None, f"{label} (separate several with ';')", text_converter)
            values[key] = [part.strip() for part in str(answer).split(";") if part.strip()]
        elif key.endswith(("_date", "_due")):
            values[key] = ask(None, f"{label} ({DATE_HELP})", date_converter(today, loaded))
        else:
            values[key] = ask(None, label, text_converter)
    return missing_handoff_fields(loaded.config, record, values)


@click.command()
@click.argument("deal")
@click.argument("stage")
@workspace_argument
@click.option("--scope-summary", metavar="TEXT", help="Hand-off: what was sold, in a sentence or two.")
@click.option("--promised-timeline", metavar="TEXT", help="Hand-off: e.g. '12 weeks from kickoff' or a date.")
@click.option("--key-constraint", "key_constraints", metavar="TEXT", multiple=True,
              help="Hand-off: a key constraint (repeat the option for several).")
@click.option("--main-stakeholder", metavar="TEXT", help="Hand-off: the client's main person.")
@click.option("--kickoff-date", metavar="DATE", help=f"Hand-off: the kickoff day ({DATE_HELP}).")
@click.option("--set", "extra", metavar="FIELD=VALUE", multiple=True,
              help="Another hand-off field crm.yaml requires (repeatable).")
@click.option("--reason", "--lost-reason", "lost_reason", metavar="REASON",
              help="Why the deal was lost; or, moving a won or lost deal back to an open stage, why it is reopened.")
@click.option("--keep-next-action", is_flag=True,
              help="Moving to won or lost: keep next_action and next_action_due (by default they are removed).")
@dry_run_option
@today_option
def move(deal: str, stage: str, workspace: Path | None, scope_summary: str | None, promised_timeline: str | None,
         key_constraints: tuple[str, ...], main_stakeholder: str | None, kickoff_date: str | None,
         extra: tuple[str, ...], lost_reason: str | None, keep_next_action: bool, dry_run: bool,
         today: dt.date) -> None:
    """Move DEAL to STAGE and set stage_since to today.

    Moving to the won stage needs every hand-off field crm.yaml requires, already in the deal or given
    here as options; moving to the lost stage needs a reason (--reason). Both set closed_on and remove the
    open deal's next action (next_action, next_action_due) unless --keep-next-action. Moving a closed deal
    back to an open stage removes its closed_on and needs a reason too (--reason, written as
    reopen_reason).
    """
    loaded, record = open_deal(workspace, deal)
    target = _stage(loaded, stage)
    values = _handoff_values(loaded, today, {"scope_summary": scope_summary, "promised_timeline": promised_timeline,
                                             "key_constraints": key_constraints,
                                             "main_stakeholder": main_stakeholder, "kickoff_date": kickoff_date},
                             extra)
    updates: dict[str, Any] = {}
    if record.stage != target.id:
        updates.update(stage=target.id, stage_since=today)
    updates.update(values)
    notes = []
    if target.is_won:
        still_missing = _ask_handoff(loaded, record, today, values)
        updates.update(values)
        if still_missing:
            options = [HANDOFF_OPTIONS.get(key, f"--set {key}=...") for key in still_missing]
            raise ToolError(f"cannot move '{record.id}' to {target.id}: the hand-off is missing "
                            f"{', '.join(still_missing)}; give {' '.join(options)}; nothing was written")
        notes.append(f"next: `plaintext-crm handoff {record.id}` creates its delivery project")
    if target.is_lost:
        allowed = loaded.config.lost_reasons
        missing: list[str] = []

        def check_reason(text: str) -> str:
            if not text.strip():
                raise ValueError("a reason is needed")
            if not lost_reason_valid(text.strip(), allowed):
                raise ValueError(f"'{text}' is not one of {', '.join(allowed or ())}")
            return text.strip()

        has_reason = lost_reason_valid(record.lost_reason, allowed)  # D007's test
        if lost_reason is not None:
            try:
                reason: str | None = check_reason(lost_reason)
            except ValueError as exc:
                raise ToolError(f"--reason: {exc}") from None
        elif has_reason:
            reason = None  # the deal already has a valid reason
        else:
            reason = ask(None, f"Lost reason{' (' + ', '.join(allowed) + ')' if allowed else ''}", check_reason,
                         missing=missing, option="--reason" + (f" ({'|'.join(allowed)})" if allowed else ""))
        fail_missing(missing, f"moving '{record.id}' to {target.id}")
        if reason is not None:
            updates["lost_reason"] = reason
    current = loaded.config.stage(record.stage)
    if target.is_open and current is not None and not current.is_open and "stage" in updates:
        missing_reason: list[str] = []  # reopening a closed deal says why (lint T001 in the hook)

        def check_reopen(text: str) -> str:
            if not text.strip():
                raise ValueError("a reason is needed")
            return text.strip()

        reopen = ask(lost_reason.strip() or None if lost_reason is not None else None,
                     f"Why is '{record.id}' reopened", check_reopen, missing=missing_reason, option="--reason")
        fail_missing(missing_reason, f"reopening '{record.id}' (it is {record.stage})")
        updates["reopen_reason"] = reopen
    if (target.is_won or target.is_lost) and "stage" in updates:
        updates["closed_on"] = today
        cleared = [key for key in ("next_action", "next_action_due") if key in record.fields]
        if cleared and not keep_next_action:
            # a closed deal has no follow-up: its old next action would sit in no list yet read as pending
            updates.update(dict.fromkeys(cleared, REMOVE))
            action = record.fields.get("next_action")
            notes.append(f"removed the next action{f' {str(action)!r}' if action else ''}: "
                         "a closed deal has none (--keep-next-action keeps it)")
    elif target.is_open and "closed_on" in record.fields:
        updates["closed_on"] = REMOVE
    if not updates:
        click.echo(f"'{terminal(record.id)}' is already in stage {terminal(target.id)}; nothing changed.")
        return
    finish([plan_edit(loaded.root, record.path, updates, order=DEAL_KEYS)], dry_run, notes)
