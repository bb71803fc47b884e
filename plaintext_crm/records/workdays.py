"""A working-day calendar: dates <-> working-day numbers, from crm.yaml's working_days and holidays."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable

from plaintext_crm.records.config import Config
from plaintext_crm.records.model import EARLIEST_DAY, LATEST_DAY

# A Monday; working-day numbers count from here, so schedule arithmetic is plain integers. Holidays
# before it are ignored (numbers before it are negative and count weekdays only).
_BASE = dt.date(1900, 1, 1).toordinal()
_FIRST, _LAST = EARLIEST_DAY.toordinal(), LATEST_DAY.toordinal()


class WorkCalendar:
    """Maps dates to consecutive working-day numbers and back.

    Working day number n is the n-th working day counted from a fixed Monday. `number(day)` of a working
    day is its own number; of a weekend or holiday it is the number of the next working day. Holidays on
    days that are not working days anyway change nothing.
    """

    def __init__(self, working_days: Iterable[int] = range(5), holidays: Iterable[dt.date] = ()) -> None:
        self.working_days = frozenset(working_days) or frozenset(range(5))
        self._weekdays = sorted(self.working_days)  # offsets from Monday within a week
        self._per_week = len(self._weekdays)
        # _before[r]: working weekdays among the first r days of a week that starts on Monday.
        self._before = [sum(1 for day in self._weekdays if day < r) for r in range(8)]
        self._holidays = sorted(day.toordinal() for day in set(holidays)
                                if day.weekday() in self.working_days and day.toordinal() >= _BASE)
        self._holiday_set = frozenset(self._holidays)
        self._numbers: dict[dt.date, int] = {}
        self._dates: dict[int, dt.date] = {}

    @classmethod
    def from_config(cls, config: Config) -> WorkCalendar:
        """The calendar of a workspace's crm.yaml."""
        return cls(config.working_days, config.holidays)

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working weekday that is not a holiday."""
        return day.weekday() in self.working_days and day.toordinal() not in self._holiday_set

    def number(self, day: dt.date) -> int:
        """The working-day number of `day`, or of the next working day when `day` is not one."""
        cached = self._numbers.get(day)
        if cached is None:
            ordinal = day.toordinal()
            weeks, rest = divmod(ordinal - _BASE, 7)
            naive = weeks * self._per_week + self._before[rest]
            cached = naive - bisect.bisect_left(self._holidays, ordinal)
            self._numbers[day] = cached
        return cached

    def number_on_or_before(self, day: dt.date) -> int:
        """The working-day number of `day`, or of the previous working day when `day` is not one."""
        number = self.number(day)
        return number if self.is_working_day(day) else number - 1

    def _naive_date(self, naive: int) -> int:
        """The ordinal of the naive-th working weekday, holidays ignored."""
        weeks, rest = divmod(naive, self._per_week)
        return _BASE + weeks * 7 + self._weekdays[rest]

    def date(self, number: int) -> dt.date:
        """The working day with this number."""
        cached = self._dates.get(number)
        if cached is not None:
            return cached
        # Holidays remove days from the naive sequence of working weekdays: find the least k such that the
        # (number + k)-th naive day has exactly k holidays at or before it (relative to the base).
        skipped = 0
        while True:
            ordinal = self._naive_date(number + skipped)
            holidays = bisect.bisect_right(self._holidays, ordinal)
            if holidays == skipped:
                break
            skipped = holidays
        # A chain of absurd durations or lags stops at the years plans cover instead of failing.
        day = dt.date.fromordinal(min(max(ordinal, _FIRST), _LAST))
        self._dates[number] = day
        return day

    def add(self, day: dt.date, working_days: int) -> dt.date:
        """The working day `working_days` after (or before, when negative) the working day at or after `day`."""
        return self.date(self.number(day) + working_days)

    def between(self, first: dt.date, last: dt.date) -> int:
        """Working days from `first` to `last`, both included (0 when `last` is before `first`)."""
        return max(0, self.number_on_or_before(last) - self.number(first) + 1)
