"""What git says about each record: one `git log` pass folded into per-record facts, cached by HEAD."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import pickle
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from plaintext_crm.gitrepo import (
    GitFailed,
    GitRepository,
    locate_repository,
    read_blobs,
    read_head,
    resolve_head,
    run_git,
    shallow_commits,
)
from plaintext_crm.history.close_moves import close_moves
from plaintext_crm.history.deal_versions import TRACKED, DealFieldReader
from plaintext_crm.history.gitlog import Commit, LogCommit, read_log
from plaintext_crm.records import cache_store

FORMAT_VERSION = 5  # bump when the cached structures change
CACHE_FILE = "history.cache"  # both in the workspace's cache folder (cache_store.cache_folder)
SUMMARY_FILE = "history-stages.cache"
SLIPS_FILE = "history-slips.cache"  # close_moves, for lint's D011
AT_FILE = "history-at.cache"  # the history up to the last commit an `--as-of` asked for
RECORD_PATH = re.compile(r"^(clients|deals|projects)/([^/.][^/]*)\.md$")


@dataclass(frozen=True)
class Touch:
    """One commit touching one record."""

    commit: Commit
    action: str  # "created", "edited", "renamed", "deleted", or "present" at a shallow clone's first commit
    path: str  # the record's path after the commit (before it, for "deleted")
    old_path: str | None = None  # for "renamed"


@dataclass(frozen=True)
class FieldChange:
    """A committed change of one tracked deal field (stage, owner, value, currency, expected_close...)."""

    field: str
    old: Any
    new: Any
    commit: Commit


@dataclass(frozen=True)
class StageVisit:
    """A committed stay of a deal in one stage, as history recorded it (stages.py resolves the dates)."""

    stage: str | None
    commit: Commit  # the mainline commit that moved the deal into the stage
    declared: dt.date | None  # a stage_since written during this stay (None: not written, or left stale)
    exact: bool  # False when the stay began before a shallow clone's first commit
    floor: dt.date | None = None  # the latest date of the deal's earlier readable commits

    @property
    def moved(self) -> dt.date:
        """When git says the deal moved into the stage: the commit's date, never before an earlier commit's
        (git's dates never go back along the mainline; an earlier date is a computer's wrong clock)."""
        return max(self.commit.date, self.floor) if self.floor is not None else self.commit.date

    @property
    def entered(self) -> dt.date:
        """The stay's start as committed: its declared stage_since, else git's date (`moved`)."""
        return self.declared or self.moved


@dataclass(frozen=True)
class RecordHistory:
    """Everything the committed history says about one record, following renames."""

    path: str  # path at HEAD (the last path, for a deleted record)
    former_paths: tuple[str, ...]
    touches: tuple[Touch, ...]  # oldest first
    deleted: bool
    complete: bool  # False when the record predates a shallow clone's first commit
    committed: Mapping[str, Any]  # tracked deal fields at the last commit ({} for clients, projects)
    changes: tuple[FieldChange, ...]  # deals: every tracked field change, oldest first
    visits: tuple[StageVisit, ...]  # deals: stage stays, oldest first
    readable_floor: dt.date | None = None  # deals: the latest date of a commit whose version was readable

    @property
    def kind(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1][:-3]

    @property
    def created(self) -> Touch | None:
        """The commit that created the record; None when it is older than a shallow clone."""
        return self.touches[0] if self.complete and self.touches else None

    @property
    def last_changed(self) -> Touch:
        return self.touches[-1]


@dataclass(frozen=True)
class History:
    """The committed history of a workspace's records, and how far it can be trusted."""

    available: bool  # False: no git, not a repository, or git failed; see notices
    head: str | None
    shallow: bool
    records: Mapping[str, RecordHistory]  # live records by workspace-relative path at HEAD
    removed: tuple[RecordHistory, ...]  # records deleted (or moved out of the workspace) since
    commit_count: int
    notices: tuple[str, ...]  # say-once messages for the user: no git, shallow clone, git errors

    def record(self, path: str) -> RecordHistory | None:
        return self.records.get(path)


