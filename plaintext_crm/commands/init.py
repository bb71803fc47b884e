"""`plaintext-crm init DIR`: create a new, working workspace."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import click

from plaintext_crm.config import CONFIG_FILE
from plaintext_crm.errors import ToolError
from plaintext_crm.model import KINDS

CRM_YAML = """\
# plaintext-crm settings. Every setting is optional; the values below are the defaults
# unless noted. Docs: docs/format.md in the plaintext-crm repository.

# The workspace's name, shown on the site.
name: {name}

# Currency of deal values; a deal can name another with `currency: USD`.
currency: EUR
# Rates for deals in other currencies, in units of `currency` per unit (optional);
# a deal in a currency without a rate is listed but left out of the totals.
# exchange_rates: {{USD: 0.92, GBP: 1.15}}

# Team members who own clients, deals, projects and tasks: id -> name, email.
# Mark people who left with `active: false`: they keep their closed deals, but open
# deals must move to an active owner. With no team listed, any owner name is accepted.
team:
  me: {{name: Your Name, email: you@example.com}}

# The sales pipeline, in order. probability (0..1) weights the forecast; rot_days
# (optional) flags an open deal that stays longer in the stage; `closed: won` and
# `closed: lost` mark the closing stages.
pipeline:
  - {{stage: lead, probability: 0.1}}
  - {{stage: qualified, probability: 0.25}}
  - {{stage: proposal, probability: 0.5}}
  - {{stage: negotiation, probability: 0.75}}
  - {{stage: won, probability: 1.0, closed: won}}
  - {{stage: lost, probability: 0.0, closed: lost}}

# Fields a deal must carry before it can be closed-won: what delivery needs to start well.
handoff_fields: [scope_summary, promised_timeline, key_constraints, main_stakeholder, kickoff_date]

# Allowed reasons for lost deals (optional; any reason is accepted when this is absent).
# lost_reasons: [price, timing, competitor, no_budget, no_response]

# Working days for schedules, and holidays (YYYY-MM-DD) that are not worked.
working_days: [mon, tue, wed, thu, fri]
holidays: []

# Lint rule severities: error, warning, info or off, by rule code (`plaintext-crm rules`).
lint: {{}}
"""

GITIGNORE = """\
# Built site and plaintext-crm's caches
site/
.plaintext-crm/
"""

PRE_COMMIT_CONFIG = """\
# Lint the workspace before every commit: `pip install pre-commit && pre-commit install`.
# Runs the plaintext-crm installed in your environment; the hook only reads files. To let
# pre-commit install plaintext-crm itself, use the plaintext-crm repository as the hook source:
#   - repo: https://github.com/<owner>/plaintext-crm
#     rev: v0.1.0
#     hooks: [{id: plaintext-crm-lint}]
# Without the pre-commit framework: `plaintext-crm install-hook` writes a plain git hook.
repos:
  - repo: local
    hooks:
      - id: plaintext-crm-lint
        name: plaintext-crm lint
        entry: plaintext-crm lint
        language: system
        files: '\\.md$|crm\\.yaml$'
        require_serial: true
"""


def write_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet."""
    with path.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Workspace name (default: the folder's name).")
@click.option("--no-git", is_flag=True, help="Do not run `git init`.")
def init(directory: Path, name: str | None, no_git: bool) -> None:
    """Create a new workspace in DIRECTORY: crm.yaml, folders, templates, git and pre-commit set-up.

    Refuses to touch a folder that already holds a workspace.
    """
    existing = [item for item in (CONFIG_FILE, *KINDS) if (directory / item).exists()]
    if existing:
        raise ToolError(f"{directory} already holds a workspace ({', '.join(existing)}); nothing was changed")
    if directory.exists() and not directory.is_dir():
        raise ToolError(f"{directory} exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    title = name or directory.resolve().name.replace("-", " ").replace("_", " ").title()
    created = []
    write_new(directory / CONFIG_FILE, CRM_YAML.format(name=title))
    created.append(CONFIG_FILE)
    for kind in KINDS:
        (directory / kind).mkdir()
        write_new(directory / kind / ".gitkeep", "")
        created.append(f"{kind}/")
    templates = directory / "templates"
    templates.mkdir(exist_ok=True)
    for template in sorted(resources.files("plaintext_crm").joinpath("templates").iterdir(),
                           key=lambda item: item.name):
        if template.name.endswith(".md") and not (templates / template.name).exists():
            write_new(templates / template.name, template.read_text(encoding="utf-8"))
            created.append(f"templates/{template.name}")
    for file_name, text in ((".gitignore", GITIGNORE), (".pre-commit-config.yaml", PRE_COMMIT_CONFIG)):
        if not (directory / file_name).exists():
            write_new(directory / file_name, text)
            created.append(file_name)
    if not no_git and shutil.which("git") and not (directory / ".git").exists():
        result = subprocess.run(["git", "init", "-q", str(directory)], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            created.append(".git/")
        else:
            click.echo(f"warning: git init failed: {result.stderr.strip()}", err=True)
    click.echo(f"Created workspace '{title}' in {directory}:")
    for item in created:
        click.echo(f"  {item}")
    click.echo("Next: add clients/ and deals/ records (`plaintext-crm new deal ID`), then `plaintext-crm lint`.")
