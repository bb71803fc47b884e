"""A project whose plan spans centuries (durations are bounded, chains of them are not) still draws its
Gantt chart in a bounded number of lines: month lines only where labels are, no walk over every day."""

from __future__ import annotations

import datetime as dt

from plaintext_crm.site.gantt import Bar, timeline


def test_a_span_of_centuries_draws_a_bounded_chart() -> None:
    bars = [Bar("a", "Long task", dt.date(2026, 1, 5), dt.date(2990, 12, 31))]
    chart = str(timeline("Plan", "A very long plan", bars, [], dt.date(2026, 11, 26)))
    assert chart.count('class="gantt-month"') <= 120  # not one per month (11,580 of them)
    labels = chart.count("gantt-month-label")
    assert 5 <= labels <= 120
    assert "gantt-week" not in chart


def test_a_span_of_months_keeps_every_month_line() -> None:
    bars = [Bar("a", "Task", dt.date(2026, 1, 5), dt.date(2026, 12, 18))]
    chart = str(timeline("Plan", "A plan", bars, [], dt.date(2026, 11, 26)))
    assert 11 <= chart.count('class="gantt-month"') <= 12  # each month start in the span (padding aside)
