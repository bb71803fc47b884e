"""Golden figures on workspace-example (today 2026-11-26), recomputed here straight from the YAML.

The expected values below do not use plaintext_crm's loader or analytics: the test reads crm.yaml and
the deal files with PyYAML and applies docs/metrics.md with its own plain loops.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from plaintext_crm.records.loader import load_workspace
from plaintext_crm.sales.analytics import CrmAnalytics, sales_figures
from tests.support import EXAMPLE, EXAMPLE_TODAY

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    _, head, _ = text.split("---\n", 2)
    return yaml.safe_load(head)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    config = yaml.safe_load((EXAMPLE / "crm.yaml").read_text(encoding="utf-8"))
    deals = {path.stem: front_matter(path) for path in sorted((EXAMPLE / "deals").glob("*.md"))}
    projects = {path.stem: front_matter(path) for path in sorted((EXAMPLE / "projects").glob("*.md"))}
    return {"config": config, "deals": deals, "projects": projects}


@pytest.fixture(scope="module")
def analytics() -> CrmAnalytics:
    workspace, findings = load_workspace(EXAMPLE)
    return sales_figures(workspace, TODAY, findings)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Expected:
    """The figures of docs/metrics.md, computed from the raw YAML."""

    def __init__(self, raw: dict[str, Any]) -> None:
        config = raw["config"]
        self.deals: dict[str, dict[str, Any]] = raw["deals"]
        self.projects: dict[str, dict[str, Any]] = raw["projects"]
        self.currency = config.get("currency", "EUR")
        self.rates = {str(k).upper(): Decimal(str(v)) for k, v in (config.get("exchange_rates") or {}).items()}
        self.stages = {item["stage"]: item for item in config["pipeline"]}
        self.order = [item["stage"] for item in config["pipeline"]]
        self.handoff_fields = config["handoff_fields"]

    def status(self, deal_id: str) -> str:
        stage = self.stages.get(self.deals[deal_id].get("stage"))
        return "unknown" if stage is None else stage.get("closed") or "open"

    def ids(self, status: str) -> list[str]:
        return [deal_id for deal_id in sorted(self.deals) if self.status(deal_id) == status]

    def base(self, deal_id: str) -> Decimal | None:
        deal = self.deals[deal_id]
        currency = str(deal.get("currency") or self.currency).upper()
        rate = Decimal(1) if currency == self.currency else self.rates.get(currency)
        if deal.get("value") is None or rate is None:
            return None
        return Decimal(str(deal["value"])) * rate

    def probability(self, deal_id: str) -> Decimal:
        deal = self.deals[deal_id]
        stage = self.stages[deal["stage"]]
        if not stage.get("closed") and deal.get("probability") is not None:
            return Decimal(str(deal["probability"]))
        return Decimal(str(stage.get("probability", 1.0 if stage.get("closed") == "won" else 0.0)))

    def total(self, ids: list[str], weighted: bool = False) -> tuple[Decimal, list[str], list[str]]:
        """(rounded sum, ids summed, ids left out for lack of a rate)."""
        total, summed, left_out = Decimal(0), [], []
        for deal_id in ids:
            value = self.base(deal_id)
            if value is None:
                if self.deals[deal_id].get("value") is not None:
                    left_out.append(deal_id)
                continue
            total += value * self.probability(deal_id) if weighted else value
            summed.append(deal_id)
        return money(total), summed, left_out

    def due(self, deal_id: str) -> dt.date | None:
        deal = self.deals[deal_id]
        return deal.get("next_action_due") if deal.get("next_action") else None


def test_example_loads_clean_enough(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    assert set(analytics.deals) == set(raw["deals"])
    assert analytics.overview.unknown_stage.count == 0


def test_overview_figures(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    overview = analytics.overview
    open_ids = expected.ids("open")
    value, summed, left_out = expected.total(open_ids)
    assert overview.open_pipeline.count == len(open_ids)
    assert (overview.open_pipeline.amount.value, sorted(overview.open_pipeline.amount.deal_ids),
            sorted(overview.open_pipeline.amount.unconverted)) == (value, summed, left_out)
    weighted, _, _ = expected.total(open_ids, weighted=True)
    assert overview.weighted_forecast.amount.value == weighted

    won = expected.ids("won")
    month = [d for d in won if expected.deals[d].get("closed_on") and
             expected.deals[d]["closed_on"].strftime("%Y-%m") == TODAY.strftime("%Y-%m")]
    quarter = [d for d in won if expected.deals[d].get("closed_on") and expected.deals[d]["closed_on"].year == TODAY.year
               and (expected.deals[d]["closed_on"].month - 1) // 3 == (TODAY.month - 1) // 3]
    assert sorted(overview.won_this_month.deal_ids) == month
    assert overview.won_this_month.amount.value == expected.total(month)[0]
    assert sorted(overview.won_this_quarter.deal_ids) == quarter
    assert overview.won_this_quarter.amount.value == expected.total(quarter)[0]

    sunday = TODAY + dt.timedelta(days=6 - TODAY.weekday())
    dues = {d: expected.due(d) for d in open_ids}
    assert sorted(overview.overdue.deal_ids) == sorted(d for d, due in dues.items() if due and due < TODAY)
    assert sorted(overview.due_today.deal_ids) == sorted(d for d, due in dues.items() if due == TODAY)
    assert sorted(overview.due_this_week.deal_ids) == sorted(
        d for d, due in dues.items() if due and TODAY < due <= sunday)
    assert sorted(overview.no_next_action.deal_ids) == sorted(d for d, due in dues.items() if due is None)

    rotting = []
    for deal_id in open_ids:
        deal = expected.deals[deal_id]
        rot = expected.stages[deal["stage"]].get("rot_days")
        if rot and deal.get("stage_since") and (TODAY - deal["stage_since"]).days > rot:
            rotting.append(deal_id)
    assert sorted(overview.rotting.deal_ids) == rotting


def test_overview_matches_the_example_readme(analytics: CrmAnalytics) -> None:
    """The deliberate problems the example's README lists."""
    overview = analytics.overview
    assert set(overview.overdue.deal_ids) == {
        "museum-of-maps-digital-archive", "pinecrest-hotels-booking-flow", "oakridge-school-website",
        "quanta-robotics-website", "quanta-robotics-trade-show", "verde-energy-community-app"}
    assert overview.overdue.deal_ids[0] == "museum-of-maps-digital-archive"  # the oldest, 2026-11-18
    assert set(overview.due_today.deal_ids) == {"kite-finance-brand-refresh", "verde-energy-investor-site"}
    assert {"lumen-labs-design-system", "kite-finance-onboarding-ux",
            "tidewater-bikes-shopify-migration"} <= set(overview.due_this_week.deal_ids)
    assert overview.no_next_action.deal_ids == ("tidewater-bikes-app",)
    assert set(overview.rotting.deal_ids) == {
        "helix-health-patient-portal", "atlas-logistics-tracking-portal", "helix-health-brand-guidelines"}
    days = {deal_id: analytics.deals[deal_id].days_in_stage for deal_id in overview.rotting.deal_ids}
    assert days == {"helix-health-patient-portal": 45, "atlas-logistics-tracking-portal": 37,
                    "helix-health-brand-guidelines": 29}


