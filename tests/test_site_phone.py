"""The example site on a 390 px phone: no page scrolls sideways as a whole, chart text stays at 11 px or
more (a chart scrolls inside its own box instead of shrinking), the Gantt opens at today, and the board
shows one stage at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import static_server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# The smallest on-screen font size of any text in a chart (its CSS size times the chart's scale).
SMALLEST_CHART_TEXT = """() => {
  let smallest = Infinity, where = "";
  for (const text of document.querySelectorAll("svg.chart text")) {
    const size = parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a;
    if (size < smallest) { smallest = size; where = text.textContent; }
  }
  return [smallest, where];
}"""


@pytest.fixture(scope="module")
def phone(example_site: Path, browser) -> Iterator[tuple[object, str]]:
    with static_server(example_site) as url:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
        yield context.new_page(), url
        context.close()


def test_no_page_is_wider_than_a_phone_and_chart_text_stays_legible(example_site: Path, phone) -> None:
    page, url = phone
    names = sorted(path.relative_to(example_site).as_posix() for path in example_site.rglob("*.html"))
    too_wide, too_small, charts = [], [], 0
    for name in names:
        page.goto(url + name)
        width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        if width > PHONE["width"]:
            too_wide.append(f"{name}: {width} px")
        smallest, where = page.evaluate(SMALLEST_CHART_TEXT)
        if smallest != float("inf"):
            charts += 1
            if smallest < 10.95:
                too_small.append(f"{name}: {where!r} at {smallest:.1f} px")
    assert charts >= 10
    assert too_wide == []
    assert too_small == []


def test_the_gantt_opens_at_today(phone) -> None:
    page, url = phone
    for name in ("projects/helix-website.html", "portfolio.html"):
        page.goto(url + name)
        figure = page.locator(".gantt-figure").first
        assert figure.evaluate("f => f.scrollWidth > f.clientWidth"), name
        box, today = figure.bounding_box(), page.locator(".gantt-figure .gantt-today").first.bounding_box()
        assert box["x"] <= today["x"] <= box["x"] + box["width"], name


def test_the_board_shows_one_stage_at_a_time(phone) -> None:
    page, url = phone
    page.goto(url + "board.html")
    board = page.locator("#board")
    assert board.evaluate("b => getComputedStyle(b).scrollSnapType").startswith("x")
    columns = page.locator("#board .column")
    assert columns.count() >= 4
    first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE["width"]
    assert second["x"] >= PHONE["width"] - 60  # only a sliver of the next stage shows
    # the page is short: the stages are side by side, not stacked
    assert page.evaluate("document.documentElement.scrollHeight") < 2500
    # a stage tab brings its column into view
    tab = page.locator(".stage-tabs a").nth(2)
    assert tab.is_visible()
    stage = tab.get_attribute("href")
    tab.click()
    page.wait_for_function(f"""() => {{ const c = document.querySelector({stage!r}).getBoundingClientRect();
                                       return c.left >= 0 && c.left < 40; }}""")


@pytest.mark.parametrize("width", [1280, 390])
def test_headings_clear_the_navigation_and_cards_size_to_their_content(example_site: Path, browser,
                                                                        width: int) -> None:
    """main's top padding is not reset by .container's (the heading touched the nav), and stat cards in a
    row are as tall as their own content, not stretched to the tallest."""
    with static_server(example_site) as url:
        page = browser.new_page(viewport={"width": width, "height": 900})
        for name in ("index.html", "board.html", "forecast.html", "projects/helix-website.html", "problems.html"):
            page.goto(url + name)
            gap = page.evaluate("document.querySelector('h1').getBoundingClientRect().top"
                                " - document.querySelector('.site-header').getBoundingClientRect().bottom")
            assert gap >= 16, f"{name} at {width} px: {gap} px between the nav and the heading"
        page.goto(url + "index.html")
        assert page.evaluate("getComputedStyle(document.querySelector('.stats')).alignItems") == "start"
        page.close()
