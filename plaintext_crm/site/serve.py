"""Serve the last good site over HTTP on loopback, with live reload over Server-Sent Events and a problem banner.

Only the served responses carry the reload script and the banner; the files on disk are exactly what
`plaintext-crm build` writes.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.site.http_checks import HostPolicy, Target, parse_target
from plaintext_crm.site.security import allow_inline, inline_scripts, inline_styles
from plaintext_crm.site.watch import BuildProblem, LiveSite, interrupt_main_process_only

EVENTS_PATH = "/__plaintext-crm/events"
Fallback = Callable[[str], "bytes | None"]  # site-relative path -> bytes to serve when the file is missing
KEEPALIVE_SECONDS = 15.0
HISTORY = 500  # changes remembered to tell a page whether it changed; an older page simply reloads
BANNER_ID = "plaintext-crm-problems"


class LiveReload:
    """What open pages wait for: a generation number bumped after each publish (with the site paths it
    changed, so that a page reloads only when it changed), and the current problems."""

    def __init__(self) -> None:
        self.instance = secrets.token_hex(4)  # a restarted server makes pages from the old one reload
        self.generation = 0
        self.changes: list[tuple[int, frozenset[str] | None]] = []  # (generation, paths; None: all)
        self.problems: tuple[BuildProblem, ...] = ()
        self.stopping = False
        self.condition = threading.Condition()

    def changed(self, problems: Sequence[BuildProblem], outputs: frozenset[str] | None = None) -> None:
        """The site paths `outputs` (None: any) or the problems changed: pages showing them should reload."""
        with self.condition:
            problems = tuple(problems)
            if problems != self.problems:
                outputs = None  # the banner is on every page
            self.problems = problems
            if outputs is not None and not outputs:
                return
            self.generation += 1
            self.changes.append((self.generation, outputs))
            del self.changes[:-HISTORY]
            self.condition.notify_all()

    def affects(self, page: str, seen: int, generation: int) -> bool:
        """Whether a change after generation `seen` up to `generation` touched the site path `page`."""
        with self.condition:
            if not self.changes or self.changes[0][0] > seen + 1:
                return True  # the changes since are forgotten (or the page is from another run)
            return any(outputs is None or page in outputs
                       for number, outputs in self.changes if seen < number <= generation)

    def stop(self) -> None:
        """Release every waiting event stream."""
        with self.condition:
            self.stopping = True
            self.condition.notify_all()

    def token(self) -> str:
        return f"{self.instance}-{self.generation}"

    def seen(self, token: str) -> int:
        """The generation a page was served at; -1 (reload now) for a page of another server run."""
        instance, _, generation = token.partition("-")
        if instance != self.instance or not generation.isdigit():
            return -1 if token else self.generation
        return int(generation)

    def wait_past(self, seen: int, timeout: float) -> int:
        """Wait until the generation is past `seen`, the server stops, or `timeout`; the generation."""
        with self.condition:
            self.condition.wait_for(lambda: self.generation > seen or self.stopping, timeout)
            return self.generation

    def snippet(self) -> str:
        """The banner (when there are problems) and the reload script added to served HTML pages."""
        with self.condition:
            token, problems = self.token(), self.problems
        script = ("<script>/* plaintext-crm serve: live reload (not in the built files) */(function(){"
                  "if(!window.EventSource)return;"
                  f"var s=new EventSource(\"{EVENTS_PATH}?since={token}&page=\"+"
                  "encodeURIComponent(location.pathname));"
                  "s.addEventListener(\"reload\",function(){s.close();location.reload();});})();</script>")
        return banner(problems) + script


def page_of(pathname: str) -> str:
    """The site path a browser location shows: "/deals/a.html" -> "deals/a.html", "/" -> "index.html"."""
    page = unquote(pathname).lstrip("/")
    return page + "index.html" if page == "" or page.endswith("/") else page


# The banner's look, as a style element: pages allow no style attributes, and inject() allows this by hash.
BANNER_STYLE = (f"#{BANNER_ID}{{position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;padding:.6em 1em;"
                "max-height:40vh;overflow:auto;background:#7f1d1d;color:#fff;font:14px/1.45 system-ui,sans-serif}"
                f"#{BANNER_ID} ul{{margin:.3em 0 0;padding-left:1.2em}}")


def banner(problems: Sequence[BuildProblem]) -> str:
    """A fixed banner listing problems as file:line and message; empty without problems."""
    if not problems:
        return ""
    items = "".join(f"<li><code>{html.escape(problem.where)}</code> {html.escape(problem.message)}</li>"
                    if problem.where else f"<li>{html.escape(problem.message)}</li>" for problem in problems)
    return (f'<div id="{BANNER_ID}" role="alert">'
            "<strong>plaintext-crm serve: the last save has problems; pages show the last good build "
            f"of these files.</strong><ul>{items}</ul></div><style>{BANNER_STYLE}</style>")


def inject(page: bytes, snippet: str) -> bytes:
    """`page` with `snippet` inserted before its last </body> (appended when there is none), and the
    page's Content-Security-Policy allowing the snippet's inline script and style by their hashes."""
    page = allow_inline(page, scripts=inline_scripts(snippet), styles=inline_styles(snippet))
    data = snippet.encode("utf-8")
    index = page.rfind(b"</body>")
    return page + data if index < 0 else page[:index] + data + page[index:]


class SiteHandler(SimpleHTTPRequestHandler):
    """GET and HEAD of the site's files; HTML gets the reload script; EVENTS_PATH is the event stream.

    Every request is checked before it is answered (plaintext_crm/site/http_checks.py): a Host that is not
    loopback or the --host address gets 421, a malformed target 400 or 414, a path that leads out of
    the site folder 404.
    """

    server: SiteServer
    target: Target
    # Seconds to wait for a request (and for a client to take data): an idle or half-sent connection is
    # closed instead of holding a thread for ever. The event stream writes every KEEPALIVE_SECONDS.
    timeout = 10.0

    def parse_request(self) -> bool:
        """The standard parsing (request line, version, headers: 400, 414, 431, 505), then the Host and
        the target; False (with the error sent) when the request is refused."""
        if not super().parse_request():
            return False
        hosts = self.headers.get_all("Host") or []
        # HTTP/1.0 may leave Host out (browsers, the only way to a DNS rebinding attack, never do).
        optional = self.request_version == "HTTP/1.0" and not hosts
        if self.headers.defects or (len(hosts) != 1 and not optional):
            self.send_error(HTTPStatus.BAD_REQUEST, "exactly one Host header is required")
            return False
        if not optional and not self.server.hosts.accepts(hosts[0]):
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "plaintext-crm serve answers only to localhost, "
                            "127.0.0.1 and [::1] (and its --host address)")
            return False
        target = parse_target(self.path)
        if not isinstance(target, Target):
            self.send_error(*target)
            return False
        self.target = target
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A short plain-text error that closes the connection (never echoes the request)."""
        self.close_connection = True
        try:
            body = f"{code} {message or HTTPStatus(code).phrase}\n".encode()
            self.send_response(code, HTTPStatus(code).phrase)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass  # the client went away

    def do_GET(self) -> None:
        self._guarded(head=False)

    def do_HEAD(self) -> None:
        self._guarded(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal is for build messages."""

    def _guarded(self, head: bool) -> None:
        try:
            self._respond(head)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - one bad request must not print a traceback or stop serving
            click.echo(f"warning: serve: could not answer {self.target.path!r}: {type(exc).__name__}: {exc}",
                       err=True)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)

    def _respond(self, head: bool) -> None:
        target = self.target
        if target.path == EVENTS_PATH:
            query = parse_qs(target.query)
            self._events(query.get("since", [""])[0], page_of(query.get("page", ["/"])[0]))
            return
        path = self.server.site_file(target)
        if path is not None and path.is_dir():
            if not target.folder:
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", target.location())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = path / "index.html"
        # The snippet (with the generation it was served at) is taken before the file is read: a rebuild
        # published in between then makes the page reload once more, rather than miss a change.
        snippet = self.server.live.snippet()
        data = self.server.read(path) if path is not None else None
        status = HTTPStatus.OK
        content_type = self.guess_type(os.fspath(path or target.path))
        if data is None:
            status, content_type = HTTPStatus.NOT_FOUND, "text/html"
            data = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Not found</title></head><body>"
                    f"<p>{html.escape(target.path)} is not in the site (yet). This page reloads when the site is "
                    "rebuilt.</p><p><a href=\"/\">Overview</a></p></body></html>").encode()
        if content_type.startswith("text/html"):
            data = inject(data, snippet)
        if content_type.startswith("text/") or content_type in ("application/json", "application/javascript"):
            content_type += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self._write(data)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            return False
        return True

    def _events(self, since: str, page: str) -> None:
        """Server-Sent Events: `reload` once `page` (or the banner) changed; a comment now and then."""
        live = self.server.live
        seen = live.seen(since)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not self._write(b"retry: 1000\n\n"):
            return
        while True:
            generation = live.wait_past(seen, KEEPALIVE_SECONDS)
            if live.stopping:
                return
            if generation > seen and live.affects(page, seen, generation):
                message = f"event: reload\ndata: {generation}\n\n".encode()
            elif generation > seen:
                seen = generation
                continue
            else:
                message = b": still here\n\n"
            seen = generation
            if not self._write(message):
                return


class SiteServer(ThreadingHTTPServer):
    """A threading HTTP server for one output folder; request threads never block shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], out: Path, live: LiveReload, lock: threading.Lock,
                 fallback: Fallback | None = None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.out = out
        self.live = live
        self.lock = lock
        self.fallback = fallback
        self.hosts = HostPolicy(address[0])
        super().__init__(address, partial(SiteHandler, directory=os.fspath(out)))

    def site_file(self, target: Target) -> Path | None:
        """The file or folder of the site a checked target names; None when it leads out of the site
        folder (a link) or cannot be looked at."""
        path = self.out.joinpath(*target.parts)
        try:
            real, top = os.path.realpath(path), os.path.realpath(self.out)
        except (OSError, ValueError):
            return None
        return path if real == top or real.startswith(top + os.sep) else None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed unexpectedly: one line in the terminal, no traceback; serving goes on."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            click.echo(f"warning: serve: a request failed: {type(error).__name__}: {error}", err=True)

    def read(self, path: Path) -> bytes | None:
        """A file of the site, read while no rebuild is replacing files; else the last good version of a
        page whose record no longer parses; None when neither exists."""
        for _attempt in range(40):
            with self.lock:
                try:
                    return path.read_bytes()
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    if self.out.is_dir():
                        return self._fallback(path)
                except OSError:  # unreadable, a link loop, a name too long: not something to serve
                    return None
            time.sleep(0.05)  # a full build is swapping its folder in: wait for it
        return None


    def _fallback(self, path: Path) -> bytes | None:
        if self.fallback is None:
            return None
        try:
            rel = path.relative_to(self.out).as_posix()
        except ValueError:
            return None
        return self.fallback(rel)


