"""The hooks check what is committed: the staged snapshot of the workspace, never the working tree.

Real git, real hooks: `install-hook` (a plain git hook) and `lint --staged` as the pre-commit
framework runs it. Each case stages one thing and leaves another in the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import MINIMAL_CONFIG, pre_commit_hook_source

pytestmark = pytest.mark.git

TODAY = "2026-11-26"
CLIENT = "---\nname: Acme\nowner: ana\n---\n"
DEAL = """\
---
title: Website
client: acme
owner: ana
stage: lead
next_action: Call Jane
next_action_due: 2026-12-01
---
"""
NO_OWNER = DEAL.replace("owner: ana\n", "")
PIPELINE_WITH_PILOT = """\
pipeline:
  - {stage: lead, probability: 0.1}
  - {stage: pilot, probability: 0.3}
  - {stage: won, probability: 1.0, closed: won}
  - {stage: lost, probability: 0.0, closed: lost}
"""
ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "Test",
       "GIT_COMMITTER_EMAIL": "t@example.com", "PLAINTEXT_CRM_TODAY": TODAY, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                            env={**os.environ, **ENV, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result


def crm(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plaintext_crm", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, **ENV})


def head_files(repo: Path) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", "HEAD").stdout.split()


def commit(repo: Path, message: str, *args: str) -> subprocess.CompletedProcess[str]:
    return git(repo, "commit", "-qm", message, *args, check=False)


def repository(tmp_path: Path, subfolder: str = "") -> tuple[Path, Path]:
    """A repository with a committed, clean workspace (at the top or in `subfolder`) and the plain hook."""
    repo = tmp_path / "repo"
    root = repo / subfolder if subfolder else repo
    (root / "clients").mkdir(parents=True)
    (root / "deals").mkdir()
    (root / "crm.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    (root / "clients/acme.md").write_text(CLIENT, encoding="utf-8")
    (root / "deals/website.md").write_text(DEAL, encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start", "--no-verify")
    installed = crm(root, "install-hook")
    assert installed.returncode == 0, installed.stderr
    return repo, root


def refused(result: subprocess.CompletedProcess[str], *lines: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for line in lines:
        assert line in output, output
    assert "Traceback" not in output


def accepted(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output


# --- the repro and its mirror -----------------------------------------------------------------------------

def test_staged_deal_without_owner_is_refused_although_the_file_on_disk_has_one(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")  # fixed on disk, not staged
    refused(commit(repo, "shop"), "deals/shop.md:1:1: D001 [error]")
    assert "deals/shop.md" not in head_files(repo)
    git(repo, "add", "deals/shop.md")
    accepted(commit(repo, "shop, with its owner"))
    assert "deals/shop.md" in head_files(repo)


def test_a_fixed_staged_deal_passes_although_the_file_on_disk_is_broken(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    (root / "deals/shop.md").write_text(NO_OWNER.replace("title:", "title: [unclosed\nx:"), encoding="utf-8")
    accepted(commit(repo, "shop"))
    assert git(repo, "show", "HEAD:deals/shop.md").stdout == DEAL


def test_partly_staged_file_is_checked_as_staged(tmp_path: Path) -> None:
    """`git add -p` style: the committed blob differs from both HEAD and the file on disk."""
    repo, root = repository(tmp_path)
    (root / "deals/website.md").write_text(DEAL.replace("stage: lead", "stage: pilot"), encoding="utf-8")
    git(repo, "add", "deals/website.md")
    (root / "deals/website.md").write_text(DEAL.replace("stage: lead", "stage: proposal"), encoding="utf-8")
    refused(commit(repo, "stage"), "deals/website.md:5:1: D005 [error]")


# --- files the index does not have, or has differently --------------------------------------------------

def test_an_untracked_bad_deal_does_not_block(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    # Untracked (never added): a broken file and one whose id clashes with the staged deal's.
    (root / "deals/draft.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    (root / "deals/Shop.md").write_text(NO_OWNER, encoding="utf-8")
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    accepted(commit(repo, "shop"))


def test_an_ignored_file_on_disk_is_not_part_of_the_commit(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / ".gitignore").write_text("deals/*-local.md\n", encoding="utf-8")
    (root / "deals/Shop-local.md").write_text(DEAL, encoding="utf-8")
    (root / "deals/shop-local.md").write_text(DEAL, encoding="utf-8")
    git(repo, "add", "-f", "deals/shop-local.md")
    accepted(commit(repo, "shop"))


def test_a_client_that_exists_only_untracked_does_not_satisfy_a_staged_reference(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "clients/globex.md").write_text(CLIENT.replace("Acme", "Globex"), encoding="utf-8")  # never added
    (root / "deals/globex-app.md").write_text(DEAL.replace("client: acme", "client: globex"), encoding="utf-8")
    git(repo, "add", "deals/globex-app.md")
    refused(commit(repo, "globex"), "deals/globex-app.md:3:1: R001 [error]")
    git(repo, "add", "clients/globex.md")
    accepted(commit(repo, "globex, with its client"))


def test_staged_deletion_of_a_referenced_client_is_refused(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    git(repo, "rm", "-q", "--cached", "clients/acme.md")  # gone from the commit, still on disk
    result = commit(repo, "drop acme")
    refused(result, "deals/website.md:3:1: R001 [error]")
    assert "clients/acme.md" in head_files(repo)
    (root / "clients/acme.md").unlink()  # gone from disk too
    refused(commit(repo, "drop acme"), "deals/website.md:3:1: R001 [error]")
    git(repo, "rm", "-q", "deals/website.md")  # the deal goes with it: nothing refers to acme any more
    accepted(commit(repo, "drop acme and its deal"))
    assert head_files(repo) == ["crm.yaml"]


def test_a_renamed_record_is_checked_under_its_new_name(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    git(repo, "mv", "clients/acme.md", "clients/acme-corp.md")
    refused(commit(repo, "rename acme"), "deals/website.md:3:1: R001 [error]")
    (root / "deals/website.md").write_text(DEAL.replace("client: acme", "client: acme-corp"), encoding="utf-8")
    git(repo, "add", "deals/website.md")
    accepted(commit(repo, "rename acme, and its deal's reference"))


def test_old_problems_in_files_the_commit_does_not_touch_do_not_block(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "deals/legacy.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "deals/legacy.md")
    commit(repo, "legacy", "--no-verify")
    (root / "clients/acme.md").write_text(CLIENT.replace("Acme", "Acme Corp"), encoding="utf-8")
    git(repo, "add", "clients/acme.md")
    accepted(commit(repo, "rename client"))


# --- crm.yaml as staged ---------------------------------------------------------------------------------

def test_a_stage_that_exists_only_in_the_unstaged_crm_yaml_is_refused(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "crm.yaml").write_text(MINIMAL_CONFIG + PIPELINE_WITH_PILOT, encoding="utf-8")
    (root / "deals/website.md").write_text(DEAL.replace("stage: lead", "stage: pilot"), encoding="utf-8")
    git(repo, "add", "deals/website.md")  # crm.yaml with the new stage is not staged
    refused(commit(repo, "pilot"), "deals/website.md:5:1: D005 [error]")
    git(repo, "add", "crm.yaml")
    accepted(commit(repo, "pilot stage"))


def test_a_staged_crm_yaml_that_breaks_other_records_is_refused(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "crm.yaml").write_text(MINIMAL_CONFIG.replace("  ana: {name: Ana Ruiz, email: ana@example.com}\n", ""),
                                   encoding="utf-8")
    git(repo, "add", "crm.yaml")
    (root / "crm.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")  # restored on disk, not staged
    refused(commit(repo, "team"), "deals/website.md:4:1: D001 [error]", "clients/acme.md")


# --- where the workspace is, how git commits --------------------------------------------------------------

def test_workspace_in_a_subfolder_of_a_repository(tmp_path: Path) -> None:
    repo, root = repository(tmp_path, "sales/crm")
    (repo / "README.md").write_text("# not a record\n", encoding="utf-8")
    (root / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "README.md", "sales/crm/deals/shop.md")
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    refused(commit(repo, "shop"), "sales/crm/deals/shop.md:1:1: D001 [error]")
    git(repo, "add", "sales/crm/deals/shop.md")
    accepted(commit(repo, "shop"))
    (repo / "README.md").write_text("# still not a record\n", encoding="utf-8")
    git(repo, "add", "README.md")
    accepted(commit(repo, "readme only"))


def test_commit_with_paths_checks_the_commit_not_the_index(tmp_path: Path) -> None:
    """`git commit PATH` commits the file on disk with HEAD's other files (a temporary index)."""
    repo, root = repository(tmp_path)
    (root / "clients/globex.md").write_text(CLIENT.replace("Acme", "Globex"), encoding="utf-8")
    git(repo, "add", "clients/globex.md")  # staged, but not part of the commit below
    (root / "deals/website.md").write_text(DEAL.replace("client: acme", "client: globex"), encoding="utf-8")
    refused(commit(repo, "globex", "deals/website.md"), "deals/website.md:3:1: R001 [error]")
    accepted(commit(repo, "globex", "deals/website.md", "clients/globex.md"))


