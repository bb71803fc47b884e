"""The figures the site shows, all from the analytics modules: the site itself computes no business figure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plaintext_crm.findings import Finding
from plaintext_crm.lint.registry import LintContext
from plaintext_crm.records.model import Workspace
from plaintext_crm.sales.analytics import CrmAnalytics, analyze
from plaintext_crm.sales.figures import Board, board_from

if TYPE_CHECKING:
    from plaintext_crm.delivery.status import DeliveryFigures
    from plaintext_crm.history.activity import HistoryFigures

NO_OWNER = "_none"  # the owner-filter key of deals without an owner


@dataclass(frozen=True)
class Figures:
    """Every computed figure: the CRM analytics, and the board of each owner's deals for the owner filter."""

    crm: CrmAnalytics
    owner_boards: Mapping[str, Board]  # owner key (member id, or NO_OWNER) -> board of that owner's deals
    history: HistoryFigures  # stage histories, activity, this week
    delivery: DeliveryFigures  # schedules, project health, drift


def owner_key(owner: str | None) -> str:
    """The owner-filter key of an owner id."""
    return owner or NO_OWNER


def compute_figures(workspace: Workspace, today: dt.date, findings: Sequence[Finding],
                    context: LintContext | None = None) -> Figures:
    """Run the analytics once, with the stage dates the linter sees (front matter, else git history).

    `context`: the lint run's context of the same workspace and day, whose stage dates and schedule
    are reused rather than derived a second time.
    """
    from plaintext_crm.lint.rules.delivery import planned
    from plaintext_crm.lint.run import build_lint_context

    if context is None or context.workspace is not workspace or context.today != today:
        context = build_lint_context(workspace, today)
    stage_since = context.stage_since
    crm = analyze(workspace, today, findings, stage_since)
    boards = {}
    for ref in crm.board.owners:
        mine = {deal_id: figures for deal_id, figures in crm.deals.items() if figures.owner == ref.id}
        boards[owner_key(ref.id)] = board_from(mine, workspace.config, today)
    from plaintext_crm.history.activity import history_figures

    return Figures(crm, boards, history_figures(workspace, today, figures=crm.deals), planned(context))
