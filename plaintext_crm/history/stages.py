"""Per-deal stage facts from git history and the working tree: stage since, stage history, funnel, cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plaintext_crm.history.record_history import (
    History,
    RecordHistory,
    StageSummary,
    StayRow,
    future_notice,
    stay_rows,
)
from plaintext_crm.json_data import to_data
from plaintext_crm.records.model import Deal, Workspace

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
        data: dict[str, Any] = to_data(self)
        return data


@dataclass(frozen=True)
class StageConflict:
    """A front matter `stage_since` that git history contradicts (lint D012); git's date is used instead."""

    stage_since: dt.date  # what the front matter says
    stage: str | None  # the deal's current stage
    moved: dt.date  # when git (or the working tree) says the deal entered that stage, or left the one before
    reason: str  # "stale": not updated when the stage changed; "early": before the previous stay began
    previous: str | None = None  # for "early": the stage the deal was in before
    uncommitted: bool = False  # the stage changed in the working tree, not committed yet

    @property
    def message(self) -> str:
        if self.reason == "early":
            return (f"stage_since {self.stage_since} but git shows the deal entered {self.previous} on "
                    f"{self.moved}, before it moved to {self.stage}; update stage_since or remove it")
        if self.uncommitted:
            return (f"stage_since {self.stage_since} but the deal moved to {self.stage} since the last commit; "
                    "update stage_since or remove it")
        return (f"stage_since {self.stage_since} but git shows the deal moved to {self.stage} on {self.moved}; "
                "update stage_since or remove it")


@dataclass(frozen=True)
class Stays:
    """When each stay of a deal began, resolved from its committed stays, its front matter and today."""

    entered: tuple[dt.date, ...]  # one per committed stay, plus one for an uncommitted stage change
    exact: tuple[bool, ...]
    uncommitted: bool  # the last stay is the working tree's stage, not committed yet
    conflict: StageConflict | None  # the front matter's stage_since, when git contradicts it


def resolve_stays(rows: Sequence[StayRow], committed_since: dt.date | None, stage: str | None,
                  since: dt.date | None, today: dt.date) -> Stays:
    """The precedence rules (docs/history.md), as a pure function of plain values.

    `rows`: the committed stays, oldest first (the mainline's order); `committed_since`: stage_since at
    the last commit; `stage`, `since`: the deal's stage and stage_since in the working tree.

    - Git's dates never go back: each stay's date is at least the one before, and none is after today
      (a commit dated in the future counts as made today).
    - A stage_since written during a stay (in the commit that moved the deal, later in the stay, in
      the first commit of an imported deal, or in the working tree) gives that stay's start, kept
      between the previous stay's start and the next stage change git saw.
    - A stage_since left over from an earlier stage (not updated when the stage changed) is stale
      unless it is the very date of the change: the change's date counts, and `conflict` says so.
    So stays are contiguous, none ends before it begins, and the last one ends today.
    """
    if not rows:  # never committed: the working tree's stay, from its stage_since or from today
        return Stays((min(since, today) if since is not None else today,), (True,), True, None)
    moved: list[dt.date] = []
    for row in rows:  # git's dates, never going back and never after today (a future commit counts as today)
        moved.append(min(max(moved[-1], row[1]) if moved else row[1], today))
    # A start written during a stay but after git's next change is not that stay's start: git's date counts.
    declared_ok = [declared is not None and (index + 1 == len(rows) or declared <= moved[index + 1])
                   for index, (_stage, _date, declared, _exact) in enumerate(rows)]
    starts: list[dt.date] = [declared if ok and declared is not None else moved[index]
                             for index, ((_stage, _date, declared, _exact), ok) in enumerate(zip(rows, declared_ok))]
    exact = [row_exact or ok for (_stage, _date, _declared, row_exact), ok in zip(rows, declared_ok)]
    edited = since != committed_since  # the working tree writes another stage_since (or removes it)
    uncommitted = stage != rows[-1][0]
    conflict: StageConflict | None = None
    from_front = False  # the current stay's start comes from the front matter's stage_since
    if uncommitted:
        moved.append(max(moved[-1], today))
        starts.append(today)
        exact.append(True)
        if since is not None and (edited or since >= today):
            starts[-1], from_front = since, True
        elif since is not None:
            conflict = StageConflict(since, stage, today, "stale", uncommitted=True)
    elif edited:
        starts[-1] = since if since is not None else moved[-1]
        exact[-1] = exact[-1] or since is not None
        from_front = since is not None
    elif since is not None:
        if rows[-1][2] is not None:
            from_front = True  # written during this stay
        elif since != min(moved[-1], today):  # left over from an earlier stay: it dates that stay, not this one
            conflict = StageConflict(since, stage, min(moved[-1], today), "stale")
    entered: list[dt.date] = []
    for index, start in enumerate(starts):
        value = max(start, entered[-1]) if entered else start
        if index + 1 < len(moved):
            value = min(value, moved[index + 1])  # the next stage change git saw ends this stay
        entered.append(value)
    entered = [min(value, today) for value in entered]
    if from_front and since is not None and len(entered) > 1 and since < entered[-2]:
        previous = rows[len(entered) - 2][0]
        conflict = StageConflict(since, stage, entered[-2], "early", previous)
    return Stays(tuple(entered), tuple(exact), uncommitted, conflict)


