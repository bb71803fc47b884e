"""What git says about the forecast's record: each month's weighted forecast as it stood at its first day
against what closed won in it, and how often each deal's expected close slipped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plaintext_crm.history.close_moves import CloseMoves
from plaintext_crm.history.record_history import History, RecordHistory
from plaintext_crm.money import cents, decimal
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Workspace
from plaintext_crm.sales.figures import DealFigures, exchange_rate
from plaintext_crm.sales.forecast import MONTH_NAMES, WINDOW_MONTHS, month_start, month_start_after

UNCOMMITTED = "(uncommitted)"
SLIPPED_TIMES = 3  # D011: a deal whose expected close moved later this many times or more


# ---------------------------------------------------------------- slippage

@dataclass(frozen=True, slots=True)
class CloseMove:
    """One committed change that moved a deal's expected_close later."""

    day: dt.date  # the commit's (author) date
    author: str
    old: dt.date
    new: dt.date

    @property
    def days(self) -> int:
        return (self.new - self.old).days


@dataclass(frozen=True, slots=True)
class Slippage:
    """How often, and by how much in total, a deal's expected_close moved later in the committed history."""

    deal_id: str
    moves: tuple[CloseMove, ...]  # oldest first

    @property
    def count(self) -> int:
        return len(self.moves)

    @property
    def days(self) -> int:
        """The total number of days the expected close moved later."""
        return sum(move.days for move in self.moves)

    def to_data(self) -> dict[str, Any]:
        return {"count": self.count, "days": self.days,
                "moves": [{"date": move.day.isoformat(), "author": move.author, "from": move.old.isoformat(),
                           "to": move.new.isoformat(), "days": move.days} for move in self.moves]}


def slippage(workspace: Workspace, moves: CloseMoves, today: dt.date) -> dict[str, Slippage]:
    """Per deal id (deals whose expected close moved later at least once), its slippage: every committed
    move (`close_moves`; a commit dated after today counts as today's), and the working tree's when it holds
    a later expected_close than the last commit."""
    found: dict[str, Slippage] = {}
    for deal_id, deal in workspace.deals.items():
        committed, made = moves.get(deal.path, (None, ()))
        listed = [CloseMove(min(day, today), author, old, new) for day, author, old, new in made]
        if committed is not None and deal.expected_close is not None and deal.expected_close > committed:
            listed.append(CloseMove(today, UNCOMMITTED, committed, deal.expected_close))  # the change being made
        if listed:
            found[deal_id] = Slippage(deal_id, tuple(listed))
    return found


# ---------------------------------------------------------------- forecast accuracy

@dataclass(frozen=True, slots=True)
class Accuracy:
    """One month's forecast against the result, for everyone or for one owner.

    `forecast_at_start`: the open deals' weighted value (value x stage probability) expected to close in
    the month, as the committed deals stood on its first day; `open_at_start`: the same deals unweighted;
    `won`: the value of the deals won (closed_on) in the month, as the workspace says today.
    """

    forecast_at_start: Decimal
    open_at_start: Decimal
    won: Decimal
    forecast_deal_ids: tuple[str, ...]
    won_deal_ids: tuple[str, ...]

    @property
    def ratio(self) -> float | None:
        """won / forecast_at_start, 4 decimals; None when nothing was forecast."""
        return round(float(self.won / self.forecast_at_start), 4) if self.forecast_at_start else None

    def to_data(self) -> dict[str, Any]:
        return {"forecast_at_start": float(self.forecast_at_start), "open_at_start": float(self.open_at_start),
                "won": float(self.won), "ratio": self.ratio, "forecast_deals": list(self.forecast_deal_ids),
                "won_deals": list(self.won_deal_ids)}


