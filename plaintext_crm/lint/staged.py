"""What `git commit` would record of a workspace: the files it changes, and the staged files written out to lint.

Hooks must check the commit, not the working tree: a file staged without its owner and fixed on disk
afterwards, an untracked client that a staged deal names, a client deleted from the index but still on
disk all differ between the two. When the index and the working tree agree on every file the loader
reads (the usual case, and always under the pre-commit framework's stash unless untracked files lie
around), lint reads the working tree and its cache; otherwise the staged files are written into a
temporary folder and linted there.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.errors import ToolError
from plaintext_crm.gitrepo import GitFailed, GitRepository, locate_repository, read_blobs, run_git
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.model import KINDS

# The entries a workspace's lint reads: crm.yaml and the record folders.
READ_BY_LINT = (CONFIG_FILE, *KINDS)
SYMLINK, GITLINK = "120000", "160000"


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a git tree or index: its mode ("100644", "120000"...) and blob id."""

    mode: str
    blob: str


@dataclass(frozen=True)
class StagedState:
    """A workspace's part of the commit being prepared (paths are workspace-relative, "/" separators)."""

    root: Path
    repo: GitRepository
    index_file: str | None  # the index the commit is made from, when a hook names one (GIT_INDEX_FILE)
    changed: dict[str, Entry]  # added or modified by the commit, with the staged entry
    deleted: frozenset[str]
    differs: frozenset[str]  # tracked files whose working-tree content is not the staged one
    in_place: bool  # the working tree holds exactly the staged files lint reads

    @property
    def touched(self) -> bool:
        return bool(self.changed or self.deleted)

    def git(self, args: list[str]) -> bytes:
        env = {"GIT_INDEX_FILE": self.index_file} if self.index_file else None
        return run_git(self.repo.top, ["--literal-pathspecs", *args], env=env)

    def pathspecs(self) -> list[str]:
        return [self.repo.prefix + name for name in READ_BY_LINT]

    def head_entries(self) -> dict[str, Entry]:
        """HEAD's entries under the workspace's lint paths; empty before the first commit."""
        try:
            output = self.git(["ls-tree", "-r", "-z", "--full-tree", f"HEAD:{self.repo.prefix}", "--",
                               *READ_BY_LINT])
        except GitFailed:  # no HEAD yet, or the workspace folder is new in this commit
            return {}
        entries: dict[str, Entry] = {}
        for record in output.split(b"\0"):
            if record:
                info, _, path = record.partition(b"\t")
                mode, _kind, blob = info.decode().split()
                entries[path.decode("utf-8", "surrogateescape")] = Entry(mode, blob)
        return entries

    def staged_entries(self) -> dict[str, Entry]:
        """The entries the commit will hold: HEAD's, with the staged changes applied."""
        entries = self.head_entries()
        for path in self.deleted:
            entries.pop(path, None)
        entries.update(self.changed)
        return entries


def _index_file(repo: GitRepository) -> str | None:
    """GIT_INDEX_FILE as a hook sees it (`git commit -a` and `git commit PATH` use a temporary index),
    made absolute; ignored unless it belongs to this repository."""
    value = os.environ.get("GIT_INDEX_FILE")
    if not value:
        return None
    for base in (Path.cwd(), repo.top):  # hooks run at the top, where git's relative paths start
        candidate = (base / value).resolve()
        if candidate.is_file() and any(folder in candidate.parents for folder in (repo.git_dir, repo.common_dir)):
            return str(candidate)
    return None


def _split_z(output: bytes) -> list[str]:
    return [item.decode("utf-8", "surrogateescape") for item in output.split(b"\0") if item]


def read_staged(root: Path) -> StagedState:
    """What the commit being prepared changes in the workspace at `root`, and whether lint may read the
    working tree for it. A ToolError outside a git repository."""
    repo = locate_repository(root)
    if repo is None:
        raise ToolError(f"--staged checks what git would commit, but {root} is not inside a git repository")
    state = StagedState(root, repo, _index_file(repo), {}, frozenset(), frozenset(), False)
    specs = state.pathspecs()
    try:
        # Submodule entries (gitlinks) count: a checkout makes a folder there, which the loader judges.
        raw = state.git(["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--", *specs])
        changed: dict[str, Entry] = {}
        deleted: set[str] = set()
        fields = raw.split(b"\0")
        for info, path in zip(fields[0::2], fields[1::2], strict=False):
            if not info.startswith(b":"):
                continue
            _src_mode, mode, _src, blob, status = info[1:].decode().split()
            rel = path.decode("utf-8", "surrogateescape")[len(repo.prefix):]
            if status.startswith("D"):
                deleted.add(rel)
            else:
                changed[rel] = Entry(mode, blob)
        # The working tree stands for the commit when no tracked file differs from the index and no
        # untracked or ignored file (or empty folder) lies where the loader looks.
        differs = state.git(["diff", "--name-only", "-z", "--ignore-submodules", "--", *specs])
        untracked = state.git(["ls-files", "--others", "--directory", "-z", "--", *specs])
    except GitFailed as exc:
        raise ToolError(f"cannot read what git would commit in {root}: {exc}") from None
    differing = frozenset(path[len(repo.prefix):] for path in _split_z(differs))
    gitlinks = any(entry.mode == GITLINK for entry in changed.values())  # the working tree has a file there
    return StagedState(root, repo, state.index_file, changed, frozenset(deleted), differing,
                       not differing and not _split_z(untracked) and not gitlinks)


