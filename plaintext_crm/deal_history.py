"""Per-deal stage facts from git history and the working tree: stage since, stage history, funnel, cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from plaintext_crm.history import History, StageSummary
from plaintext_crm.model import Deal, Workspace

UNCOMMITTED = "(uncommitted)"


def mean(values: list[int]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True)
class StageSpan:
    """A deal's stay in one stage: HubSpot's "date entered" / "date exited" for that stage."""

    stage: str | None
    entered: dt.date
    left: dt.date | None  # None: the deal is still in the stage
    author: str  # who moved the deal into the stage; "(uncommitted)" for a working-tree change
    commit: str | None  # None for a change not committed yet, or a front matter date without git
    exact: bool  # False: entered before a shallow clone's history starts, so `entered` is a lower bound

    def days(self, today: dt.date) -> int:
        """Whole days spent in the stage (to today while still in it); never negative."""
        return max(0, ((self.left or today) - self.entered).days)

    def to_data(self) -> dict[str, Any]:
        return {"stage": self.stage, "entered": self.entered.isoformat(),
                "left": self.left.isoformat() if self.left else None, "author": self.author,
                "commit": self.commit, "exact": self.exact}


def stage_history(history: History, deal: Deal, today: dt.date) -> tuple[StageSpan, ...]:
    """Every stage the deal has been in, oldest first, with the precedence rules applied.

    - committed history gives the stays and who moved the deal;
    - a stage changed in the working tree but not committed yet counts from `today`, and so does
      a deal file that was never committed;
    - a `stage_since` in the front matter wins for the current stage;
    - without git history, the only stay known is the front matter's (stage, stage_since).
    """
    spans: list[StageSpan] = []
    record = history.records.get(deal.path) if history.available else None
    if record is not None and record.visits:
        spans = [StageSpan(visit.stage, visit.entered, None, visit.commit.author, visit.commit.sha, visit.exact)
                 for visit in record.visits]
        if record.committed.get("stage") != deal.stage:
            spans.append(StageSpan(deal.stage, today, None, UNCOMMITTED, None, True))
    elif history.available:
        spans = [StageSpan(deal.stage, today, None, UNCOMMITTED, None, True)]
    elif deal.stage_since is not None:
        spans = [StageSpan(deal.stage, deal.stage_since, None, deal.owner or "", None, True)]
    if spans and deal.stage_since is not None:
        spans[-1] = replace(spans[-1], entered=deal.stage_since, exact=True)
    for index in range(len(spans) - 1):
        spans[index] = replace(spans[index], left=spans[index + 1].entered)
    return tuple(spans)


def stage_since(history: History, deal: Deal, today: dt.date) -> dt.date | None:
    """The date the deal entered its current stage (front matter, else working tree, else history)."""
    spans = stage_history(history, deal, today)
    return spans[-1].entered if spans else deal.stage_since


def stage_since_function(history: History, today: dt.date) -> Callable[[Deal], dt.date | None]:
    """`stage_since(deal)` bound to a history and a date: the seam pipeline analytics take."""
    return lambda deal: stage_since(history, deal, today)


def days_in_stage(history: History, deal: Deal, today: dt.date) -> int | None:
    """Days from stage_since to today; None when no date is known."""
    since = stage_since(history, deal, today)
    return max(0, (today - since).days) if since else None


def history_stage_since(summary: StageSummary | None, workspace: Workspace, today: dt.date) -> dict[str, dt.date]:
    """Deal id -> date the current stage was entered according to git and the working tree.

    For LintContext.history_stage_since, which lets the front matter win. Built from the small
    stage summary so that lint never loads the whole history. None (no git) gives {}.
    """
    if summary is None:
        return {}
    result: dict[str, dt.date] = {}
    for deal in workspace.deals.values():
        entry = summary.get(deal.path)
        result[deal.id] = entry[1] if entry is not None and entry[0] == deal.stage else today
    return result


def lint_notices(summary: StageSummary | None, notices: tuple[str, ...], workspace: Workspace) -> list[str]:
    """The history notices worth printing during lint: a shallow clone's always; without git only when
    it matters, i.e. some open deal in a stage with rot_days has no stage_since and so cannot rot."""
    if summary is not None:
        return list(notices)
    stages = {stage.id: stage for stage in workspace.config.stages}
    blind = any(deal.stage_since is None and (stage := stages.get(deal.stage or "")) is not None
                and stage.is_open and stage.rot_days is not None for deal in workspace.deals.values())
    if not blind:
        return []
    # Worded without the count, so that the once-per-workspace memory does not repeat it as deals change.
    return [f"{notice}; open deals in stages with rot_days need one, or D006 cannot flag them"
            for notice in notices]


@dataclass(frozen=True)
class StageTime:
    """Time a deal spent in one stage over all its stays (HubSpot's date entered / exited / time in)."""

    stage: str | None
    first_entered: dt.date
    last_exited: dt.date | None  # None while the deal is still in the stage
    days: int

    def to_data(self) -> dict[str, Any]:
        return {"stage": self.stage, "entered": self.first_entered.isoformat(),
                "exited": self.last_exited.isoformat() if self.last_exited else None, "days": self.days}


def stage_times(spans: tuple[StageSpan, ...], today: dt.date) -> tuple[StageTime, ...]:
    """Per stage, in the order first entered: first entry, last exit and total days in it."""
    times: dict[str | None, StageTime] = {}
    for span in spans:
        before = times.get(span.stage)
        days = span.days(today) + (before.days if before else 0)
        first = before.first_entered if before else span.entered
        times[span.stage] = StageTime(span.stage, first, span.left, days)
    return tuple(times.values())


@dataclass(frozen=True)
class FunnelStage:
    """One open stage of the funnel: deals that reached it, moved on from it, and the time spent in it."""

    stage: str
    reached: int  # deals ever in this stage or a later one (won counts as later than every open stage)
    moved_on: int  # of those, deals that reached the next open stage, or won after the last one
    conversion: float | None  # moved_on / reached
    average_days: float | None  # mean days of finished stays in this stage
    finished_stays: int
    deal_ids: tuple[str, ...]  # the deals behind `reached`

    def to_data(self) -> dict[str, Any]:
        return {"stage": self.stage, "reached": self.reached, "moved_on": self.moved_on,
                "conversion": None if self.conversion is None else round(self.conversion, 4),
                "average_days": None if self.average_days is None else round(self.average_days, 1),
                "finished_stays": self.finished_stays, "deals": list(self.deal_ids)}


@dataclass(frozen=True)
class StageFunnel:
    """Stage conversion rates, average days per stage and the sales cycle, from stage histories."""

    stages: tuple[FunnelStage, ...]
    won: int
    average_sales_cycle_days: float | None  # won deals: created -> won
    sales_cycle_deals: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {"stages": [stage.to_data() for stage in self.stages], "won": self.won,
                "average_sales_cycle_days": None if self.average_sales_cycle_days is None
                else round(self.average_sales_cycle_days, 1),
                "sales_cycle_deals": list(self.sales_cycle_deals)}


def stage_funnel(history: History, workspace: Workspace, today: dt.date,
                 spans_of: Mapping[str, tuple[StageSpan, ...]] | None = None) -> StageFunnel:
    """Funnel over every deal in the workspace, from each deal's stage history (`spans_of`: deal id ->
    stage_history, when the caller has them already)."""
    config = workspace.config
    stages = {stage.id: stage for stage in config.stages}
    open_ids = [stage.id for stage in config.open_stages]
    rank = {stage_id: index for index, stage_id in enumerate(open_ids)}
    won_rank = len(open_ids)
    reached: list[list[str]] = [[] for _ in range(won_rank + 1)]
    stays: dict[str, list[int]] = {stage_id: [] for stage_id in open_ids}
    cycles: list[tuple[str, int]] = []
    for deal in sorted(workspace.deals.values(), key=lambda item: item.id):
        spans = spans_of[deal.id] if spans_of is not None else stage_history(history, deal, today)
        best = -1
        for span in spans:
            stage = stages.get(span.stage or "")
            if stage is None:
                continue
            best = max(best, won_rank if stage.is_won else rank.get(stage.id, -1))
            if stage.is_open and span.left is not None:
                stays[stage.id].append(span.days(today))
        for index in range(best + 1):
            reached[index].append(deal.id)
        current = stages.get(deal.stage or "")
        if current is not None and current.is_won:
            cycle = _sales_cycle(history, deal, spans)
            if cycle is not None:
                cycles.append((deal.id, cycle))
    rows = []
    for index, stage_id in enumerate(open_ids):
        count, moved = len(reached[index]), len(reached[index + 1])
        finished = stays[stage_id]
        rows.append(FunnelStage(stage_id, count, moved, moved / count if count else None,
                                mean(finished) if finished else None, len(finished), tuple(reached[index])))
    return StageFunnel(tuple(rows), len(reached[won_rank]),
                       mean([days for _, days in cycles]) if cycles else None, tuple(deal_id for deal_id, _ in cycles))


def _sales_cycle(history: History, deal: Deal, spans: tuple[StageSpan, ...]) -> int | None:
    """Days from creation (front matter `created`, else the creating commit) to the win."""
    record = history.records.get(deal.path) if history.available else None
    start = deal.created or (record.created.commit.date if record and record.created else None)
    end = deal.closed_on or (spans[-1].entered if spans else None)
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


def deal_history_data(history: History, deal: Deal, today: dt.date,
                      spans: tuple[StageSpan, ...] | None = None) -> dict[str, Any]:
    """The data.json fields of one deal: stage_since, days_in_stage, stage_history, created/changed."""
    if spans is None:
        spans = stage_history(history, deal, today)
    since = spans[-1].entered if spans else deal.stage_since
    record = history.records.get(deal.path) if history.available else None
    return {
        "stage_since": since.isoformat() if since else None,
        "days_in_stage": max(0, (today - since).days) if since else None,
        "stage_history": [{**span.to_data(), "days": span.days(today)} for span in spans],
        "stage_times": [time.to_data() for time in stage_times(spans, today)],
        **record_dates_data(record),
    }


def record_dates_data(record: Any) -> dict[str, Any]:
    """Created and last changed (date, author, commit) of a RecordHistory, for data.json."""
    if record is None:
        return {"created_by": None, "created_on": None, "last_changed_by": None, "last_changed_on": None}
    created, last = record.created, record.last_changed
    return {"created_on": created.commit.date.isoformat() if created else None,
            "created_by": created.commit.author if created else None,
            "last_changed_on": last.commit.date.isoformat(), "last_changed_by": last.commit.author}
