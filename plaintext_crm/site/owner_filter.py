"""The owner filter of the overview and the forecast: each owner's headline figures, formatted for the
page's JSON island (`#owner-figures`); static/owner-filter.js only swaps them in."""

from __future__ import annotations

from collections.abc import Mapping

from plaintext_crm.sales.analytics import OwnerFigures
from plaintext_crm.sales.figures import Figure
from plaintext_crm.site.filters import money, percent, plural

Island = dict[str, dict[str, dict[str, str]]]  # owner key -> figure key (data-figure) -> {value, note}


def _amount_figure(figure: Figure, currency: str, note: str = "") -> dict[str, str]:
    value = figure.amount.value if figure.amount is not None else None
    return {"value": money(value, currency), "note": note}


def overview_island(owners: Mapping[str, OwnerFigures], currency: str) -> Island:
    """The overview's figures of each owner (the lint count stays the workspace's)."""
    island: Island = {}
    for key, figures in owners.items():
        overview = figures.overview
        own = {
            "open_pipeline": _amount_figure(overview.open_pipeline, currency,
                                            plural(overview.open_pipeline.count, "open deal")),
            "weighted_forecast": _amount_figure(overview.weighted_forecast, currency),
            "won_this_month": _amount_figure(overview.won_this_month, currency,
                                             f"{plural(overview.won_this_month.count, 'deal')} in {overview.month}"),
            "won_this_quarter": _amount_figure(overview.won_this_quarter, currency,
                                               f"{plural(overview.won_this_quarter.count, 'deal')} in "
                                               f"{overview.quarter}"),
        }
        for figure in (overview.overdue, overview.due_today, overview.due_this_week, overview.no_next_action,
                       overview.rotting, overview.unknown_stage):
            own[figure.key] = {"value": str(figure.count), "note": ""}
        island[key] = own
    return island


def forecast_island(owners: Mapping[str, OwnerFigures], currency: str) -> Island:
    """The forecast's headline figures of each owner."""
    island: Island = {}
    for key, figures in owners.items():
        forecast = figures.forecast
        cycle = forecast.all_time.average_cycle_days
        island[key] = {
            "weighted_total": {"value": money(forecast.weighted_total.value, currency),
                               "note": plural(len(forecast.weighted_total.deal_ids), "open deal")},
            "win_rate_12m": {"value": percent(forecast.last_12_months.win_rate),
                             "note": f"{len(forecast.last_12_months.won_ids)} won / "
                                     f"{len(forecast.last_12_months.lost_ids)} lost · all time "
                                     f"{percent(forecast.all_time.win_rate)}"},
            "average_won": {"value": money(forecast.all_time.average_won_value, currency),
                            "note": f"last 12 months {money(forecast.last_12_months.average_won_value, currency)}"},
            "sales_cycle": {"value": f"{cycle} days" if cycle is not None else "—",
                            "note": f"created → won, {plural(len(forecast.all_time.cycle_deal_ids), 'deal')}"},
        }
    return island
