"""Read a workspace's mainline `git log --raw` in one pass (two halves at once for a long history) into commits."""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from plaintext_crm.gitrepo import run_git

# Header of one commit in `git log -z` output; fields are separated by NUL.
LOG_FORMAT = "%x01%H%x00%aN%x00%aE%x00%aI%x00%at%x00%cI%x00%P%x00%s"
_HEADER_FIELDS = 8


@dataclass(frozen=True)
class Commit:
    """One commit: who made it and when (the author date, in the author's own time zone)."""

    sha: str
    date: dt.date
    timestamp: int  # author time, seconds since the epoch
    author: str
    email: str
    subject: str
    committed: dt.date | None = None  # the committer date (in the committer's time zone)

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass
class LogEntry:
    status: str  # A, M, D, R, C, T
    blob: str  # new blob id (all zeros for a deletion)
    path: str
    new_path: str | None = None  # for renames and copies


@dataclass
class LogCommit:
    commit: Commit
    entries: list[LogEntry] = field(default_factory=list)
    parents: tuple[str, ...] = ()  # the first one is the mainline's previous commit


def _parse_date(iso: str) -> dt.date:
    return dt.datetime.fromisoformat(iso).date()


def parse_log(output: bytes) -> list[LogCommit]:
    """Parse `git log -z --raw --format=LOG_FORMAT` output into commits with their file entries."""
    tokens = output.decode("utf-8", "surrogateescape").split("\0")
    commits: list[LogCommit] = []
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip("\n")
        if token.startswith("\x01"):
            sha, author, email, iso, stamp, committed, parents, subject = [
                token[1:], *tokens[index + 1:index + _HEADER_FIELDS]]
            commits.append(LogCommit(Commit(sha, _parse_date(iso), int(stamp), author, email, subject,
                                            _parse_date(committed)), parents=tuple(parents.split())))
            index += _HEADER_FIELDS
        elif token.startswith(":") and commits:
            meta = token.split()
            status, blob = meta[-1][0], meta[3]
            if status in "RC":
                commits[-1].entries.append(LogEntry(status, blob, tokens[index + 1], tokens[index + 2]))
                index += 3
            else:
                commits[-1].entries.append(LogEntry(status, blob, tokens[index + 1]))
                index += 2
        else:
            index += 1
    return commits


def git_log(root: Path, prefix: str = "", after: str | None = None, until: str = "HEAD") -> bytes:
    """The raw log of the mainline, oldest first, with paths relative to the workspace.

    The mainline is HEAD's first-parent chain (`--first-parent`), each merge shown as its change to
    the first parent (`-m`): a branch's edits land at its merge, in the order the mainline saw them,
    so two branches' versions of a record are never interleaved by date.
    In a repository of its own the workspace is read without a pathspec: a pathspec makes git
    diff each commit twice (once to simplify history, once to print), ~3x slower; paths outside
    the record folders are dropped while folding. In a sub-folder of a bigger repository the
    pathspec "." keeps git from diffing the rest of the repository. With `after`, only the commits
    since that one.
    """
    args = ["log", "--reverse", "--first-parent", "-m", "-M", "--raw", "-z", "--no-abbrev", "--root", "--relative",
            "--no-color", "--no-ext-diff", "--no-textconv", f"--format={LOG_FORMAT}", f"{after}..{until}" if after else until, "--"]
    return run_git(root, args + (["."] if prefix else []))


PARALLEL_LOG_MIN = 2000  # commits; below this one git log is quick enough


def read_log(root: Path, prefix: str = "", after: str | None = None, until: str = "HEAD") -> list[LogCommit]:
    """Every mainline commit up to `until` (after `after`), oldest first. A long history is read as two halves by two
    git processes at once: diffing trees is git's CPU-bound part, and it splits cleanly at a commit."""
    workers = min(2, os.cpu_count() or 1)
    if after is None and workers > 1:
        total = int(run_git(root, ["rev-list", "--first-parent", "--count", until]).strip() or 0)
        if total >= PARALLEL_LOG_MIN:
            middle = run_git(root, ["rev-list", "--first-parent", "-1", f"--skip={total // 2}", until]
                             ).decode().strip()
            with ThreadPoolExecutor(2) as pool:
                older = pool.submit(git_log, root, prefix, None, middle)
                newer = pool.submit(git_log, root, prefix, middle, until)
                return parse_log(older.result()) + parse_log(newer.result())
    return parse_log(git_log(root, prefix, after, until))
