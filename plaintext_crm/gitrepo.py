"""Talking to git: find a workspace's repository and HEAD without a process, run git, read blobs in bulk."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitRepository:
    """Where a workspace's repository keeps HEAD and refs, found by walking up as git does."""

    git_dir: Path
    common_dir: Path  # differs from git_dir in a linked worktree
    top: Path
    prefix: str  # the workspace folder relative to the top, "" or "sub/dir/"


def locate_repository(root: Path) -> GitRepository | None:
    """The repository holding `root`, found from `.git` without starting git; None outside one."""
    root = root.resolve()
    for folder in (root, *root.parents):
        dotgit = folder / ".git"
        try:
            if dotgit.is_dir():
                git_dir = dotgit
            elif dotgit.is_file():
                text = dotgit.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    continue
                git_dir = (folder / text[len("gitdir:"):].strip()).resolve()
            else:
                continue
            common_dir = git_dir
            if (git_dir / "commondir").is_file():
                common_dir = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        except OSError:
            continue
        prefix = root.relative_to(folder).as_posix()
        return GitRepository(git_dir, common_dir, folder, "" if prefix == "." else prefix + "/")
    return None


def read_head(repo: GitRepository) -> str | None:
    """HEAD's commit id read from the ref files; None when that needs git (packed, reftable, unborn)."""
    try:
        text = (repo.git_dir / "HEAD").read_text(encoding="utf-8").strip()
        for _ in range(5):  # symbolic refs may chain
            if not text.startswith("ref:"):
                return text if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text) else None
            ref = text[4:].strip()
            for base in (repo.git_dir, repo.common_dir):
                if (base / ref).is_file():
                    text = (base / ref).read_text(encoding="utf-8").strip()
                    break
            else:
                packed = repo.common_dir / "packed-refs"
                if not packed.is_file():
                    return None
                for line in packed.read_text(encoding="utf-8").splitlines():
                    sha, _, name = line.partition(" ")
                    if name == ref:
                        return sha
                return None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def shallow_commits(repo: GitRepository) -> frozenset[str]:
    """The boundary commits of a shallow clone (empty for a full clone)."""
    try:
        return frozenset((repo.common_dir / "shallow").read_text(encoding="utf-8").split())
    except OSError:
        return frozenset()


# ---------------------------------------------------------------- running git

_REPOSITORY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


class GitFailed(Exception):
    """git ran but failed; the message is git's own."""


def run_git(repo_root: Path, args: list[str], stdin: bytes | None = None, env: Mapping[str, str] | None = None
            ) -> bytes:
    """Run one git command in `repo_root` with settings that make its output stable to parse; `env` adds
    variables (e.g. the GIT_INDEX_FILE of a hook, which is otherwise left out)."""
    command = ["git", "-c", "core.quotepath=off", "-c", "log.showSignature=false", "-c", "color.ui=never",
               "-c", "diff.renames=true", *args]
    # Hooks export GIT_DIR, GIT_INDEX_FILE... (often relative to the top of the repository): let git
    # find the repository from the workspace folder, as locate_repository does.
    variables = {key: value for key, value in os.environ.items() if key not in _REPOSITORY_VARIABLES}
    variables.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", **(env or {}))
    try:
        done = subprocess.run(command, cwd=repo_root, input=stdin, capture_output=True, env=variables,
                              check=False)
    except OSError as exc:
        raise GitFailed(f"cannot run git: {exc.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailed(message[-1] if message else f"git {args[0]} exited with {done.returncode}")
    return done.stdout


def resolve_head(repo: GitRepository, root: Path) -> str | None:
    """HEAD's commit id: from the ref files when possible, else from git; None before the first commit."""
    head = read_head(repo)
    if head is not None:
        return head
    try:
        return run_git(root, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]).decode().strip() or None
    except GitFailed:
        return None


def read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """The contents of many blobs through one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    output = run_git(root, ["cat-file", "--batch"], stdin="".join(f"{blob}\n" for blob in wanted).encode())
    contents: dict[str, bytes] = {}
    position = 0
    for blob in wanted:
        end = output.index(b"\n", position)
        header = output[position:end].split()
        if len(header) < 3:  # "<id> missing": unavailable in this clone
            position = end + 1
            continue
        size = int(header[2])
        contents[blob] = output[end + 1:end + 1 + size]
        position = end + 1 + size + 1
    return contents
