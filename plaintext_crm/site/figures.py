"""The figures the pages show (`site.figures` in templates), taken from the analysis: the site computes none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plaintext_crm.analysis import Analysis
from plaintext_crm.delivery.invoices import ProjectInvoices
from plaintext_crm.delivery.status import DeliveryFigures
from plaintext_crm.delivery.workload import Workload
from plaintext_crm.history.accuracy import MonthAccuracy, Slippage
from plaintext_crm.history.activity import HistoryFigures
from plaintext_crm.revenue import RevenueForecast
from plaintext_crm.sales.analytics import CrmAnalytics, OwnerFigures
from plaintext_crm.sales.figures import Board


@dataclass(frozen=True)
class Figures:
    """Every figure the site shows: sales, each owner's board (for the owner filter), history, delivery."""

    crm: CrmAnalytics
    owner_boards: Mapping[str, Board]  # owner key (sales.analytics.owner_key) -> board of that owner's deals
    history: HistoryFigures  # stage histories, activity, this week
    delivery: DeliveryFigures  # schedules, project health, drift
    workload: Workload  # people's booked days per week across projects
    revenue: RevenueForecast  # invoices sent and planned beside the weighted pipeline, by month
    invoices: Mapping[str, ProjectInvoices]  # each project's invoices and budget
    owner_figures: Mapping[str, OwnerFigures]  # owner key -> their overview, forecast and targets
    forecast_accuracy: tuple[MonthAccuracy, ...] = ()  # the last 12 complete months, oldest first
    slippage: Mapping[str, Slippage] | None = None  # deal id -> how its expected_close slipped

    @classmethod
    def of(cls, analysis: Analysis) -> Figures:
        """The analysis's figures (computing those not computed yet)."""
        return cls(analysis.crm, analysis.owner_boards, analysis.history, analysis.delivery, analysis.workload,
                   analysis.revenue, analysis.invoices, analysis.owner_figures,
                   forecast_accuracy=analysis.forecast_accuracy, slippage=analysis.slippage)
