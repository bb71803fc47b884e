"""`init` makes git ignore the built site, the caches and build's temporary folders, also with a .gitignore
that already exists: the missing lines are appended, the user's bytes kept, a link never followed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plaintext_crm.commands.init import IGNORED, merge_gitignore

ADDED = [line for line, _same in IGNORED]


def init(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plaintext_crm", "init", str(folder), *args], capture_output=True,
                          text=True, check=False)


def ignored_by_git(root: Path, *paths: str) -> set[str]:
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=root, capture_output=True, text=True,
                            check=False)
    return set(result.stdout.split())


@pytest.mark.parametrize(("before", "newline"), [
    (b"node_modules/\n*.log\n", b"\n"),
    (b"node_modules/\r\n*.log\r\n", b"\r\n"),
    (b"node_modules/\r\n*.log", b"\r\n"),  # no newline at the end
    (b"# caf\xc3\xa9\n\n", b"\n"),
    (b"", b"\n"),
])
def test_existing_gitignore_gets_the_missing_lines_and_keeps_its_bytes(tmp_path: Path, before: bytes,
                                                                      newline: bytes) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / ".gitignore").write_bytes(before)
    result = init(folder, "--no-git")
    assert result.returncode == 0, result.stderr
    after = (folder / ".gitignore").read_bytes()
    assert after.startswith(before)
    lines = after.split(newline)
    assert all(line.encode() in lines for line in ADDED), after
    assert (b"\r\n" in after) == (newline == b"\r\n")
    if newline == b"\n":
        assert b"\r" not in after
    else:
        assert after.count(b"\n") == after.count(b"\r\n")
    assert ".gitignore" in result.stdout


def test_what_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / ".gitignore").write_text("*.pdf\n", encoding="utf-8")
    assert init(folder).returncode == 0
    for rel in ("site/index.html", ".plaintext-crm/cache/x", ".site-building-site-k2j4/index.html",
                ".site-old-site-9x/index.html", ".plaintext-crm-lock-site", "x.pdf"):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (folder / "deals/site.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    (folder / "projects/site").mkdir()
    (folder / "projects/site/plan.md").write_text("x", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    staged = set(subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=folder, capture_output=True,
                                text=True, check=True).stdout.split())
    assert "deals/site.md" in staged and "projects/site/plan.md" in staged and "crm.yaml" in staged
    assert not [path for path in staged if path.startswith(("site/", ".plaintext-crm/", ".site-", ".plaintext-crm-lock-")) or
                path.endswith(".pdf")], staged


def test_lines_already_there_in_another_spelling_are_not_added_again() -> None:
    text = b"site\n.plaintext-crm/\n/.site-building-*\n.site-old-*/\n.plaintext-crm-lock-*\n"
    assert merge_gitignore(text) == (text, [])
    once, added = merge_gitignore(b"*.pdf\n")
    assert added == ADDED
    assert merge_gitignore(once) == (once, [])


def test_a_negated_line_is_the_users_choice() -> None:
    text = b"!/site/\n"  # they publish the site from the repository
    merged, added = merge_gitignore(text)
    assert "/site/" not in added and merged.startswith(text)
    assert b"\n/site/\n" not in merged


def test_a_gitignore_that_is_a_link_is_left_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep\n")
    folder = tmp_path / "ws"
    folder.mkdir()
    os.symlink(outside, folder / ".gitignore")
    result = init(folder, "--no-git")
    assert result.returncode == 0, result.stderr
    assert outside.read_bytes() == b"keep\n"
    assert (folder / ".gitignore").is_symlink()
    assert "warning: left .gitignore as it is" in result.stderr and "/site/" in result.stderr
    assert "Traceback" not in result.stderr


def test_new_gitignore_ignores_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    assert init(folder).returncode == 0
    text = (folder / ".gitignore").read_text(encoding="utf-8")
    assert all(f"\n{line}\n" in text for line in ADDED), text
    assert ignored_by_git(folder, "site/a.html", ".site-old-site-1/a", "deals/a.md") == {"site/a.html",
                                                                                         ".site-old-site-1/a"}