def test_board_columns(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    open_stages = [stage for stage in expected.order if not expected.stages[stage].get("closed")]
    assert [column.stage for column in analytics.board.columns] == open_stages
    for column in analytics.board.columns:
        ids = sorted(d for d in expected.ids("open") if expected.deals[d]["stage"] == column.stage)
        assert sorted(card.id for card in column.cards) == ids
        assert column.count == len(ids)
        assert column.total.value == expected.total(ids)[0]
        assert column.weighted.value == expected.total(ids, weighted=True)[0]
        dues = [expected.due(card.id) for card in column.cards]
        dated = [due for due in dues if due is not None]
        assert dated == sorted(dated) and dues[:len(dated)] == dated  # overdue first, undated last
    assert analytics.board.total.value == analytics.overview.open_pipeline.amount.value


def test_forecast_months_and_buckets(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    forecast = analytics.forecast
    first = dt.date(TODAY.year - 1, TODAY.month + 1, 1) if TODAY.month < 12 else dt.date(TODAY.year, 1, 1)
    assert forecast.months[0].month == first
    by_month: dict[str, dict[str, list[str]]] = {}
    no_date, passed = [], []
    for deal_id in expected.ids("open"):
        close = expected.deals[deal_id].get("expected_close")
        if close is None:
            no_date.append(deal_id)
        elif close < TODAY:
            passed.append(deal_id)
        else:
            by_month.setdefault(close.strftime("%Y-%m"), {"open": [], "won": []})["open"].append(deal_id)
    for deal_id in expected.ids("won"):
        closed = expected.deals[deal_id].get("closed_on")
        if closed and closed >= first:
            by_month.setdefault(closed.strftime("%Y-%m"), {"open": [], "won": []})["won"].append(deal_id)
    months = {bucket.key: bucket for bucket in forecast.months}
    assert set(by_month) <= set(months)
    for key, bucket in months.items():
        ids = by_month.get(key, {"open": [], "won": []})
        assert bucket.won.value == expected.total(ids["won"])[0], key
        assert bucket.weighted.value == expected.total(ids["open"], weighted=True)[0], key
        assert bucket.open_value.value == expected.total(ids["open"])[0], key
    assert sorted(forecast.no_date.open_value.deal_ids + forecast.no_date.open_value.unconverted) == no_date
    assert forecast.overdue_close.weighted.value == expected.total(passed, weighted=True)[0]
    assert forecast.weighted_total.value == analytics.overview.weighted_forecast.amount.value


def test_win_rate_deal_size_and_cycle(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    won, lost = expected.ids("won"), expected.ids("lost")
    stats = analytics.forecast.all_time
    assert (sorted(stats.won_ids), sorted(stats.lost_ids)) == (won, lost)
    assert stats.win_rate == round(len(won) / (len(won) + len(lost)), 4)
    value, summed, _ = expected.total(won)
    assert stats.won_value.value == value
    assert stats.average_won_value == money(sum(expected.base(d) for d in summed) / len(summed))
    cycles = [(expected.deals[d]["closed_on"] - expected.deals[d]["created"]).days for d in won
              if expected.deals[d].get("created") and expected.deals[d].get("closed_on")]
    assert stats.average_cycle_days == round(sum(cycles) / len(cycles), 1)

    first = analytics.forecast.months[0].month
    recent_won = [d for d in won if first <= expected.deals[d]["closed_on"] <= TODAY]
    recent_lost = [d for d in lost if first <= expected.deals[d]["closed_on"] <= TODAY]
    recent = analytics.forecast.last_12_months
    assert (sorted(recent.won_ids), sorted(recent.lost_ids)) == (recent_won, recent_lost)
    assert recent.win_rate == round(len(recent_won) / (len(recent_won) + len(recent_lost)), 4)


def test_source_table_and_stage_totals(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    rows = {row.source: row for row in analytics.forecast.sources}
    sources: dict[str, list[str]] = {}
    for deal_id in sorted(expected.deals):
        sources.setdefault(expected.deals[deal_id].get("source") or "(none)", []).append(deal_id)
    assert set(rows) == set(sources)
    for source, ids in sources.items():
        row = rows[source]
        statuses = [expected.status(d) for d in ids]
        won = [d for d in ids if expected.status(d) == "won"]
        assert (row.deals, row.open, row.won, row.lost) == (
            len(ids), statuses.count("open"), statuses.count("won"), statuses.count("lost")), source
        closed = statuses.count("won") + statuses.count("lost")
        assert row.win_rate == (round(statuses.count("won") / closed, 4) if closed else None)
        assert row.won_revenue.value == expected.total(won)[0]
    revenue = [row.won_revenue.value for row in analytics.forecast.sources if row.source != "(none)"]
    assert revenue == sorted(revenue, reverse=True)

    totals = {total.stage: total for total in analytics.forecast.stages}
    assert list(totals) == expected.order
    for stage in expected.order:
        ids = sorted(d for d in expected.deals if expected.deals[d].get("stage") == stage)
        assert totals[stage].count == len(ids)
        assert totals[stage].value.value == expected.total(ids)[0]
        assert totals[stage].weighted.value == expected.total(ids, weighted=True)[0]


def test_handoffs(analytics: CrmAnalytics, raw: dict[str, Any]) -> None:
    expected = Expected(raw)
    items = {item.deal.id: item for item in analytics.handoffs.items}
    assert sorted(items) == expected.ids("won")
    for deal_id, item in items.items():
        deal = expected.deals[deal_id]
        missing = [name for name in expected.handoff_fields if deal.get(name) in (None, "", [])]
        assert list(item.missing) == missing, deal_id
        linked = deal.get("project") if deal.get("project") in expected.projects else next(
            (pid for pid in sorted(expected.projects) if expected.projects[pid].get("deal") == deal_id), None)
        assert item.project_id == linked, deal_id
    # the README's deliberate hand-off problems
    assert items["atlas-logistics-annual-report"].missing == ("key_constraints", "kickoff_date")
    assert items["atlas-logistics-annual-report"].project_id is None
    microsite = items["pinecrest-hotels-microsite"]
    assert microsite.complete and microsite.project_id is None and microsite.kickoff_passed
