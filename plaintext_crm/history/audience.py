"""The git history an audience may see: only its records, no hidden key's changes, and no message or
author of a commit that also touched a record it does not see."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from plaintext_crm.errors import ToolError
from plaintext_crm.gitrepo import locate_repository
from plaintext_crm.history.activity import HistoryFigures, history_figures
from plaintext_crm.history.changes import (
    DEFAULT_DAYS,
    Changes,
    Point,
    compare,
    deal_renames,
    resolve_point,
    workspace_at,
)
from plaintext_crm.history.record_history import (
    Commit,
    History,
    RecordHistory,
)
from plaintext_crm.records.audience import View, restrict
from plaintext_crm.sales.figures import DealFigures

HIDDEN_AUTHOR = "someone"
HIDDEN_SUBJECT = "a commit that also changed records not shown here"
NO_HISTORY = "this view of the workspace publishes no git history"


def restrict_history(history: History, view: View) -> History:
    """`history` as `view` may see it. A commit touching any record the view leaves out keeps its date
    and what it did to the shown records, but loses its message and author (which may be about the others)."""
    if view.everything:
        return history
    everyone = [*history.records.values(), *history.removed]
    shown = [item for item in history.records.values() if view.shows(item.path)]
    tainted = {touch.commit.sha for item in everyone if not _shown(item, view) for touch in item.touches}
    stage_hidden = bool({"stage", "stage_since"} & view.hidden_keys)

    def commit(item: Commit) -> Commit:
        if item.sha not in tainted:
            return item
        return dataclasses.replace(item, author=HIDDEN_AUTHOR, email="", subject=HIDDEN_SUBJECT)

    def record(item: RecordHistory) -> RecordHistory:
        return dataclasses.replace(
            item,
            touches=tuple(dataclasses.replace(touch, commit=commit(touch.commit)) for touch in item.touches),
            committed={key: value for key, value in item.committed.items() if key not in view.hidden_keys},
            changes=tuple(dataclasses.replace(change, commit=commit(change.commit)) for change in item.changes
                          if change.field not in view.hidden_keys),
            visits=() if stage_hidden else tuple(dataclasses.replace(visit, commit=commit(visit.commit))
                                                 for visit in item.visits))

    removed = tuple(record(item) for item in history.removed if _shown(item, view))
    return dataclasses.replace(history, records={item.path: record(item) for item in shown}, removed=removed)


def _shown(item: RecordHistory, view: View) -> bool:
    """A deleted record belongs to no client any more: only a view of every client shows it."""
    if item.deleted:
        return view.audience.clients is None
    return view.shows(item.path) and item.path in view.workspace.files


def view_history_figures(view: View, today: dt.date, history: History, *,
                         figures: Mapping[str, DealFigures] | None = None, with_git: bool = True) -> HistoryFigures:
    """`activity.history_figures` for an audience: every figure from the restricted history (`history`, see
    `restrict_history`) and workspace; "this week" compares the view then with the view now.

    `with_git` False (the view does not publish `history`): nothing from git at all, as without a repository.
    """
    return history_figures(view.workspace, today, history, figures=figures,
                           this_week=lambda: _changes_this_week(view, history, today, figures),
                           no_week=None if with_git else NO_HISTORY)


def _changes_this_week(view: View, history: History, today: dt.date,
                       figures: Mapping[str, DealFigures] | None) -> Changes:
    """`changes.changes_between` with its default range, comparing the view then with the view now."""
    root = view.workspace.root
    if locate_repository(root) is None or not history.available:
        reason = history.notices[0] if history.notices else "no git history"
        raise ToolError(f"changes needs the workspace's git history: {reason}")
    if history.head is None:
        raise ToolError("changes needs the workspace's git history: the repository has no commits yet")
    start = resolve_point(root, (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat())
    before = restrict(workspace_at(root, start, view.workspace), view.audience).workspace
    return compare(before, view.workspace, today, start, Point("working tree", None), deal_renames(history), figures)
