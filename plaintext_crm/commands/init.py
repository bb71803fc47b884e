"""`plaintext-crm init DIR`: create a new, working workspace."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import click

from plaintext_crm.editing.atomic import EditError, inspect_target, read_bytes, write_atomic
from plaintext_crm.editing.ci_files import ci_file, write_ci_file
from plaintext_crm.editing.editor_settings import write_vscode_settings
from plaintext_crm.editing.record_templates import TEMPLATE_NAMES
from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal, terminal_lines
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.model import KINDS

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

# Publishing the site (docs/publishing.md). Audiences choose who sees what: `build --audience NAME`.
# audiences:
#   leadership: {{hide: [contacts]}}
#   client-acme: {{clients: [acme], sections: [projects], hide: [value, body, contacts]}}
# What the CI files (.github/workflows/plaintext-crm.yml, .gitlab-ci.yml) build and deploy. Encrypted
# by default: set the CI secret PLAINTEXT_CRM_SITE_PASSWORD to a long passphrase before the first deploy.
publish:
  # audience: leadership      # default: the whole workspace
  encrypt: true
  allow_indexing: false       # robots.txt and a noindex meta ask search engines to stay away
"""

# What `init` makes git ignore in the workspace: (the line it writes, the lines that already say the same).
# A line the user negated (`!/site/`: they commit the site) is respected, not added.
IGNORED = (
    ("/site/", ("site/", "/site/", "site", "/site", "site/*", "/site/*")),  # the built site
    ("/.plaintext-crm/", (".plaintext-crm/", "/.plaintext-crm/", ".plaintext-crm", "/.plaintext-crm")),  # caches
    # `build`'s temporary folders beside the output folder (plaintext_crm/site/output.py): a build
    # killed half-way leaves them, and `git add -A` must not commit a copy of the site.
    ("/.site-building-*/", (".site-building-*/", "/.site-building-*/", ".site-building-*", "/.site-building-*")),
    ("/.site-old-*/", (".site-old-*/", "/.site-old-*/", ".site-old-*", "/.site-old-*")),
    # The lock file one build at a time takes beside the output folder.
    ("/.plaintext-crm-lock-*", (".plaintext-crm-lock-*", "/.plaintext-crm-lock-*")),
)
IGNORE_HEADER = "# plaintext-crm: the built site, caches and build's temporary folders"

# The local pre-commit hook (the same as plaintext-crm-lint-system in this repository's
# .pre-commit-hooks.yaml): the interpreter recorded for the clone, else plaintext-crm on PATH, else a
# message; so a commit works from a shell without the virtual environment.
PYTHON_KEY = "plaintext-crm.python"
HOOK_ENTRY = f"""\
sh -c '
python=$(git config --get {PYTHON_KEY})
if [ -n "$python" ] && [ -x "$python" ]; then exec "$python" -m plaintext_crm lint --staged "$@"; fi
if command -v plaintext-crm >/dev/null 2>&1; then exec plaintext-crm lint --staged "$@"; fi
echo "plaintext-crm lint: plaintext-crm is not on PATH and no interpreter is recorded for this clone." >&2
echo "Run \\`plaintext-crm install-hook\\` once with the plaintext-crm you use (it records its interpreter)," >&2
echo "or install plaintext-crm where every shell finds it (pipx install ...)." >&2
exit 1
' plaintext-crm-lint"""
HOOK_FILES = r"(^|/)(crm\.yaml|(clients|deals|projects)/[^/]+\.md)$"

PRE_COMMIT_CONFIG = """\
# Lint what each commit records before it is made (the hook only reads files). Once per clone:
#   pip install pre-commit && pre-commit install
# This local hook runs the interpreter recorded for the clone (`git config {key}`, which
# `plaintext-crm init` and `plaintext-crm install-hook` set), else the plaintext-crm on PATH: no virtual
# environment needs to be active when you commit. To let pre-commit install plaintext-crm itself
# instead, use the plaintext-crm repository as the hook source:
#   - repo: https://github.com/<owner>/plaintext-crm
#     rev: v0.1.0
#     hooks: [{{id: plaintext-crm-lint}}]
# Without the pre-commit framework: `plaintext-crm install-hook` writes a plain git hook.
repos:
  - repo: local
    hooks:
      - id: plaintext-crm-lint
        name: plaintext-crm lint
        entry: |-
{entry}
        language: system
        files: '{files}'
        always_run: true
        require_serial: true
""".format(key=PYTHON_KEY, entry="\n".join("          " + line for line in HOOK_ENTRY.splitlines()),
           files=HOOK_FILES)


def merge_gitignore(data: bytes) -> tuple[bytes, list[str]]:
    """`data` (a .gitignore, kept byte for byte) with the missing IGNORED lines appended in its own line
    endings; and the lines added."""
    present = {line.rstrip() for line in data.decode("utf-8", "replace").splitlines()}
    missing = [line for line, same in IGNORED
               if not any(form in present or f"!{form}" in present for form in same)]
    if not missing:
        return data, []
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    block = newline.join(line.encode() for line in (IGNORE_HEADER, *missing)) + newline
    if data and not data.endswith((b"\n", b"\r")):
        data += newline  # end the user's last line
    if data.strip():
        data += newline  # a blank line before ours
    return data + block, missing


