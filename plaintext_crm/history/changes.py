"""What changed between two points of history: deals added, advanced, slipped back, won, lost, and the pipeline."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.findings import Finding
from plaintext_crm.gitrepo import GitFailed, locate_repository, read_blobs, resolve_head, run_git
from plaintext_crm.history.record_history import History
from plaintext_crm.money import cents
from plaintext_crm.records.frontmatter import parse_record
from plaintext_crm.records.loader import build_deal
from plaintext_crm.records.model import Deal, DealStatus, Workspace
from plaintext_crm.sales.figures import Amount, DealFigures, deal_figures, figures_for_deal, sum_amount

DEFAULT_DAYS = 7  # without --since: the last seven days
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DEAL_PATH = re.compile(r"^deals/([^/.][^/]*)\.md$")
# (attribute, heading, what the before/after columns hold)
SECTIONS = (
    ("added", "Added", "stage"),
    ("won", "Won", "stage"),
    ("lost", "Lost", "stage"),
    ("advanced", "Advanced", "stage"),
    ("slipped_back", "Slipped back", "stage"),
    ("owner_changes", "Owner changes", "owner"),
    ("close_pushes", "Expected close pushed", "expected close"),
    ("removed", "Removed", "stage"),
    ("imported", "Imported (their own dates are older)", "stage"),
)


@dataclass(frozen=True)
class Point:
    """One end of the comparison: a commit, or the working tree."""

    label: str  # "2026-11-19 (a1b2c3d)", "working tree"
    commit: str | None  # None: the working tree, or before the first commit


@dataclass(frozen=True)
class DealChange:
    """One deal in one list of the report, with the value before and after when it changed."""

    id: str
    title: str
    owner: str | None
    value: Decimal | None  # in the workspace currency, for sorting and totals; None: unknown
    before: Any = None
    after: Any = None

    def to_data(self) -> dict[str, Any]:
        def plain(item: Any) -> Any:
            return item.isoformat() if isinstance(item, dt.date) else item
        return {"id": self.id, "title": self.title, "owner": self.owner,
                "value": None if self.value is None else float(cents(self.value)),
                "before": plain(self.before), "after": plain(self.after)}


@dataclass(frozen=True)
class Changes:
    """Everything that changed in the pipeline between `since` and `until`."""

    since: Point
    until: Point
    added: tuple[DealChange, ...]
    removed: tuple[DealChange, ...]
    advanced: tuple[DealChange, ...]  # before/after: stages
    slipped_back: tuple[DealChange, ...]  # to an earlier open stage, or reopened after closing
    won: tuple[DealChange, ...]
    lost: tuple[DealChange, ...]
    owner_changes: tuple[DealChange, ...]  # before/after: owners
    close_pushes: tuple[DealChange, ...]  # before/after: expected_close dates, later than before
    renamed: tuple[tuple[str, str], ...]  # (old id, new id): the same deal under a new file name
    open_before: Amount
    open_after: Amount
    weighted_before: Amount
    weighted_after: Amount
    # Deals committed in the period whose own dates (created, stage_since, closed_on) are older: an import,
    # not new business. They count as added, won or lost only when those dates fall in the period.
    imported: tuple[DealChange, ...] = ()

    @property
    def open_delta(self) -> Decimal:
        return self.open_after.value - self.open_before.value

    @property
    def weighted_delta(self) -> Decimal:
        return self.weighted_after.value - self.weighted_before.value

    @property
    def empty(self) -> bool:
        return not any((self.added, self.removed, self.advanced, self.slipped_back, self.won, self.lost,
                        self.owner_changes, self.close_pushes, self.imported))

    def to_data(self) -> dict[str, Any]:
        def amount(item: Amount) -> dict[str, Any]:
            return {"value": float(cents(item.value)), "currency": item.currency, "deals": list(item.deal_ids),
                    "unconverted": list(item.unconverted), "no_value": list(item.no_value)}
        lists = ("added", "removed", "advanced", "slipped_back", "won", "lost", "owner_changes", "close_pushes",
                 "imported")
        return {
            "since": {"label": self.since.label, "commit": self.since.commit},
            "until": {"label": self.until.label, "commit": self.until.commit},
            **{name: [item.to_data() for item in getattr(self, name)] for name in lists},
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "open_pipeline": {"before": amount(self.open_before), "after": amount(self.open_after),
                              "change": float(cents(self.open_delta))},
            "weighted_pipeline": {"before": amount(self.weighted_before), "after": amount(self.weighted_after),
                                  "change": float(cents(self.weighted_delta))},
        }


def own_start(deal: Deal) -> dt.date | None:
    """The earliest of the deal's own dates (created, stage_since, closed_on): when the deal says it began."""
    days = [day for day in (deal.created, deal.stage_since, deal.closed_on) if day is not None]
    return min(days) if days else None


