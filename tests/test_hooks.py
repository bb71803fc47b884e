"""Hooks for real: a plain git pre-commit hook (install-hook) and the pre-commit framework with .pre-commit-hooks.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, pre_commit_hook_source

pytestmark = pytest.mark.git

CLIENT = "---\nname: Acme\nowner: me\n---\n"
WON_DEAL = """\
---
title: Website relaunch
client: acme
owner: me
stage: won
closed_on: 2026-11-20
---
"""
HANDOFF = """\
scope_summary: Marketing site, 12 pages
promised_timeline: 10 weeks
key_constraints: [Launch before the trade fair]
main_stakeholder: Jane Doe
kickoff_date: 2027-01-11
"""


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com", "PLAINTEXT_CRM_TODAY": "2026-11-26"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check, env=env)


def plaintext_crm(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plaintext_crm", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def new_workspace(folder: Path) -> Path:
    result = plaintext_crm(folder.parent, "init", folder.name)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("subfolder", ["", "crm"])
def test_installed_hook_refuses_a_won_deal_without_handoff_then_accepts_it(tmp_path: Path, subfolder: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    workspace = repo / subfolder if subfolder else repo
    if subfolder:
        new_workspace(workspace)
        shutil.rmtree(workspace / ".git")  # the workspace lives inside the outer repository
    else:
        shutil.rmtree(repo)
        new_workspace(repo)
    result = plaintext_crm(workspace, "install-hook")
    assert result.returncode == 0 and "Installed" in result.stdout, result.stderr
    (workspace / "clients/acme.md").write_text(CLIENT)
    (workspace / "deals/website.md").write_text(WON_DEAL)
    (repo / "NOTES.md").write_text("not a record\n")
    git(repo, "add", "-A")
    refused = git(repo, "commit", "-qm", "Won the website", check=False)
    assert refused.returncode != 0
    prefix = f"{subfolder}/" if subfolder else ""
    output = refused.stdout + refused.stderr  # git shows the hook's output on stderr
    assert f"{prefix}deals/website.md:5:1: D004 [error] won deal is missing hand-off field 'kickoff_date'" in output
    assert git(repo, "log", "--oneline", check=False).returncode != 0  # nothing was committed
    (workspace / "deals/website.md").write_text(WON_DEAL.replace("closed_on", HANDOFF + "closed_on"))
    git(repo, "add", "-A")
    accepted = git(repo, "commit", "-qm", "Won the website, with its hand-off", check=False)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Won the website, with its hand-off" in git(repo, "log", "--oneline").stdout


def test_hook_only_blocks_on_findings_in_staged_files(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    assert plaintext_crm(workspace, "install-hook").returncode == 0
    (workspace / "clients/acme.md").write_text(CLIENT)
    (workspace / "deals/old.md").write_text(WON_DEAL)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "legacy data", "--no-verify")
    (workspace / "clients/acme.md").write_text(CLIENT.replace("Acme", "Acme Corp"))
    git(workspace, "add", "clients/acme.md")
    result = git(workspace, "commit", "-qm", "rename client", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_hook_refuses_a_foreign_hook_unless_forced(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    hook = workspace / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")
    refused = plaintext_crm(workspace, "install-hook")
    assert refused.returncode == 2 and "not written by plaintext-crm" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    forced = plaintext_crm(workspace, "install-hook", "--force")
    assert forced.returncode == 0 and "plaintext-crm-hook" in hook.read_text()
    assert (workspace / ".git/hooks/pre-commit.before-plaintext-crm").read_text() == "#!/bin/sh\necho mine\n"
    again = plaintext_crm(workspace, "install-hook")
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_install_hook_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    result = plaintext_crm(tmp_path, "init", "ws", "--no-git")
    assert result.returncode == 0
    result = plaintext_crm(tmp_path / "ws", "install-hook")
    assert result.returncode == 2 and "not inside a git repository" in result.stderr
    assert "Traceback" not in result.stderr


def _try_repo(workspace: Path, source: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PLAINTEXT_CRM_TODAY": "2026-11-26"}
    bin_folder = str(Path(sys.executable).parent)
    env["PATH"] = bin_folder + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(source), hook, "--all-files"],
                          cwd=workspace, capture_output=True, text=True, env=env, check=False)


def _workspace_with_problem(tmp_path: Path) -> Path:
    workspace = new_workspace(tmp_path / "ws")
    (workspace / "clients/acme.md").write_text(CLIENT)
    (workspace / "deals/website.md").write_text(WON_DEAL)
    git(workspace, "add", "-A")
    return workspace


def test_pre_commit_framework_runs_the_system_hook(tmp_path: Path) -> None:
    if shutil.which("plaintext-crm", path=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]) is None:
        pytest.skip("the plaintext-crm console script is not installed")
    workspace = _workspace_with_problem(tmp_path)
    source = pre_commit_hook_source(tmp_path)
    failed = _try_repo(workspace, source, "plaintext-crm-lint-system", tmp_path / "pre-commit-home")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "deals/website.md:5:1: D004 [error] won deal is missing hand-off field 'scope_summary'" in failed.stdout
    (workspace / "deals/website.md").write_text(WON_DEAL.replace("closed_on", HANDOFF + "closed_on"))
    git(workspace, "add", "-A")
    passed = _try_repo(workspace, source, "plaintext-crm-lint-system", tmp_path / "pre-commit-home")
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.network
def test_pre_commit_framework_installs_and_runs_the_python_hook(tmp_path: Path) -> None:
    """pre-commit builds its own environment from this repository, with the dependencies from PyPI: ~20 s and
    the internet (CI has it; offline, deselect it with -m "not network"). The system hook above runs offline."""
    if not (REPO / ".git").exists():
        pytest.skip("needs this repository as a git checkout")
    source = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-hardlinks", str(REPO), str(source))
    shutil.copy(REPO / ".pre-commit-hooks.yaml", source / ".pre-commit-hooks.yaml")
    git(source, "commit", "-qam", "current hook definitions", check=False)
    workspace = _workspace_with_problem(tmp_path)
    failed = _try_repo(workspace, source, "plaintext-crm-lint", tmp_path / "pre-commit-home")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "deals/website.md:5:1: D004 [error] won deal is missing hand-off field 'kickoff_date'" in failed.stdout
    assert "Found 5 errors" in failed.stdout
