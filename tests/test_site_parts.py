"""Small parts of the site: filters, SVG charts, the Jinja environment and template overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from plaintext_crm.site import filters, svg
from plaintext_crm.site.templates import make_environment, static_files


@pytest.mark.parametrize(("value", "currency", "expected"), [
    (12500, "EUR", "€12,500"), (Decimal("0.5"), "EUR", "€1"), (Decimal("2.5"), "USD", "$3"),
    (-1234.4, "GBP", "-£1,234"), (1000, "PLN", "1,000 PLN"), (None, "EUR", "—"),
])
def test_money_rounds_half_up(value, currency: str, expected: str) -> None:
    assert filters.money(value, currency) == expected


def test_money_with_cents_and_compact() -> None:
    assert filters.money(Decimal("12.345"), "EUR", cents=True) == "€12.35"
    assert filters.compact_money(1_234_567, "EUR") == "€1.2M"
    assert filters.compact_money(48_500, "USD") == "$48.5k"
    assert filters.compact_money(120_000, "EUR") == "€120k"
    assert filters.compact_money(950, "EUR") == "€950"


def test_small_formatters() -> None:
    assert filters.percent(0.4) == "40%" and filters.percent(0.5882) == "59%" and filters.percent(None) == "—"
    assert filters.percent(0.12345, 1) == "12.3%"
    assert filters.date(dt.date(2026, 11, 6), "long") == "6 Nov 2026"
    assert filters.date(dt.date(2026, 11, 6), "short") == "6 Nov"
    assert filters.date(None) == "—"
    assert filters.month("2026-12") == "Dec 2026"
    assert filters.days(1) == "1 day" and filters.days(12) == "12 days"
    assert filters.plural(1, "deal") == "1 deal" and filters.plural(2, "deal") == "2 deals"
    assert filters.label("next_action_due") == "Next action due"
    assert filters.yaml_value(["a", dt.date(2026, 1, 2)]) == "a, 2026-01-02"
    assert filters.yaml_value({"k": 1}) == '{"k": 1}' and filters.yaml_value(True) == "yes"
    assert filters.url_part("big deal#1") == "big%20deal%231"


def test_nice_ceiling() -> None:
    assert [svg.nice_ceiling(value) for value in (0, 3, 10, 11, 240_000, 0.7)] == [1, 5, 10, 20, 250_000, 1]


def test_charts_have_titles_escaped_labels_and_bars() -> None:
    chart = svg.column_chart("Forecast <by> month", "desc", ["Jan", "Feb & Mar"],
                             [svg.Series("Won", "series-won", [10, 0]), svg.Series("Open", "series-open", [5, 20])],
                             str, highlight=1)
    assert chart.startswith('<svg class="chart"') and "<title id=" in chart
    assert "Forecast &lt;by&gt; month" in chart and "Feb &amp; Mar" in chart
    assert chart.count("<rect") == 2 + 3  # legend swatches + non-zero bars
    assert "chart-label-now" in chart
    bars = svg.bar_chart("Sources", "desc", ["web"], [svg.Series("Won", "series-won", [2])], str,
                         stacked=True, notes=["win rate 50%"])
    assert "win rate 50%" in bars and "<title" in bars


def test_environment_is_strict_and_escapes(tmp_path) -> None:
    env = make_environment(tmp_path)
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ 1500|money('EUR') }}").render() == "€1,500"


def test_workspace_static_files_override_builtin(tmp_path) -> None:
    (tmp_path / "site-templates" / "static").mkdir(parents=True)
    (tmp_path / "site-templates" / "static" / "site.css").write_text("body{}")
    files = dict(static_files(tmp_path))
    assert files["site.css"] == b"body{}"
    assert "board.js" in files
