"""`plaintext-crm notify`: send each owner's digest by email or to a chat webhook (docs/notify.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from plaintext_crm.options import workspace_argument


@click.command("notify")
@workspace_argument
@click.option("--via", type=click.Choice(["email", "webhook"]), required=True,
              help="email: one message per owner through crm.yaml's notify.email; webhook: one chat message per "
                   "owner to $PLAINTEXT_CRM_WEBHOOK_URL in notify.webhook.kind's format.")
@click.option("--owner", "owner_ids", multiple=True, metavar="ID", help="Only this owner's digest (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print exactly what would be sent, and to whom; send nothing.")
@click.option("--today", metavar="YYYY-MM-DD",
              help="Treat this date as today (default: $PLAINTEXT_CRM_TODAY, else today in notify.time_zone).")
@click.option("--scheduled", metavar="CRON", default=None,
              help="The UTC cron line that started this run (GitHub's github.event.schedule): send only when it "
                   "is notify.hour on a working day in notify.time_zone. Empty: send.")
@click.option("--working-days-only", is_flag=True,
              help="Send nothing on a day that is not a working day, or is a holiday, in crm.yaml.")
def notify(workspace: Path | None, via: str, owner_ids: tuple[str, ...], dry_run: bool, today: str | None,
           scheduled: str | None, working_days_only: bool) -> None:
    """Send each owner's digest (see `plaintext-crm digest`); owners with nothing due get nothing.

    Inactive members and members without an email are skipped with a notice. Failed deliveries are
    retried, then reported per recipient (exit 1). What went out today is kept in a sent-log in the
    cache folder: running the command again the same day sends only what is missing.
    """
    import datetime as dt

    from plaintext_crm.analysis import load_analysis
    from plaintext_crm.escape import terminal
    from plaintext_crm.notify.digest import chosen_digests
    from plaintext_crm.notify.run import check_settings, deliver_all, plan
    from plaintext_crm.notify.schedule import scheduled_run_due, team_today
    from plaintext_crm.notify.sent_log import SentLog
    from plaintext_crm.records.config import load_config
    from plaintext_crm.records.loader import workspace_root

    root = workspace_root(workspace)
    config = load_config(root)[0]
    settings = config.notify
    now = dt.datetime.now(dt.UTC)
    if scheduled and scheduled.strip():
        due, why = scheduled_run_due(scheduled, settings.hour, settings.time_zone, config.working_days,
                                     config.holidays, now)
        if not due:
            click.echo(f"Nothing sent: {terminal(why)}.")
            return
    env = dict(os.environ)
    check_settings(settings, via, env, dry_run)
    day = team_today(today, settings.time_zone, now)
    if working_days_only and (day.weekday() not in config.working_days or day in config.holidays):
        click.echo(f"Nothing sent: {day:%A %Y-%m-%d} is not a working day (crm.yaml working_days, holidays).")
        return
    found = chosen_digests(load_analysis(root, day), owner_ids)
    deliveries, notices = plan(found, settings, via, now)
    for notice in notices:
        click.echo(notice, err=True)
    if not deliveries:
        click.echo("No digest to send: nothing is due." if not notices else "No digest to send.")
        return
    report = deliver_all(deliveries, settings, env, SentLog(root), dry_run=dry_run, now=now,
                         echo=lambda text: click.echo(text))
    for line in report.lines:
        click.echo(line)
    if report.failed:
        raise SystemExit(1)
