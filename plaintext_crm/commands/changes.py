"""`plaintext-crm changes`: what changed in the pipeline between two points of git history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import click

from plaintext_crm.escape import json_dumps, markdown_code, markdown_text, terminal
from plaintext_crm.history.changes import SECTIONS, Changes, DealChange
from plaintext_crm.options import today_option, workspace_argument

FORMATS = ("text", "markdown", "json")


def money(value: Decimal, currency: str, signed: bool = False) -> str:
    """12,000 EUR; cents only when there are some; +/- when `signed`."""
    text = f"{abs(value):,.0f}" if value == value.to_integral_value() else f"{abs(value):,.2f}"
    sign = ("+" if value > 0 else "-" if value < 0 else "±") if signed else ("-" if value < 0 else "")
    return f"{sign}{text} {currency}"


def _as_text(item: object) -> str:
    """A changed value as the report shows it: '-' for none, ISO dates."""
    if item is None:
        return "-"
    return item.isoformat() if isinstance(item, dt.date) else str(item)


def _move(change: DealChange, what: str, escape: Callable[[str], str]) -> str:
    """'proposal -> won', 'was lead', '2026-12-01 -> 2027-01-15 (+45 days)'; values through `escape`."""
    if change.before is None and what == "stage":
        return escape(_as_text(change.after))
    if change.after is None and what == "stage":
        return f"was {escape(_as_text(change.before))}"
    text = f"{escape(_as_text(change.before))} -> {escape(_as_text(change.after))}"
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
    """Plain text for the terminal; ids, titles, stages and owners with their hidden characters escaped."""
    lines = [f"Changes from {terminal(changes.since.label)} to {terminal(changes.until.label)}", ""]
    if changes.empty:
        lines += ["No deal changed.", ""]
    for attribute, heading, what in SECTIONS:
        items: tuple[DealChange, ...] = getattr(changes, attribute)
        if items:
            lines.append(f"{heading} ({len(items)})")
            width = max(len(terminal(item.id)) for item in items)
            for item in items:
                value = money(item.value, changes.open_after.currency) if item.value is not None else "no value"
                lines.append(f"  {terminal(item.id):<{width}}  {_move(item, what, terminal):<34} "
                             f"{terminal(item.owner or '(no owner)'):<10} {value}  {terminal(item.title)}".rstrip())
            lines.append("")
    currency = changes.open_after.currency
    for label, before, after, delta in (
            ("Open pipeline", changes.open_before, changes.open_after, changes.open_delta),
            ("Weighted pipeline", changes.weighted_before, changes.weighted_after, changes.weighted_delta)):
        lines.append(f"{label + ':':<19} {money(before.value, currency)} -> {money(after.value, currency)} "
                     f"({money(delta, currency, signed=True)})")
    lines += [f"Note: {terminal(note)}" for note in _left_out(changes)]
    return "\n".join(lines)


def render_markdown(changes: Changes) -> str:
    """GitHub-flavoured Markdown, for a pull-request comment or a CI job summary.

    Every value from the workspace (ids, titles, stages, owners) or the command line (revision labels)
    is written as inert text (plaintext_crm.escape.markdown_text): no HTML, link, image or emphasis
    survives, and a `|` or a line break cannot add a cell or a row to a table."""
    currency = changes.open_after.currency
    lines = [f"## Pipeline changes: {markdown_text(changes.since.label)} → {markdown_text(changes.until.label)}", "",
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
                lines.append(f"| {markdown_code(item.id)} {markdown_text(item.title)} | "
                             f"{_move(item, what, markdown_text)} | {markdown_text(item.owner or '(no owner)')} | "
                             f"{value} |")
            lines.append("")
    lines += [f"_Note: {markdown_text(note)}_" for note in _left_out(changes)]
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
    from plaintext_crm.history.changes import changes_between
    from plaintext_crm.history.notices import say_once
    from plaintext_crm.history.record_history import as_of, read_history
    from plaintext_crm.records.loader import workspace_root
    from plaintext_crm.records.parse_cache import load_workspace_cached

    root = workspace_root(workspace)
    loaded, _findings = load_workspace_cached(root)
    history = as_of(read_history(root), today)  # commits dated after today count as today, with a notice
    for notice in history.notices if history.available else ():
        say_once(notice)
    report = changes_between(root, loaded, history, today, since, until)
    if output_format == "json":
        click.echo(json_dumps(report.to_data()))
    elif output_format == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report))
