"""What the editing commands (new, next, move, handoff) share: finding records, asking, checking, writing."""

from __future__ import annotations

import datetime as dt
import difflib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from plaintext_crm.dates import parse_date
from plaintext_crm.edit import FileChange, apply_changes
from plaintext_crm.errors import ToolError
from plaintext_crm.loader import find_workspace, load_workspace, read_file, workspace_root
from plaintext_crm.model import Deal, Workspace
from plaintext_crm.workdays import WorkCalendar

T = TypeVar("T")


def interactive() -> bool:
    """True when a person is at the keyboard: only then are missing fields asked for."""
    return sys.stdin.isatty()


def open_workspace(workspace: Path | None, record: str | None = None) -> Workspace:
    """Load the workspace named, else the one around a record path given as RECORD, else the current one."""
    if workspace is None and record is not None and record.endswith(".md") and Path(record).is_file():
        root = find_workspace(Path(record).resolve().parent)
    else:
        root = workspace_root(workspace)
    loaded, _findings = load_workspace(root)  # problems in other files do not stop an edit
    return loaded


def record_id(reference: str) -> str:
    """`acme-site`, `deals/acme-site.md` or a path to the file -> `acme-site`."""
    name = reference.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name.removesuffix(".md")


def find_deal(workspace: Workspace, reference: str) -> Deal:
    """The deal named by id or path; a clear message (with close ids) when there is none."""
    deal_id = record_id(reference)
    deal = workspace.deals.get(deal_id)
    if deal is not None:
        return deal
    path = workspace.root / "deals" / f"{deal_id}.md"
    if path.is_file():
        problem = read_file(workspace.root, f"deals/{deal_id}.md").problem
        why = f"{problem.line}: {problem.message}" if problem else "1: it cannot be read as a deal"
        raise ToolError(f"deals/{deal_id}.md:{why}; fix it before editing it (nothing was written)")
    close = difflib.get_close_matches(deal_id, list(workspace.deals), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ToolError(f"no deal '{deal_id}' in {workspace.root} (no deals/{deal_id}.md){hint}")


def check_owner(workspace: Workspace, owner: str, what: str) -> None:
    """With a team in crm.yaml, an owner must be an active member (lint D001 and R001 say the same)."""
    team = workspace.config.team
    if not team:
        return
    member = team.get(owner)
    if member is None:
        close = difflib.get_close_matches(owner, list(team), n=2, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ToolError(f"{what}: '{owner}' is not in the team of crm.yaml{hint}; members: "
                        f"{', '.join(m.id for m in team.values() if m.active)}")
    if not member.active:
        raise ToolError(f"{what}: '{owner}' is not active in crm.yaml (active: false); choose an active member")


def check_client(workspace: Workspace, client: str) -> None:
    """The client must exist as clients/<id>.md."""
    if client not in workspace.clients:
        close = difflib.get_close_matches(client, list(workspace.clients), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; create it with `plaintext-crm new client {client}`"
        raise ToolError(f"--client: no client '{client}' (clients/{client}.md){hint}")


def date_value(text: str | None, today: dt.date, option: str, workspace: Workspace) -> dt.date | None:
    """Parse a date option (`2026-12-01`, `+3d`, `tomorrow`, `monday`, ...) or fail naming the option."""
    if text is None:
        return None
    try:
        return parse_date(text, today, WorkCalendar.from_config(workspace.config))
    except ValueError as exc:
        raise ToolError(f"{option}: {exc}") from None


def ask(value: T | None, prompt: str, convert: Callable[[str], T], *, default: str | None = None,
        missing: list[str] | None = None, option: str = "") -> T | None:
    """`value` when given; else ask in a terminal (again until `convert` accepts the answer); else note
    `option` in `missing` and return None."""
    if value is not None:
        return value
    if not interactive():
        if missing is not None:
            missing.append(option)
        return None
    while True:
        answer = click.prompt(prompt, default=default, show_default=default is not None)
        try:
            return convert(str(answer).strip())
        except (ToolError, ValueError) as exc:
            click.echo(f"  {exc.format_message() if isinstance(exc, ToolError) else exc}", err=True)


def date_converter(today: dt.date, workspace: Workspace) -> Callable[[str], dt.date]:
    """A converter for `ask` that reads dates as `parse_date` does."""
    def convert(text: str) -> dt.date:
        return parse_date(text, today, WorkCalendar.from_config(workspace.config))

    return convert


def text_converter(text: str) -> str:
    """A converter for `ask` that refuses an empty answer."""
    if not text.strip():
        raise ValueError("an answer is needed")
    return text.strip()


def fail_missing(missing: Sequence[str], what: str) -> None:
    """Stop when required options are missing (not in a terminal, nothing was asked)."""
    if missing:
        raise ToolError(f"{what} needs {', '.join(missing)} (asked for only when run in a terminal); "
                        "nothing was written")


def finish(changes: Sequence[FileChange], dry_run: bool, notes: Sequence[str] = ()) -> None:
    """Print the diff (--dry-run) or write the changes, then say what changed."""
    changes = [change for change in changes if change.changed]
    if not changes:
        click.echo("Nothing to change.")
        return
    if dry_run:
        for change in changes:
            click.echo(change.diff(), nl=False)
        click.echo(f"Dry run: {len(changes)} file{'s' if len(changes) != 1 else ''} would change; nothing was written.")
        for note in notes:
            click.echo(f"  {note}")
        return
    apply_changes(changes)
    for change in changes:
        verb = "Created" if change.before is None else "Updated"
        click.echo(f"{verb} {change.rel}")
        for line in change.summary:
            click.echo(f"  {line}")
    for note in notes:
        click.echo(f"  {note}")


def dry_run_option(function: Any) -> Any:
    """`--dry-run`: print the unified diff, write nothing."""
    return click.option("--dry-run", "-n", is_flag=True, help="Print the diff and write nothing.")(function)
