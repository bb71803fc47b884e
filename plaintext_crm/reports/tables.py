"""The terminal reports' tables (pipeline, forecast, owners, clients, projects), taken from the analysis.

Every figure is the analysis's own (board columns, forecast months, forecast accuracy, follow-ups, project
statuses) or a sum made by the sales analytics' `sum_amount`, as the site makes it: the report and the site
show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from plaintext_crm.analysis import Analysis
from plaintext_crm.records.model import DealStatus
from plaintext_crm.sales.analytics import owner_key
from plaintext_crm.sales.figures import Amount, DealFigures, board_from, sum_amount
from plaintext_crm.sales.forecast import forecast_from

Cell = str | int | float | Decimal | dt.date | None
REPORTS = ("pipeline", "forecast", "owners", "clients", "projects")


@dataclass(frozen=True)
class Column:
    """A column: its heading, its key in JSON and CSV, and whether it holds money or another number."""

    heading: str
    key: str
    kind: str = "text"  # "text", "money", "count", "ratio", "date"

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "count", "ratio")


@dataclass(frozen=True)
class Row:
    """One row of cells; `alert` marks it for colour on a terminal (rotting deals, a late project)."""

    cells: tuple[Cell, ...]
    alert: bool = False


@dataclass(frozen=True)
class Table:
    """One report: its columns, rows and (when it has one) the totals row."""

    report: str
    title: str
    today: dt.date
    currency: str
    owner: str | None  # the --owner filter, None for everyone
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    notes: tuple[str, ...] = ()


def _money(amount: Amount) -> Decimal:
    return amount.value


def _deals_of(analysis: Analysis, owner: str | None) -> Mapping[str, DealFigures]:
    deals = analysis.crm.deals
    if owner is None:
        return deals
    return {deal_id: figures for deal_id, figures in deals.items() if owner_key(figures.owner) == owner}


def pipeline_table(analysis: Analysis, owner: str | None) -> Table:
    """Open deals by stage: count, value, weighted value, rotting; the board's columns and totals."""
    board = analysis.crm.board if owner is None else analysis.owner_boards.get(owner) or board_from(
        {}, analysis.workspace.config, analysis.today)
    columns = (Column("Stage", "stage"), Column("Probability", "probability", "ratio"),
               Column("Deals", "deals", "count"), Column("Value", "value", "money"),
               Column("Weighted", "weighted", "money"), Column("Rotting", "rotting", "count"))
    rows = tuple(Row((column.stage, column.probability, column.count, _money(column.total),
                      _money(column.weighted), column.rotting_count), alert=column.rotting_count > 0)
                 for column in board.columns)
    total = Row(("Total", None, len(board.total.deal_ids) + len(board.total.unconverted) + len(board.total.no_value),
                 _money(board.total), _money(board.weighted), sum(column.rotting_count for column in board.columns)))
    return Table("pipeline", "Open pipeline by stage", analysis.today, board.currency, owner, columns, rows, total,
                 _incomplete(board.total))


def forecast_table(analysis: Analysis, owner: str | None) -> Table:
    """The forecast by month (won, open, weighted) with, for past months, the forecast at the month's start."""
    config = analysis.workspace.config
    forecast = analysis.crm.forecast if owner is None else forecast_from(_deals_of(analysis, owner), config,
                                                                          analysis.today)
    accuracy = {month.key: (month.total if owner is None else month.owners.get(_owner_id(owner)))
                for month in analysis.forecast_accuracy}
    columns = (Column("Month", "month"), Column("Won", "won", "money"), Column("Open", "open", "money"),
               Column("Weighted", "weighted", "money"), Column("Won + weighted", "expected", "money"),
               Column("Forecast at start", "forecast_at_start", "money"), Column("Ratio", "ratio", "ratio"))
    rows = []
    for bucket in (*forecast.months, forecast.overdue_close, forecast.no_date):
        past = accuracy.get(bucket.key)
        rows.append(Row((bucket.label, _money(bucket.won) if bucket.month else None, _money(bucket.open_value),
                         _money(bucket.weighted), bucket.total,
                         past.forecast_at_start if past else None, past.ratio if past else None),
                        alert=past is not None and past.ratio is not None and past.ratio < 0.5))
    total = Row(("Open pipeline, weighted", None, None, _money(forecast.weighted_total), None, None, None))
    return Table("forecast", "Forecast by month", analysis.today, forecast.currency, owner, columns, tuple(rows),
                 total, _incomplete(forecast.weighted_total))


