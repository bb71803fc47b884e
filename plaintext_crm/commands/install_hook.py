"""`plaintext-crm install-hook`: a plain git pre-commit hook that lints staged records, for teams without pre-commit."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import click

from plaintext_crm.config import CONFIG_FILE
from plaintext_crm.errors import ToolError
from plaintext_crm.loader import workspace_root
from plaintext_crm.model import KINDS
from plaintext_crm.options import workspace_argument

MARKER = "plaintext-crm-hook"
BACKUP_SUFFIX = ".before-plaintext-crm"

HOOK = """\
#!/bin/sh
# {marker}: installed by `plaintext-crm install-hook`; `plaintext-crm install-hook --force` rewrites it.
# Lints what this commit records (the staged files, not the working tree) in the workspace {shown}:
# the findings in the files the commit adds or changes, and the errors it causes in other files; an
# error stops the commit. Skip it once with `git commit --no-verify`.
# Nothing of the workspace staged: nothing to check.
git diff --cached --quiet --ignore-submodules -- {pathspecs} && exit 0
python={python}
if [ -x "$python" ]; then
  exec "$python" -m plaintext_crm lint --staged -- {workspace}
elif command -v plaintext-crm >/dev/null 2>&1; then
  exec plaintext-crm lint --staged -- {workspace}
fi
echo "plaintext-crm hook: cannot run plaintext-crm: $python is gone and plaintext-crm is not on PATH." >&2
echo 'Reinstall plaintext-crm and run `plaintext-crm install-hook --force` with it, or skip this check once with' >&2
echo '`git commit --no-verify`.' >&2
exit 1
"""


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolError("git is not installed") from None
    if result.returncode != 0:
        raise ToolError(f"{root} is not inside a git repository (run `git init` first): {result.stderr.strip()}")
    return result.stdout.strip()


def hook_script(workspace_in_repo: str, python: str = sys.executable) -> str:
    """The hook's text for a workspace at `workspace_in_repo` (relative to the repository top, '' for the top).

    The hook runs the interpreter that installed it (from any shell, with or without its virtual
    environment active), else the plaintext-crm on PATH, else it stops the commit and says why.
    """
    prefix = f"{workspace_in_repo}/" if workspace_in_repo else ""
    specs = [f"{prefix}{CONFIG_FILE}", *(f"{prefix}{kind}" for kind in KINDS)]
    workspace = f"./{workspace_in_repo}" if workspace_in_repo else "."
    shown = "".join(char if char.isprintable() else "?" for char in workspace_in_repo)
    return HOOK.format(marker=MARKER, shown=shown or "at the top of the repository",
                       pathspecs=" ".join(shlex.quote(f":(literal){spec}") for spec in specs),
                       python=shlex.quote(python), workspace=shlex.quote(workspace))


@click.command("install-hook")
@workspace_argument
@click.option("--force", is_flag=True, help="Replace an existing pre-commit hook (it is kept as "
                                            f"pre-commit{BACKUP_SUFFIX}).")
def install_hook(workspace: Path | None, force: bool) -> None:
    """Install a git pre-commit hook that runs `plaintext-crm lint --staged` on what each commit records.

    For teams without the pre-commit framework (with it, use the plaintext-crm-lint hook in
    .pre-commit-config.yaml instead). Refuses to replace another hook unless --force is given.
    """
    root = workspace_root(workspace)
    top = Path(_git(root, "rev-parse", "--show-toplevel")).resolve()
    hooks = Path(_git(root, "rev-parse", "--path-format=absolute", "--git-path", "hooks"))
    target = hooks / "pre-commit"
    text = hook_script(root.relative_to(top).as_posix() if root != top else "")
    if target.exists():
        current = target.read_text(encoding="utf-8", errors="replace")
        if MARKER not in current:
            if not force:
                raise ToolError(f"{target} already exists and was not written by plaintext-crm; nothing was "
                                "changed (use --force to replace it; the old hook is kept beside it)")
            backup = target.with_name(target.name + BACKUP_SUFFIX)
            os.replace(target, backup)
            click.echo(f"Kept the previous hook as {backup}")
        elif current == text:
            click.echo(f"The hook at {target} is already up to date.")
            return
    hooks.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="\n")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    click.echo(f"Installed {target}: each commit now runs `plaintext-crm lint --staged` on what it records, "
               f"with {sys.executable}.")
