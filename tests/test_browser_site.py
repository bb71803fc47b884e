"""The built example site in real headless Chromium: pages load cleanly, nothing leaves the site,
the owner filter works; a screenshot of the board is kept under test-artifacts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from plaintext_crm.site.builder import build_site
from tests.support import ARTIFACTS, EXAMPLE, EXAMPLE_TODAY, static_server

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    build_site(EXAMPLE, out, dt.date.fromisoformat(EXAMPLE_TODAY), use_cache=False)
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served from a sub-path (/sub/site/) by a local http.server thread on 127.0.0.1."""
    root = site.parent.parent
    (root / "sub").mkdir(exist_ok=True)
    link = root / "sub" / "site"
    if not link.exists():
        link.symlink_to(site, target_is_directory=True)
    with static_server(root) as url:
        yield url + "sub/site/"


def _watch(page: object, base: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: outside.append(request.url)
            if not (request.url.startswith(base) or request.url.startswith("data:")) else None)
    # ERR_ABORTED: a request cut short by the next navigation (e.g. the favicon); 404s are caught below
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url} {request.failure}")
            if "ERR_ABORTED" not in (request.failure or "") else None)
    page.on("response", lambda response: errors.append(f"{response.status}: {response.url}")
            if response.status >= 400 else None)
    return errors, outside


def test_every_page_loads_without_errors_or_outside_requests(site: Path, server: str, browser) -> None:
    page = browser.new_page()
    errors, outside = _watch(page, server)
    names = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert len(names) > 60
    for name in names:
        page.goto(server + name, wait_until="load")
        assert page.locator("nav.site-nav a").count() >= 7, name
        assert page.locator("h1").count() == 1, name
    assert errors == []
    assert outside == []
    page.close()


def test_owner_filter_shows_one_owners_cards_and_totals(server: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, outside = _watch(page, server)
    page.goto(server + "board.html")
    cards = page.locator("#board .card")
    total = cards.count()
    assert total == 23
    assert page.locator("#owner-filter").is_visible()
    page.select_option("#owner-select", "leo")
    visible = page.locator("#board .card:visible")
    assert 0 < visible.count() < total
    owners = {visible.nth(i).get_attribute("data-owner") for i in range(visible.count())}
    assert owners == {"leo"}
    lead_count = page.locator('[data-count="lead"]').inner_text()
    assert int(lead_count) == page.locator('#stage-lead .card:visible').count()
    assert "#owner=leo" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-leo.png"), full_page=True)
    page.select_option("#owner-select", "")
    assert page.locator("#board .card:visible").count() == total
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)
    page.goto(server + "board.html#owner=maya")
    page.reload()
    assert page.locator("#owner-select").input_value() == "maya"
    assert {page.locator("#board .card:visible").nth(i).get_attribute("data-owner")
            for i in range(page.locator("#board .card:visible").count())} == {"maya"}
    assert errors == [] and outside == []
    page.close()


def test_board_is_readable_without_scripts(server: str, browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "board.html")
    assert page.locator("#board .card:visible").count() == 23
    assert not page.locator("#owner-filter").is_visible()
    context.close()


def test_site_works_from_file_urls(site: Path, browser) -> None:
    page = browser.new_page()
    errors, outside = _watch(page, site.as_uri())
    page.goto((site / "deals" / "kite-finance-mobile-app.html").as_uri())
    page.click("nav.site-nav >> text=Pipeline")
    assert page.url.endswith("/board.html")
    page.select_option("#owner-select", "ana")
    assert page.locator("#board .card:visible").count() > 0
    color = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert color == "rgb(29, 36, 51)"  # the stylesheet loaded from the relative path
    assert errors == [] and outside == []
    page.close()


def test_phone_layout_has_no_horizontal_scroll(server: str, browser) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for name in ("index.html", "board.html", "followups.html", "deals/kite-finance-mobile-app.html"):
        page.goto(server + name)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, name
    page.close()
