"""Encrypted sites in headless Chromium: they open with the passphrase (asked once per session) from a static
http host, from `serve` and from file://, and a wrong passphrase shows nothing."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import ipaddress
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plaintext_crm.site.builder import build_site
from tests.serve_support import Served, free_port
from tests.support import EXAMPLE, EXAMPLE_TODAY, static_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def encrypted_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("encrypted") / "ws"
    shutil.copytree(EXAMPLE, root)
    out = root.parent / "site"
    build_site(root, out, dt.date.fromisoformat(EXAMPLE_TODAY), use_cache=False, passphrase=PASSPHRASE)
    return out


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.errors = errors
    yield opened
    context.close()


def unlock(page: Any, passphrase: str = PASSPHRASE, remember: bool = False) -> None:
    page.wait_for_selector("#unlock:not([hidden])")
    page.fill("#passphrase", passphrase)
    if remember:
        page.check("#remember")
    page.click("#unlock button[type=submit]")


def opens_and_navigates(page: Any, url: str) -> None:
    """Unlock the overview at `url`, then follow navigation links: no second prompt, real pages."""
    page.goto(url)
    assert page.locator("nav.site-nav").count() == 0  # nothing shown before the passphrase
    unlock(page)
    page.wait_for_selector("nav.site-nav")
    assert page.title() == "Overview · Brightline Studio"
    assert "Open pipeline" in page.inner_text("main")
    page.click("nav.site-nav >> text=Pipeline")
    page.wait_for_selector("#board")
    assert page.title() == "Pipeline board · Brightline Studio"
    assert "/p/" in page.url and "board" not in page.url  # stored under a name only the key makes
    page.click("nav.site-nav >> text=Clients")
    page.wait_for_selector("h1:has-text('Clients')")
    page.click("main a[href$='northwind-coffee.html']")
    page.wait_for_selector("h1:has-text('Northwind Coffee')")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")  # site.css
    assert page.errors == []


def test_it_opens_from_a_static_host_and_asks_once_per_session(encrypted_site: Path, page: Any) -> None:
    with static_server(encrypted_site) as url:
        opens_and_navigates(page, url + "index.html")
        page.click("nav.site-nav >> text=Pipeline")  # board.js runs on the decrypted page: the owner filter
        page.wait_for_selector("#board")
        cards = page.locator("#board .card")
        total = cards.count()
        page.select_option("#owner-select", index=1)
        assert 0 < page.locator("#board .card:visible").count() < total
        with page.context.expect_page() as opened:  # Ctrl-click: the page in a new tab, decrypted at once
            page.click("nav.site-nav >> text=Forecast", modifiers=["Control"])
        tab = opened.value
        tab.wait_for_selector("nav.site-nav")
        assert tab.title() == "Forecast · Brightline Studio" and "/p/" in tab.url


def test_it_opens_from_a_file_url(encrypted_site: Path, page: Any) -> None:
    opens_and_navigates(page, (encrypted_site / "index.html").as_uri())


def test_a_wrong_passphrase_says_so_and_shows_nothing(encrypted_site: Path, page: Any) -> None:
    with static_server(encrypted_site) as url:
        page.goto(url + "index.html")
        unlock(page, "not the passphrase at all")
        page.wait_for_selector("#unlock-problem:not([hidden])")
        assert "Wrong passphrase" in page.inner_text("#unlock-problem")
        assert page.locator("nav.site-nav").count() == 0
        assert "Brightline" not in page.content()


def test_remember_keeps_the_key_for_new_sessions_and_only_then(encrypted_site: Path, browser: Any) -> None:
    with static_server(encrypted_site) as url:
        for remember in (False, True):
            context = browser.new_context()
            first = context.new_page()
            first.goto(url + "index.html")
            unlock(first, remember=remember)
            first.wait_for_selector("nav.site-nav")
            second = context.new_page()  # a new tab: a new session storage, the same local storage
            second.goto(url + "index.html")
            if remember:
                second.wait_for_selector("nav.site-nav")
            else:
                second.wait_for_selector("#unlock:not([hidden])")
            context.close()


def test_it_opens_through_serve(tmp_path: Path, page: Any) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    served = Served(root, free_port(), "--encrypt", "--password-file", str(secret))
    try:
        status, text = served.get("index.html")
        assert status == 200 and "plaintext-crm-encrypted" in text and "Brightline" not in text
        opens_and_navigates(page, served.url)
    finally:
        served.stop()


def _outward_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None when it has only loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: connecting a UDP socket only picks the route
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback else address


def test_over_plain_http_from_another_address_it_says_why_it_cannot_decrypt(encrypted_site: Path, page: Any) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(encrypted_site))
    httpd = http.server.ThreadingHTTPServer((address, 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://{address}:{httpd.server_address[1]}/index.html")
        page.wait_for_selector("#unlock-problem:not([hidden])")
        assert page.evaluate("window.isSecureContext") is False
        assert "WebCrypto needs a secure context" in page.inner_text("#unlock-problem")
        assert not page.is_visible("#unlock")
    finally:
        httpd.shutdown()
        httpd.server_close()
