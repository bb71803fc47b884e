"""Recent activity from git history (who changed which record, and how), and every history figure the site shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plaintext_crm.history.changes import Changes
from plaintext_crm.history.record_history import Commit, History, RecordHistory
from plaintext_crm.history.stages import (
    StageFunnel,
    deal_history_data,
    record_dates_data,
    stage_funnel,
    stage_history,
)
from plaintext_crm.records.model import Workspace
from plaintext_crm.sales.figures import DealFigures

ACTIVITY_LIMIT = 15  # commits in the overview's recent-activity feed
EVENTS_PER_COMMIT = 8  # records listed under each commit of the feed
FIELD_LABELS = {"stage": "stage", "owner": "owner", "value": "value", "currency": "currency",
                "expected_close": "expected close", "stage_since": "stage since"}


def _as_text(value: Any) -> str:
    """A changed value as the activity feed shows it: none, ISO dates, 12000 rather than 12000.0."""
    if value is None:
        return "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ActivityEvent:
    """What one commit did to one record."""

    path: str  # the record's path now (its last path, when it was deleted)
    kind: str  # "clients", "deals", "projects"
    record_id: str
    action: str  # "created", "edited", "renamed", "deleted", "present" (a shallow clone's first commit),
    # or "imported": one event for every record the commit imported (`records`)
    details: tuple[str, ...]  # "stage: proposal → won", "owner: ana → ben", "from deals/x.md" (renamed)
    exists: bool  # False when the record has been deleted since
    records: tuple[str, ...] = ()  # "imported": the paths of the records imported

    def to_data(self) -> dict[str, Any]:
        data = {"path": self.path, "kind": self.kind, "id": self.record_id, "action": self.action,
                "details": list(self.details), "exists": self.exists}
        return {**data, "records": list(self.records)} if self.action == "imported" else data


@dataclass(frozen=True)
class Activity:
    """One commit that touched records: when, who, its message and what it did to each record."""

    commit: Commit
    events: tuple[ActivityEvent, ...]
    more: int = 0  # records the commit touched beyond `events` (a feed shows the first few)

    def to_data(self) -> dict[str, Any]:
        return {"commit": self.commit.sha, "date": self.commit.date.isoformat(), "author": self.commit.author,
                "email": self.commit.email, "subject": self.commit.subject,
                "events": [event.to_data() for event in self.events], "more_events": self.more}


def _events(record: RecordHistory, exists: bool) -> Iterable[tuple[Commit, ActivityEvent]]:
    by_commit: dict[str, list[str]] = {}
    for change in record.changes:
        by_commit.setdefault(change.commit.sha, []).append(
            f"{FIELD_LABELS.get(change.field, change.field)}: {_as_text(change.old)} → {_as_text(change.new)}")
    for touch in record.touches:
        details = list(by_commit.get(touch.commit.sha, ()))
        if touch.action == "renamed" and touch.old_path:
            details.insert(0, f"from {touch.old_path}")
        if touch.action == "created" and record.kind == "deals":
            first = next((visit for visit in record.visits if visit.commit.sha == touch.commit.sha), None)
            if first is not None and first.stage:
                details.insert(0, f"stage: {first.stage}")
        yield touch.commit, ActivityEvent(record.path, record.kind, record.id, touch.action, tuple(details), exists)


def imported_records(history: History, workspace: Workspace) -> dict[str, frozenset[str]]:
    """Commit -> the records it imported: records whose own dates (created, stage_since, closed_on) are
    older than the commit that added them, so the commit brought them in rather than saw them begin."""
    found: dict[str, set[str]] = {}
    for record in workspace.records():
        known = history.records.get(record.path)
        created = known.created if known is not None else None
        if created is None:
            continue
        days = [value for key in ("created", "stage_since", "closed_on")
                if isinstance(value := record.fields.get(key), dt.date)]
        if days and min(days) < created.commit.date:
            found.setdefault(created.commit.sha, set()).add(record.path)
    return {sha: frozenset(paths) for sha, paths in found.items()}


def activity(history: History, paths: Iterable[str] | None = None, limit: int | None = None,
             events_per_commit: int | None = None,
             imported: Mapping[str, frozenset[str]] | None = None) -> tuple[Activity, ...]:
    """Commits touching records (only those at `paths`, when given), newest first, at most `limit`,
    each with at most `events_per_commit` records (in path order; `more` counts the rest). The records a
    commit imported (`imported`, from imported_records) are one "imported N records" event."""
    wanted = set(paths) if paths is not None else None
    records = [(record, True) for record in history.records.values() if wanted is None or record.path in wanted]
    records += [(record, False) for record in history.removed if wanted is None or record.path in wanted]
    newest: dict[str, Commit] = {touch.commit.sha: touch.commit for record, _ in records for touch in record.touches}
    chosen = sorted(newest.values(), key=lambda commit: (commit.timestamp, commit.sha), reverse=True)
    if limit is not None:
        chosen = chosen[:limit]
    touched: dict[str, list[tuple[RecordHistory, bool]]] = {commit.sha: [] for commit in chosen}
    for record, exists in records:
        for sha in {touch.commit.sha for touch in record.touches} & touched.keys():
            touched[sha].append((record, exists))
    feed = []
    for commit in chosen:
        batch = (imported or {}).get(commit.sha, frozenset())
        everyone = sorted(touched[commit.sha], key=lambda item: item[0].path)
        together = tuple(record.path for record, _exists in everyone if record.path in batch)
        rest = [item for item in everyone if item[0].path not in batch]
        events: list[ActivityEvent] = []
        if together:
            events.append(ActivityEvent(together[0], "records", "", "imported",
                                        (f"{len(together)} record{'s' if len(together) != 1 else ''}",),
                                        True, together))
        shown = rest if events_per_commit is None else rest[:max(0, events_per_commit - len(events))]
        events += [event for record, exists in shown for made, event in _events(record, exists)
                   if made.sha == commit.sha]
        feed.append(Activity(commit, tuple(events), len(rest) - len(shown)))
    return tuple(feed)


@dataclass(frozen=True)
class HistoryFigures:
    """Everything the site shows from git history, computed once per build."""

    history: History
    deals: Mapping[str, dict[str, Any]]  # deal id -> stage_since, days_in_stage, stage_history, ...
    records: Mapping[str, dict[str, Any]]  # record path -> created/last changed (date, author)
    funnel: StageFunnel
    recent: tuple[Activity, ...]  # the overview's feed
    this_week: Changes | None  # None without git history
    this_week_problem: str | None  # why this_week is None
    imported: Mapping[str, frozenset[str]] = field(default_factory=dict)  # commit -> records it imported

    def record_activity(self, paths: Iterable[str]) -> tuple[Activity, ...]:
        """Every commit touching these records (a client's timeline), newest first."""
        return activity(self.history, paths, imported=self.imported)

    def to_data(self) -> dict[str, Any]:
        return {"available": self.history.available, "shallow": self.history.shallow,
                "head": self.history.head, "notices": list(self.history.notices),
                "funnel": self.funnel.to_data(), "recent_activity": [item.to_data() for item in self.recent],
                "this_week": self.this_week.to_data() if self.this_week else None}


def history_figures(workspace: Workspace, today: dt.date, history: History, *, limit: int = ACTIVITY_LIMIT,
                    figures: Mapping[str, DealFigures] | None = None,
                    this_week: Callable[[], Changes] | None = None, no_week: str | None = None) -> HistoryFigures:
    """Every figure the site shows from git history.

    `history`: as of `today` (`GitHistory.history_as_of`: commits dated after today count as made
    today, with a notice the This week page and data.json show). `figures`: the sales figures of the
    workspace's deals, when the caller has them (saves work). `this_week`: how the week's changes are
    found (default `changes_between` over the workspace; an audience compares its view then and now);
    `no_week`: the reason given when they cannot be, instead of the error's.
    """
    from plaintext_crm.errors import ToolError
    from plaintext_crm.history.changes import changes_between

    spans = {deal_id: stage_history(history, deal, today) for deal_id, deal in sorted(workspace.deals.items())}
    deals = {deal_id: deal_history_data(history, workspace.deals[deal_id], today, spans[deal_id])
             for deal_id in spans}
    records = {record.path: record_dates_data(history.records.get(record.path)) for record in workspace.records()}
    week: Changes | None = None
    problem: str | None = None
    try:
        week = this_week() if this_week is not None else changes_between(workspace.root, workspace, history, today,
                                                                          figures=figures)
    except ToolError as exc:
        problem = no_week or exc.message
    imported = imported_records(history, workspace)
    return HistoryFigures(history, deals, records, stage_funnel(history, workspace, today, spans),
                          activity(history, limit=limit, events_per_commit=EVENTS_PER_COMMIT, imported=imported),
                          week, problem, imported)