def update_gitignore(directory: Path) -> str | None:
    """Create or complete the workspace's .gitignore (atomically, never through a link); what was done.
    A .gitignore that cannot be written safely (a link, a folder) is left alone with a warning."""
    try:
        return _update_gitignore(directory)
    except EditError as exc:
        lines = " ".join(line for line, _same in IGNORED)
        click.echo(f"warning: left .gitignore as it is ({terminal(exc.message)}); make git ignore {lines} yourself", err=True)
        return None


def _update_gitignore(directory: Path) -> str | None:
    if inspect_target(directory, ".gitignore") is None:
        text, _added = merge_gitignore(b"")
        write_atomic(directory, ".gitignore", text, None)
        return ".gitignore"
    data, stamp = read_bytes(directory, ".gitignore")
    merged, added = merge_gitignore(data)
    if not added:
        return None
    write_atomic(directory, ".gitignore", merged, stamp)
    return f".gitignore (added {', '.join(added)})"


def vscode_settings(directory: Path) -> list[str]:
    """crm.yaml's schema for VS Code's YAML extension (docs/editor.md); a problem is a warning, not a failure."""
    try:
        written, warning = write_vscode_settings(directory)
    except EditError as exc:
        written, warning = [], f"left .vscode as it is ({exc.message})"
    if warning:
        click.echo(f"warning: {terminal(warning)}", err=True)
    return written


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
    # init creates these (and files in the folders): a link would take the writes out of the workspace
    targets = (CONFIG_FILE, *KINDS, "templates", ".pre-commit-config.yaml", ".github", ".gitlab-ci.yml",
               *(f"templates/{name}" for name in TEMPLATE_NAMES))
    for item in targets:
        if (directory / item).is_symlink():
            raise ToolError(f"{directory / item} is a symbolic link: init writes only into real files and folders "
                            "of the new workspace; remove the link and run it again (nothing was changed)")
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
    for template in sorted(resources.files("plaintext_crm.editing").joinpath("templates").iterdir(),
                           key=lambda item: item.name):
        if template.name.endswith(".md") and not (templates / template.name).exists():
            write_new(templates / template.name, template.read_text(encoding="utf-8"))
            created.append(f"templates/{template.name}")
    ignored = update_gitignore(directory)
    if ignored:
        created.append(ignored)
    created.extend(vscode_settings(directory))
    kept_config = (directory / ".pre-commit-config.yaml").exists()
    if not kept_config:
        write_new(directory / ".pre-commit-config.yaml", PRE_COMMIT_CONFIG)
        created.append(".pre-commit-config.yaml")
    for kind in ("github", "gitlab"):  # deployment: lint, build and publish the site (docs/publishing.md)
        workflow = ci_file(kind, ".")
        if not (directory / workflow.rel).exists():
            write_ci_file(directory, workflow)
            created.append(workflow.rel)
    repository = False
    if not no_git and shutil.which("git") and not (directory / ".git").exists():
        result = subprocess.run(["git", "init", "-q", str(directory)], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            created.append(".git/")
            repository = record_python(directory)
        else:
            click.echo(f"warning: git init failed: {terminal_lines(result.stderr.strip())}", err=True)
    click.echo(f"Created workspace '{terminal(title)}' in {terminal(str(directory))}:")
    for item in created:
        click.echo(f"  {terminal(item)}")
    if kept_config and "plaintext-crm" not in (directory / ".pre-commit-config.yaml").read_text("utf-8", "replace"):
        click.echo("Kept the existing .pre-commit-config.yaml: add the plaintext-crm-lint hook to it "
                   "(docs/linting.md).")
    click.echo("Next: add clients/ and deals/ records (`plaintext-crm new deal ID`), then `plaintext-crm lint`.")
    click.echo(hook_advice(directory, repository))


def record_python(directory: Path) -> bool:
    """Record this interpreter for the clone's pre-commit hook (`git config plaintext-crm.python`)."""
    result = subprocess.run(["git", "-C", str(directory), "config", PYTHON_KEY, sys.executable],
                            capture_output=True, text=True, check=False)
    return result.returncode == 0


def hook_advice(directory: Path, recorded: bool) -> str:
    """How to make every commit run the check, both ways."""
    where = shlex.quote(str(directory))
    framework = ("its hook runs this plaintext-crm from any shell" if recorded else
                 "its hook runs plaintext-crm from PATH, or the interpreter `plaintext-crm install-hook` records")
    return (f"Check every commit (once per clone, pick one; run `git init` first if {directory} is not in a "
            "git repository):\n"
            f"  cd {where} && plaintext-crm install-hook\n"
            f"      a plain git hook; it runs {sys.executable} from any shell\n"
            f"  cd {where} && pip install pre-commit && pre-commit install\n"
            f"      the pre-commit framework with .pre-commit-config.yaml; {framework}")
