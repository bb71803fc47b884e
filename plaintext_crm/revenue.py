"""The revenue forecast: sales and delivery in one table, by month and by client.

Joins the two halves, which never import each other: invoices already sent and invoices planned from
the status-date plan (delivery/invoices.py: booked work) beside the weighted pipeline of open deals by
expected close (sales/: the sales forecast). docs/delivery.md defines each figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from plaintext_crm.delivery.invoices import PlannedInvoice, ProjectInvoices
from plaintext_crm.money import cents
from plaintext_crm.records.model import DealStatus, Workspace
from plaintext_crm.sales.figures import DealFigures
from plaintext_crm.sales.forecast import MONTH_NAMES, month_start, month_start_after

NO_CLIENT = "(no client)"


@dataclass(frozen=True, slots=True)
class RevenueMonth:
    """One month: invoiced (sent), booked (planned invoices of the delivery plan), weighted pipeline."""

    month: dt.date  # its first day
    invoiced: Decimal
    booked: Decimal
    weighted_pipeline: Decimal
    invoices: tuple[PlannedInvoice, ...]  # sent and planned, by date
    deal_ids: tuple[str, ...]  # the open deals expected to close in the month

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1]} {self.month.year}"

    @property
    def total(self) -> Decimal:
        return self.invoiced + self.booked + self.weighted_pipeline


@dataclass(frozen=True, slots=True)
class ClientRevenue:
    """A client's totals over the forecast."""

    client: str  # client id, or NO_CLIENT
    name: str
    invoiced: Decimal
    booked: Decimal
    weighted_pipeline: Decimal

    @property
    def total(self) -> Decimal:
        return self.invoiced + self.booked + self.weighted_pipeline


@dataclass(frozen=True)
class RevenueForecast:
    """Revenue by month from the first month with an invoice (at most a year back) to the last with anything."""

    currency: str
    status_date: dt.date
    months: tuple[RevenueMonth, ...]
    clients: tuple[ClientRevenue, ...]  # by total, largest first
    unpriced: tuple[PlannedInvoice, ...]  # shares of projects without a budget: no amount
    unscheduled_pipeline: Decimal  # weighted open deals with no expected close, or one already passed
    unscheduled_deal_ids: tuple[str, ...]

    @property
    def invoiced(self) -> Decimal:
        return sum((month.invoiced for month in self.months), Decimal(0))

    @property
    def booked(self) -> Decimal:
        return sum((month.booked for month in self.months), Decimal(0))

    @property
    def weighted_pipeline(self) -> Decimal:
        return sum((month.weighted_pipeline for month in self.months), Decimal(0))

    def to_data(self) -> list[dict[str, object]]:
        """data.json's `revenue`: [{month, invoiced, booked, weighted_pipeline}] (amounts as numbers)."""
        return [{"month": f"{month.month:%Y-%m}", "invoiced": float(month.invoiced), "booked": float(month.booked),
                 "weighted_pipeline": float(month.weighted_pipeline)} for month in self.months]


def revenue_forecast(workspace: Workspace, invoices: Mapping[str, ProjectInvoices],
                     deals: Iterable[DealFigures], status_date: dt.date) -> RevenueForecast:
    """Join the delivery plan's invoices and the open deals' weighted values by month and client."""
    current = month_start(status_date)
    earliest = month_start_after(current, -11)
    sent: dict[dt.date, list[PlannedInvoice]] = {}
    unpriced: list[PlannedInvoice] = []
    for project_invoices in invoices.values():
        for item in project_invoices.invoices:
            if item.amount is None:
                unpriced.append(item)
                continue
            month = month_start(item.date) if item.invoiced else max(month_start(item.date), current)
            if month >= earliest:
                sent.setdefault(month, []).append(item)
    pipeline: dict[dt.date, list[DealFigures]] = {}
    unscheduled: list[DealFigures] = []
    for figures in deals:
        if figures.status is not DealStatus.OPEN or figures.weighted is None:
            continue
        if figures.expected_close is None or figures.expected_close < status_date:
            unscheduled.append(figures)
        else:
            pipeline.setdefault(month_start(figures.expected_close), []).append(figures)
    first = min([current, *sent])
    last = max([current, *sent, *pipeline])
    months = []
    month = first
    while month <= last:
        items = sorted(sent.get(month, []), key=lambda item: (item.date, item.project, item.task))
        open_deals = pipeline.get(month, [])
        months.append(RevenueMonth(
            month, cents(sum((item.amount or Decimal(0) for item in items if item.invoiced), Decimal(0))),
            cents(sum((item.amount or Decimal(0) for item in items if not item.invoiced), Decimal(0))),
            cents(sum((figures.weighted or Decimal(0) for figures in open_deals), Decimal(0))),
            tuple(items), tuple(sorted(figures.id for figures in open_deals))))
        month = month_start_after(month, 1)
    clients = _by_client(workspace, months, pipeline.values())
    return RevenueForecast(workspace.config.currency, status_date, tuple(months), clients, tuple(unpriced),
                           cents(sum((figures.weighted or Decimal(0) for figures in unscheduled), Decimal(0))),
                           tuple(sorted(figures.id for figures in unscheduled)))


def _by_client(workspace: Workspace, months: Iterable[RevenueMonth],
               pipeline: Iterable[list[DealFigures]]) -> tuple[ClientRevenue, ...]:
    sums: dict[str, list[Decimal]] = {}
    for month in months:
        for item in month.invoices:
            row = sums.setdefault(item.client or NO_CLIENT, [Decimal(0)] * 3)
            row[0 if item.invoiced else 1] += item.amount or Decimal(0)
    for open_deals in pipeline:
        for figures in open_deals:
            sums.setdefault(figures.client_id or NO_CLIENT, [Decimal(0)] * 3)[2] += figures.weighted or Decimal(0)
    rows = []
    for client_id, (invoiced, booked, weighted) in sums.items():
        client = workspace.clients.get(client_id)
        rows.append(ClientRevenue(client_id, client.display_name if client else client_id, cents(invoiced),
                                  cents(booked), cents(weighted)))
    return tuple(sorted(rows, key=lambda row: (-row.total, row.name)))
