"""`serve` answers only to loopback names (DNS rebinding), and any malformed request gets a 4xx, never a file
outside the site folder, never a traceback. A real `serve` on 127.0.0.1 and a free port, raw sockets."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import MINIMAL_CONFIG, wait_until

TODAY = "2026-11-26"
SECRET = "Confidential pricing for Acme"
FILES = {
    "crm.yaml": MINIMAL_CONFIG + f"# {SECRET}\n",
    "clients/acme.md": "---\nname: Acme\nowner: ana\n---\n",
    "deals/acme-site.md": f"---\ntitle: {SECRET}\nclient: acme\nowner: ana\nstage: lead\nvalue: 1000\n"
                          "next_action: Call\nnext_action_due: 2026-12-01\n---\n",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raw(port: int, request: bytes, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """Send `request` as is; the status code (0: no status line) and the whole answer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as connection:
        connection.settimeout(10)
        connection.connect((host, port))
        try:
            connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    answer = b"".join(chunks)
    parts = answer.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), answer


def get(port: int, target: str, host_header: str | None = None, method: str = "GET", address: str = "127.0.0.1"
        ) -> tuple[int, bytes]:
    host_header = f"{address}:{port}" if host_header is None else host_header
    return raw(port, f"{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode(),
               address)


def listening(port: int, address: str) -> bool:
    try:
        socket.create_connection((address, port), timeout=1).close()
        return True
    except OSError:
        return False


class Server:
    def __init__(self, root: Path, address: str = "127.0.0.1") -> None:
        self.port = free_port()
        env = {**os.environ, "PLAINTEXT_CRM_TODAY": TODAY}
        self.process = subprocess.Popen([sys.executable, "-m", "plaintext_crm", "serve", str(root), "--port",
                                         str(self.port), "--host", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env)
        self.errors: list[str] = []
        self.output: list[str] = []
        for stream, lines in ((self.process.stderr, self.errors), (self.process.stdout, self.output)):
            threading.Thread(target=lambda s=stream, seen=lines: seen.extend(iter(s.readline, "")),
                             daemon=True).start()
        wait_until(lambda: listening(self.port, address) or self.process.poll() is not None, 60, "the server listening")
        assert self.process.poll() is None, "".join(self.errors)
        wait_until(lambda: get(self.port, "/data.json", address=address)[0] == 200, 120, "the first build")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=20)
        return "".join(self.errors)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve") / "ws"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "site").mkdir()
    server = Server(root)
    os.symlink(root / "crm.yaml", root / "site" / "leak.txt")  # a link in the site folder to a file outside it
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


# --- Host: DNS rebinding ------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "127.0.0.1", "localhost:{port}", "LocalHost", "localhost.",
                                  "127.9.8.7:{port}", "[::1]:{port}", "[::1]"])
def test_loopback_names_are_served(served: Server, host: str) -> None:
    status, answer = get(served.port, "/data.json", host.format(port=served.port))
    assert status == 200 and SECRET.encode() in answer


@pytest.mark.parametrize("host", [
    "attacker.example", "attacker.example:{port}", "localhost.attacker.example", "127.0.0.1.nip.io:{port}",
    "evil.localhost", "0x7f000001", "2130706433", "127.1", "[::1", "::1", "127.0.0.1:abc", "127.0.0.1:{port}:1",
    "user@127.0.0.1", "127.0.0.1\t1", "", "192.168.1.10:{port}", "[::ffff:7f00:1]x",
])
def test_other_host_names_are_refused(served: Server, host: str) -> None:
    for target, method in (("/data.json", "GET"), ("/", "GET"), ("/index.html", "HEAD"),
                           ("/__plaintext-crm/events?since=", "GET")):
        status, answer = get(served.port, target, host.format(port=served.port), method)
        assert status in (400, 421), (target, answer[:300])
        assert SECRET.encode() not in answer and len(answer) < 2000


def test_a_request_without_host_or_with_two_is_refused(served: Server) -> None:
    assert raw(served.port, b"GET /data.json HTTP/1.1\r\nConnection: close\r\n\r\n")[0] == 400
    assert raw(served.port, b"GET /data.json HTTP/1.0\r\n\r\n")[0] == 200  # Host is optional in HTTP/1.0
    two = f"GET /data.json HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nHost: attacker.example\r\n\r\n".encode()
    assert raw(served.port, two)[0] in (400, 421)


def test_http_client_with_the_default_host_works(served: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    connection.request("GET", "/data.json")
    response = connection.getresponse()
    assert response.status == 200 and SECRET.encode() in response.read()
    connection.close()


# --- malformed targets -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/%00", "/index.html%00.png", "/%2e%2e/crm.yaml", "/%2E%2E/%2e%2e/etc/passwd", "/..%2fcrm.yaml",
    "/..%2Fcrm.yaml", "/%2e%2e%5ccrm.yaml", "/..\\crm.yaml", "/deals\\..\\..\\crm.yaml", "/%5c..%5ccrm.yaml",
    "/%ff%fe", "/%C0%AE%C0%AE/crm.yaml", "/%c0%af", "/a%", "/a%2", "/a%zz", "/../crm.yaml", "/deals/../../crm.yaml",
    "/./../crm.yaml", "//etc/passwd", "///crm.yaml", "http://127.0.0.1/../crm.yaml", "http://attacker.example/data.json",
    "data.json", "*", "/%0d%0aSet-Cookie:x=1", "/%7f", "/\x7f", "/\x01",
    "/" + "a" * 9000, "/" + "%2e%2e/" * 2000, "/deals/" + "x/" * 3000,
])
def test_malformed_targets_get_a_client_error(served: Server, target: str) -> None:
    status, answer = raw(served.port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                                      "Connection: close\r\n\r\n".encode("latin-1"))
    assert 400 <= status < 500, (target[:60], answer[:300])
    assert SECRET.encode() not in answer and b"root:" not in answer
    assert b"Set-Cookie" not in answer.split(b"\r\n\r\n")[0]
    assert get(served.port, "/data.json")[0] == 200  # still serving


