"""`plaintext-crm serve` end to end (a real process on a free port) and the server's parts."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plaintext_crm.errors import ToolError
from plaintext_crm.site.serve import EVENTS_PATH, LiveReload, SiteServer, banner, inject, make_server, page_of
from plaintext_crm.site.watch import BuildProblem
from tests.serve_support import DEAL, DEAL_PAGE, Served, edit, fetch, free_port, set_value
from tests.support import EXAMPLE, EXAMPLE_TODAY, wait_until


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.fixture
def served(example: Path) -> Iterator[Served]:
    server = Served(example, free_port())
    yield server
    server.stop()


@pytest.mark.slow  # a serve/build process
def test_serves_the_site_and_an_edit_is_served_within_seconds(served: Served) -> None:
    status, page = served.get(DEAL_PAGE)
    assert status == 200 and "987,654" not in page
    assert EVENTS_PATH in page  # the reload script, in the served page...
    assert EVENTS_PATH not in (served.root / "site" / DEAL_PAGE).read_text(encoding="utf-8")  # ...not on disk
    edit(served.root, DEAL, lambda text: set_value(text, 987654))
    wait_until(lambda: "987,654" in served.get(DEAL_PAGE)[1], 15, "the new value on the deal page")
    wait_until(lambda: "987654" in served.get("data.json")[1], 30, "the new value in data.json")
    assert served.get("")[0] == 200  # the folder serves index.html
    assert served.get("no-such-page.html")[0] == 404


def without_policy(page: str) -> str:
    """A served page without its Content-Security-Policy meta, which allows what serve injects by hash."""
    return re.sub(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">', "", page)


@pytest.mark.slow  # a serve/build process
def test_broken_yaml_keeps_the_site_served_with_a_banner_and_a_fix_recovers(served: Served) -> None:
    good = served.get(DEAL_PAGE)[1]
    edit(served.root, DEAL, lambda text: text.replace("---\n", "---\ntitle: [unclosed\n", 1))
    wait_until(lambda: "plaintext-crm-problems" in served.get("index.html")[1], 15, "the banner")
    status, page = served.get(DEAL_PAGE)
    assert status == 200  # the last good page of the broken record, with the banner
    assert without_policy(page.split("<script>/* plaintext-crm")[0].split('<div id="plaintext-crm-problems"')[0]) \
        == without_policy(good.split("<script>/* plaintext-crm")[0])
    assert f"{DEAL}:3</code> F001" in page
    assert served.process.poll() is None
    wait_until(lambda: any(f"{DEAL}:3: F001" in line for line in served.errors), 10, "the terminal message")
    edit(served.root, DEAL, lambda text: text.replace("title: [unclosed\n", "", 1))
    wait_until(lambda: "plaintext-crm-problems" not in served.get("index.html")[1], 15, "the banner gone")
    assert served.get(DEAL_PAGE)[0] == 200


@pytest.mark.slow  # a serve/build process
def test_a_template_error_keeps_the_last_good_site(served: Served) -> None:
    before = served.get("index.html")[1]
    (served.root / "site-templates").mkdir()
    (served.root / "site-templates/_footer.html").write_text("<footer>{% if %}</footer>\n", encoding="utf-8")
    wait_until(lambda: "plaintext-crm-problems" in served.get("index.html")[1], 30, "the banner")
    page = served.get("index.html")[1]
    assert "site-templates/_footer.html:1" in page
    assert without_policy(page.split('<div id="plaintext-crm-problems"')[0]) == \
        without_policy(before.split("<script>/* plaintext-crm")[0])
    (served.root / "site-templates/_footer.html").write_text("<footer>Fixed footer</footer>\n", encoding="utf-8")
    wait_until(lambda: "Fixed footer" in served.get("index.html")[1], 30, "the fixed footer")
    wait_until(lambda: "plaintext-crm-problems" not in served.get("index.html")[1], 10, "the banner gone")


@pytest.mark.slow  # a serve/build process
def test_ctrl_c_stops_cleanly(example: Path) -> None:
    server = Served(example, free_port())
    assert server.stop() == 0
    assert "Traceback" not in "".join(server.errors)
    assert "Stopped." in "".join(server.output)


@pytest.mark.slow  # a serve/build process
def test_a_port_in_use_is_a_clear_error(example: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "plaintext_crm", "serve", str(example), "--port", str(port)],
                                check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "already in use" in result.stderr and f"--port {port + 1}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a serve/build process
def test_build_watch_rebuilds_without_serving(example: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "plaintext_crm", "build", str(example), "--watch", "--today",
                                EXAMPLE_TODAY], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        page = example / "site" / DEAL_PAGE
        # "Watching" comes after the first build, and the watcher runs from before it: the edit is seen.
        wait_until(lambda: any(line.startswith("Watching") for line in lines) or process.poll() is not None, 120,
                   "the first build")
        assert page.is_file(), "".join(lines)
        edit(example, DEAL, lambda text: set_value(text, 123987))
        wait_until(lambda: "123,987" in page.read_text(encoding="utf-8"), 60, "the rebuilt page")
        assert EVENTS_PATH not in page.read_text(encoding="utf-8")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)  # a rebuild under way finishes first; a loaded CI machine may take long
        reader.join(timeout=20)
    output = "".join(lines)
    assert process.returncode == 0 and "Traceback" not in output


# --- the parts ---------------------------------------------------------------------------------------

def test_inject_puts_the_snippet_before_the_last_body_end() -> None:
    assert inject(b"<body><p>x</p></body></html>", "<s>") == b"<body><p>x</p><s></body></html>"
    assert inject(b"plain", "<s>") == b"plain<s>"


def test_banner_escapes_and_lists_problems() -> None:
    text = banner([BuildProblem("deals/a<b>.md:3", "F001 invalid YAML: <oops>")])
    assert "deals/a&lt;b&gt;.md:3" in text and "&lt;oops&gt;" in text
    assert banner([]) == ""


def test_live_reload_tokens() -> None:
    live = LiveReload()
    token = live.token()
    assert live.seen(token) == 0
    assert live.seen("otherrun-3") == -1  # a page from an earlier server run reloads at once
    assert live.seen("") == 0
    live.changed([BuildProblem("x.md:1", "F001 bad")])
    assert live.wait_past(0, 0.01) == 1 and "x.md:1" in live.snippet()


def test_pages_reload_only_when_they_or_the_problems_changed() -> None:
    live = LiveReload()
    live.changed([], frozenset({"deals/a.html"}))
    assert live.affects("deals/a.html", 0, 1) and not live.affects("index.html", 0, 1)
    live.changed([], frozenset())  # nothing written: no new generation
    assert live.generation == 1
    live.changed([BuildProblem("deals/b.md:2", "F001 bad")], frozenset({"deals/a.html"}))  # a new banner
    assert live.affects("index.html", 1, 2)
    live.changed([BuildProblem("deals/b.md:2", "F001 bad")], None)  # a full build
    assert live.affects("clients/index.html", 2, 3)
    assert live.affects("index.html", -1, 3)  # a page from an earlier run


@pytest.mark.parametrize(("pathname", "page"), [("/", "index.html"), ("/deals/a%20b.html", "deals/a b.html"),
                                                 ("/clients/", "clients/index.html"), ("/data.json", "data.json")])
def test_page_of(pathname: str, page: str) -> None:
    assert page_of(pathname) == page


def test_events_stream_says_reload_after_a_change(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body>hi</body></html>", encoding="utf-8")
    live = LiveReload()
    server = make_server("127.0.0.1", 0, tmp_path, live, threading.Lock())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        status, page = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and f"since={live.token()}" in page
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(f"GET {EVENTS_PATH}?since={live.token()} HTTP/1.0\r\n\r\n".encode())
            received = b""
            while b"retry:" not in received:
                received += connection.recv(4096)
            live.changed([])
            while b"event: reload" not in received:
                received += connection.recv(4096)
        assert b"text/event-stream" in received
    finally:
        live.stop()
        server.shutdown()
        server.server_close()


def test_server_falls_back_to_the_last_good_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("ok", encoding="utf-8")
    server = SiteServer(("127.0.0.1", 0), tmp_path, LiveReload(), threading.Lock(),
                        lambda rel: b"kept" if rel == "deals/a.html" else None)
    try:
        assert server.read(tmp_path / "deals/a.html") == b"kept"
        assert server.read(tmp_path / "deals/b.html") is None
    finally:
        server.server_close()


def test_make_server_port_in_use_is_a_tool_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ToolError, match="already in use.*--port"):
            make_server("127.0.0.1", taken.getsockname()[1], tmp_path, LiveReload(), threading.Lock())


@pytest.mark.slow  # a serve/build process
def test_serve_help_lists_the_options() -> None:
    result = subprocess.run([sys.executable, "-m", "plaintext_crm", "serve", "--help"], check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for option in ("--port", "--host", "--today", "--out"):
        assert option in result.stdout


def test_today_is_fixed_by_the_option_and_read_again_at_each_rebuild_without_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    import click
    from click.testing import CliRunner

    from plaintext_crm.options import today_option
    from plaintext_crm.site.watch import today_source

    sources = []

    @click.command()
    @today_option
    def probe(today: dt.date) -> None:
        sources.append(today_source(today))

    monkeypatch.delenv("PLAINTEXT_CRM_TODAY", raising=False)
    assert CliRunner().invoke(probe, ["--today", "2026-01-02"]).exit_code == 0
    assert CliRunner().invoke(probe, []).exit_code == 0
    monkeypatch.setenv("PLAINTEXT_CRM_TODAY", "2026-03-04")  # as if the calendar moved on
    assert sources[0]() == dt.date(2026, 1, 2)
    assert sources[1]() == dt.date(2026, 3, 4)
