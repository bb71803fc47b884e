"""Each deal's committed moves of expected_close to a later date: the small fact lint's D011 reads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plaintext_crm.history.record_history import History

# Per deal path: (expected_close at the last commit, its moves to a later date: (commit date, author, old, new)).
CloseMoves = dict[str, tuple[dt.date | None, tuple[tuple[dt.date, str, dt.date, dt.date], ...]]]


def close_moves(history: History) -> CloseMoves:
    """Per deal path: its expected_close at the last commit, and each committed move of it to a later date."""
    return {path: (close if isinstance(close := record.committed.get("expected_close"), dt.date) else None, tuple(
        (change.commit.date, change.commit.author, change.old, change.new) for change in record.changes
        if change.field == "expected_close" and isinstance(change.old, dt.date) and isinstance(change.new, dt.date)
        and change.new > change.old)) for path, record in history.records.items() if record.kind == "deals"}
