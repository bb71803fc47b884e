"""CRM forecast analytics: weighted pipeline by month, win rate, deal size, sales cycle, sources, stage totals.

Built on figures.py's per-deal figures; docs/metrics.md defines every figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from plaintext_crm.money import cents
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import DealStatus
from plaintext_crm.sales.figures import Amount, DealFigures, sum_amount

NO_SOURCE = "(none)"
WINDOW_MONTHS = 12
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # not locale-bound


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_start_after(month: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months after (or before, if negative) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def window_start(today: dt.date) -> dt.date:
    """First day of the trailing 12-month window: the current calendar month and the 11 before it."""
    return month_start_after(month_start(today), -(WINDOW_MONTHS - 1))


def _ids(deals: Iterable[DealFigures]) -> tuple[str, ...]:
    return tuple(figures.id for figures in deals)


def _rate(won: int, lost: int) -> float | None:
    return round(won / (won + lost), 4) if won + lost else None


@dataclass(frozen=True, slots=True)
class ForecastBucket:
    """One bar of the forecast chart: a month, or the 'no date' / 'overdue close' buckets of open deals."""

    key: str  # "2026-12", "no-date" or "overdue-close"
    label: str  # "Dec 2026", "No expected close", "Expected close passed"
    month: dt.date | None  # first day of the month; None for the two special buckets
    won: Amount  # won deals closed (closed_on) in the month
    open_value: Amount  # open deals expected to close in the bucket, unweighted
    weighted: Amount  # the same open deals, value x probability

    @property
    def total(self) -> Decimal:
        """won + weighted: what the month is expected to bring."""
        return self.won.value + self.weighted.value


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """Win rate, deal size and sales cycle over closed deals of a period."""

    label: str  # "all time" or "last 12 months"
    start: dt.date | None  # None: all time
    end: dt.date | None
    won_ids: tuple[str, ...]
    lost_ids: tuple[str, ...]
    win_rate: float | None  # won / (won + lost) by count, 4 decimals; None with no closed deal
    won_value: Amount  # sum of won values
    average_won_value: Decimal | None  # won_value / deals summed in it, cents
    cycle_deal_ids: tuple[str, ...]  # won deals with created and closed_on (closed_on >= created)
    average_cycle_days: float | None  # mean of closed_on - created, 1 decimal


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One lead source: how many deals it brought and how they ended."""

    source: str  # NO_SOURCE for deals without a source
    deal_ids: tuple[str, ...]
    open_ids: tuple[str, ...]
    won_ids: tuple[str, ...]
    lost_ids: tuple[str, ...]
    win_rate: float | None  # won / (won + lost)
    won_revenue: Amount

    @property
    def deals(self) -> int:
        return len(self.deal_ids)

    @property
    def open(self) -> int:
        return len(self.open_ids)

    @property
    def won(self) -> int:
        return len(self.won_ids)

    @property
    def lost(self) -> int:
        return len(self.lost_ids)


