"""The analysis facade: everything derived from a loaded workspace on one day, as one typed value.

    files -> records (records/loader) -> analyze(workspace, today, history) -> Analysis
        stage dates (history/stages)      delivery plan and statuses (delivery/)
        findings (lint rules read this Analysis)  sales figures (sales/)  history facts (history/)
    -> lint reports, site pages, data.json, terminal reports

Each part is computed on first use and kept: `lint` pays only for what its rules read, the site for
everything, once. Rules and pages read the same parts; no consumer reaches a figure through another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from plaintext_crm.delivery.schedule import PlannedWorkspace, plan_workspace
from plaintext_crm.delivery.status import DeliveryFigures, project_statuses
from plaintext_crm.findings import Finding
from plaintext_crm.history.activity import HistoryFigures, history_figures
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.history.stages import StageDates, lint_notices, stage_dates
from plaintext_crm.lint.registry import apply_policy, run_rules
from plaintext_crm.records.model import OPEN_WORK, Deal, DealStatus, Workspace, stage_status
from plaintext_crm.sales.analytics import CrmAnalytics, owner_boards, sales_figures
from plaintext_crm.sales.figures import Board


@dataclass(frozen=True)
class DealsByStatus:
    """The workspace's deals sorted out by status once, for the rules that look at one kind."""

    all: tuple[Deal, ...]
    open: tuple[Deal, ...]  # open work: an open stage, or a missing or unknown one (OPEN_WORK)
    won: tuple[Deal, ...]
    lost: tuple[Deal, ...]
    closed: tuple[Deal, ...]  # won and lost, in workspace order


@dataclass(frozen=True, eq=False)
class Analysis:
    """A workspace analysed on one day: the records, the findings and every figure, each part computed once.

    `load_findings` are the loader's (unreadable files, invalid values); `findings` adds the rules' and
    applies crm.yaml's severities and each record's `lint_ignore`.
    """

    workspace: Workspace
    today: dt.date
    git: GitHistory
    load_findings: tuple[Finding, ...] = ()
    # Findings made elsewhere and given as they are: an audience's view shows the whole workspace's
    # findings about its records (site/audience.py), not what the rules would say of the view alone.
    given_findings: tuple[Finding, ...] | None = None

    # --- history facts the rules read ---------------------------------------------------------------

    @cached_property
    def stage_dates(self) -> StageDates:
        """Each deal's stage_since resolved against git history, and the front matter git contradicts."""
        summary, _notices = self.git.stage_summary()
        return stage_dates(summary, self.workspace, self.today)

    def stage_since(self, deal: Deal) -> dt.date | None:
        """The date the deal entered its current stage: git's, else the front matter's."""
        return self.stage_dates.since.get(deal.id, deal.stage_since)

    @cached_property
    def history_notices(self) -> tuple[str, ...]:
        """What to tell the user about the history read (a shallow clone, no git, future commits)."""
        summary, notices = self.git.stage_summary()
        return tuple(lint_notices(summary, notices, self.workspace, self.today))

    # --- records sorted out once -------------------------------------------------------------------

    @cached_property
    def deals_by_status(self) -> DealsByStatus:
        """The deals by status (Workspace.status), in workspace order."""
        groups: dict[DealStatus, list[Deal]] = {status: [] for status in DealStatus}
        opened: list[Deal] = []
        closed: list[Deal] = []
        stages = {stage.id: stage for stage in self.workspace.config.stages}
        for deal in self.workspace.deals.values():
            status = stage_status(stages.get(deal.stage) if deal.stage is not None else None)
            groups[status].append(deal)
            (opened if status in OPEN_WORK else closed).append(deal)
        return DealsByStatus(tuple(self.workspace.deals.values()), tuple(opened), tuple(groups[DealStatus.WON]),
                             tuple(groups[DealStatus.LOST]), tuple(closed))

    # --- delivery --------------------------------------------------------------------------------

    @cached_property
    def plan(self) -> PlannedWorkspace:
        """The forward pass over every project: cycles, schedule conflicts and planned spans."""
        return plan_workspace(self.workspace, self.today)

    @cached_property
    def delivery(self) -> DeliveryFigures:
        """Every project's schedule (completing `plan`) and its status: task states, health, drift."""
        schedule = self.plan.schedule()
        return DeliveryFigures(schedule, project_statuses(self.workspace, schedule, self.today))

    # --- findings --------------------------------------------------------------------------------

    @cached_property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding (loader and rules) after crm.yaml's policy, sorted by path, line, column, code."""
        if self.given_findings is not None:
            return self.given_findings
        found = [*self.load_findings, *run_rules(self)]
        return tuple(sorted(set(apply_policy(found, self.workspace)),
                            key=lambda finding: (*finding.sort_key(), finding.message)))

    # --- sales and history figures -------------------------------------------------------------------

    @cached_property
    def crm(self) -> CrmAnalytics:
        """The sales figures: per-deal figures, board, follow-ups, overview, hand-offs, forecast."""
        return sales_figures(self.workspace, self.today, self.findings, self.stage_since)

    @cached_property
    def owner_boards(self) -> Mapping[str, Board]:
        """The board of each owner's deals, by owner key (sales.analytics.owner_key)."""
        return owner_boards(self.crm, self.workspace.config)

    @cached_property
    def history(self) -> HistoryFigures:
        """What git history shows: stage histories, activity, the funnel, this week's changes."""
        return history_figures(self.workspace, self.today, self.git.history_as_of(self.today),
                               figures=self.crm.deals)


GIT_HISTORY_OFF = "crm.yaml sets git_history: false, so no commits are read"


def analyze(workspace: Workspace, today: dt.date, history: GitHistory | None = None,
            load_findings: Iterable[Finding] = (), *, findings: Iterable[Finding] | None = None) -> Analysis:
    """The analysis of a loaded workspace on `today`; `history` defaults to the workspace's git history.

    `findings`: the findings to hold as they are, instead of running the rules (an audience's view).
    """
    if not workspace.config.git_history:  # crm.yaml's `git_history: false`: the commits are not the story
        history = GitHistory.none(GIT_HISTORY_OFF)
    return Analysis(workspace, today, history if history is not None else GitHistory(workspace.root),
                    tuple(load_findings), tuple(findings) if findings is not None else None)


def load_analysis(root: Path, today: dt.date, *, use_cache: bool = True, whole_history: bool = False) -> Analysis:
    """Load the workspace at `root` (through the parse cache unless `use_cache` is False) and analyse it.

    `whole_history`: the caller will want the whole git history (the site), so it is read once up front.
    """
    from plaintext_crm.records.parse_cache import load_workspace_cached

    workspace, load_findings = load_workspace_cached(root, use_cache=use_cache)
    return analyze(workspace, today, GitHistory(root, use_cache=use_cache, whole=whole_history), load_findings)
