"""All the CRM figures of a workspace on one day, computed once: per-deal figures, board, follow-ups,
overview, hand-offs (figures.py) and the forecast (forecast.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plaintext_crm.findings import Finding
from plaintext_crm.json_data import to_data
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Workspace
from plaintext_crm.sales.figures import (
    Board,
    DealFigures,
    FollowUps,
    Handoffs,
    Overview,
    StageSince,
    board_from,
    deal_figures,
    followups_from,
    front_matter_stage_since,
    handoffs_from,
    overview_from,
)
from plaintext_crm.sales.forecast import Forecast, forecast_from
from plaintext_crm.sales.targets import TargetProgress, target_progress


@dataclass(frozen=True, slots=True)
class CrmAnalytics:
    """Every CRM figure of a workspace on one day, computed once for the site, data.json and reports."""

    today: dt.date
    currency: str
    deals: Mapping[str, DealFigures]
    board: Board
    followups: FollowUps
    overview: Overview
    handoffs: Handoffs
    forecast: Forecast
    targets: tuple[TargetProgress, ...]  # crm.yaml's targets, won + weighted against each

    def to_data(self, *, deals_in_full: bool = True) -> dict[str, Any]:
        """JSON-able dict for data.json: deals in full, everywhere else deals by id (with `deals_in_full`
        False, `deals` too maps each id to itself, for a caller that fills them in)."""
        data = {field.name: to_data(getattr(self, field.name)) for field in dataclasses.fields(self)}
        if deals_in_full:
            data["deals"] = {deal_id: to_data(figures, nested=False) for deal_id, figures in self.deals.items()}
        return data


def sales_figures(workspace: Workspace, today: dt.date, findings: Sequence[Finding] = (),
                  stage_since: StageSince = front_matter_stage_since) -> CrmAnalytics:
    """Compute every CRM figure once: per-deal figures, board, follow-ups, overview, hand-offs, forecast."""
    deals = deal_figures(workspace, today, stage_since)
    config = workspace.config
    return CrmAnalytics(today, config.currency, deals, board_from(deals, config, today),
                        followups_from(deals, config, today), overview_from(deals, config, today, findings),
                        handoffs_from(deals, workspace, today), forecast_from(deals, config, today),
                        target_progress(deals.values(), config))


NO_OWNER = "_none"  # the owner-filter key of deals without an owner


def owner_key(owner: str | None) -> str:
    """The owner-filter key of an owner id."""
    return owner or NO_OWNER


@dataclass(frozen=True, slots=True)
class OwnerFigures:
    """One owner's share of the overview, the forecast and the targets: what the owner filter shows."""

    overview: Overview
    forecast: Forecast
    targets: tuple[TargetProgress, ...]  # the team's and this owner's


def owner_figures(crm: CrmAnalytics, config: Config, findings: Sequence[Finding] = ()) -> dict[str, OwnerFigures]:
    """Each owner's overview, forecast and targets (owner key -> figures), for the owner filter of the board,
    the forecast and the overview."""
    found = {}
    for ref in crm.board.owners:
        mine = {deal_id: figures for deal_id, figures in crm.deals.items() if figures.owner == ref.id}
        found[owner_key(ref.id)] = OwnerFigures(
            overview_from(mine, config, crm.today, findings), forecast_from(mine, config, crm.today),
            tuple(item for item in crm.targets if item.owner is None or item.owner == ref.id))
    return found


def owner_boards(crm: CrmAnalytics, config: Config) -> dict[str, Board]:
    """The board of each owner's deals (owner key -> board), for the board's owner filter."""
    boards = {}
    for ref in crm.board.owners:
        mine = {deal_id: figures for deal_id, figures in crm.deals.items() if figures.owner == ref.id}
        boards[owner_key(ref.id)] = board_from(mine, config, crm.today)
    return boards
