"""Sales targets: won + weighted pipeline in a quarter or month against crm.yaml's `targets`, per owner and team.

Won: won deals closed (`closed_on`) in the period. Weighted: open deals expected to close
(`expected_close`) in the period, value x probability. docs/metrics.md defines them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from plaintext_crm.money import cents
from plaintext_crm.records.config import Config, Target
from plaintext_crm.records.model import DealStatus
from plaintext_crm.sales.figures import Amount, DealFigures, sum_amount


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One target and how far won + weighted pipeline reach it."""

    period: str  # "2026-Q4"
    start: dt.date
    end: dt.date
    owner: str | None  # None: the team
    owner_name: str  # "Team" or the member's name
    target: Decimal
    won: Amount
    weighted: Amount

    @property
    def total(self) -> Decimal:
        """won + weighted."""
        return self.won.value + self.weighted.value

    @property
    def percent(self) -> int | None:
        """won + weighted as a share of the target, rounded (None for a target of 0)."""
        return round(100 * self.total / self.target) if self.target else None

    @property
    def gap(self) -> Decimal:
        """What is missing to reach the target (0 once reached)."""
        return cents(max(self.target - self.total, Decimal(0)))


def target_progress(deals: Iterable[DealFigures], config: Config) -> tuple[TargetProgress, ...]:
    """Every target of crm.yaml with the won and weighted figures of its period and owner."""
    figures = list(deals)
    return tuple(_progress(target, figures, config) for target in config.targets)


def _progress(target: Target, deals: list[DealFigures], config: Config) -> TargetProgress:
    mine = [figures for figures in deals if target.owner is None or figures.owner == target.owner]
    won = [figures for figures in mine if figures.status is DealStatus.WON and figures.closed_on is not None
           and target.start <= figures.closed_on <= target.end]
    expected = [figures for figures in mine if figures.status is DealStatus.OPEN and figures.expected_close is not None
                and target.start <= figures.expected_close <= target.end]
    member = config.team.get(target.owner) if target.owner else None
    name = "Team" if target.owner is None else member.name if member else target.owner
    return TargetProgress(target.period, target.start, target.end, target.owner, name, target.amount,
                          sum_amount(won, config.currency), sum_amount(expected, config.currency, weighted=True))