@pytest.mark.parametrize("request_bytes", [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(200)) + b"\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",  # a TLS hello
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost\r\n\r\n",
    b"BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST /data.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc",
])
def test_malformed_requests_get_a_client_error(served: Server, request_bytes: bytes) -> None:
    status, answer = raw(served.port, request_bytes)
    assert status == 0 or 400 <= status < 600, answer[:300]
    assert SECRET.encode() not in answer
    assert get(served.port, "/data.json")[0] == 200


def test_an_idle_or_half_sent_request_does_not_hold_up_others(served: Server) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as idle, \
            socket.create_connection(("127.0.0.1", served.port)) as half:
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00")  # a TLS hello: no line end ever comes
        assert get(served.port, "/data.json")[0] == 200
        half.settimeout(60)
        assert half.recv(100) == b""  # closed by the server once its request timeout passed
    assert idle.fileno() == -1


def test_nothing_outside_the_site_folder_is_served(served: Server) -> None:
    assert get(served.port, "/leak.txt")[0] == 404
    assert get(served.port, "/crm.yaml")[0] == 404


def test_good_paths_still_work(served: Server) -> None:
    assert get(served.port, "/")[0] == 200
    assert get(served.port, "/index.html?x=1#top")[0] == 200
    status, answer = get(served.port, "/deals")
    assert status == 301 and b"\r\nLocation: /deals/\r\n" in answer
    assert get(served.port, "/deals/acme-site.html")[0] == 200
    assert get(served.port, "/deals/acme%2Dsite.html")[0] == 200  # percent-encoded, still inside
    assert get(served.port, "/no-such-page.html")[0] == 404
    status, answer = get(served.port, "/deals//acme-site.html")
    assert status in (200, 404) and b"Traceback" not in answer


def test_redirects_never_leave_the_server(served: Server) -> None:
    for target in ("//attacker.example/deals", "/%2fattacker.example/deals", "/\\attacker.example"):
        _status, answer = get(served.port, target)
        head = answer.split(b"\r\n\r\n")[0]
        assert b"attacker" not in head, head


# --- --host ------------------------------------------------------------------------------------------

def test_the_host_given_is_accepted_too(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    server = Server(root, "127.0.0.2")
    try:
        assert get(server.port, "/data.json", f"127.0.0.2:{server.port}", address="127.0.0.2")[0] == 200
        assert get(server.port, "/data.json", "localhost", address="127.0.0.2")[0] == 200
        assert get(server.port, "/data.json", "attacker.example", address="127.0.0.2")[0] == 421
    finally:
        assert "Traceback" not in server.stop()


# --- the checks themselves -------------------------------------------------------------------------------

def test_host_policy_for_each_kind_of_listening_address() -> None:
    from plaintext_crm.site.http_checks import HostPolicy

    loopback = HostPolicy("127.0.0.1")
    assert all(loopback.accepts(value) for value in ("localhost", "127.0.0.1:8000", "[::1]:8000", "127.255.0.1"))
    assert not any(loopback.accepts(value) for value in ("10.0.0.5:8000", socket.gethostname(), "attacker.example",
                                                          None))
    everywhere = HostPolicy("0.0.0.0")
    assert everywhere.accepts("192.168.1.10:8000") and everywhere.accepts(f"{socket.gethostname()}:8000")
    assert everywhere.accepts("[fe80::1]:8000") and everywhere.accepts("localhost")
    assert not everywhere.accepts("attacker.example:8000") and not everywhere.accepts("192.168.1.10.nip.io")
    named = HostPolicy("crm.lan")
    assert named.accepts("CRM.lan:8000") and named.accepts("crm.lan.") and not named.accepts("crm.lan.evil.example")
    v6 = HostPolicy("::1")
    assert v6.accepts("[::1]:8000") and not v6.accepts("[::2]:8000")


def test_parse_target_keeps_good_paths_and_says_why_it_refuses_others() -> None:
    from plaintext_crm.site.http_checks import Target, parse_target

    target = parse_target("/deals/acme%20site.html?since=x-1")
    assert isinstance(target, Target)
    assert target.parts == ("deals", "acme site.html") and target.query == "since=x-1" and not target.folder
    folder = parse_target("/deals")
    assert isinstance(folder, Target) and folder.location() == "/deals/"
    root = parse_target("/")
    assert isinstance(root, Target) and root.parts == () and root.path == "/"
    for raw_target in ("/%00", "/a/../b", "/%2e", "/a\\b", "/%5c", "/%ff", "/%", "http://x/", "/\u00e9"):
        refused = parse_target(raw_target)
        assert isinstance(refused, tuple) and 400 <= refused[0] < 500, raw_target
