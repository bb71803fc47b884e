"""Writing a report table as aligned text (colour only when asked), CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import click

from plaintext_crm.escape import json_dumps, markdown_text, terminal
from plaintext_crm.money import cents
from plaintext_crm.reports.tables import Cell, Column, Row, Table

FORMATS = ("text", "csv", "json", "markdown")
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell starting so is a formula to spreadsheets


def shown(value: Cell, column: Column) -> str:
    """A cell for people: money with thousands separators and cents, ratios as percentages, — for none."""
    if value is None:
        return "—"
    if column.kind == "money" and isinstance(value, int | float | Decimal):
        return f"{cents(Decimal(str(value))):,.2f}"
    if column.kind == "ratio" and isinstance(value, int | float | Decimal):
        return f"{Decimal(str(value)) * 100:.0f}%"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def plain(value: Cell, column: Column) -> Any:
    """A cell for tools: numbers as numbers (money in cents precision), dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(cents(value)) if column.kind == "money" else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _heading(table: Table) -> str:
    who = f", owner {table.owner}" if table.owner else ""
    return f"{table.title} on {table.today.isoformat()}{who} (amounts in {table.currency})"


def render_text(table: Table, colour: bool) -> str:
    """Aligned columns (numbers to the right), a rule under the heading and above the totals."""
    rows = [*table.rows, *([table.total] if table.total else [])]
    cells = [[terminal(shown(value, column)) for value, column in zip(row.cells, table.columns, strict=True)]
             for row in rows]
    headings = [column.heading for column in table.columns]
    widths = [max([len(headings[index]), *(len(line[index]) for line in cells)]) for index in range(len(headings))]

    def line(values: list[str]) -> str:
        return "  ".join(value.rjust(width) if column.numeric else value.ljust(width)
                         for value, width, column in zip(values, widths, table.columns, strict=True)).rstrip()

    def style(text: str, **how: Any) -> str:
        return click.style(text, **how) if colour else text

    out = [terminal(_heading(table)), "", style(line(headings), bold=True), "-" * len(line(headings))]
    for row, values in zip(table.rows, cells, strict=False):
        out.append(style(line(values), fg="yellow") if row.alert else line(values))
    if table.total is not None:
        out += ["-" * len(line(headings)), style(line(cells[-1]), bold=True)]
    if not table.rows:
        out.append("(nothing to show)")
    out += [terminal(f"note: {note}") for note in table.notes]
    return "\n".join(out) + "\n"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value  # shown as text by spreadsheets, never run as a formula
    return "" if value is None else value


def render_csv(table: Table) -> str:
    """One header row of column keys, then the rows and the totals row; numbers unformatted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.key for column in table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([_csv_cell(plain(value, column)) for value, column in zip(row.cells, table.columns,
                                                                                   strict=True)])
    return buffer.getvalue()


def _record(row: Row, table: Table) -> dict[str, Any]:
    return {column.key: plain(value, column) for value, column in zip(row.cells, table.columns, strict=True)}


def render_json(table: Table) -> str:
    """{report, today, currency, owner, columns, rows, total, notes}: rows as objects keyed by column key."""
    return json_dumps({
        "report": table.report, "today": table.today.isoformat(), "currency": table.currency, "owner": table.owner,
        "columns": [{"key": column.key, "heading": column.heading, "kind": column.kind} for column in table.columns],
        "rows": [_record(row, table) for row in table.rows],
        "total": _record(table.total, table) if table.total else None, "notes": list(table.notes),
    }) + "\n"


def render_markdown(table: Table) -> str:
    """A GFM table (cells escaped for it), totals in bold, for a pull request or $GITHUB_STEP_SUMMARY."""
    def line(values: list[str]) -> str:
        return "| " + " | ".join(values) + " |"

    out = [f"### {markdown_text(_heading(table))}", "",
           line([markdown_text(column.heading) for column in table.columns]),
           line(["---:" if column.numeric else "---" for column in table.columns])]
    for row in table.rows:
        out.append(line([markdown_text(shown(value, column)) for value, column in zip(row.cells, table.columns,
                                                                                       strict=True)]))
    if table.total is not None:
        out.append(line([f"**{markdown_text(shown(value, column))}**"
                         for value, column in zip(table.total.cells, table.columns, strict=True)]))
    out += ["", *(f"{markdown_text('note: ' + note)}" for note in table.notes)]
    return "\n".join(out).rstrip("\n") + "\n"


def render(table: Table, output_format: str, *, colour: bool = False) -> str:
    """The table in one of FORMATS."""
    if output_format == "csv":
        return render_csv(table)
    if output_format == "json":
        return render_json(table)
    if output_format == "markdown":
        return render_markdown(table)
    return render_text(table, colour)