def test_commit_all_checks_the_files_on_disk(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    (root / "deals/website.md").write_text(NO_OWNER, encoding="utf-8")
    refused(commit(repo, "all", "-a"), "deals/website.md:1:1: D001 [error]")
    (root / "deals/website.md").write_text(DEAL.replace("Call Jane", "Call Joe"), encoding="utf-8")
    accepted(commit(repo, "all", "-a"))


def test_first_commit_of_a_new_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "deals").mkdir(parents=True)
    (repo / "crm.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    (repo / "clients").mkdir()
    (repo / "clients/acme.md").write_text(CLIENT, encoding="utf-8")
    (repo / "deals/website.md").write_text(DEAL, encoding="utf-8")
    git(repo, "init", "-q")
    assert crm(repo, "install-hook").returncode == 0
    git(repo, "add", "crm.yaml", "deals/website.md")  # the client is left out
    refused(commit(repo, "start"), "deals/website.md:3:1: R001 [error]")
    git(repo, "add", "clients/acme.md")
    accepted(commit(repo, "start"))


# --- lint --staged as a command (what the pre-commit framework runs) ----------------------------------------

def test_lint_staged_reports_paths_as_a_normal_lint_does(tmp_path: Path) -> None:
    repo, root = repository(tmp_path, "crm")
    (root / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "crm/deals/shop.md")
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    for cwd, shown in ((repo, "crm/deals/shop.md"), (root, "deals/shop.md"), (root / "deals", "../deals/shop.md")):
        result = crm(cwd, "lint", "--staged")
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout.startswith(f"{shown}:1:1: D001 [error]"), result.stdout
    named = crm(repo, "lint", "--staged", "crm/deals/shop.md", "--format", "json")
    assert named.returncode == 1 and '"path": "crm/deals/shop.md"' in named.stdout
    assert crm(repo, "lint", "crm/deals/shop.md").returncode == 0  # the working tree is fine


def test_lint_staged_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ws/deals").mkdir(parents=True)
    (tmp_path / "ws/crm.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    result = crm(tmp_path / "ws", "lint", "--staged")
    assert result.returncode == 2 and "git" in result.stderr and "Traceback" not in result.stderr


def _pre_commit(repo: Path, source: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The framework's run on what is staged (it stashes unstaged changes, not untracked files)."""
    env = {**os.environ, **ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(source), "plaintext-crm-lint-system"],
                          cwd=repo, capture_output=True, text=True, env=env, check=False)


def test_pre_commit_hook_does_not_count_untracked_files(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    source = pre_commit_hook_source(tmp_path)
    (root / "clients/globex.md").write_text(CLIENT.replace("Acme", "Globex"), encoding="utf-8")  # untracked
    (root / "deals/globex-app.md").write_text(DEAL.replace("client: acme", "client: globex"), encoding="utf-8")
    git(repo, "add", "deals/globex-app.md")
    refused(_pre_commit(repo, source, tmp_path), "deals/globex-app.md:3:1: R001 [error]")
    git(repo, "add", "clients/globex.md")
    accepted(_pre_commit(repo, source, tmp_path))


def test_pre_commit_hook_runs_for_a_commit_that_only_deletes(tmp_path: Path) -> None:
    repo, _root = repository(tmp_path)
    source = pre_commit_hook_source(tmp_path)
    git(repo, "rm", "-q", "clients/acme.md")
    refused(_pre_commit(repo, source, tmp_path), "deals/website.md:3:1: R001 [error]")


# --- from a fresh shell: no virtual environment on PATH ---------------------------------------------------

FRESH_PATH = os.pathsep.join(folder for folder in ("/usr/local/bin", "/usr/bin", "/bin")
                             if Path(folder).is_dir() and folder != str(Path(sys.executable).parent))


def fresh_shell(home: Path) -> dict[str, str]:
    """The environment of a new terminal: PATH without this virtual environment, nothing activated."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, **ENV, "PATH": FRESH_PATH, "PRE_COMMIT_HOME": str(home)}


def test_fresh_path_has_no_plaintext_crm() -> None:
    assert shutil.which("plaintext-crm", path=FRESH_PATH) is None, "the test needs a PATH without plaintext-crm"


def test_plain_hook_works_from_a_shell_without_the_virtual_environment(tmp_path: Path) -> None:
    repo, root = repository(tmp_path)
    env = fresh_shell(tmp_path / "pre-commit-home")
    (root / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    refused(git(repo, "commit", "-qm", "shop", check=False, env=env), "deals/shop.md:1:1: D001 [error]")
    (root / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    accepted(git(repo, "commit", "-qm", "shop", check=False, env=env))


def test_plain_hook_whose_interpreter_is_gone_uses_path_or_says_what_to_do(tmp_path: Path) -> None:
    from plaintext_crm.commands.install_hook import hook_script

    repo, root = repository(tmp_path)
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text(hook_script("", python=str(tmp_path / "gone/bin/python")), encoding="utf-8")
    (root / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(repo, "add", "deals/shop.md")
    env = fresh_shell(tmp_path / "pre-commit-home")
    missing = git(repo, "commit", "-qm", "shop", check=False, env=env)
    refused(missing, "cannot run plaintext-crm", "install-hook --force", "--no-verify")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "plaintext-crm").write_text(f'#!/bin/sh\nexec {sys.executable} -m plaintext_crm "$@"\n', encoding="utf-8")
    (tools / "plaintext-crm").chmod(0o755)
    on_path = git(repo, "commit", "-qm", "shop", check=False, env={**env, "PATH": f"{tools}{os.pathsep}{FRESH_PATH}"})
    refused(on_path, "deals/shop.md:1:1: D001 [error]")


def _init(folder: Path) -> subprocess.CompletedProcess[str]:
    result = crm(folder.parent, "init", folder.name)
    assert result.returncode == 0, result.stderr
    (folder / "crm.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    (folder / "clients/acme.md").write_text(CLIENT, encoding="utf-8")
    return result


def test_init_says_how_to_enable_the_hook_both_ways(tmp_path: Path) -> None:
    output = _init(tmp_path / "ws").stdout
    assert "plaintext-crm install-hook" in output and "pre-commit install" in output
    assert git(tmp_path / "ws", "config", "--get", "plaintext-crm.python").stdout.strip() == sys.executable


def test_init_pre_commit_config_works_from_a_shell_without_the_virtual_environment(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _init(workspace)
    env = fresh_shell(tmp_path / "pre-commit-home")
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=workspace, capture_output=True,
                               text=True, check=False, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (workspace / "deals/shop.md").write_text(NO_OWNER, encoding="utf-8")
    git(workspace, "add", "-A")
    result = git(workspace, "commit", "-qm", "start", check=False, env=env)
    refused(result, "deals/shop.md:1:1: D001 [error]")
    assert "not found" not in result.stdout + result.stderr
    (workspace / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    git(workspace, "add", "-A")
    accepted(git(workspace, "commit", "-qm", "start", check=False, env=env))


def test_a_teammates_clone_records_its_interpreter_with_install_hook(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _init(workspace)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start", "--no-verify")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workspace), str(clone))
    env = fresh_shell(tmp_path / "pre-commit-home")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=clone, check=True, capture_output=True, env=env)
    (clone / "deals/shop.md").write_text(DEAL, encoding="utf-8")
    git(clone, "add", "-A")
    refused(git(clone, "commit", "-qm", "shop", check=False, env=env), "no interpreter is recorded",
            "plaintext-crm install-hook")
    recorded = crm(clone, "install-hook")
    assert recorded.returncode == 0 and "pre-commit framework" in recorded.stdout, recorded.stderr
    assert "File generated by pre-commit" in (clone / ".git/hooks/pre-commit").read_text(encoding="utf-8")
    accepted(git(clone, "commit", "-qm", "shop", check=False, env=env))


# --- the snapshot path lints exactly as the working tree would ------------------------------------------------

@pytest.mark.parametrize("cache", ["", "--no-cache"])
def test_snapshot_of_the_example_finds_what_a_plain_lint_finds(tmp_path: Path, cache: str) -> None:
    from tests.support import EXAMPLE

    repo = tmp_path / "example"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("site", ".plaintext-crm"))
    first = min((repo / "deals").glob("*.md")).name
    os.symlink(first, repo / "deals/alias.md")  # a link inside the workspace is read, in both paths
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "example", "--no-verify")
    records = sorted(str(path.relative_to(repo)) for kind in ("clients", "deals", "projects")
                     for path in (repo / kind).glob("*.md"))
    assert "deals/alias.md" in records
    options = [option for option in ("--format", "json", cache) if option]
    plain = crm(repo, "lint", *options, "crm.yaml", *records)
    (repo / "deals/notes.txt").write_text("not a record, but untracked: the snapshot path is taken\n", encoding="utf-8")
    staged = subprocess.run([sys.executable, "-m", "plaintext_crm", "lint", "--staged", "-v", *options, "crm.yaml",
                             *records], cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, **ENV})
    assert "temporary folder" in staged.stderr, staged.stderr
    assert '"code": "D' in plain.stdout and staged.stdout == plain.stdout
    assert staged.returncode == plain.returncode == 1
    assert not list((repo / ".git").glob("plaintext-crm-staged-*"))
