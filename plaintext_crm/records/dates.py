"""Dates people type: `2026-12-01`, `today`, `tomorrow`, `+3d`, `+2w`, `monday`; and promised timelines."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from plaintext_crm.records.workdays import WorkCalendar

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = re.compile(r"^\+?\s*(\d{1,4})\s*(d|day|days|w|wk|week|weeks|m|month|months|wd|workday|workdays"
                     r"|working days?)$")
_TIMELINE = re.compile(r"^(?:about\s+|~\s*|within\s+|in\s+)?(\d{1,4}|one|two|three|four|five|six|seven|eight|"
                       r"nine|ten|eleven|twelve)\s*(working days?|business days?|days?|weeks?|months?|d|w|m)\b"
                       r"(?:\s+(?:from|after)\s+(?:the\s+)?kick-?off)?\.?$")
_NUMBER_WORDS = {word: index + 1 for index, word in enumerate(
    ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"))}

DATE_HELP = "YYYY-MM-DD, today, tomorrow, +3d, +2w, +1m, +5wd (working days) or a weekday (monday)"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_date(text: str, today: dt.date, work: WorkCalendar | None = None) -> dt.date:
    """A date from what a person types; raises ValueError with a message saying what is accepted.

    A weekday name means its next occurrence after today (`monday` on a Monday is a week later).
    """
    raw = text.strip().lower()
    if not raw:
        raise ValueError(f"no date given; use {DATE_HELP}")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    words = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if raw in words:
        return today + dt.timedelta(days=words[raw])
    name = raw.removeprefix("next ").strip()
    for index, weekday in enumerate(WEEKDAY_NAMES):
        if len(name) >= 3 and weekday.startswith(name):
            ahead = (index - today.weekday()) % 7 or 7
            return today + dt.timedelta(days=ahead)
    offset = _OFFSET.match(raw)
    if offset:
        count, unit = int(offset.group(1)), offset.group(2)
        if unit in ("d", "day", "days"):
            return today + dt.timedelta(days=count)
        if unit in ("w", "wk", "week", "weeks"):
            return today + dt.timedelta(weeks=count)
        if unit in ("m", "month", "months"):
            return add_months(today, count)
        return (work or WorkCalendar()).add(today, count)
    raise ValueError(f"'{text}' is not a date; use {DATE_HELP}")


def promised_finish(timeline: str | None, kickoff: dt.date | None, work: WorkCalendar) -> dt.date | None:
    """The last working day of a promised timeline, or None when it cannot be read.

    Reads `2027-01-29` (a date), `12 weeks`, `12 weeks from kickoff`, `6 months`, `30 days` and
    `40 working days`. A duration of N weeks starting on the kickoff day ends the day before kickoff + N
    weeks, moved back to a working day: 12 weeks from Monday 2027-01-11 end on Friday 2027-04-02.
    """
    if not timeline:
        return None
    raw = timeline.strip().lower()
    try:
        return dt.date.fromisoformat(raw.removeprefix("by ").removeprefix("until ").strip())
    except ValueError:
        pass
    match = _TIMELINE.match(raw)
    if match is None or kickoff is None:
        return None
    count_text, unit = match.group(1), match.group(2)
    count = _NUMBER_WORDS.get(count_text) or int(count_text)
    if count == 0:
        return None
    if unit.startswith(("working", "business")):
        return work.add(kickoff, count - 1)
    if unit.startswith("w"):
        end = kickoff + dt.timedelta(weeks=count)
    elif unit.startswith("m"):
        end = add_months(kickoff, count)
    else:
        end = kickoff + dt.timedelta(days=count)
    last = end - dt.timedelta(days=1)
    while not work.is_working_day(last) and last > kickoff:
        last -= dt.timedelta(days=1)
    return last
