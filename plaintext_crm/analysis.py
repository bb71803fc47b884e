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

from plaintext_crm.delivery.invoices import ProjectInvoices, project_invoices
from plaintext_crm.delivery.schedule import PlannedWorkspace, plan_workspace
from plaintext_crm.delivery.status import DeliveryFigures, project_statuses
from plaintext_crm.delivery.workload import Workload, workload
from plaintext_crm.findings import Finding
from plaintext_crm.history.accuracy import MonthAccuracy, Slippage, forecast_accuracy, slippage
from plaintext_crm.history.activity import HistoryFigures, history_figures
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.history.stages import StageDates, lint_notices, stage_dates
from plaintext_crm.history.transitions import Transition, transitions
from plaintext_crm.lint.registry import apply_policy, run_rules
from plaintext_crm.records.model import OPEN_WORK, Deal, DealStatus, Workspace, stage_status
from plaintext_crm.revenue import RevenueForecast, revenue_forecast
from plaintext_crm.sales.analytics import (
    CrmAnalytics,
    OwnerFigures,
    owner_boards,
    owner_figures,
    sales_figures,
)
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
    # The workspace at a base revision (the hook's HEAD, `lint --base REV`): the transition rules compare
    # with it. None: no base known, and those rules stay silent.
    base: Workspace | None = None
    # Unfinished work is planned from this day (MS Project's status date); None: today.
    status_date: dt.date | None = None

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

    @cached_property
    def slippage(self) -> Mapping[str, Slippage]:
        """Per deal id, how often (and by how much) its expected_close moved later in the committed history."""
        return slippage(self.workspace, self.git.close_moves(), self.today)

    @cached_property
    def transitions(self) -> Mapping[str, Transition]:
        """Per deal id, how the deal changed since the base revision (empty without a base)."""
        return transitions(self.base, self.workspace) if self.base is not None else {}

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
        return plan_workspace(self.workspace, self.today, self.status_date)

    @cached_property
    def delivery(self) -> DeliveryFigures:
        """Every project's schedule (completing `plan`) and its status: task states, health, drift."""
        schedule = self.plan.schedule()
        return DeliveryFigures(schedule, project_statuses(self.workspace, schedule, self.status_date or self.today))

    @property
    def status_day(self) -> dt.date:
        """The status date: unfinished work is planned from it (today unless given)."""
        return self.status_date or self.today

    @cached_property
    def workload(self) -> Workload:
        """Each person's booked days per week against capacity, for 12 weeks from the status date (P004)."""
        return workload(self.workspace, self.delivery.schedule, self.status_day)

    @cached_property
    def invoices(self) -> Mapping[str, ProjectInvoices]:
        """Each project's invoices, planned from the status-date plan, and its budget (P005)."""
        return project_invoices(self.workspace, self.delivery.schedule, self.status_day)

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
    def owner_figures(self) -> Mapping[str, OwnerFigures]:
        """Each owner's overview, forecast and targets, by owner key (the owner filter of the sales pages)."""
        return owner_figures(self.crm, self.workspace.config, self.findings)

    @cached_property
    def history(self) -> HistoryFigures:
        """What git history shows: stage histories, activity, the funnel, this week's changes."""
        return history_figures(self.workspace, self.today, self.git.history_as_of(self.today),
                               figures=self.crm.deals)

    @cached_property
    def forecast_accuracy(self) -> tuple[MonthAccuracy, ...]:
        """Each of the last 12 complete months: the weighted forecast at its first day against what was won."""
        return forecast_accuracy(self.git.history_as_of(self.today), self.workspace.config, self.crm.deals,
                                 self.today)

    @cached_property
    def revenue(self) -> RevenueForecast:
        """Sales and delivery in one forecast: invoices sent and planned beside the weighted pipeline, by month."""
        return revenue_forecast(self.workspace, self.invoices, self.crm.deals.values(), self.status_day)


GIT_HISTORY_OFF = "crm.yaml sets git_history: false, so no commits are read"


def analyze(workspace: Workspace, today: dt.date, history: GitHistory | None = None,
            load_findings: Iterable[Finding] = (), *, findings: Iterable[Finding] | None = None,
            base: Workspace | None = None) -> Analysis:
    """The analysis of a loaded workspace on `today`; `history` defaults to the workspace's git history.

    `findings`: the findings to hold as they are, instead of running the rules (an audience's view).
    `base`: the workspace at a base revision, for the transition rules.
    """
    if not workspace.config.git_history:  # crm.yaml's `git_history: false`: the commits are not the story
        history = GitHistory.none(GIT_HISTORY_OFF)
    return Analysis(workspace, today, history if history is not None else GitHistory(workspace.root),
                    tuple(load_findings), tuple(findings) if findings is not None else None, base)


def load_analysis(root: Path, today: dt.date, *, use_cache: bool = True, whole_history: bool = False) -> Analysis:
    """Load the workspace at `root` (through the parse cache unless `use_cache` is False) and analyse it.

    `whole_history`: the caller will want the whole git history (the site), so it is read once up front.
    """
    from plaintext_crm.records.parse_cache import load_workspace_cached

    workspace, load_findings = load_workspace_cached(root, use_cache=use_cache)
    return analyze(workspace, today, GitHistory(root, use_cache=use_cache, whole=whole_history), load_findings)


def load_analysis_as_of(root: Path, as_of: str, *, use_cache: bool = True) -> Analysis:
    """The workspace at `root` as it stood on a day or at a revision (history/as_of.py), analysed with that
    day as today and the history cut at that commit: no file of the working tree is read."""
    from plaintext_crm.history.as_of import read_snapshot

    snapshot = read_snapshot(root, as_of, use_cache=use_cache)
    return analyze(snapshot.workspace, snapshot.today, GitHistory.of(snapshot.history), snapshot.load_findings)