def _target(folder: Path, rel: str) -> Path | None:
    """Where `rel` goes under `folder`; None for a path that is not a plain relative one."""
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in rel or "\0" in rel:
        return None
    return folder.joinpath(*parts)


def write_snapshot(state: StagedState, entries: dict[str, Entry], folder: Path, same: frozenset[str]) -> int:
    """Write `entries` under `folder`; the number of files written.

    Only what the loader reads is written in full: crm.yaml and the files directly in the record
    folders (a record folder that is a link is written as that link). Deeper entries only make their folder exist (a folder named like a record is seen). A file
    in `same` holds what the working tree holds: it is a hard link to the working-tree file (creating
    a thousand files costs far more than linking them), else a copy of the blob with the working-tree
    file's modification time; either way the workspace's record cache (size and mtime) serves it.
    """
    wanted = {rel: entry for rel, entry in entries.items() if
              rel == CONFIG_FILE or rel.count("/") == 1 or (rel in KINDS and entry.mode in (SYMLINK, GITLINK))}
    for rel in entries.keys() - wanted.keys():
        parts = rel.split("/")
        if len(parts) > 2 and (target := _target(folder, "/".join(parts[:2]))) is not None:
            target.mkdir(parents=True, exist_ok=True)
    targets = {rel: target for rel in sorted(wanted) if (target := _target(folder, rel)) is not None}
    for parent in {target.parent for target in targets.values()}:
        parent.mkdir(parents=True, exist_ok=True)
    for rel in [rel for rel in targets if wanted[rel].mode == GITLINK]:
        targets.pop(rel).mkdir(exist_ok=True)  # a submodule: the empty folder a checkout makes
    linked = {rel for rel, target in targets.items()
              if rel in same and wanted[rel].mode != SYMLINK and _link(state.root / rel, target)}
    blobs = read_blobs(state.repo.top, [wanted[rel].blob for rel in targets if rel not in linked])
    written = len(linked)
    for rel, target in targets.items():
        content = blobs.get(wanted[rel].blob)
        if rel in linked or content is None:
            continue
        if wanted[rel].mode == SYMLINK:
            # As a checkout makes it: the link's text, to be judged by the loader as on disk.
            os.symlink(os.fsdecode(content), target)
        else:
            target.write_bytes(content)
            if rel in same:
                _copy_mtime(state.root / rel, target, len(content))
        written += 1
    return written


def _link(source: Path, target: Path) -> bool:
    """Hard-link a regular working-tree file into the snapshot; False when that cannot be done."""
    try:
        if not stat.S_ISREG(os.stat(source, follow_symlinks=False).st_mode):
            return False
        os.link(source, target, follow_symlinks=False)
    except OSError:  # another file system, links not allowed: the blob is copied instead
        return False
    return True


def _copy_mtime(source: Path, target: Path, size: int) -> None:
    try:
        info = os.stat(source, follow_symlinks=False)
        if stat.S_ISREG(info.st_mode) and info.st_size == size:
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    except OSError:
        pass  # then the file is parsed again: slower, not wrong


SNAPSHOT_PREFIX = "plaintext-crm-staged-"


def _make_folder(state: StagedState) -> Path:
    """A new folder for a snapshot: in the repository's git folder, on the working tree's file system so
    that files can be hard-linked (folders left by killed runs are removed first), else in TMPDIR."""
    try:
        for stale in state.repo.git_dir.glob(f"{SNAPSHOT_PREFIX}*"):
            pid = stale.name[len(SNAPSHOT_PREFIX):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix=f"{SNAPSHOT_PREFIX}{os.getpid()}-", dir=state.repo.git_dir))
    except OSError:
        return Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


@contextmanager
def snapshot_folder(state: StagedState, *, head: bool = False) -> Iterator[tuple[Path, int]]:
    """A temporary folder holding the files as staged (or, with `head`, as in HEAD), removed afterwards;
    and how many files were written."""
    entries = state.head_entries() if head else state.staged_entries()
    # Files the commit leaves as the working tree has them: for HEAD, also those it does not change.
    same = frozenset(entries) - state.differs - (state.changed.keys() | state.deleted if head else set())
    folder = _make_folder(state)
    try:
        yield folder, write_snapshot(state, entries, folder, same)
    except GitFailed as exc:
        raise ToolError(f"cannot read the staged files of {state.root}: {exc}") from None
    except OSError as exc:
        raise ToolError(f"cannot write the staged files into {folder} to lint them: "
                        f"{exc.strerror or exc}; check the temporary folder (TMPDIR)") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def workspaces_in_index(start: Path) -> list[Path]:
    """Workspace folders of the repository around `start` whose crm.yaml is in the index (for hooks run
    at the top of a repository that holds workspaces in sub-folders)."""
    repo = locate_repository(start)
    if repo is None:
        return []
    try:
        output = run_git(repo.top, ["ls-files", "-z", "--", f":(glob)**/{CONFIG_FILE}"])
    except GitFailed:
        return []
    roots = []
    for rel in _split_z(output):
        folder = repo.top.joinpath(*rel.split("/")[:-1])
        if rel.split("/")[-1] == CONFIG_FILE and folder.is_dir():
            roots.append(folder.resolve())
    return roots
