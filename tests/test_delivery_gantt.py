"""The delivery SVG: Gantt rows, milestones, critical marks, arrows, escaping, layering of dependency graphs."""

from __future__ import annotations

import datetime as dt
import re

from plaintext_crm.site import gantt

D = dt.date
TODAY = D(2026, 11, 26)


def test_timeline_bars_milestones_links_and_today() -> None:
    bars = [gantt.Bar("design", "Design <b>", D(2026, 11, 23), D(2026, 11, 27), critical=True, state="done"),
            gantt.Bar("build", "Build", D(2026, 11, 30), D(2026, 12, 4), critical=True, state="blocked"),
            gantt.Bar("launch", "Launch", D(2026, 12, 7), D(2026, 12, 7), milestone=True, state="ready")]
    svg = str(gantt.timeline("Plan", "desc", bars, [gantt.Link("design", "build", critical=True),
                                                    gantt.Link("build", "launch")], TODAY))
    assert svg.count('class="gantt-bar') == 3
    assert 'data-key="design" data-critical="true" data-state="done"' in svg
    assert "Design &lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count("is-milestone") == 1
    assert len(re.findall(r'class="gantt-link is-critical"', svg)) == 1
    assert 'data-link="build>launch"' in svg
    assert svg.count('class="gantt-today"') == 1 and "today 26 Nov" in svg
    # bars are in proportion: design (5 days) is as wide as build (5 days)
    widths = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="14" rx="3"', svg)
    assert len(widths) == 2 and widths[0] == widths[1]


def test_long_timelines_label_fewer_months() -> None:
    bars = [gantt.Bar("a", "A", D(2020, 1, 1), D(2029, 12, 31))]
    svg = str(gantt.timeline("Plan", "desc", bars, [], TODAY))
    labels = re.findall(r'class="gantt-month-label"[^>]*>([^<]+)<', svg)
    assert 5 <= len(labels) <= 21 and all(label.startswith(("Jan", "Jul")) for label in labels)


def test_layers_ignore_links_against_the_order() -> None:
    links = [gantt.Link("a", "b"), gantt.Link("b", "c"), gantt.Link("c", "a"), gantt.Link("a", "c")]
    assert gantt.layers(["a", "b", "c"], links) == {"a": 0, "b": 1, "c": 2}
    svg = str(gantt.dependency_graph("G", "desc", [gantt.Node(key, key) for key in "abc"], links,
                                     order=["a", "b", "c"]))
    assert svg.count("graph-link is-cycle") == 1  # c -> a loops back
    assert svg.count('class="graph-node state-') == 3
