"""`plaintext-crm changes`: what changed in the pipeline between two points of git history."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import click

from plaintext_crm.changes import SECTIONS, Changes, DealChange
from plaintext_crm.options import today_option, workspace_argument

FORMATS = ("text", "markdown", "json")


def money(value: Decimal, currency: str, signed: bool = False) -> str:
    """12,000 EUR; cents only when there are some; +/- when `signed`."""
    text = f"{abs(value):,.0f}" if value == value.to_integral_value() else f"{abs(value):,.2f}"
    sign = ("+" if value > 0 else "-" if value < 0 else "±") if signed else ("-" if value < 0 else "")
    return f"{sign}{text} {currency}"


def _plain(item: object) -> str:
    if item is None:
        return "-"
    return item.isoformat() if isinstance(item, dt.date) else str(item)


def _move(change: DealChange, what: str) -> str:
    if change.before is None and what == "stage":
        return _plain(change.after)
    if change.after is None and what == "stage":
        return f"was {_plain(change.before)}"
    text = f"{_plain(change.before)} -> {_plain(change.after)}"
    if isinstance(change.before, dt.date) and isinstance(change.after, dt.date):
        text += f" (+{(change.after - change.before).days} days)"
    return text


def _left_out(changes: Changes) -> list[str]:
    notes = []
    for label, amount in (("before", changes.open_before), ("after", changes.open_after)):
        if amount.unconverted:
            notes.append(f"left out {label} (no exchange rate): {', '.join(amount.unconverted)}")
    return notes


def render_text(changes: Changes) -> str:
    """Plain text for the terminal."""
    lines = [f"Changes from {changes.since.label} to {changes.until.label}", ""]
    if changes.empty:
        lines += ["No deal changed.", ""]
    for attribute, heading, what in SECTIONS:
        items: tuple[DealChange, ...] = getattr(changes, attribute)
        if items:
            lines.append(f"{heading} ({len(items)})")
            width = max(len(item.id) for item in items)
            for item in items:
                value = money(item.value, changes.open_after.currency) if item.value is not None else "no value"
                lines.append(f"  {item.id:<{width}}  {_move(item, what):<34} {item.owner or '(no owner)':<10} "
                             f"{value}  {item.title}".rstrip())
            lines.append("")
    currency = changes.open_after.currency
    for label, before, after, delta in (
            ("Open pipeline", changes.open_before, changes.open_after, changes.open_delta),
            ("Weighted pipeline", changes.weighted_before, changes.weighted_after, changes.weighted_delta)):
        lines.append(f"{label + ':':<19} {money(before.value, currency)} -> {money(after.value, currency)} "
                     f"({money(delta, currency, signed=True)})")
    lines += [f"Note: {note}" for note in _left_out(changes)]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(changes: Changes) -> str:
    """GitHub-flavoured Markdown, for a pull-request comment or a CI job summary."""
    currency = changes.open_after.currency
    lines = [f"## Pipeline changes: {changes.since.label} → {changes.until.label}", "",
             "| | Before | After | Change |", "|---|---:|---:|---:|"]
    for label, before, after, delta in (
            ("Open pipeline", changes.open_before, changes.open_after, changes.open_delta),
            ("Weighted pipeline", changes.weighted_before, changes.weighted_after, changes.weighted_delta)):
        lines.append(f"| {label} | {money(before.value, currency)} | {money(after.value, currency)} | "
                     f"{money(delta, currency, signed=True)} |")
    lines.append("")
    if changes.empty:
        lines += ["No deal changed.", ""]
    for attribute, heading, what in SECTIONS:
        items: tuple[DealChange, ...] = getattr(changes, attribute)
        if items:
            lines += [f"### {heading} ({len(items)})", "", f"| Deal | {what.capitalize()} | Owner | Value |",
                      "|---|---|---|---:|"]
            for item in items:
                value = money(item.value, currency) if item.value is not None else "no value"
                lines.append(f"| `{item.id}` {_cell(item.title)} | {_cell(_move(item, what))} | "
                             f"{_cell(item.owner or '(no owner)')} | {value} |")
            lines.append("")
    lines += [f"_Note: {note}_" for note in _left_out(changes)]
    return "\n".join(lines).rstrip() + "\n"


@click.command()
@workspace_argument
@click.option("--since", metavar="REV|DATE",
              help="Start point: a git revision (HEAD~5, v1.2, a hash) or a date YYYY-MM-DD "
                   "(the last commit before that day). Default: seven days before today.")
@click.option("--until", metavar="REV|DATE",
              help="End point, like --since (a date means the end of that day). Default: the working tree, "
                   "uncommitted edits included.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, markdown for a pull-request or CI summary, json for tools.")
@today_option
def changes(workspace: Path | None, since: str | None, until: str | None, output_format: str,
            today: dt.date) -> None:
    """What changed in the pipeline between two points of git history: deals added, advanced,
    slipped back, won and lost, owner changes, expected-close pushes, and the change in open and
    weighted pipeline.

    Exit status: 0 report printed, 2 no git history or an unknown --since/--until.
    """
    from plaintext_crm.cache import load_workspace_cached
    from plaintext_crm.changes import changes_between
    from plaintext_crm.history import read_history, say_once
    from plaintext_crm.loader import workspace_root

    root = workspace_root(workspace)
    loaded, _findings = load_workspace_cached(root)
    history = read_history(root)
    for notice in history.notices if history.available else ():
        say_once(notice)
    report = changes_between(root, loaded, history, today, since, until)
    if output_format == "json":
        click.echo(json.dumps(report.to_data(), indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report))