# One committed stay, in plain values: (stage, author date of the commit that moved the deal in,
# stage_since written during the stay or None, exact?). Dates are as committed, not yet clamped to today.
StayRow = tuple[str | None, dt.date, dt.date | None, bool]
# The per-deal stage facts lint needs, small enough to load in a millisecond:
# path -> (stage_since at the last commit, the deal's committed stays oldest first).
StageSummary = dict[str, tuple[dt.date | None, tuple[StayRow, ...]]]


def empty_history(*notices: str) -> History:
    """A History with nothing in it, saying why."""
    return History(False, None, False, {}, (), 0, tuple(notices))


# ---------------------------------------------------------------- folding the log into records

@dataclass
class _Builder:
    path: str
    complete: bool
    former_paths: list[str] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)
    committed: dict[str, Any] | None = None
    changes: list[FieldChange] = field(default_factory=list)
    visits: list[StageVisit] = field(default_factory=list)
    deleted: bool = False
    floor: dt.date | None = None  # the latest date of the readable versions applied so far

    def apply(self, values: dict[str, Any] | None, commit: Commit, boundary: bool) -> None:
        """Record one committed version of a deal's tracked fields."""
        if values is None:  # unreadable front matter: the fields are unknown, keep the last known ones
            return
        previous, floor = self.committed, self.floor
        self.floor = max(floor, commit.date) if floor is not None else commit.date
        if previous is None:
            self.visits.append(StageVisit(values["stage"], commit, values["stage_since"], not boundary))
        else:
            for key in TRACKED:
                if values[key] != previous[key]:
                    self.changes.append(FieldChange(key, previous[key], values[key], commit))
            if values["stage"] != previous["stage"]:
                declared = values["stage_since"] if values["stage_since"] != previous["stage_since"] else None
                self.visits.append(StageVisit(values["stage"], commit, declared, True, floor))
            elif values["stage_since"] != previous["stage_since"]:
                last = self.visits[-1]
                self.visits[-1] = replace(last, declared=values["stage_since"])
        self.committed = values

    @classmethod
    def thaw(cls, record: RecordHistory) -> _Builder:
        """A builder that continues a frozen record."""
        return cls(record.path, record.complete, list(record.former_paths), list(record.touches),
                   dict(record.committed) or None, list(record.changes), list(record.visits), record.deleted,
                   record.readable_floor)

    def freeze(self) -> RecordHistory:
        return RecordHistory(self.path, tuple(self.former_paths), tuple(self.touches), self.deleted, self.complete,
                             self.committed or {}, tuple(self.changes), tuple(self.visits), self.floor)


def fold_history(commits: list[LogCommit], contents: Mapping[str, dict[str, Any] | None],
                 boundary: frozenset[str], start: History | None = None
                 ) -> tuple[dict[str, RecordHistory], list[RecordHistory]]:
    """Replay the commits oldest first into per-record histories: (live records by path, removed records).

    With `start`, the commits continue that history (they are the ones after its HEAD).
    """
    live: dict[str, _Builder] = {}
    removed: list[_Builder] = []
    if start is not None:
        live = {path: _Builder.thaw(record) for path, record in start.records.items()}
        removed = [_Builder.thaw(record) for record in start.removed]

    def remove(path: str, commit: Commit) -> None:
        builder = live.pop(path, None)
        if builder is not None:
            builder.deleted = True
            builder.touches.append(Touch(commit, "deleted", path))
            removed.append(builder)

    def write(path: str, blob: str, commit: Commit, action: str, old_path: str | None = None,
              builder: _Builder | None = None) -> None:
        at_boundary = commit.sha in boundary
        if builder is None:
            builder = live.get(path)
        if builder is None:
            builder = _Builder(path, complete=not at_boundary)
            action = "present" if at_boundary else "created"
        live[path] = builder
        builder.touches.append(Touch(commit, action, path, old_path))
        if path.startswith("deals/"):
            builder.apply(contents.get(blob), commit, at_boundary)

    for item in commits:
        commit = item.commit
        for entry in item.entries:
            old_is_record = RECORD_PATH.match(entry.path) is not None
            if entry.status in "RC" and entry.new_path is not None:
                new_is_record = RECORD_PATH.match(entry.new_path) is not None
                same_kind = entry.path.split("/", 1)[0] == entry.new_path.split("/", 1)[0]
                if entry.status == "R" and old_is_record and new_is_record and same_kind:
                    builder = live.pop(entry.path, None)
                    if builder is not None:
                        builder.former_paths.append(entry.path)
                        builder.path = entry.new_path
                    write(entry.new_path, entry.blob, commit, "renamed", entry.path, builder)
                    continue
                if entry.status == "R" and old_is_record:
                    remove(entry.path, commit)
                if new_is_record:
                    remove(entry.new_path, commit)
                    write(entry.new_path, entry.blob, commit, "created")
            elif not old_is_record:
                continue
            elif entry.status == "D":
                remove(entry.path, commit)
            elif entry.status == "A":
                remove(entry.path, commit)  # a path re-created after a deletion starts a new record
                write(entry.path, entry.blob, commit, "created")
            else:
                write(entry.path, entry.blob, commit, "edited")
    return ({path: builder.freeze() for path, builder in sorted(live.items())},
            [builder.freeze() for builder in removed])