def _committed_since(record: RecordHistory | None) -> dt.date | None:
    value = record.committed.get("stage_since") if record is not None else None
    return value if isinstance(value, dt.date) else None


def stage_history(history: History, deal: Deal, today: dt.date) -> tuple[StageSpan, ...]:
    """Every stage the deal has been in, oldest first, with the precedence rules applied (resolve_stays).

    - committed history (the mainline's first-parent chain) gives the stays and who moved the deal;
    - a stage changed in the working tree but not committed yet counts from `today`, and so does
      a deal file that was never committed;
    - a `stage_since` in the front matter wins for the current stage unless git contradicts it;
    - without git history, the only stay known is the front matter's (stage, stage_since).
    """
    if not history.available:
        if deal.stage_since is None:
            return ()
        return (StageSpan(deal.stage, min(deal.stage_since, today), None, deal.owner or "", None, True),)
    record = history.records.get(deal.path)
    visits = record.visits if record is not None else ()
    stays = resolve_stays(stay_rows(visits), _committed_since(record), deal.stage, deal.stage_since, today)
    spans = []
    for index, entered in enumerate(stays.entered):
        left = stays.entered[index + 1] if index + 1 < len(stays.entered) else None
        if index < len(visits):
            visit = visits[index]
            spans.append(StageSpan(visit.stage, entered, left, visit.commit.author, visit.commit.sha,
                                   stays.exact[index]))
        else:
            spans.append(StageSpan(deal.stage, entered, left, UNCOMMITTED, None, stays.exact[index]))
    return tuple(spans)


def stage_since(history: History, deal: Deal, today: dt.date) -> dt.date | None:
    """The date the deal entered its current stage (see stage_history)."""
    spans = stage_history(history, deal, today)
    return spans[-1].entered if spans else None


def days_in_stage(history: History, deal: Deal, today: dt.date) -> int | None:
    """Days from stage_since to today; None when no date is known."""
    since = stage_since(history, deal, today)
    return max(0, (today - since).days) if since else None


@dataclass(frozen=True)
class StageDates:
    """What lint needs from history: each deal's resolved stage_since, and the front matter git contradicts."""

    since: dict[str, dt.date]  # deal id -> the date the deal entered its current stage
    conflicts: dict[str, StageConflict]  # deal id -> its stage_since that git contradicts (D012)


def stage_dates(summary: StageSummary | None, workspace: Workspace, today: dt.date) -> StageDates:
    """Resolved stage dates of every deal, from the small stage summary (lint never loads the whole
    history); the same precedence as stage_history. Without git (`summary` None), the front matter's."""
    if summary is None:
        return StageDates({deal.id: min(deal.stage_since, today) for deal in workspace.deals.values()
                           if deal.stage_since is not None}, {})
    since: dict[str, dt.date] = {}
    conflicts: dict[str, StageConflict] = {}
    for deal in workspace.deals.values():
        committed, rows = summary.get(deal.path, (None, ()))
        stays = resolve_stays(rows, committed, deal.stage, deal.stage_since, today)
        since[deal.id] = stays.entered[-1]
        if stays.conflict is not None:
            conflicts[deal.id] = stays.conflict
    return StageDates(since, conflicts)


def lint_notices(summary: StageSummary | None, notices: tuple[str, ...], workspace: Workspace,
                 today: dt.date | None = None) -> list[str]:
    """The history notices worth printing during lint: a shallow clone's always, and commits dated after
    `today`; without git only when it matters, i.e. some open deal in a stage with rot_days has no
    stage_since and so cannot rot."""
    if summary is not None:
        latest = max((row[1] for _since, rows in summary.values() for row in rows), default=None)
        future = future_notice(latest, today) if today is not None else None
        return [*notices, *([future] if future else [])]
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