def make_server(host: str, port: int, out: Path, live: LiveReload, lock: threading.Lock,
                fallback: Fallback | None = None) -> SiteServer:
    """Bind the server; a port in use or a bad address is a clear tool error."""
    try:
        return SiteServer((host, port), out, live, lock, fallback)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ToolError(f"cannot serve on {host}:{port}: the port is already in use (another "
                            f"`plaintext-crm serve`?); choose another with --port, e.g. --port {port + 1}") from None
        if exc.errno == errno.EACCES:
            raise ToolError(f"cannot serve on {host}:{port}: permission denied; ports below 1024 need "
                            "privileges, use --port 8000 or higher") from None
        raise ToolError(f"cannot serve on {host}:{port}: {exc.strerror or exc}; check --host") from None


def url_of(server: SiteServer) -> str:
    """The address to open in a browser."""
    address = server.server_address
    host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
    port = address[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve_site(root: Path, out: Path, today: Callable[[], dt.date], *, host: str, port: int,
               use_cache: bool = True, jobs: int | None = None, audience: str | None = None,
               passphrase: str | None = None) -> None:
    """`plaintext-crm serve`: serve `out` at once, build, then rebuild and reload pages after every save.

    With an audience or a passphrase, every rebuild is a whole build of that site (published_serve.py).
    """
    live = LiveReload()
    lock = threading.Lock()
    make_site = None
    if audience is not None or passphrase is not None:
        from plaintext_crm.site.published_serve import PublishedSite

        make_site = partial(PublishedSite, audience=audience, passphrase=passphrase)
    site = LiveSite(root, out, today, echo=click.echo, warn=lambda text: click.echo(text, err=True),
                    use_cache=use_cache, jobs=jobs, lock=lock, on_change=live.changed, preview=True,
                    make_site=make_site)
    server = make_server(host, port, site.out, live, lock, site.site.last_good_page)
    thread = threading.Thread(target=server.serve_forever, name="plaintext-crm-serve", daemon=True)
    stop = threading.Event()
    interrupt_main_process_only()
    try:
        thread.start()
        click.echo(f"Serving {site.out} on {url_of(server)} (building first; Ctrl-C stops)")
        site.start()
        click.echo(f"Watching {root} for changes; open pages reload after each rebuild")
        site.run(stop)
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        stop.set()
        live.stop()
        if thread.is_alive():
            server.shutdown()
        server.server_close()
        site.close()
