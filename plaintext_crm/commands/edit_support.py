"""What the editing commands (new, next, move, handoff) share: finding records, asking, checking, writing."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from plaintext_crm.editing.atomic import inspect_target
from plaintext_crm.editing.edit import FileChange, apply_changes
from plaintext_crm.editing.record_templates import id_problem
from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal, terminal_lines
from plaintext_crm.lint.rules.names import name_problems
from plaintext_crm.records.dates import parse_date
from plaintext_crm.records.loader import find_workspace, load_workspace, read_file, workspace_root
from plaintext_crm.records.model import Deal, Workspace
from plaintext_crm.records.workdays import WorkCalendar

T = TypeVar("T")


def interactive() -> bool:
    """True when a person is at the keyboard: only then are missing fields asked for."""
    return sys.stdin.isatty()


ID_FORM = ("an id is the file name without .md: letters, digits, '-' and '_' (lowercase kebab-case like "
           "acme-website is best), not starting with '.' or '-'")


def id_refusal(record_id: str) -> str | None:
    """Why `record_id` is not a usable record id (a safe file name), or None when it is."""
    problem = id_problem(record_id)
    if problem is None:
        unsafe, _odd = name_problems(record_id)  # what lint's N001 calls an unsafe file name
        if unsafe:
            problem = f"the id holds {'; '.join(unsafe)}"
    return problem


def open_workspace(workspace: Path | None) -> Workspace:
    """Load the workspace named, else the one around the current folder."""
    loaded, _findings = load_workspace(workspace_root(workspace))  # problems in other files do not stop an edit
    return loaded


def is_path(reference: str) -> bool:
    """A DEAL argument with a folder separator or ending in .md is a path; anything else is an id."""
    return "/" in reference or os.sep in reference or bool(os.altsep and os.altsep in reference) \
        or reference.lower().endswith(".md")


def open_deal(workspace: Path | None, reference: str) -> tuple[Workspace, Deal]:
    """The workspace and the deal named by REFERENCE: an id (`acme-site`), looked up in the workspace, or the
    path of its file, which must exist, as a plain file in the workspace's deals/ folder.

    A relative path is read from the current folder, else from the workspace folder when one is named. No
    name is ever looked up elsewhere: a path that does not exist is refused, not taken for the deal of that
    name.
    """
    if not is_path(reference):
        loaded = open_workspace(workspace)
        return loaded, find_deal(loaded, reference)
    given = Path(reference)
    candidates = [given] if given.is_absolute() else [Path.cwd() / given] + ([workspace / given] if workspace else [])
    found = next((path for path in candidates if os.path.lexists(path)), None)
    if found is None:
        raise ToolError(f"{reference}: no such file; DEAL is a deal id (like acme-site) or the path of an existing "
                        "file in the workspace's deals/ folder; nothing was written")
    if found.is_dir() and not found.is_symlink():
        raise ToolError(f"{reference}: a folder, not a deal file (deals/<id>.md); nothing was written")
    folder = Path(os.path.realpath(found.parent))
    try:
        root = workspace_root(workspace) if workspace is not None else find_workspace(folder)
    except ToolError as exc:
        raise ToolError(f"{reference}: {exc.message}") from None
    deals = Path(os.path.realpath(root)) / "deals"
    if folder != deals or not found.name.endswith(".md"):
        raise ToolError(f"{reference}: not in the deals folder of the workspace ({deals}); a deal is edited "
                        "only as deals/<id>.md of its workspace; nothing was written")
    rel = f"deals/{found.name}"
    inspect_target(root, rel)  # a link, a folder, a folder on the way that is a link: refused, saying so
    loaded = open_workspace(root)
    return loaded, find_deal(loaded, found.name[:-3])


def find_deal(workspace: Workspace, deal_id: str) -> Deal:
    """The deal with this id; a clear message (with close ids) when there is none."""
    deal = workspace.deals.get(deal_id)
    if deal is not None:
        return deal
    problem = id_refusal(deal_id)
    if problem is not None:
        raise ToolError(f"'{deal_id}' is not a deal id: {problem}; {ID_FORM}; or give the path of the deal's "
                        "file; nothing was written")
    rel = f"deals/{deal_id}.md"
    if inspect_target(workspace.root, rel) is not None:
        parsed = read_file(workspace.root, rel).problem
        why = f"{parsed.line}: {parsed.message}" if parsed else "1: it cannot be read as a deal"
        raise ToolError(f"{rel}:{why}; fix it before editing it (nothing was written)")
    close = difflib.get_close_matches(deal_id, list(workspace.deals), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ToolError(f"no deal '{deal_id}' in {workspace.root} (no {rel}){hint}")


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
            click.echo(terminal_lines(change.diff()), nl=False)
        click.echo(f"Dry run: {len(changes)} file{'s' if len(changes) != 1 else ''} would change; nothing was written.")
        for note in notes:
            click.echo(f"  {terminal(note)}")
        return
    apply_changes(changes)
    for change in changes:
        verb = "Created" if change.before is None else "Updated"
        click.echo(f"{verb} {terminal(change.rel)}")
        for line in change.summary:
            click.echo(f"  {terminal(line)}")
    for note in notes:
        click.echo(f"  {terminal(note)}")


def dry_run_option(function: Any) -> Any:
    """`--dry-run`: print the unified diff, write nothing."""
    return click.option("--dry-run", "-n", is_flag=True, help="Print the diff and write nothing.")(function)
