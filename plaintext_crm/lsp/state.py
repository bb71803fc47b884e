"""The language server's view of a workspace: files on disk overlaid with open buffers, kept parsed in memory."""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.analysis import analyze
from plaintext_crm.findings import Finding
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.history.record_history import history_key
from plaintext_crm.records.config import CONFIG_FILE, Config, config_from_text, load_config
from plaintext_crm.records.frontmatter import parse_record
from plaintext_crm.records.loader import (
    LoadedFile,
    build_record,
    load_workspace,
    read_file,
    scan_record_files,
)
from plaintext_crm.records.model import KINDS, Record, Workspace


def lint_findings(workspace: Workspace, load_findings: Iterable[Finding], today: dt.date,
                  git: GitHistory) -> list[Finding]:
    """The one call from the editor into the linter: the analysis facade's findings."""
    return list(analyze(workspace, today, git, load_findings).findings)


def is_record_path(rel: str) -> bool:
    """True for a workspace-relative path the loader reads as a record: clients|deals|projects/NAME.md."""
    kind, _, name = rel.partition("/")
    return kind in KINDS and name.endswith(".md") and "/" not in name and not name.startswith(".")


def record_of(workspace: Workspace, rel: str) -> Record | None:
    """The record loaded from the file `rel`, or None."""
    kind, _, name = rel.partition("/")
    records: Mapping[str, Record] = {"clients": workspace.clients, "deals": workspace.deals,
                                     "projects": workspace.projects}.get(kind, {})
    found = records.get(name.removesuffix(".md"))
    return found if found is not None and found.path == rel else None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One analysis of the workspace as the editor sees it: records and findings by file."""

    workspace: Workspace
    findings: Mapping[str, tuple[Finding, ...]]  # path -> its findings, every file that has some
    today: dt.date


# A file on disk is parsed again only when its size, modification time or inode changed.
_Stamp = tuple[int, int, int]
# Every file on disk is stat'ed again at most this often while typing (13,666 stats take 45 ms); files
# added, removed or renamed are seen at once (their folder's stamp), and a save or a watcher's report of
# a change makes the next analysis look at every file.
SWEEP_SECONDS = 2.0


class WorkspaceState:
    """Open buffers over the files of one workspace, with each file's built record kept between analyses.

    An analysis re-reads only the buffers that changed since the last one and the files whose stamp
    changed on disk; the rules then run over the whole workspace (references cross files).
    """

    def __init__(self, root: Path, today: Callable[[], dt.date]) -> None:
        self.root = root
        self.today = today
        self.buffers: dict[str, str] = {}  # relative path -> unsaved text of an open document
        self._disk: dict[str, tuple[_Stamp, LoadedFile]] = {}
        self._buffered: dict[str, tuple[str, LoadedFile]] = {}
        self._config: tuple[str | None, tuple[Config, list[Finding]]] | None = None
        self._config_stamp: _Stamp | None = None
        self._listing: tuple[tuple[_Stamp, ...], tuple[list[str], list[Finding]]] | None = None
        self._swept_at = -math.inf  # time.monotonic() of the last look at every file's stamp
        self._sweeping = True  # this analysis looks at every file
        self._git: tuple[str, GitHistory] | None = None  # HEAD's key, and the history read for it
        self.snapshot: Snapshot | None = None

    # --- buffers ------------------------------------------------------------------------------------------

    def open(self, rel: str, text: str) -> None:
        self.buffers[rel] = text

    def close(self, rel: str) -> None:
        """The buffer is closed: the file on disk counts again (or nothing, when it was never saved)."""
        self.buffers.pop(rel, None)
        self._buffered.pop(rel, None)

    def look_at_disk(self) -> None:
        """Files may have changed on disk (a save, a checkout): the next analysis checks every file's stamp."""
        self._swept_at = -math.inf

    def forget(self, rel: str) -> None:
        """A file changed on disk (a watcher said so): read it again at the next analysis."""
        self._disk.pop(rel, None)
        self._listing = None
        if rel == CONFIG_FILE:
            self._config = None

    # --- analysis -----------------------------------------------------------------------------------------

    def analyse(self) -> Snapshot:
        """Load (from memory where nothing changed) and lint the whole workspace."""
        self._sweeping = time.monotonic() - self._swept_at >= SWEEP_SECONDS
        if self._sweeping:
            self._swept_at = time.monotonic()
        workspace, load_findings = load_workspace(self.root, load_files=self._load_files, config=self._read_config(),
                                                  scan=self._scan)
        today = self.today()
        by_path: dict[str, list[Finding]] = {}
        for finding in lint_findings(workspace, load_findings, today, self._git_history()):
            by_path.setdefault(finding.path, []).append(finding)
        self.snapshot = Snapshot(workspace, {path: tuple(found) for path, found in by_path.items()}, today)
        return self.snapshot

    def _git_history(self) -> GitHistory:
        """The workspace's git history, read again only when HEAD moved (a commit, a checkout)."""
        key = history_key(self.root)
        if self._git is None or self._git[0] != key:
            self._git = (key, GitHistory(self.root))
        return self._git[1]

    def _read_config(self) -> tuple[Config, list[Finding]]:
        text = self.buffers.get(CONFIG_FILE)
        if text is not None:
            if self._config is None or self._config[0] != text:
                self._config = (text, config_from_text(text))
            return self._config[1]
        if self._config is None or self._config[0] is not None or self._config_changed():
            self._config = (None, load_config(self.root))
            self._config_stamp = _stamp(self.root / CONFIG_FILE)
        return self._config[1]

    def _config_changed(self) -> bool:
        return _stamp(self.root / CONFIG_FILE) != self._config_stamp

    def _scan(self, root: Path) -> tuple[list[str], list[Finding]]:
        """The record files on disk, and those only an open buffer holds (new, not saved yet).

        A folder's listing changes only with its modification time (a file added, removed or renamed,
        a link replaced), so the last scan is reused while the three folders' stamps are unchanged (and
        made again at each sweep, in case a change fell within the same tick of the clock)."""
        folders = tuple(_stamp(root / kind) for kind in KINDS)
        if self._listing is None or self._listing[0] != folders or self._sweeping:
            self._listing = (folders, scan_record_files(root))
        paths, refused = self._listing[1]
        known = {*paths, *(finding.path for finding in refused)}
        unsaved = [rel for rel in self.buffers if is_record_path(rel) and rel not in known]
        return (sorted([*paths, *unsaved]) if unsaved else paths), refused

    def _load_files(self, root: Path, paths: list[str]) -> list[LoadedFile]:
        if not self._disk:
            self._first_load(root, [rel for rel in paths if rel not in self.buffers])
        loaded: list[LoadedFile] = []
        disk: dict[str, tuple[_Stamp, LoadedFile]] = {}
        base = os.path.join(root, "")
        sweep = self._sweeping
        for rel in paths:
            text = self.buffers.get(rel)
            if text is not None:
                kept = self._buffered.get(rel)
                if kept is None or kept[0] is not text and kept[0] != text:
                    kept = (text, build_record(parse_record(rel, text.encode("utf-8", "surrogatepass"))))
                    self._buffered[rel] = kept
                loaded.append(kept[1])
                continue
            previous = self._disk.get(rel)
            if previous is None or sweep:
                stamp = _stamp(base + rel)
                if previous is None or previous[0] != stamp:
                    previous = (stamp, build_record(read_file(root, rel)))
            disk[rel] = previous
            loaded.append(previous[1])
        self._disk = disk  # files deleted or renamed since are dropped
        return loaded

    def _first_load(self, root: Path, paths: list[str]) -> None:
        """Every file on disk at once, through the record cache `lint` keeps (parsed in parallel when cold)."""
        from plaintext_crm.records.parse_cache import RecordCache

        base = os.path.join(root, "")
        stamps = [_stamp(base + rel) for rel in paths]
        built = RecordCache(root).load(root, paths)
        self._disk = {rel: (stamp, loaded) for rel, stamp, loaded in zip(paths, stamps, built, strict=True)}


def _stamp(path: str | Path) -> _Stamp:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return (-1, -1, -1)
    return (info.st_size, info.st_mtime_ns, info.st_ino)
