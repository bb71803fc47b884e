"""How each deal changed between a base revision and now: what the transition rules (lint T001-T004) judge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Deal, DealStatus, Workspace, stage_status


@dataclass(frozen=True, slots=True)
class Transition:
    """One deal as it was at the base revision and as it is now (same id), with both statuses."""

    before: Deal
    after: Deal
    was: DealStatus  # by the base revision's crm.yaml
    now: DealStatus  # by today's crm.yaml

    @property
    def reopened(self) -> bool:
        """A won or lost deal moved back to an open stage."""
        return self.was in (DealStatus.WON, DealStatus.LOST) and self.now is DealStatus.OPEN

    @property
    def won_now(self) -> bool:
        """Moved to won by this change."""
        return self.now is DealStatus.WON and self.was is not DealStatus.WON

    def skipped(self, config: Config) -> tuple[str, ...]:
        """The open stages a forward move between two open stages passed over (today's pipeline order)."""
        if self.was is not DealStatus.OPEN or self.now is not DealStatus.OPEN:
            return ()
        order = [stage.id for stage in config.open_stages]
        if self.before.stage not in order or self.after.stage not in order:
            return ()
        start, end = order.index(self.before.stage or ""), order.index(self.after.stage or "")
        return tuple(order[start + 1:end]) if end > start + 1 else ()


def transitions(base: Workspace, current: Workspace) -> Mapping[str, Transition]:
    """Per deal id present at both points and changed since the base, its transition."""
    found: dict[str, Transition] = {}
    for deal_id, after in current.deals.items():
        before = base.deals.get(deal_id)
        if before is None or before is after or before.fields == after.fields:
            continue
        found[deal_id] = Transition(before, after, stage_status(base.config.stage(before.stage)),
                                    stage_status(current.config.stage(after.stage)))
    return found
