"""When digests go out: today in the team's time zone, the UTC cron lines of a local hour, and the check a
scheduled CI run makes before sending (GitHub's cron runs in UTC, whose offset to the team moves with DST)."""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from plaintext_crm.clock import TODAY_ENV, resolve_today
from plaintext_crm.errors import ToolError

_CRON_TIME = re.compile(r"^\s*(\d{1,2})\s+(\d{1,2})\s")


def team_today(option: str | None, time_zone: str, now: dt.datetime | None = None) -> dt.date:
    """--today, else PLAINTEXT_CRM_TODAY, else today's date where the team is (crm.yaml's notify.time_zone)."""
    if option or os.environ.get(TODAY_ENV):
        return resolve_today(option)
    return (now or dt.datetime.now(dt.UTC)).astimezone(zoneinfo.ZoneInfo(time_zone)).date()


@dataclass(frozen=True, slots=True)
class CronLine:
    """One UTC cron line and the team's UTC offset it is for."""

    minute: int
    hour: int
    weekdays: tuple[int, ...]  # cron's numbering: 0 = Sunday
    offset: dt.timedelta

    @property
    def text(self) -> str:
        return f"{self.minute} {self.hour} * * {','.join(map(str, self.weekdays))}"


def cron_lines(hour: int, time_zone: str, working_days: Iterable[int], year: int) -> tuple[CronLine, ...]:
    """The UTC cron lines that fire at `hour`:00 local time in `time_zone` on the working days (0 = Monday),
    one per UTC offset the zone has in `year` and the next (a zone with summer time gets two lines: on
    each day exactly one of them is at the local hour, which `scheduled_run_due` checks)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    days = sorted(set(working_days))
    found: dict[dt.timedelta, CronLine] = {}
    day = dt.date(year, 1, 1)
    while day.year <= year + 1:
        local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        offset = local.utcoffset() or dt.timedelta(0)
        if offset not in found:
            utc = local.astimezone(dt.UTC)
            shift = (utc.date() - day).days  # the UTC day is the local day -1, 0 or +1
            weekdays = tuple(sorted({(weekday + 1 + shift) % 7 for weekday in days}))
            found[offset] = CronLine(utc.minute, utc.hour, weekdays, offset)
        day += dt.timedelta(days=7)
    return tuple(sorted(found.values(), key=lambda line: (line.hour, line.minute)))


def scheduled_run_due(cron: str, hour: int, time_zone: str, working_days: Iterable[int],
                      holidays: Iterable[dt.date], now: dt.datetime) -> tuple[bool, str]:
    """Whether the run a UTC `cron` line started (GitHub gives it as github.event.schedule) is the team's
    `hour` on a working day; and why not. A run starts late under load: the line, not the clock, counts."""
    match = _CRON_TIME.match(cron)
    if match is None:
        raise ToolError(f"--scheduled: '{cron}' is not a cron line like '0 7 * * 1-5'")
    minute, utc_hour = int(match.group(1)), int(match.group(2))
    now = now.astimezone(dt.UTC)
    planned = now.replace(hour=utc_hour % 24, minute=minute % 60, second=0, microsecond=0)
    if planned > now:  # started after midnight UTC for the day before
        planned -= dt.timedelta(days=1)
    local = planned.astimezone(zoneinfo.ZoneInfo(time_zone))
    if local.hour != hour or local.minute != 0:
        return False, (f"this run is for {local:%H:%M} in {time_zone}, not {hour:02d}:00 "
                       "(the other of the two UTC times that cover summer time)")
    if local.weekday() not in set(working_days):
        return False, f"{local:%A} is not a working day (crm.yaml working_days)"
    if local.date() in set(holidays):
        return False, f"{local.date().isoformat()} is a holiday (crm.yaml holidays)"
    return True, ""