# ---------------------------------------------------------------- the whole read, with its cache

def _cache_key(repo: GitRepository, head: str, boundary: frozenset[str]) -> str:
    mailmap = repo.top / ".mailmap"
    try:
        stat = mailmap.stat()
        mailmap_key = f"{stat.st_mtime_ns}:{stat.st_size}"
    except OSError:
        mailmap_key = "-"
    shallow = hashlib.sha1(" ".join(sorted(boundary)).encode()).hexdigest()
    return f"{FORMAT_VERSION}|{head}|{repo.prefix}|{shallow}|{mailmap_key}"


_CACHED_CLASSES: dict[tuple[str, str], Any] = {}


def _cached_classes() -> dict[tuple[str, str], Any]:
    """What a history cache may construct: this module's public dataclasses and enums, commits and the
    values of deal fields; anything else in the file is refused (the cache is rebuilt, nothing runs)."""
    if not _CACHED_CLASSES:
        import dataclasses
        import enum

        from plaintext_crm.records.frontmatter import InvalidDate

        own = [value for name, value in globals().items() if isinstance(value, type) and not name.startswith("_")
               and value.__module__ == __name__ and (dataclasses.is_dataclass(value) or issubclass(value, enum.Enum))]
        _CACHED_CLASSES.update(cache_store.allow_list((*own, Commit, InvalidDate)))
    return _CACHED_CLASSES


def _load_cache(path: Path, key: str) -> Any:
    """The value `_save_cache` stored at `path` under `key`; None when missing, damaged, refused or stale."""
    payload = cache_store.read_entry(path, path.name)
    if payload is None:
        return None
    collecting = gc.isenabled()
    gc.disable()  # unpickling makes many objects and no garbage: collecting during it costs ~3x
    try:
        stored_key, value = cache_store.loads_data(payload, _cached_classes())
    except Exception:  # noqa: BLE001 - a checked file that still does not load is simply rebuilt
        return None
    finally:
        if collecting:
            gc.enable()
    return value if stored_key == key else None


def _save_cache(path: Path, key: str, value: Any) -> None:
    """Store `value` under `key` (atomically; nothing happens when the cache folder cannot be written)."""
    cache_store.write_entry(path, path.name, pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))


def _where(root: Path) -> tuple[GitRepository, str | None, frozenset[str]] | History:
    """The repository, HEAD and shallow boundary of `root`, or an empty History saying why not."""
    repo = locate_repository(root)
    if repo is None:
        return empty_history("not a git repository: days in stage come from front matter stage_since only")
    if shutil.which("git") is None:
        return empty_history("git is not installed: days in stage come from front matter stage_since only")
    return repo, resolve_head(repo, root), shallow_commits(repo)


