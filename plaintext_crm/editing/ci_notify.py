"""The scheduled digest job of the CI files (`plaintext-crm ci github|gitlab` with crm.yaml's `notify:`).

GitHub's cron runs in UTC: the workflow gets one cron line per UTC offset of the team's time zone
(winter and summer time), and `notify --scheduled "$SCHEDULE"` sends only from the run whose line is the
team's hour that day. GitLab's pipeline schedules have a time zone of their own: the job runs on a
schedule the team creates (docs/notify.md), and `--working-days-only` skips crm.yaml's holidays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from plaintext_crm.records.config import WEEKDAYS

SECRETS = {"email": ("PLAINTEXT_CRM_SMTP_PASSWORD",), "webhook": ("PLAINTEXT_CRM_WEBHOOK_URL",),
           "matrix": ("PLAINTEXT_CRM_WEBHOOK_URL", "PLAINTEXT_CRM_WEBHOOK_TOKEN")}


@dataclass(frozen=True, slots=True)
class NotifyJob:
    """What the scheduled job does: the channels to send by, and when (the UTC cron lines for GitHub)."""

    channels: tuple[str, ...]  # "email", "webhook"
    hour: int
    time_zone: str
    working_days: tuple[int, ...]  # 0 = Monday
    utc_crons: tuple[str, ...]
    webhook_kind: str = "generic"

    def secrets(self) -> tuple[str, ...]:
        """The CI secrets the job passes on (a Matrix webhook also needs an access token)."""
        return tuple(name for channel in self.channels
                     for name in SECRETS["matrix" if channel == "webhook" and self.webhook_kind == "matrix" else channel])

    @property
    def local_cron(self) -> str:
        """The cron line of a GitLab pipeline schedule, in the team's time zone."""
        return f"0 {self.hour} * * {','.join(str((day + 1) % 7) for day in sorted(self.working_days))}"

    @property
    def day_names(self) -> str:
        return ", ".join(WEEKDAYS[day] for day in sorted(self.working_days))


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def github_schedule(job: NotifyJob) -> str:
    """The `schedule:` trigger lines (under `on:`)."""
    lines = [(f"  schedule:  # digests at {job.hour:02d}:00 {job.time_zone} on {job.day_names}: "
             "one UTC line per offset of the zone")]
    lines += [f"    - cron: {_quoted(cron)}" for cron in job.utc_crons]
    return "\n".join(lines) + "\n"


def _github_secret_env(job: NotifyJob, channel: str) -> str:
    names = SECRETS["matrix" if channel == "webhook" and job.webhook_kind == "matrix" else channel]
    return "".join(f"          {name}: ${{{{ secrets.{name} }}}}\n" for name in names)


def github_job(job: NotifyJob, python: str) -> str:
    """The `notify` job: restore the sent-log, send by each channel, save the sent-log (even after a failure)."""
    steps = ""
    for index, channel in enumerate(job.channels):
        steps += f"""\
      - name: Send the digests ({channel})
        if: ${{{{ !cancelled() }}}}{"  # the other channel still sends when one failed" if index else ""}
        env:
{_github_secret_env(job, channel)}\
          PLAINTEXT_CRM_CACHE_DIR: ${{{{ runner.temp }}}}/plaintext-crm-cache
          SCHEDULE: ${{{{ github.event.schedule }}}}
        run: plaintext-crm notify "$WORKSPACE" --via {channel} --scheduled "$SCHEDULE"
"""
    return f"""
  notify:
    # The daily digests. Two cron lines cover summer time: only the run at the team's hour sends.
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # stage dates (rotting deals) come from git history
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install plaintext-crm
        run: python -m pip install "$PLAINTEXT_CRM"
      - name: Restore the sent-log (a re-run the same day sends nothing twice)
        uses: actions/cache/restore@v4
        with:
          path: ${{{{ runner.temp }}}}/plaintext-crm-cache/*/notify-sent.log  # the sent-log only, never a parse cache
          key: plaintext-crm-sent-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
          restore-keys: plaintext-crm-sent-
{steps}\
      - name: Save the sent-log
        if: ${{{{ always() }}}}
        uses: actions/cache/save@v4
        with:
          path: ${{{{ runner.temp }}}}/plaintext-crm-cache/*/notify-sent.log
          key: plaintext-crm-sent-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
"""


def gitlab_job(job: NotifyJob) -> str:
    """The `notify` job of scheduled pipelines; the sent-log rides in the job's cache between runs."""
    sends = "".join(f'    - plaintext-crm notify "$WORKSPACE" --via {channel} --working-days-only || status=1\n'
                    for channel in job.channels)
    return f"""
# The daily digests: create a pipeline schedule (Build > Pipeline schedules > New schedule) with the
# interval pattern "{job.local_cron}" and the cron time zone {job.time_zone}, on the default branch
# (docs/notify.md). Secrets are masked, protected CI/CD variables: {", ".join(job.secrets())}.
notify:
  stage: deploy
  needs: []
  variables:
    PLAINTEXT_CRM_CACHE_DIR: /tmp/plaintext-crm-cache  # outside the checkout (caches never live in it)
  cache:  # the sent-log only (never a parse cache), so a retried job sends nothing twice the same day
    key: plaintext-crm-sent-log
    paths:
      - .plaintext-crm-sent/
    when: always
  script:
    - mkdir -p "$PLAINTEXT_CRM_CACHE_DIR" .plaintext-crm-sent
    - (cd .plaintext-crm-sent && find . -name notify-sent.log -exec cp --parents {{}} "$PLAINTEXT_CRM_CACHE_DIR" ";")
    - status=0
{sends}\
    - (cd "$PLAINTEXT_CRM_CACHE_DIR" && find . -name notify-sent.log -exec cp --parents {{}} "$CI_PROJECT_DIR/.plaintext-crm-sent" ";")
    - exit $status
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
"""
