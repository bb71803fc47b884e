"""`plaintext-crm ci github|gitlab`: add the CI file that lints, builds and deploys the site (docs/publishing.md)."""

from __future__ import annotations

from pathlib import Path

import click

from plaintext_crm.editing.ci_notify import NotifyJob
from plaintext_crm.escape import terminal
from plaintext_crm.options import workspace_argument
from plaintext_crm.records.loader import workspace_root


@click.command()
@click.argument("kind", type=click.Choice(["github", "gitlab"]))
@workspace_argument
@click.option("--install", metavar="SPEC",
              help="What the CI job installs with pip (default: this version, pinned: plaintext-crm==VERSION); "
                   "for example git+https://github.com/OWNER/plaintext-crm@v0.1.0.")
@click.option("--force", is_flag=True, help="Replace an existing CI file (it may hold other jobs: merge by hand).")
@click.option("--print", "print_only", is_flag=True, help="Print the file instead of writing it.")
def ci(kind: str, workspace: Path | None, install: str | None, force: bool, print_only: bool) -> None:
    """Write the CI file of KIND for WORKSPACE's repository: `.github/workflows/plaintext-crm.yml` (github)
    or `.gitlab-ci.yml` (gitlab), at the top of the git repository (or of the workspace outside one).

    It lints every push and pull/merge request and, on the default branch, builds the site as crm.yaml's
    `publish:` says (audience, encryption with the passphrase from a CI secret) and deploys it to
    GitHub Pages or GitLab Pages. With crm.yaml's `notify:` (email and/or webhook), a scheduled job sends
    the daily digests at notify.hour in notify.time_zone on working days (docs/notify.md).
    An existing file is kept unless --force.
    """
    from plaintext_crm.editing.ci_files import DEFAULT_INSTALL, ci_file, write_ci_file
    from plaintext_crm.gitrepo import locate_repository

    root = workspace_root(workspace)
    notify = _notify_job(root)
    repository = locate_repository(root)
    top = repository.top if repository is not None else root
    folder = repository.prefix.rstrip("/") if repository is not None and repository.prefix else "."
    item = ci_file(kind, folder, install or DEFAULT_INSTALL, notify)
    if print_only:
        click.echo(item.text, nl=False)
        return
    done = write_ci_file(top, item, replace=force)
    click.echo(f"{terminal(done)} in {terminal(str(top))}")
    secret = "repository secret" if kind == "github" else "masked CI/CD variable"
    click.echo(f"Next: commit it; with `publish: {{encrypt: true}}` in crm.yaml, add the {secret} "
               "PLAINTEXT_CRM_SITE_PASSWORD (docs/publishing.md).")
    if notify is not None:
        names = ", ".join(notify.secrets())
        click.echo(f"Digests ({', '.join(notify.channels)}): add the {secret}s {names} (docs/notify.md).")
        if kind == "gitlab":
            click.echo(f"Then create a pipeline schedule: interval pattern \"{notify.local_cron}\", cron time zone "
                       f"{terminal(notify.time_zone)}, target branch: the default branch.")


def _notify_job(root: Path) -> NotifyJob | None:
    """The scheduled digest job crm.yaml's `notify:` asks for (email and/or webhook), or None."""
    import datetime as dt

    from plaintext_crm.notify.schedule import cron_lines
    from plaintext_crm.records.config import load_config

    config = load_config(root)[0]
    settings = config.notify
    if not settings.channels:
        return None
    year = dt.date.today().year
    lines = cron_lines(settings.hour, settings.time_zone, config.working_days, year)
    return NotifyJob(settings.channels, settings.hour, settings.time_zone, tuple(sorted(config.working_days)),
                     tuple(line.text for line in lines),
                     settings.webhook.kind if settings.webhook is not None else "generic")
