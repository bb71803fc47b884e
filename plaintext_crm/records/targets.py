"""crm.yaml's sales `targets`: periods (quarters, months), owners (`team` or member ids) and amounts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plaintext_crm.records.frontmatter import KeyPath

TEAM_TARGET = "team"  # the owner key of a target for the whole team
_PERIOD = re.compile(r"^(\d{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))$")


@dataclass(frozen=True, slots=True)
class Target:
    """A sales target of crm.yaml's `targets`: won + weighted expected in a quarter or month, per owner or team."""

    period: str  # "2026-Q4" or "2026-12"
    start: dt.date
    end: dt.date  # the period's last day
    owner: str | None  # a member id; None for the team
    amount: Decimal  # in the workspace currency


def period_span(period: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of "2026-Q4" or "2026-12"; None for anything else."""
    match = _PERIOD.match(period)
    if match is None:
        return None
    year = int(match.group(1))
    first_month = (int(match.group(2)) - 1) * 3 + 1 if match.group(2) else int(match.group(3))
    months = 3 if match.group(2) else 1
    start = dt.date(year, first_month, 1)
    following = first_month + months
    end = dt.date(year + (following - 1) // 12, (following - 1) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def read_targets(raw: Any, team: Mapping[str, Any], problem: Callable[[KeyPath, str], None]) -> tuple[Target, ...]:
    """`targets: {2026-Q4: {team: 400000, ana: 150000}}` as Targets; each bad entry is reported to `problem`
    (with its key path) and left out."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problem(("targets",), "'targets' must map periods (2026-Q4, 2026-12) to {team: amount, member: amount}")
        return ()
    found: list[Target] = []
    for period, owners in raw.items():
        span = period_span(str(period))
        if span is None or not isinstance(owners, dict):
            problem(("targets", period), f"target period '{period}' must be a quarter (2026-Q4) or a month "
                                         "(2026-12) mapping team or member ids to amounts")
            continue
        for owner, amount in owners.items():
            owner = str(owner)
            where = ("targets", period, owner)
            if owner != TEAM_TARGET and owner not in team:
                problem(where, f"target owner '{owner}' is not 'team' nor a member of the team")
            elif isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 <= amount <= 1e15:
                problem(where, f"target of '{owner}' in {period} must be an amount, like 150000")
            else:
                found.append(Target(str(period), *span, None if owner == TEAM_TARGET else owner,
                                    Decimal(str(amount))))
    return tuple(sorted(found, key=lambda target: (target.start, target.end, target.owner is not None,
                                                  target.owner or "")))
