"""`plaintext-crm serve` in headless Chromium: an open page reloads by itself after a save, and shows the banner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from plaintext_crm.site.serve import EVENTS_PATH
from tests.serve_support import DEAL, DEAL_PAGE, Served, edit, free_port, set_value
from tests.support import EXAMPLE

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    server = Served(root, free_port())
    yield server
    server.stop()


def test_an_open_page_reloads_by_itself_after_a_save(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(served.url) else None)
    with page.expect_request(lambda request: EVENTS_PATH in request.url):  # the page opened its event stream
        page.goto(served.url + DEAL_PAGE)
    page.evaluate("window.__notReloaded = true")  # gone once the page has been loaded again
    edit(served.root, DEAL, lambda text: set_value(text, 456789))
    page.wait_for_function("() => document.body.innerText.includes('456,789')", timeout=20_000)
    assert page.evaluate("window.__notReloaded === undefined")
    assert errors == [] and outside == []

    edit(served.root, DEAL, lambda text: text.replace("---\n", "---\ntitle: [unclosed\n", 1))
    banner = page.locator("#plaintext-crm-problems")
    banner.wait_for(timeout=20_000)
    assert f"{DEAL}:3" in banner.inner_text()
    assert "456,789" in page.inner_text("body")  # the last good page stays
    edit(served.root, DEAL, lambda text: text.replace("title: [unclosed\n", "", 1))
    banner.wait_for(state="detached", timeout=20_000)


def test_a_page_that_did_not_change_does_not_reload(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    with page.expect_request(lambda request: EVENTS_PATH in request.url):
        page.goto(served.url + "deals/fjord-foods-website.html")
    page.evaluate("window.__notReloaded = true")
    edit(served.root, DEAL, lambda text: text + "\nA note on another deal.\n")
    # wait until the edited deal's page is served again, then a little more for the aggregate pages
    other = browser.new_page()
    other.goto(served.url + DEAL_PAGE)
    other.wait_for_function("() => document.body.innerText.includes('A note on another deal.')", timeout=20_000)
    page.wait_for_timeout(1500)  # the scenario: no reload comes in this time (an absence has no event to await)
    assert page.evaluate("window.__notReloaded === true")
