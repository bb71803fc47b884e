"""Delivery pages in real headless Chromium: the project page's Gantt marks the critical path, the portfolio
draws every open project, and no page logs a console error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import ARTIFACTS

BLOCKED_FILL = "rgb(224, 165, 38)"  # --blocked in delivery.css

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    return example_site


def test_project_page_gantt_marks_the_critical_path(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "projects" / "helix-website.html").as_uri())
    gantt = page.locator("#gantt svg.gantt")
    assert gantt.is_visible()
    critical = gantt.locator('[data-critical="true"]')
    keys = [critical.nth(index).get_attribute("data-key") for index in range(critical.count())]
    assert keys == ["content-migration", "build", "accessibility-audit", "qa", "a11y-fixes", "launch"]
    assert gantt.locator('.gantt-bar[data-key="discovery"]').get_attribute("data-critical") == "false"
    # critical bars are drawn with the critical stroke, which the stylesheet makes red
    stroke = gantt.locator('.gantt-bar[data-key="qa"]').evaluate("bar => getComputedStyle(bar).stroke")
    assert stroke == "rgb(192, 38, 45)"
    assert gantt.locator(".is-milestone").count() == 1
    assert gantt.locator(".gantt-today").count() == 1
    assert gantt.locator(".gantt-link.is-critical").count() >= 5
    box = gantt.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 200
    assert page.locator('table.tasks tr[data-critical="true"]').count() == 6
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#gantt").screenshot(path=str(ARTIFACTS / "gantt-helix-website.png"))
    assert page.errors == []


def test_blocked_and_late_colours_and_blockers(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "projects" / "museum-website.html").as_uri())
    bar = page.locator('#gantt .gantt-bar[data-key="collection-import"]')
    # marked blocked; planned from the status date rather than late in the past
    assert bar.get_attribute("data-state") == "blocked"
    assert bar.evaluate("bar => getComputedStyle(bar).fill") == BLOCKED_FILL
    assert "marked blocked" in page.locator("#blocked-title").locator("..").inner_text()
    assert page.locator("svg.gantt .gantt-today-label").text_content().startswith("status date")
    page.goto((site / "projects" / "atlas-dashboard.html").as_uri())
    # uat only waits for work in progress: "waiting", not "blocked"
    assert page.locator('#gantt .gantt-bar[data-key="uat"]').get_attribute("data-state") == "waiting"
    waiting = page.locator("#waiting-title").locator("..")
    assert "waits for 'frontend-build' to be done (it is doing)" in waiting.inner_text()
    assert "P002" in page.locator("#gantt-title").locator("../..").inner_text()
    assert page.errors == []


def test_portfolio_timeline_and_graph(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "portfolio.html").as_uri())
    bars = page.locator("svg.portfolio .gantt-bar")
    assert bars.count() == 7
    assert page.locator('svg.portfolio .gantt-bar[data-key="helix-website"]').get_attribute("data-state") == "at-risk"
    graph = page.locator("svg.depgraph")
    assert graph.locator('[data-link="northwind-rebrand>northwind-webshop"]').count() == 1
    page.locator('svg.depgraph a:has([data-key="northwind-webshop"])').click()
    assert page.url.endswith("projects/northwind-webshop.html")
    assert page.errors == []