def history_key(root: Path) -> str:
    """A cheap key that changes whenever the history read for `root` would: HEAD and the shallow boundary.

    For caches of things derived from history (the site's page reuse); no git process in the usual case.
    """
    repo = locate_repository(root)
    if repo is None:
        return "no-repository"
    head = read_head(repo) or (resolve_head(repo, root) if shutil.which("git") else None)
    return _cache_key(repo, head or "no-head", shallow_commits(repo))


def read_history(root: Path, *, use_cache: bool = True, at: str | None = None) -> History:
    """The committed history of every record under `root`, from one `git log` and one `git cat-file`.

    Cached in the workspace's cache folder by HEAD: an unchanged repository costs one file read, and
    after new commits only those are read and folded onto the cached history. With `at` (a commit id),
    the history up to that commit (`--as-of`), cached apart in the same way.
    Never raises on a missing git, a folder outside a repository or a git failure: the History is
    then empty (`available` False) and `notices` says why.
    """
    where = _where(root)
    if isinstance(where, History):
        return where
    repo, head, boundary = where
    if head is None or (at is not None and at == head):
        return History(True, None, False, {}, (), 0, ()) if head is None else read_history(root, use_cache=use_cache)
    head = at or head
    cache = cache_store.cache_folder(root) / (AT_FILE if at else CACHE_FILE) if use_cache else None
    base_key = _cache_key(repo, "any-head", boundary)
    start: History | None = None
    if cache is not None:
        cached = _load_cache(cache, base_key)
        if isinstance(cached, History) and cached.head == head:
            return cached
        if isinstance(cached, History) and cached.head and _is_ancestor(root, cached.head, head):
            start = cached  # new commits on top of the cached ones: read only those
    history = build_history(root, head, boundary, repo.prefix, start)
    if cache is not None and history.available:
        _save_cache(cache, base_key, history)
        for name, derive in SMALL.items() if at is None else ():
            _save_cache(cache.with_name(name), _cache_key(repo, head, boundary), derive(history))
    return history


def _is_ancestor(root: Path, older: str, newer: str) -> bool:
    """True when `older` is in the history of `newer` (false after an amend, a rebase or a reset)."""
    try:
        run_git(root, ["merge-base", "--is-ancestor", older, newer])
    except GitFailed:
        return False
    return True


def build_history(root: Path, head: str, boundary: frozenset[str], prefix: str = "",
                  start: History | None = None) -> History:
    """Read and fold the history up to commit `head` (no cache); with `start`, only the commits after its HEAD."""
    try:
        commits = read_log(root, prefix, start.head if start else None, head)
        if start is not None and commits and commits[0].parents[:1] != (start.head,):
            # The cached HEAD is an ancestor but not on the new HEAD's first-parent chain (a branch's tip,
            # merged since): the mainline's view cannot continue it, so the whole mainline is read.
            start = None
            commits = read_log(root, prefix, until=head)
        blobs = {entry.blob for item in commits for entry in item.entries
                 if entry.status != "D" and _is_deal(entry.new_path or entry.path)}
        raw = read_blobs(root, blobs)
    except GitFailed as exc:
        return empty_history(f"cannot read git history ({exc}): days in stage come from front matter only")
    reader = DealFieldReader()
    contents = {blob: reader.read(data) for blob, data in raw.items()}
    records, removed = fold_history(commits, contents, boundary, start)
    notices: list[str] = list(start.notices) if start else []
    if boundary and not start:
        first = min((item.commit.date for item in commits), default=None)
        notices.append(f"shallow clone: history starts on {first or 'an unknown date'}; dates before it are "
                       "unknown, so days in stage for older deals are at least what is shown "
                       "(`git fetch --unshallow` reads all of it)")
    counted = sum(1 for item in commits
                  if any(RECORD_PATH.match(entry.path) or (entry.new_path and RECORD_PATH.match(entry.new_path))
                         for entry in item.entries))
    counted += start.commit_count if start else 0
    return History(True, head, bool(boundary), records, tuple(removed), counted, tuple(notices))


def _is_deal(path: str) -> bool:
    match = RECORD_PATH.match(path)
    return match is not None and match.group(1) == "deals"


