"""The example site for every reader: axe-core finds no WCAG 2.2 AA violation on any page, in the light and
the dark colour scheme, and the Nu HTML Checker finds no error on any page.

axe-core and vnu-jar are npm packages that scripts/test installs into tests/.npm (nothing is fetched while
the tests run); a test is skipped, saying what to install, when one is missing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.a11y_support import AXE_JS, JAVA, VNU_JAR, axe_violations
from tests.support import static_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(example_site: Path) -> Iterator[str]:
    with static_server(example_site) as url:
        yield url


def _pages(site: Path) -> list[str]:
    names = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert len(names) > 60
    return names


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_any_page(example_site: Path, served: str, browser, scheme: str) -> None:
    if not AXE_JS.exists():
        pytest.skip("axe-core is not installed: scripts/test installs it into tests/.npm")
    # The pages' Content-Security-Policy allows only the site's own scripts: axe is injected around it.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    found = []
    for name in _pages(example_site):
        page.goto(served + name)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        found.extend(f"{name}: {line}" for line in axe_violations(page))
    context.close()
    assert found == []


def test_dark_scheme_is_a_real_dark_theme(served: str, browser) -> None:
    """The stylesheet follows the reader's colour scheme: dark background and light text in dark."""
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(served + "index.html")
        colours[scheme] = page.evaluate("""() => {
            const luminance = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number); return (r + g + b) / 3; };
            const style = getComputedStyle(document.body);
            return [luminance(style.backgroundColor), luminance(style.color)];
        }""")
        context.close()
    light_background, light_text = colours["light"]
    dark_background, dark_text = colours["dark"]
    assert light_background > 200 and light_text < 60
    assert dark_background < 60 and dark_text > 200


def test_reduced_motion_turns_off_smooth_scrolling(served: str, browser) -> None:
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(served + "board.html")
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"
    context.close()
    context = browser.new_context(reduced_motion="no-preference")
    page = context.new_page()
    page.goto(served + "board.html")
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "smooth"
    context.close()


@pytest.mark.parametrize("name", ["portfolio.html", "projects/helix-website.html"])
def test_chart_links_are_reached_by_the_keyboard(served: str, browser, name: str) -> None:
    """A chart holding links is a group (not an img, whose children screen readers skip), and Tab reaches
    every link in it; a project's Gantt bars and graph boxes lead to their rows of the Tasks table."""
    page = browser.new_page()
    page.goto(served + name)
    for href in page.eval_on_selector_all("svg.chart a", "links => links.map(a => a.getAttribute('href'))"):
        if href.startswith("#"):
            assert page.locator(f"tr[id='{href[1:]}']").count() == 1, href
    graphs = page.locator("svg.chart:has(a)")
    assert graphs.count() >= 1
    for index in range(graphs.count()):
        assert graphs.nth(index).get_attribute("role") == "group"
    links = page.locator("svg.chart a")
    wanted = {links.nth(index).get_attribute("href") for index in range(links.count())}
    reached: set[str] = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.closest('svg') ? document.activeElement.getAttribute('href') : null")
        if href:
            reached.add(href)
        if reached == wanted:
            break
    assert reached == wanted
    page.close()


def test_nu_html_checker_finds_no_error_on_any_page(example_site: Path) -> None:
    if JAVA is None or not VNU_JAR.exists():
        pytest.skip("the Nu HTML Checker needs java and vnu-jar: scripts/test installs them")
    pages = [str(example_site / name) for name in _pages(example_site)]
    result = subprocess.run([JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *pages],
                            capture_output=True, text=True, timeout=600, check=False)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}" for m in messages]
    assert errors == []
    assert result.returncode == 0, result.stderr
