"""The Workload and Revenue pages of the example site in headless Chromium: the overbooked cell in red and
its tasks one click away, a project's share of the workload and its invoices, the revenue table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    return example_site


def test_workload_page_marks_the_overbooked_week_and_links_to_its_tasks(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "workload.html").as_uri())
    rows = page.locator("#workload-table tbody tr")
    assert [rows.nth(index).get_attribute("data-member") for index in range(rows.count())] == [
        "ana", "leo", "maya", "priya", "sam"]
    over = page.locator("#workload-table td[data-over]")
    assert over.count() == 1  # leo, one week
    cell = over.first
    assert cell.get_attribute("data-week") == "2026-12-07" and cell.inner_text() == "5.1 / 5.0"
    # red: over (the theme's soft red, which the dark theme changes too)
    assert cell.evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(253, 232, 230)"
    free = page.locator("#workload-table td.load:not([data-over])").first
    assert free.evaluate("td => getComputedStyle(td).backgroundColor") != "rgb(253, 232, 230)"
    cell.locator("a").click()
    assert page.url.endswith("#load-leo-2026-12-07")
    behind = page.locator("#load-leo-2026-12-07")
    assert behind.is_visible()
    assert "quanta-launch/launch-site-build: 1.67 days" in behind.inner_text()
    behind.locator("a", has_text="Front-end build").click()
    assert page.url.endswith("projects/atlas-dashboard.html#task-frontend-build")
    assert page.locator("#task-frontend-build").is_visible()
    page.goto((site / "workload.html").as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workload.png"), full_page=True)
    assert page.errors == []


def test_a_project_page_shows_its_share_of_the_workload_and_its_invoices(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "projects" / "helix-website.html").as_uri())
    share = page.locator("#project-workload tbody tr")
    assert [share.nth(index).get_attribute("data-member") for index in range(share.count())] == ["leo", "priya"]
    invoices = page.locator("#project-invoices tbody tr")
    assert [invoices.nth(index).get_attribute("data-task") for index in range(invoices.count())] == [
        "discovery", "visual-design", "launch"]
    assert "48,000" in invoices.nth(2).inner_text() and "planned" in invoices.nth(2).inner_text()
    page.goto((site / "projects" / "atlas-dashboard.html").as_uri())
    assert "P005" in page.locator("#invoices-title").locator("..").inner_text()
    assert page.errors == []


def test_revenue_page_by_month_and_client(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "revenue.html").as_uri())
    december = page.locator('#revenue-table tr[data-month="2026-12"]').inner_text()
    assert "48,000" in december and "252,500" in december and "300,500" in december
    first_client = page.locator("#revenue-clients tbody tr").first
    assert first_client.get_attribute("data-client") == "kite-finance"
    assert page.locator('nav a[href="revenue.html"]').count() == 1
    assert page.locator('nav a[href="workload.html"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "revenue.png"), full_page=True)
    assert page.errors == []


def test_forecast_targets_and_the_owner_filter_carried_from_the_board(site: Path, page) -> None:
    page.errors.clear()
    page.goto((site / "board.html").as_uri())
    lede = page.locator(".page-head .lede")
    assert lede.inner_text().startswith("23 open deals")
    page.select_option("#owner-select", "ana")
    ana_count = page.locator('[data-count="_all"]').inner_text()
    assert ana_count == "5" and lede.inner_text().startswith(f"{ana_count} open deals")  # follows the filter
    forecast_link = page.locator('nav a[href^="forecast.html"]')
    assert forecast_link.get_attribute("href") == "forecast.html#owner=ana"
    forecast_link.click()
    assert page.url.endswith("forecast.html#owner=ana")
    assert page.locator("#owner-select").input_value() == "ana"
    rows = page.locator("#targets tbody tr")
    visible = [rows.nth(index).get_attribute("data-target-owner") for index in range(rows.count())
               if rows.nth(index).is_visible()]
    assert visible == ["team", "ana"]  # the team's target and Ana's
    assert "115%" in page.locator('#targets tr[data-target-owner="ana"]').inner_text()
    weighted = page.locator('[data-figure="weighted_total"] .stat-value').inner_text()
    assert weighted == "€123,100"  # Ana's open deals, weighted (everyone's: €477,680)
    page.locator('nav a[href^="index.html"]').click()
    assert page.url.endswith("index.html#owner=ana")
    assert page.locator("#owner-select").input_value() == "ana"
    assert page.locator('[data-figure="open_pipeline"] .stat-note').inner_text() == f"{ana_count} open deals"
    page.select_option("#owner-select", "")
    assert page.locator('[data-figure="open_pipeline"] .stat-note').inner_text() == "23 open deals"
    assert page.errors == []