def compare(before: Workspace, after: Workspace, today: dt.date, since: Point, until: Point,
            renames: Mapping[str, str] = {}, figures_after: Mapping[str, DealFigures] | None = None,
            period_start: dt.date | None = None) -> Changes:
    """Compare the deals of two workspace states (pure). `renames` maps old deal ids to new ones;
    `figures_after` are the analytics' figures of `after` when the caller has them already.

    With `period_start` (the first day of the period), a deal that appears but whose own dates are older
    is imported: it is listed as imported, and counts as added, won or lost only by its own dates
    (created, closed_on or stage_since on or after `period_start`)."""
    config = after.config
    rank = {stage.id: index for index, stage in enumerate(config.open_stages)}
    if figures_after is None:
        figures_after = deal_figures(after, today)
    # A deal object shared by both states did not change: its figures are the same.
    figures_before = {deal_id: figures_after[deal_id] if after.deals.get(deal_id) is deal
                      else figures_for_deal(deal, before, today) for deal_id, deal in before.deals.items()}
    renamed = tuple(sorted((old, new) for old, new in renames.items()
                           if old in before.deals and old not in after.deals and new in after.deals
                           and new not in before.deals))
    old_id = {new: old for old, new in renamed}
    lists: dict[str, list[DealChange]] = {name: [] for name in (
        "added", "removed", "advanced", "slipped_back", "won", "lost", "owner_changes", "close_pushes", "imported")}

    def entry(deal: Deal, before_value: Any = None, after_value: Any = None) -> DealChange:
        figures = figures_after.get(deal.id) or figures_before.get(deal.id)
        value = figures.value_base if figures else None
        return DealChange(deal.id, deal.display_title, deal.owner, value, before_value, after_value)

    closed = (DealStatus.WON, DealStatus.LOST)
    gone = set(before.deals) - set(old_id.values())
    for deal_id, deal in sorted(after.deals.items()):
        previous = before.deals.get(old_id.get(deal_id, deal_id))
        gone.discard(old_id.get(deal_id, deal_id))
        if previous is deal:
            continue
        status = figures_after[deal_id].status
        if previous is None:
            began = own_start(deal)
            if period_start is not None and began is not None and began < period_start:
                lists["imported"].append(entry(deal, None, deal.stage))
                if deal.created is not None and deal.created >= period_start:
                    lists["added"].append(entry(deal, None, deal.stage))
                closed_day = deal.closed_on or deal.stage_since
                if status in closed and closed_day is not None and closed_day >= period_start:
                    lists[status.value].append(entry(deal, None, deal.stage))
                continue
            lists["added"].append(entry(deal, None, deal.stage))
            if status in closed:
                lists[status.value].append(entry(deal, None, deal.stage))
            continue
        if deal.stage != previous.stage:
            move = entry(deal, previous.stage, deal.stage)
            if status in closed:
                lists[status.value].append(move)
            elif deal.stage in rank and previous.stage in rank:
                lists["advanced" if rank[deal.stage] > rank[previous.stage] else "slipped_back"].append(move)
            elif figures_before[previous.id].status in closed:
                lists["slipped_back"].append(move)  # reopened
        if deal.owner != previous.owner:
            lists["owner_changes"].append(entry(deal, previous.owner, deal.owner))
        if (status not in closed and deal.expected_close and previous.expected_close
                and deal.expected_close > previous.expected_close):
            lists["close_pushes"].append(entry(deal, previous.expected_close, deal.expected_close))
    for deal_id in sorted(gone):
        deal = before.deals[deal_id]
        lists["removed"].append(DealChange(deal_id, deal.display_title, deal.owner,
                                           figures_before[deal_id].value_base, deal.stage, None))
    open_before = [figures for figures in figures_before.values() if figures.is_open]
    open_after = [figures for figures in figures_after.values() if figures.is_open]
    currency = config.currency
    return Changes(
        since, until, **{name: tuple(items) for name, items in lists.items()}, renamed=renamed,
        open_before=sum_amount(open_before, currency), open_after=sum_amount(open_after, currency),
        weighted_before=sum_amount(open_before, currency, weighted=True),
        weighted_after=sum_amount(open_after, currency, weighted=True),
    )


# ---------------------------------------------------------------- the two points, from git

def resolve_point(root: Path, text: str, *, end_of_day: bool = False) -> Point:
    """A commit named by a revision (HEAD~3, a tag, a hash) or a date (YYYY-MM-DD).

    A date means the last commit made before that day began (with `end_of_day`, before it ended),
    in the machine's time zone, by committer date as `git log --before` reads it.
    """
    if _DATE.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ToolError(f"'{terminal(text)}' is not a valid date") from None
        limit = day + dt.timedelta(days=1) if end_of_day else day
        try:
            sha = run_git(root, ["rev-list", "-1", "--first-parent",  # the mainline's state, never a branch's
                                 f"--before={limit.isoformat()} 00:00:00", "HEAD", "--"])
        except GitFailed as exc:
            raise ToolError(f"cannot read git history: {exc}") from None
        commit = sha.decode().strip() or None
        label = f"{'end' if end_of_day else 'start'} of {day.isoformat()}"
        return Point(f"{label} ({commit[:7]})" if commit else f"{label} (before the first commit)", commit)
    try:
        sha = run_git(root, ["rev-parse", "--verify", "-q", "--end-of-options", f"{text}^{{commit}}"])
    except GitFailed:
        raise ToolError(f"'{terminal(text)}' is neither a date (YYYY-MM-DD) nor a commit git knows") from None
    commit = sha.decode().strip()
    return Point(f"{text} ({commit[:7]})" if not commit.startswith(text) else commit[:7], commit)