@dataclass(frozen=True, slots=True)
class StageTotal:
    """Deals currently in one stage of the pipeline."""

    stage: str
    closed: str | None  # "won", "lost" or None for an open stage
    probability: float
    deal_ids: tuple[str, ...]
    value: Amount
    weighted: Amount  # per-deal probability override first for open stages

    @property
    def count(self) -> int:
        return len(self.deal_ids)


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast page: weighted pipeline by month, conversion and sources."""

    today: dt.date
    currency: str
    months: tuple[ForecastBucket, ...]  # window_start .. the last month with a deal, no gaps
    no_date: ForecastBucket  # open deals with no expected_close
    overdue_close: ForecastBucket  # open deals whose expected_close is before today
    weighted_total: Amount  # every open deal, value x probability (= the overview's weighted forecast)
    all_time: PeriodStats
    last_12_months: PeriodStats  # closed_on from window_start(today) to today
    won_without_close_date: tuple[str, ...]  # won deals missing closed_on: in all-time stats only
    sources: tuple[SourceRow, ...]  # by won revenue, then deal count, then name; "(none)" last
    stages: tuple[StageTotal, ...]  # every pipeline stage, in order


def _bucket(key: str, label: str, month: dt.date | None, won: Sequence[DealFigures],
            open_deals: Sequence[DealFigures], currency: str) -> ForecastBucket:
    return ForecastBucket(key, label, month, sum_amount(won, currency), sum_amount(open_deals, currency),
                          sum_amount(open_deals, currency, weighted=True))


def _months(open_deals: Sequence[DealFigures], won: Sequence[DealFigures], today: dt.date,
            currency: str) -> tuple[ForecastBucket, ...]:
    first = window_start(today)
    expected: dict[dt.date, list[DealFigures]] = {}
    for figures in open_deals:
        if figures.expected_close is not None and figures.expected_close >= today:
            expected.setdefault(month_start(figures.expected_close), []).append(figures)
    closed: dict[dt.date, list[DealFigures]] = {}
    for figures in won:
        if figures.closed_on is not None and figures.closed_on >= first:
            closed.setdefault(month_start(figures.closed_on), []).append(figures)
    last = max([month_start(today), *expected, *closed])
    buckets = []
    month = first
    while month <= last:
        buckets.append(_bucket(f"{month:%Y-%m}", f"{MONTH_NAMES[month.month - 1]} {month.year}", month,
                               closed.get(month, []), expected.get(month, []), currency))
        month = month_start_after(month, 1)
    return tuple(buckets)


def period_stats(label: str, closed: Iterable[DealFigures], currency: str, start: dt.date | None = None,
                 end: dt.date | None = None) -> PeriodStats:
    """Win rate, won value, average won value and average sales cycle of the won and lost `closed` deals."""
    deals = list(closed)
    won = [f for f in deals if f.status is DealStatus.WON]
    lost = [f for f in deals if f.status is DealStatus.LOST]
    won_value = sum_amount(won, currency)
    average = cents(won_value.value / len(won_value.deal_ids)) if won_value.deal_ids else None
    cycles = [(f.id, (f.closed_on - f.created).days) for f in won
              if f.created is not None and f.closed_on is not None and f.closed_on >= f.created]
    return PeriodStats(label, start, end, _ids(won), _ids(lost), _rate(len(won), len(lost)), won_value,
                       average, tuple(deal_id for deal_id, _ in cycles),
                       round(sum(days for _, days in cycles) / len(cycles), 1) if cycles else None)


def source_table(deals: Iterable[DealFigures], currency: str) -> tuple[SourceRow, ...]:
    """One row per lead source; deals without a source are under "(none)"."""
    by_source: dict[str, list[DealFigures]] = {}
    for figures in deals:
        by_source.setdefault(figures.source or NO_SOURCE, []).append(figures)
    rows = []
    for source, members in by_source.items():
        won = [f for f in members if f.status is DealStatus.WON]
        lost = [f for f in members if f.status is DealStatus.LOST]
        rows.append(SourceRow(source, _ids(members), _ids(f for f in members if f.status is DealStatus.OPEN),
                              _ids(won), _ids(lost), _rate(len(won), len(lost)), sum_amount(won, currency)))
    rows.sort(key=lambda row: (row.source == NO_SOURCE, -row.won_revenue.value, -row.deals, row.source))
    return tuple(rows)


def stage_totals(deals: Iterable[DealFigures], config: Config) -> tuple[StageTotal, ...]:
    """Count, value and weighted value of the deals in each stage, in pipeline order."""
    listed = list(deals)
    totals = []
    for stage in config.stages:
        members = [f for f in listed if f.stage == stage.id]
        totals.append(StageTotal(stage.id, stage.closed, stage.probability, _ids(members),
                                 sum_amount(members, config.currency),
                                 sum_amount(members, config.currency, weighted=True)))
    return tuple(totals)


def forecast_from(deals: Mapping[str, DealFigures], config: Config, today: dt.date) -> Forecast:
    """The forecast from already computed deal figures."""
    currency = config.currency
    everything = list(deals.values())
    open_deals = [f for f in everything if f.status is DealStatus.OPEN]
    won = [f for f in everything if f.status is DealStatus.WON]
    closed = [f for f in everything if f.status in (DealStatus.WON, DealStatus.LOST)]
    first = window_start(today)
    recent = [f for f in closed if f.closed_on is not None and first <= f.closed_on <= today]
    return Forecast(
        today=today, currency=currency, months=_months(open_deals, won, today, currency),
        no_date=_bucket("no-date", "No expected close", None, [],
                        [f for f in open_deals if f.expected_close is None], currency),
        overdue_close=_bucket("overdue-close", "Expected close passed", None, [],
                              [f for f in open_deals if f.expected_close is not None and f.expected_close < today],
                              currency),
        weighted_total=sum_amount(open_deals, currency, weighted=True),
        all_time=period_stats("all time", closed, currency),
        last_12_months=period_stats("last 12 months", recent, currency, first, today),
        won_without_close_date=_ids(f for f in won if f.closed_on is None),
        sources=source_table(everything, currency),
        stages=stage_totals(everything, config),
    )
