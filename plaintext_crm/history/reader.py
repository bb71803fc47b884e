"""A workspace's git history, read at most once per run, in the shape the run needs.

Lint needs only each deal's stage stays (a small summary, cached by HEAD); the site needs the whole
history. `GitHistory` reads what is asked first and derives the summary from the whole history when
that has been read, so a run never reads git twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plaintext_crm.history.close_moves import CloseMoves, close_moves
from plaintext_crm.history.record_history import (
    SLIPS_FILE,
    History,
    StageSummary,
    as_of,
    empty_history,
    read_history,
    read_small,
    read_stage_summary,
    stage_summary,
)


class GitHistory:
    """The git history of the workspace at `root` (or none: `GitHistory.none()`), read lazily and once.

    With `whole`, the first question reads the whole history (the site will want it anyway), and the
    stage summary is derived from it.
    """

    def __init__(self, root: Path | None, *, use_cache: bool = True, whole: bool = False) -> None:
        self.root = root
        self.use_cache = use_cache
        self.whole = whole
        self._history: History | None = None
        self._summary: tuple[StageSummary | None, tuple[str, ...]] | None = None
        self._moves: CloseMoves | None = None

    @classmethod
    def none(cls, *notices: str) -> GitHistory:
        """No history at all (a workspace that is not a repository, or a test that wants none)."""
        reader = cls(None)
        reader._history = empty_history(*notices)
        return reader

    @classmethod
    def of(cls, history: History) -> GitHistory:
        """A history already read (and perhaps restricted, as an audience's view is)."""
        reader = cls(None)
        reader._history = history
        return reader

    def history(self) -> History:
        """Every committed fact about every record (`read_history`)."""
        if self._history is None:
            assert self.root is not None
            self._history = read_history(self.root, use_cache=self.use_cache)
        return self._history

    def history_as_of(self, today: dt.date) -> History:
        """The history with commits dated after `today` counted as made today (`as_of`)."""
        return as_of(self.history(), today)

    def stage_summary(self) -> tuple[StageSummary | None, tuple[str, ...]]:
        """Per deal path its committed stage stays (None without history), and the history's notices."""
        if self._summary is None:
            if self._history is not None or self.whole or self.root is None:
                history = self.history()
                self._summary = (stage_summary(history) if history.available else None), history.notices
            else:
                self._summary = read_stage_summary(self.root, use_cache=self.use_cache)
        return self._summary

    def close_moves(self) -> CloseMoves:
        """Per deal path, the committed moves of its expected_close to a later date (`close_moves`), from
        the whole history when it has been read, else from their own small cache file."""
        if self._moves is None:
            if self._history is not None or self.whole or self.root is None:
                self._moves = close_moves(self.history())
            else:
                self._moves = read_small(self.root, SLIPS_FILE, use_cache=self.use_cache)
        return self._moves
