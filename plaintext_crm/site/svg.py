"""Inline SVG bar charts drawn at build time: readable without scripts, printable, nothing fetched.

The functions only lay out numbers they are given (computed by the analytics modules); every chart
has a <title> and <desc> for screen readers and a legend, and its colours come from the site's CSS.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    """One data series: a name for the legend, a CSS class for its colour, one value per category."""

    name: str
    css_class: str
    values: Sequence[float]


COLUMN_SLOT = 64  # px per column of a column chart: room for "Dec '26" and "€123.4k" at 11 px


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value` (a round top for an axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _text(x: float, y: float, content: str, css_class: str, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{css_class}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>")


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for item in series:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" class="{item.css_class}"/>')
        parts.append(_text(x + 14, y, item.name, "chart-legend", "start"))
        x += 24 + 7 * len(item.name)
    return "".join(parts)


def _open(title: str, description: str, width: int, height: int, *, links: bool = False,
          table: str | None = None) -> tuple[str, str]:
    """The opening tag, title and description of a chart, and its id prefix.

    The chart is drawn at its own size (width and height attributes: its text stays legible, and a narrow
    page scrolls it inside its figure); a chart holding links is a `group`, not an `img`, so that screen
    readers and the keyboard reach the links inside it. `table`: the id of the table beside the chart
    holding the same figures, which then describes it too (`aria-describedby`).
    """
    ident = "chart-" + hashlib.blake2b(title.encode("utf-8"), digest_size=4).hexdigest()  # stable across builds
    role = "group" if links else "img"
    head = (f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="{role}" '
            f'aria-labelledby="{ident}-title {ident}-desc"'
            + (f' aria-describedby="{escape(table)}"' if table else "") + ' xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>')
    return ident, head


def column_chart(title: str, description: str, categories: Sequence[str], series: Sequence[Series],
                 fmt: Callable[[float], str], *, highlight: int | None = None, width: int | None = None,
                 height: int = 300, table: str | None = None) -> Markup:
    """Vertical stacked columns, one per category, with a value label on top of each column.

    Each column gets at least COLUMN_SLOT px (the chart is drawn wider, and scrolls in its figure), so
    category and value labels never run together however many months there are.
    """
    left, right, top, bottom = 64, 12, 34, 44
    width = width or max(760, left + right + COLUMN_SLOT * len(categories))
    _, head = _open(title, description, width, height, table=table)
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(item.values[index] for item in series) for index in range(len(categories))]
    ceiling = nice_ceiling(max(totals, default=0))
    parts = [head, _legend(series, left, 16)]
    for tick in range(5):
        value = ceiling * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(_text(left - 6, y + 4, fmt(value), "chart-axis", "end"))
    slot = plot_w / max(len(categories), 1)
    bar_w = min(slot * 0.7, 48)
    for index, category in enumerate(categories):
        x = left + slot * index + (slot - bar_w) / 2
        base: float = top + plot_h
        for item in series:
            value = item.values[index]
            if value <= 0:
                continue
            bar_h = plot_h * value / ceiling
            base -= bar_h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                         f'class="{item.css_class}"><title>{escape(category)}: {escape(item.name)} '
                         f'{escape(fmt(value))}</title></rect>')
        if totals[index] > 0:
            parts.append(_text(x + bar_w / 2, base - 5, fmt(totals[index]), "chart-value"))
        label_class = "chart-label chart-label-now" if index == highlight else "chart-label"
        parts.append(_text(x + bar_w / 2, top + plot_h + 16, category, label_class))
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
                 'class="chart-baseline"/></svg>')
    return Markup("".join(parts))


def bar_chart(title: str, description: str, categories: Sequence[str], series: Sequence[Series],
              fmt: Callable[[float], str], *, stacked: bool = False, notes: Sequence[str] | None = None,
              width: int = 760, table: str | None = None) -> Markup:
    """Horizontal bars, one row per category: grouped (one bar per series) or stacked; `notes` at the right."""
    row_h = 30 if stacked else 14 * len(series) + 14
    left, right, top = 150, 290 if notes else 70, 34
    height = top + row_h * len(categories) + 12
    _, head = _open(title, description, width, height, table=table)
    plot_w = width - left - right
    if stacked:
        peak = max((sum(item.values[index] for item in series) for index in range(len(categories))), default=0)
    else:
        peak = max((value for item in series for value in item.values), default=0)
    ceiling = nice_ceiling(peak)
    parts = [head, _legend(series, left, 16)]
    for index, category in enumerate(categories):
        y = top + row_h * index
        parts.append(_text(left - 8, y + row_h / 2 + 4, category, "chart-label", "end"))
        x = float(left)
        for position, item in enumerate(series):
            value = item.values[index]
            bar_w = plot_w * value / ceiling if value > 0 else 0
            bar_y = y + 6 if stacked else y + 6 + 14 * position
            bar_h = row_h - 12 if stacked else 11
            if bar_w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{bar_y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                             f'class="{item.css_class}"><title>{escape(category)}: {escape(item.name)} '
                             f'{escape(fmt(value))}</title></rect>')
            if not stacked:
                parts.append(_text(left + bar_w + 5, bar_y + 9.5, fmt(value), "chart-value", "start"))
            else:
                x += bar_w
        if stacked:  # the row's total after its bar; each part's figure is in the bar's tooltip and the notes
            parts.append(_text(x + 5, y + row_h / 2 + 4, fmt(sum(item.values[index] for item in series)),
                               "chart-value", "start"))
        if notes:
            parts.append(_text(width - 8, y + row_h / 2 + 4, notes[index], "chart-note", "end"))
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - 12}" class="chart-baseline"/></svg>')
    return Markup("".join(parts))
