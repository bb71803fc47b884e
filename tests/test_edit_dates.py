"""dates.py: the dates people type for --due and the promised timelines the hand-off reads."""

from __future__ import annotations

import datetime as dt

import pytest

from plaintext_crm.records.dates import add_months, parse_date, promised_finish
from plaintext_crm.records.workdays import WorkCalendar

THURSDAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize("text, expected", [
    ("2026-12-01", dt.date(2026, 12, 1)),
    ("today", THURSDAY),
    ("Tomorrow", dt.date(2026, 11, 27)),
    ("+3d", dt.date(2026, 11, 29)),
    ("3 days", dt.date(2026, 11, 29)),
    ("+2w", dt.date(2026, 12, 10)),
    ("+1m", dt.date(2026, 12, 26)),
    ("+2wd", dt.date(2026, 11, 30)),  # Friday, then Monday
    ("monday", dt.date(2026, 11, 30)),
    ("thu", dt.date(2026, 12, 3)),  # the next Thursday, not today
    ("next friday", dt.date(2026, 11, 27)),
])
def test_parse_date(text: str, expected: dt.date) -> None:
    assert parse_date(text, THURSDAY) == expected


@pytest.mark.parametrize("text", ["", "soon", "2026-02-30", "+d", "mo"])
def test_parse_date_says_what_it_accepts(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD, today, tomorrow"):
        parse_date(text, THURSDAY)


def test_working_days_skip_holidays() -> None:
    work = WorkCalendar(range(5), [dt.date(2026, 12, 24), dt.date(2026, 12, 25)])
    assert parse_date("+1wd", dt.date(2026, 12, 23), work) == dt.date(2026, 12, 28)


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


@pytest.mark.parametrize("timeline, kickoff, expected", [
    # The example workspace's projects were planned this way: N weeks from a Monday end on a Friday.
    ("12 weeks from kickoff", dt.date(2027, 1, 11), dt.date(2027, 4, 2)),
    ("20 weeks from kickoff", dt.date(2026, 11, 9), dt.date(2027, 3, 26)),
    ("14 weeks from kickoff", dt.date(2026, 9, 14), dt.date(2026, 12, 18)),
    ("12 weeks", dt.date(2026, 4, 6), dt.date(2026, 6, 26)),
    ("2027-01-29", None, dt.date(2027, 1, 29)),
    ("six weeks", dt.date(2026, 11, 16), dt.date(2026, 12, 23)),  # back over Christmas
    ("6 months", dt.date(2026, 7, 1), dt.date(2026, 12, 30)),  # 12-31 is a holiday here
    ("10 working days", dt.date(2026, 12, 21), dt.date(2027, 1, 7)),
    ("Q3-ish", dt.date(2026, 1, 5), None),
    ("12 weeks", None, None),
    ("", dt.date(2026, 1, 5), None),
])
def test_promised_finish(timeline: str, kickoff: dt.date | None, expected: dt.date | None) -> None:
    work = WorkCalendar(range(5), [dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2026, 12, 31),
                                   dt.date(2027, 1, 1)])
    assert promised_finish(timeline, kickoff, work) == expected
