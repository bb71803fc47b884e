"""Inline SVG for delivery: a project's Gantt chart, the portfolio timeline, and layered dependency graphs.

Like svg.py these only lay out what the schedule computed (dates, slack, states); colours come from the
CSS classes in static/delivery.css. Every figure has a <title> and <desc>, each bar or node its own
<title> tooltip, and `data-*` attributes that tests and scripts can read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from plaintext_crm.site.svg import _open, _text

LABEL_W = 210  # the task-name column of a Gantt chart
ROW_H = 26
HEAD_H = 52


@dataclass(frozen=True)
class Bar:
    """One row of a timeline: a task (or a project on the portfolio)."""

    key: str  # task id or project id, used for dependency arrows and data-key
    label: str
    start: dt.date
    finish: dt.date  # inclusive
    milestone: bool = False
    critical: bool = False
    state: str = ""  # css suffix: done, late, blocked, in-progress, ready; or a health for projects
    tooltip: str = ""
    href: str | None = None
    marker: dt.date | None = None  # a due date tick drawn on the row
    flagged: bool = False  # drawn with a warning mark (a project planned past its promise)
    external: bool = False  # a task of another project this one waits for (drawn dashed)


@dataclass(frozen=True)
class Link:
    """A dependency drawn between two rows or nodes: `succ` waits for `pred`."""

    pred: str
    succ: str
    type: str = "FS"
    critical: bool = False


def _arrowheads(ident: str) -> str:
    """Arrowhead markers `<ident>-arrow` and `<ident>-arrow-critical` for the links of one figure."""
    markers = []
    for suffix, css in (("", ""), ("-critical", " is-critical")):
        markers.append(f'<marker id="{ident}-arrow{suffix}" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
                       f'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="gantt-arrowhead{css}"/>'
                       "</marker>")
    return "<defs>" + "".join(markers) + "</defs>"


def _span(bars: Sequence[Bar], today: dt.date) -> tuple[dt.date, dt.date]:
    dates = [day for bar in bars for day in (bar.start, bar.finish, bar.marker) if day is not None]
    first = min(dates, default=today)
    last = max(dates, default=today)
    if first <= today <= last + dt.timedelta(days=30):
        last = max(last, today)
        first = min(first, today)
    first -= dt.timedelta(days=first.weekday() + 1)  # from the Sunday before: whole weeks
    return first, last + dt.timedelta(days=7)


MONTHS_PER_LABEL = (1, 3, 6, 12, 24, 60, 120, 240, 600, 1200)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class _Axis:
    """The calendar across a timeline: first day, pixels per day, months per label, chart height."""

    first: dt.date
    last: dt.date
    scale: float
    every: int  # months per label: 1, 3, 6, 12, or every few years on a very long span
    height: int

    def x_of(self, day: dt.date) -> float:
        return LABEL_W + (day - self.first).days * self.scale

    def labelled(self, day: dt.date) -> bool:
        if self.every <= 12:
            return (day.month - 1) % self.every == 0 or (day == self.first and self.every == 1)
        return day.month == 1 and day.year % (self.every // 12) == 0

    def first_line_drawn(self, day: dt.date) -> bool:
        return day.day == 1 or (_next_month(day) - day).days * self.scale > 70


def timeline(title: str, description: str, bars: Sequence[Bar], links: Sequence[Link], today: dt.date,
             *, width: int = 1100, css_class: str = "gantt", today_label: str = "today",
             table: str | None = None) -> Markup:
    """A Gantt chart: one row per bar, calendar days across, month labels, a today (or status-date) line and
    arrows; `table`: the id of the table beside it holding the same dates (aria-describedby)."""
    first, last = _span(bars, today)
    scale = (width - LABEL_W - 16) / ((last - first).days + 1)
    height = HEAD_H + ROW_H * max(len(bars), 1) + 10
    # weeks and months; on a long span only every 3rd, 6th or 12th month (or every few years) is labelled
    # so labels never overlap, and past a year per label only labelled months get a line
    every = next((months for months in MONTHS_PER_LABEL if months * 30 * scale >= 64), MONTHS_PER_LABEL[-1])
    axis = _Axis(first, last, scale, every, height)
    ident, head = _open(title, description, width, height, links=any(bar.href for bar in bars), table=table)
    parts = [head.replace('class="chart"', f'class="chart {css_class}"', 1), _arrowheads(ident), *_grid(axis)]
    rows: dict[str, tuple[float, float, float]] = {}  # key -> (left x, right x, middle y)
    for index, bar in enumerate(bars):
        rows[bar.key] = _bar_row(parts, axis, bar, index, width)
    parts.extend(_link_path(link, rows, ident) for link in links if link.pred in rows and link.succ in rows)
    if first <= today <= last:
        tx = axis.x_of(today) + scale / 2
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{HEAD_H - 20}" y2="{height - 4}" class="gantt-today"/>')
        parts.append(_text(tx + 3, HEAD_H - 24, f"{today_label} {today:%d %b}", "gantt-today-label", "start"))
    parts.append("</svg>")
    return Markup("".join(parts))


def _grid(axis: _Axis) -> list[str]:
    """Month lines and labels, and on a short span week lines (with day numbers when they fit)."""
    parts: list[str] = []

    def month_line(day: dt.date) -> None:
        if axis.every > 12 and not axis.labelled(day):
            return
        x = axis.x_of(day)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{axis.height - 6}" class="gantt-month"/>')
        if axis.labelled(day):
            parts.append(_text(x + 4, 14, f"{day:%b %Y}", "gantt-month-label", "start"))

    if axis.scale >= 2:  # a short span: walk its days for the week lines
        day = axis.first
        while day <= axis.last:
            if day.day == 1 or (day == axis.first and axis.first_line_drawn(day)):
                month_line(day)
            if day.weekday() == 0:
                x = axis.x_of(day)
                parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{HEAD_H - 6}" y2="{axis.height - 6}" '
                             'class="gantt-week"/>')
                if axis.scale * 7 >= 34:
                    parts.append(_text(x + 2, HEAD_H - 8, f"{day.day}", "gantt-week-label", "start"))
            day += dt.timedelta(days=1)
    else:  # no week lines: step from month to month (a span of centuries costs its months, not its days)
        if axis.first_line_drawn(axis.first):
            month_line(axis.first)
        day = _next_month(axis.first)
        while day <= axis.last:
            month_line(day)
            day = _next_month(day)
    return parts


def _bar_row(parts: list[str], axis: _Axis, bar: Bar, index: int, width: int) -> tuple[float, float, float]:
    """Append one row (stripe, label, bar or milestone, due marker, flag); return its left, right and middle."""
    y = HEAD_H + ROW_H * index
    middle = y + ROW_H / 2
    if index % 2:
        parts.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW_H}" class="gantt-stripe"/>')
    label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
    text = _text(8, middle + 4, label, "gantt-label" + (" is-critical" if bar.critical else ""), "start")
    if bar.href:
        text = f'<a href="{escape(bar.href)}">{text}</a>'
    parts.append(text)
    left, right = axis.x_of(bar.start), axis.x_of(bar.finish + dt.timedelta(days=1))
    classes = (f"gantt-bar state-{bar.state}" + (" is-critical" if bar.critical else "")
               + (" is-external" if bar.external else ""))
    data = (f' data-key="{escape(bar.key)}" data-critical="{str(bar.critical).lower()}" '
            f'data-state="{escape(bar.state)}" data-start="{bar.start}" data-finish="{bar.finish}"')
    tip = f"<title>{escape(bar.tooltip or bar.label)}</title>"
    if bar.milestone:
        cx, size = axis.x_of(bar.start) + axis.scale / 2, 7
        left = right = cx
        parts.append(f'<path d="M{cx:.1f},{middle - size} L{cx + size:.1f},{middle} L{cx:.1f},{middle + size} '
                     f'L{cx - size:.1f},{middle} z" class="{classes} is-milestone"{data}>{tip}</path>')
    else:
        parts.append(f'<rect x="{left:.1f}" y="{y + 6}" width="{max(right - left, 2):.1f}" height="{ROW_H - 12}" '
                     f'rx="3" class="{classes}"{data}>{tip}</rect>')
    if bar.marker is not None:
        mx = axis.x_of(bar.marker + dt.timedelta(days=1))
        parts.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{y + 3}" y2="{y + ROW_H - 3}" class="gantt-due">'
                     f'<title>due {bar.marker}</title></line>')
    if bar.flagged:
        parts.append(_text(right + 6, middle + 4, "⚑", "gantt-flag", "start"))
    return left, right, middle


def _link_path(link: Link, rows: Mapping[str, tuple[float, float, float]], ident: str) -> str:
    """The elbow arrow of a dependency between two drawn rows, from the side its type names."""
    pred, succ = rows[link.pred], rows[link.succ]
    x1 = pred[0] if link.type in ("SS", "SF") else pred[1]
    x2 = succ[1] if link.type in ("FF", "SF") else succ[0]
    bend = x1 + 8 if link.type not in ("SS", "SF") else x1 - 8
    marker = f"{ident}-arrow-critical" if link.critical else f"{ident}-arrow"
    classes = "gantt-link" + (" is-critical" if link.critical else "")
    return (f'<path d="M{x1:.1f},{pred[2]:.1f} H{bend:.1f} V{succ[2]:.1f} H{x2:.1f}" class="{classes}" '
            f'marker-end="url(#{marker})" data-link="{escape(link.pred)}>{escape(link.succ)}"/>')


@dataclass(frozen=True)
class Node:
    """A box of a dependency graph."""

    key: str
    label: str
    state: str = ""
    critical: bool = False
    external: bool = False  # belongs to another project (drawn dashed)
    tooltip: str = ""
    href: str | None = None


NODE_W, NODE_H, GAP_X, GAP_Y = 168, 34, 56, 16


def layers(order: Sequence[str], links: Sequence[Link]) -> dict[str, int]:
    """Longest-path layering: each node one layer right of the furthest node it waits for.

    `order` is a topological order (the schedule's); links that point backwards in it (cycle links the
    schedule ignored) do not count, so a cycle can never loop the layering.
    """
    position = {key: index for index, key in enumerate(order)}
    preds: dict[str, list[str]] = {key: [] for key in order}
    for link in links:
        if link.pred in position and link.succ in position and position[link.pred] < position[link.succ]:
            preds[link.succ].append(link.pred)
    layer: dict[str, int] = {}
    for key in order:
        layer[key] = max((layer[pred] + 1 for pred in preds[key]), default=0)
    return layer


def _arrange(order: Sequence[str], links: Sequence[Link], layer: Mapping[str, int]) -> list[list[str]]:
    """Nodes per layer, ordered by the barycentre of their predecessors to keep crossings down."""
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for key in order:
        columns[layer[key]].append(key)
    preds: dict[str, list[str]] = {key: [] for key in order}
    for link in links:
        if link.pred in layer and link.succ in layer:
            preds[link.succ].append(link.pred)
    for column_index in range(1, len(columns)):
        rank = {key: index for index, key in enumerate(columns[column_index - 1])}
        for earlier in columns[:column_index - 1]:
            rank.update({key: index for index, key in enumerate(earlier)})

        def centre(key: str, rank: dict[str, int] = rank) -> float:
            placed = [rank[pred] for pred in preds[key] if pred in rank]
            return sum(placed) / len(placed) if placed else float(len(rank))

        columns[column_index].sort(key=centre)
    return columns


def dependency_graph(title: str, description: str, nodes: Sequence[Node], links: Sequence[Link],
                     *, order: Sequence[str] | None = None, table: str | None = None) -> Markup:
    """A layered (left to right) drawing of a dependency graph with curved arrows."""
    keys = list(order) if order is not None else [node.key for node in nodes]
    by_key = {node.key: node for node in nodes}
    keys = [key for key in keys if key in by_key] + [node.key for node in nodes if node.key not in keys]
    layer = layers(keys, links)
    columns = _arrange(keys, links, layer)
    tallest = max((len(column) for column in columns), default=1)
    width = max(len(columns), 1) * (NODE_W + GAP_X) - GAP_X + 24
    height = tallest * (NODE_H + GAP_Y) - GAP_Y + 24
    ident, head = _open(title, description, width, height, links=any(node.href for node in nodes), table=table)
    head = head.replace('class="chart"', 'class="chart depgraph"', 1)
    spots: dict[str, tuple[float, float]] = {}
    for column_index, column in enumerate(columns):
        offset = (tallest - len(column)) * (NODE_H + GAP_Y) / 2
        for row, key in enumerate(column):
            spots[key] = (12 + column_index * (NODE_W + GAP_X), 12 + offset + row * (NODE_H + GAP_Y))
    parts = [head, _arrowheads(ident)]
    for link in links:
        if link.pred not in spots or link.succ not in spots:
            continue
        (px, py), (sx, sy) = spots[link.pred], spots[link.succ]
        x1, y1, x2, y2 = px + NODE_W, py + NODE_H / 2, sx, sy + NODE_H / 2
        backwards = x2 <= x1
        if backwards:  # a link against the layering closes a cycle: loop around below
            x1, x2 = px + NODE_W / 2, sx + NODE_W / 2
            y1, y2 = py + NODE_H, sy + NODE_H
            path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + 40:.1f} {x2:.1f},{y2 + 40:.1f} {x2:.1f},{y2 + 2:.1f}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2 - 2:.1f},{y2:.1f}"
        classes = "graph-link" + (" is-critical" if link.critical else "") + (" is-cycle" if backwards else "")
        marker = f"{ident}-arrow-critical" if link.critical else f"{ident}-arrow"
        label = "" if link.type == "FS" else _text((x1 + x2) / 2, (y1 + y2) / 2 - 4, link.type, "graph-link-type")
        parts.append(f'<path d="{path}" class="{classes}" marker-end="url(#{marker})" '
                     f'data-link="{escape(link.pred)}>{escape(link.succ)}"/>{label}')
    for key in keys:
        node = by_key[key]
        x, y = spots[key]
        classes = f"graph-node state-{node.state}" + (" is-critical" if node.critical else "") + \
            (" is-external" if node.external else "")
        label = node.label if len(node.label) <= 24 else node.label[:23] + "…"
        box = (f'<g class="{classes}" data-key="{escape(node.key)}" data-critical="{str(node.critical).lower()}">'
               f'<title>{escape(node.tooltip or node.label)}</title>'
               f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="7"/>'
               f'{_text(x + NODE_W / 2, y + NODE_H / 2 + 4, label, "graph-node-label")}</g>')
        if node.href:
            box = f'<a href="{escape(node.href)}">{box}</a>'
        parts.append(box)
    parts.append("</svg>")
    return Markup("".join(parts))
