"""A workspace as it stood at a commit, read from git's blobs (no checkout), and its history up to that commit.

`--as-of DATE|REV` (build, lint, followups, report) and the transition rules' base revision both read
the workspace this way: crm.yaml and the record files of the commit's tree, built through the blob
cache (records/blob_records.py), so a revision read once is never parsed again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.gitrepo import (
    GitFailed,
    locate_repository,
    read_blobs,
    run_git,
)
from plaintext_crm.history.changes import Point, resolve_point
from plaintext_crm.history.record_history import History, read_history
from plaintext_crm.records import cache_store
from plaintext_crm.records.blob_records import BlobRecords
from plaintext_crm.records.config import CONFIG_FILE, Config, config_from_text
from plaintext_crm.records.loader import LoadedFile, assemble_workspace
from plaintext_crm.records.model import KINDS, Workspace
from plaintext_crm.records.reading import ParseProblem, decode

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RECORD = re.compile(r"^(clients|deals|projects)/([^/.][^/]*\.md)$")
REGULAR = ("100644", "100755")


@dataclass(frozen=True)
class Snapshot:
    """The workspace at one commit: what `--as-of` analyses, with the day it counts as today."""

    point: Point
    today: dt.date
    workspace: Workspace
    load_findings: tuple[Finding, ...]
    history: History  # the committed history up to and including the commit


def _tree(root: Path, commit: str) -> dict[str, tuple[str, str]]:
    """Path -> (mode, blob id) of crm.yaml and the record files of `commit`, relative to the workspace."""
    output = run_git(root, ["ls-tree", "-r", "-z", commit, "--", CONFIG_FILE, *(f"{kind}/" for kind in KINDS)])
    entries: dict[str, tuple[str, str]] = {}
    for line in output.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and (path == CONFIG_FILE or _RECORD.match(path)):
            entries[path] = (fields[0], fields[2])
    return entries


def _config(root: Path, entry: tuple[str, str] | None) -> tuple[Config, list[Finding]]:
    if entry is None:
        return Config(), []
    problem = "not read: a symbolic link at that revision" if entry[0] not in REGULAR else None
    raw = read_blobs(root, [entry[1]]).get(entry[1]) if problem is None else None
    text = decode(raw) if raw is not None else ParseProblem(1, problem or "not read: missing from this clone")
    if isinstance(text, ParseProblem):
        return Config(path=CONFIG_FILE), [Finding(CONFIG_FILE, text.line, 1, "F001", "invalid-front-matter",
                                                  Severity.ERROR, text.message.replace("front matter", "crm.yaml"))]
    return config_from_text(text)


def workspace_at_commit(root: Path, commit: str, *, use_cache: bool = True,
                        only: Collection[str] | None = None) -> tuple[Workspace, list[Finding]]:
    """The whole workspace (crm.yaml, clients, deals, projects) as committed in `commit`, and the loader's
    findings about it; records are built from blobs, through the blob cache unless `use_cache` is False.
    `only`: just these record paths (and crm.yaml), e.g. the files a commit changes."""
    try:
        tree = _tree(root, commit)
        if only is not None:
            tree = {path: entry for path, entry in tree.items() if path == CONFIG_FILE or path in only}
        config, findings = _config(root, tree.get(CONFIG_FILE))
        records = {path: entry for path, entry in tree.items() if path != CONFIG_FILE}
        regular = {path: blob for path, (mode, blob) in records.items() if mode in REGULAR}
        cache = BlobRecords(cache_store.cache_folder(root) if use_cache else None)
        loaded: dict[str, LoadedFile] = cache.load(regular, lambda blobs: read_blobs(root, blobs))
    except GitFailed as exc:
        raise ToolError(f"cannot read the workspace at {commit[:12]} from git: {exc}") from None
    for path in sorted(records.keys() - regular.keys()):
        findings.append(Finding(path, 1, 1, "F001", "invalid-front-matter", Severity.ERROR,
                                "not read: a symbolic link or submodule at that revision"))
    paths = sorted(regular)
    return assemble_workspace(root, config, paths, [loaded[path] for path in paths], findings), findings


def history_at_commit(root: Path, commit: str, *, use_cache: bool = True) -> History:
    """The committed history as it stood at `commit` (its mainline up to it): HEAD's cached history when
    `commit` is HEAD, else its own cache (one entry: a nearby later commit reads only the commits between)."""
    if locate_repository(root) is None:
        raise ToolError(f"--as-of reads git history, but {root} is not inside a git repository")
    return read_history(root, use_cache=use_cache, at=commit)


def commit_day(root: Path, commit: str) -> dt.date:
    """The (committer) date of a commit, as `resolve_point` reads dates."""
    try:
        return dt.date.fromisoformat(run_git(root, ["show", "-s", "--format=%cs", commit]).decode().strip())
    except (GitFailed, ValueError) as exc:
        raise ToolError(f"cannot read the date of {commit[:12]}: {exc}") from None


def read_snapshot(root: Path, text: str, *, use_cache: bool = True) -> Snapshot:
    """The workspace as of `text`: a date (the last mainline commit on or before that day, which counts as
    today) or a revision (that commit, its date as today)."""
    if locate_repository(root) is None:
        raise ToolError(f"--as-of reads git history, but {root} is not inside a git repository")
    point = resolve_point(root, text, end_of_day=True)
    if point.commit is None:
        raise ToolError(f"--as-of {terminal(text)}: the repository has no commit on or before that day")
    today = dt.date.fromisoformat(text) if _DATE.match(text) else commit_day(root, point.commit)
    workspace, findings = workspace_at_commit(root, point.commit, use_cache=use_cache)
    return Snapshot(point, today, workspace, tuple(findings), history_at_commit(root, point.commit,
                                                                                 use_cache=use_cache))


def resolve_revision(root: Path, text: str) -> str:
    """The commit id of a revision (a base for the transition rules); a ToolError when git knows none."""
    point = resolve_point(root, text, end_of_day=True)
    if point.commit is None:
        raise ToolError(f"--base {terminal(text)}: the repository has no commit on or before that day")
    return point.commit