def workspace_at(root: Path, point: Point, current: Workspace) -> Workspace:
    """The deals as they were at a commit (none before the first commit), with today's crm.yaml."""
    deals: dict[str, Deal] = {}
    if point.commit is not None:
        try:
            listing = run_git(root, ["ls-tree", "-r", "-z", point.commit, "--", "."])
            paths: dict[str, str] = {}
            for line in listing.decode("utf-8", "surrogateescape").split("\0"):
                meta, _, path = line.partition("\t")
                if _DEAL_PATH.match(path) and meta.split()[1:2] == ["blob"]:
                    paths[path] = meta.split()[2]
            current_blobs = working_tree_blobs(root)
            contents = read_blobs(root, [blob for path, blob in paths.items() if current_blobs.get(path) != blob])
        except GitFailed as exc:
            raise ToolError(f"cannot read {terminal(point.label)} from git: {exc}") from None
        ignored: list[Finding] = []
        current_by_path = {deal.path: deal for deal in current.deals.values()}
        for path, blob in sorted(paths.items()):
            same = current_by_path.get(path)
            if same is not None and current_blobs.get(path) == blob:
                deals[same.id] = same  # unchanged since then: no need to parse it again
                continue
            parsed = parse_record(path, contents.get(blob, b""))
            if parsed.data is not None:
                found = build_deal(parsed, ignored)
                deals[found.id] = found
    return Workspace(current.root, current.config, current.clients, deals, current.projects,
                     tuple(sorted(deal.path for deal in deals.values())))


def working_tree_blobs(root: Path) -> dict[str, str]:
    """Deal path -> blob id of the working-tree file, for files git says are unchanged since the index
    (`git ls-files -s` minus `git diff-files`): no file is read or hashed here."""
    staged = run_git(root, ["ls-files", "-s", "-z", "--", "deals"]).decode("utf-8", "surrogateescape")
    dirty = run_git(root, ["diff-files", "--name-only", "--relative", "-z", "--", "deals"])
    changed = set(dirty.decode("utf-8", "surrogateescape").split("\0"))
    blobs = {}
    for line in staged.split("\0"):
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[2] == "0" and path not in changed:
            blobs[path] = fields[1]
    return blobs


def deal_renames(history: History) -> dict[str, str]:
    """Old deal id -> current id for every deal renamed in the committed history."""
    renames: dict[str, str] = {}
    for record in history.records.values():
        if record.kind == "deals":
            for former in record.former_paths:
                match = _DEAL_PATH.match(former)
                if match:
                    renames[match.group(1)] = record.id
    return renames


def changes_between(root: Path, workspace: Workspace, history: History, today: dt.date,
                    since: str | None = None, until: str | None = None,
                    figures: Mapping[str, DealFigures] | None = None) -> Changes:
    """Changes from `since` (revision or date; default: DEFAULT_DAYS days before today) to `until`
    (revision or date; default: the working tree, uncommitted edits included; for a `history` cut at an
    older commit than HEAD, `workspace` is that commit's, as `--as-of` reads it). `figures`: the
    analytics' deal figures of `workspace`, when the caller has them."""
    if locate_repository(root) is None or not history.available:
        reason = history.notices[0] if history.notices else "no git history"
        raise ToolError(f"changes needs the workspace's git history: {reason}")
    if history.head is None:
        raise ToolError("changes needs the workspace's git history: the repository has no commits yet")
    start = resolve_point(root, since or (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat())
    if until is None:
        repo = locate_repository(root)
        past = repo is not None and history.head != resolve_head(repo, root)  # an --as-of workspace: that commit
        end = Point(f"{history.head[:7]} (as of)", history.head) if past else Point("working tree", None)
        after = workspace
    else:
        end = resolve_point(root, until, end_of_day=True)
        after = workspace_at(root, end, workspace)
    before = workspace_at(root, start, workspace)
    return compare(before, after, today, start, end, deal_renames(history), figures if after is workspace else None,
                   period_start=point_day(root, start, since, today))


def point_day(root: Path, point: Point, since: str | None, today: dt.date) -> dt.date | None:
    """The first day of the period: the date given, else the day of the commit named (None before the first
    commit: every record then is new to the period, imported or not)."""
    text = since or (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat()
    if _DATE.match(text):
        return dt.date.fromisoformat(text)
    if point.commit is None:
        return None
    try:
        day = run_git(root, ["show", "-s", "--format=%cs", point.commit]).decode().strip()
        return dt.date.fromisoformat(day)
    except (GitFailed, ValueError):
        return None