@dataclass(frozen=True, slots=True)
class MonthAccuracy:
    """The forecast accuracy of one past month, in the workspace currency, overall and per owner."""

    month: dt.date  # the month's first day
    total: Accuracy
    owners: Mapping[str, Accuracy]  # owner id ("" for deals without one) -> that owner's figures

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1]} {self.month.year}"

    def to_data(self) -> dict[str, Any]:
        return {"month": self.key, **self.total.to_data(),
                "owners": {owner: item.to_data() for owner, item in sorted(self.owners.items())}}


@dataclass(frozen=True, slots=True)
class _DealThen:
    """A deal's tracked fields as they stood on one day."""

    deal_id: str
    owner: str
    value: Decimal  # in the workspace currency
    weighted: Decimal


def fields_on(record: RecordHistory, day: dt.date) -> dict[str, Any] | None:
    """A deal's tracked fields as committed on `day` (commits of that day included); None when the record
    did not exist then (created later, or deleted by then)."""
    if not record.touches or record.touches[0].commit.date > day:
        return None
    if record.deleted and record.touches[-1].commit.date <= day:
        return None
    values = dict(record.committed)
    for change in reversed(record.changes):  # back to the first readable version...
        values[change.field] = change.old
    for change in record.changes:  # ...then forward to `day`
        if change.commit.date > day:
            break
        values[change.field] = change.new
    return values


def _deal_then(record: RecordHistory, values: Mapping[str, Any], config: Config) -> _DealThen | None:
    """An open deal's value and weighted value from its fields then (today's crm.yaml stages and rates)."""
    stage = config.stage(values.get("stage"))
    value = values.get("value")
    if stage is None or not stage.is_open or not isinstance(value, int | float) or isinstance(value, bool):
        return None
    rate = exchange_rate(values.get("currency") or config.currency, config)
    if rate is None:
        return None
    base = decimal(value) * rate
    return _DealThen(record.id, values.get("owner") or "", base, base * decimal(stage.probability))


def _accuracy(expected: Iterable[_DealThen], won: Iterable[DealFigures]) -> Accuracy:
    expected, won = list(expected), list(won)
    return Accuracy(cents(sum((deal.weighted for deal in expected), Decimal(0))),
                    cents(sum((deal.value for deal in expected), Decimal(0))),
                    cents(sum((figures.value_base or Decimal(0) for figures in won), Decimal(0))),
                    tuple(sorted(deal.deal_id for deal in expected)), tuple(sorted(f.id for f in won)))


def forecast_accuracy(history: History, config: Config, deals: Mapping[str, DealFigures], today: dt.date
                      ) -> tuple[MonthAccuracy, ...]:
    """For each of the last 12 complete months that the history reaches back to (its first commit on or
    before the month's first day), oldest first: the forecast at the month's start against what was won."""
    if not history.available:
        return ()
    records = [*history.records.values(), *history.removed]
    first = min((record.touches[0].commit.date for record in records if record.touches), default=None)
    if first is None:
        return ()
    won_by_month: dict[dt.date, list[DealFigures]] = {}
    for figures in deals.values():
        if figures.status.value == "won" and figures.closed_on is not None and figures.value_base is not None:
            won_by_month.setdefault(month_start(figures.closed_on), []).append(figures)
    months = []
    current = month_start(today)
    for back in range(WINDOW_MONTHS, 0, -1):
        month = month_start_after(current, -back)
        if month < first:
            continue
        end = month_start_after(month, 1)
        expected: list[_DealThen] = []
        for record in records:
            if record.kind != "deals":
                continue
            values = fields_on(record, month)
            close = values.get("expected_close") if values else None
            if values is None or not isinstance(close, dt.date) or not month <= close < end:
                continue
            then = _deal_then(record, values, config)
            if then is not None:
                expected.append(then)
        won = won_by_month.get(month, [])
        owners = {deal.owner for deal in expected} | {figures.owner or "" for figures in won}
        months.append(MonthAccuracy(month, _accuracy(expected, won), {
            owner: _accuracy([deal for deal in expected if deal.owner == owner],
                             [figures for figures in won if (figures.owner or "") == owner])
            for owner in sorted(owners)}))
    return tuple(months)