def _owner_id(owner: str) -> str:
    return "" if owner == owner_key(None) else owner


def owners_table(analysis: Analysis, owner: str | None) -> Table:
    """Per owner: open deals, their value and weighted value, rotting deals and overdue next actions."""
    crm = analysis.crm
    overdue = {owner_key(item.owner.id): len(item.lists.overdue) for item in crm.followups.owners}
    columns = (Column("Owner", "owner"), Column("Open deals", "deals", "count"), Column("Value", "value", "money"),
               Column("Weighted", "weighted", "money"), Column("Rotting", "rotting", "count"),
               Column("Overdue", "overdue", "count"))
    rows = []
    for ref in crm.board.owners:
        key = owner_key(ref.id)
        if owner is not None and key != owner:
            continue
        board = analysis.owner_boards[key]
        rotting = sum(column.rotting_count for column in board.columns)
        rows.append(Row((ref.name, sum(column.count for column in board.columns), _money(board.total),
                         _money(board.weighted), rotting, overdue.get(key, 0)), alert=rotting > 0))
    board = crm.board
    total = None if owner is not None else Row((
        "Total", sum(column.count for column in board.columns), _money(board.total), _money(board.weighted),
        sum(column.rotting_count for column in board.columns), len(crm.followups.all.overdue)))
    return Table("owners", "Open pipeline by owner", analysis.today, board.currency, owner, columns, tuple(rows),
                 total, _incomplete(board.total))


def clients_table(analysis: Analysis, owner: str | None) -> Table:
    """Per client: its open deals and their value, and the value won (`sum_amount`, as the site sums)."""
    workspace = analysis.workspace
    currency = workspace.config.currency
    deals = _deals_of(analysis, owner)
    columns = (Column("Client", "client"), Column("Owner", "owner"), Column("Open deals", "open_deals", "count"),
                  Column("Open value", "open_value", "money"), Column("Won deals", "won_deals", "count"),
                  Column("Won value", "won_value", "money"))
    rows = []
    for client_id, client in sorted(workspace.clients.items()):
        mine = [figures for figures in deals.values() if figures.client_id == client_id]
        if owner is not None and not mine:
            continue
        open_deals = [figures for figures in mine if figures.is_open]
        won = [figures for figures in mine if figures.status is DealStatus.WON]
        rows.append(Row((client.display_name, client.owner, len(open_deals), sum_amount(open_deals, currency).value,
                         len(won), sum_amount(won, currency).value)))
    open_all = [figures for figures in deals.values() if figures.is_open]
    won_all = [figures for figures in deals.values() if figures.status is DealStatus.WON]
    total = Row(("Total", None, len(open_all), sum_amount(open_all, currency).value, len(won_all),
                 sum_amount(won_all, currency).value))
    return Table("clients", "Clients", analysis.today, currency, owner, columns, tuple(rows), total)


def projects_table(analysis: Analysis, owner: str | None) -> Table:
    """Per project: health, progress, planned finish, due date and drift (the delivery statuses)."""
    statuses = analysis.delivery.statuses
    columns = (Column("Project", "project"), Column("Owner", "owner"), Column("Health", "health"),
               Column("Complete %", "percent_complete", "count"), Column("Planned finish", "planned_finish", "date"),
               Column("Due", "due", "date"), Column("Drift (working days)", "drift", "count"))
    rows = []
    for project_id, project in sorted(analysis.workspace.projects.items()):
        status = statuses.get(project_id)
        if status is None or (owner is not None and owner_key(project.owner) != owner):
            continue
        rows.append(Row((project.display_title, project.owner, status.health, status.percent_complete,
                         status.planned_finish, status.due, status.drift), alert=status.health in ("late", "at risk")))
    return Table("projects", "Projects", analysis.today, analysis.workspace.config.currency, owner, columns,
                 tuple(rows))


def _incomplete(amount: Amount) -> tuple[str, ...]:
    notes = []
    if amount.unconverted:
        notes.append(f"not in the totals, no exchange rate: {', '.join(amount.unconverted)}")
    if amount.no_value:
        notes.append(f"no value: {', '.join(amount.no_value)}")
    return tuple(notes)


BUILDERS: Mapping[str, Callable[[Analysis, str | None], Table]] = {
    "pipeline": pipeline_table, "forecast": forecast_table, "owners": owners_table, "clients": clients_table,
    "projects": projects_table,
}