def stay_rows(visits: tuple[StageVisit, ...]) -> tuple[StayRow, ...]:
    """The committed stays as plain values, for stages.resolve_stays."""
    return tuple((visit.stage, visit.moved, visit.declared, visit.exact) for visit in visits)


def stage_summary(history: History) -> StageSummary:
    """Per deal path: the stage_since at the last commit and every committed stay."""
    summary: StageSummary = {}
    for path, record in history.records.items():
        if record.visits:
            summary[path] = (record.committed.get("stage_since"), stay_rows(record.visits))
    return summary


def latest_date(history: History) -> dt.date | None:
    """The latest author or committer date of any commit that touched a record."""
    latest: dt.date | None = None
    for record in (*history.records.values(), *history.removed):
        for touch in record.touches:
            for date in (touch.commit.date, touch.commit.committed):
                if date is not None and (latest is None or date > latest):
                    latest = date
    return latest


def future_notice(latest: dt.date | None, today: dt.date) -> str | None:
    """The notice for commits dated after today (a wrong clock), which count as made today."""
    if latest is None or latest <= today:
        return None
    # Worded without the dates found, so that lint (which sees only the commits that moved deals) and
    # the site or `changes` (which see every commit) say the same thing.
    return (f"git history has commits dated after today ({today.isoformat()}): they count as made today "
            "(a computer's clock was probably wrong)")


def as_of(history: History, today: dt.date) -> History:
    """The history with every commit dated after today dated today, and a notice saying so.

    Stays, the activity feed and client timelines then never show a date after today. History
    without such commits is returned as it is.
    """
    notice = future_notice(latest_date(history), today)
    if notice is None:
        return history
    clamped: dict[str, Commit] = {}

    def fix(commit: Commit) -> Commit:
        fixed = clamped.get(commit.sha)
        if fixed is None:
            committed = min(commit.committed, today) if commit.committed is not None else None
            fixed = replace(commit, date=min(commit.date, today), committed=committed)
            clamped[commit.sha] = fixed
        return fixed

    def record(item: RecordHistory) -> RecordHistory:
        return replace(item, touches=tuple(replace(touch, commit=fix(touch.commit)) for touch in item.touches),
                       changes=tuple(replace(change, commit=fix(change.commit)) for change in item.changes),
                       visits=tuple(replace(visit, commit=fix(visit.commit),
                                                  floor=min(visit.floor, today) if visit.floor else None)
                                     for visit in item.visits))

    return replace(history, records={path: record(item) for path, item in history.records.items()},
                   removed=tuple(record(item) for item in history.removed), notices=(*history.notices, notice))


def read_stage_summary(root: Path, *, use_cache: bool = True) -> tuple[StageSummary | None, tuple[str, ...]]:
    """The per-deal stage facts lint needs, with notices; None when there is no history to read.

    An unchanged repository costs one small cache read and no git process.
    """
    return cast(tuple[StageSummary | None, tuple[str, ...]], read_small(root, SUMMARY_FILE, use_cache=use_cache))


# The small values derived from a history that lint reads, each cached in its own file keyed by HEAD.
SMALL: dict[str, Callable[[History], Any]] = {
    SUMMARY_FILE: lambda history: ((stage_summary(history) if history.available else None), history.notices),
    SLIPS_FILE: close_moves,
}


def read_small(root: Path, name: str, *, use_cache: bool = True) -> Any:
    """SMALL[name] of the history of `root`: one small file when HEAD is unchanged, else from the history."""
    where = _where(root)
    if isinstance(where, History):
        return SMALL[name](where)
    repo, head, boundary = where
    if head is None:
        return SMALL[name](History(True, None, False, {}, (), 0, ()))
    path = cache_store.cache_folder(root) / name if use_cache else None
    if path is not None and (cached := _load_cache(path, _cache_key(repo, head, boundary))) is not None:
        return cached
    history = read_history(root, use_cache=use_cache)
    if path is not None and history.available:  # (a history cached before this file existed writes it now)
        _save_cache(path, _cache_key(repo, head, boundary), SMALL[name](history))
    return SMALL[name](history)
