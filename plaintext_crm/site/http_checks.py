"""What `serve` accepts of a request: the Host it names (against DNS rebinding) and a target inside the site.

A web page on another site can make the browser send requests to 127.0.0.1 under the page's own host
name (DNS rebinding); only the Host header tells such a request apart, so the server answers only to
loopback names and to the address it was told to listen on. A request target is read strictly: only
an absolute path of visible ASCII with well-formed percent-escapes of UTF-8, no control characters,
backslashes or dot segments once decoded; anything else is a client error, never a file outside the
site folder.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, unquote_to_bytes

MAX_TARGET = 4096  # characters of a request target; the site's longest path is a small fraction of this
MAX_SEGMENT = 255  # bytes of one path segment: longer names cannot exist in the site folder
WILDCARDS = ("", "0.0.0.0", "::")
_ESCAPES = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_PORT = re.compile(r"(?::[0-9]{0,5})?")


def host_name(value: str) -> str | None:
    """The host of a Host header value (`name`, `name:port`, `[v6]:port`), lower case, without a final
    dot; None when the value is not a plain host and optional port."""
    if value.startswith("["):
        end = value.find("]")
        host, rest = (value[1:end], value[end + 1:]) if end > 0 else ("", "")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    else:
        host, colon, port = value.partition(":")
        rest = colon + port
        if not host or not all(char.isalnum() or char in "-._" for char in host) or not host.isascii():
            return None
    if not _PORT.fullmatch(rest):
        return None
    return host.lower().removesuffix(".") if not host.endswith("..") else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """localhost, an address of 127.0.0.0/8 (dotted, as browsers send it) or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """The Host names a server listening on `bound` (its --host) answers to."""

    def __init__(self, bound: str) -> None:
        bound = bound.strip("[]").lower().removesuffix(".")
        self.bound = bound
        self.names = {bound} if bound not in WILDCARDS else set()
        self.any_address = bound in WILDCARDS
        if self.any_address:
            # Listening on every interface: people on the network use this computer's address or name.
            name = socket.gethostname().lower()
            self.names |= {name, f"{name}.local", name.partition(".")[0]}

    def accepts(self, value: str | None) -> bool:
        host = host_name(value) if value is not None else None
        if host is None:
            return False
        # An IP address in the Host header cannot be rebound: only a name can. Loopback ones are always
        # fine; others only when the server listens on every interface or on that address.
        return is_loopback(host) or host in self.names or (self.any_address and _is_ip(host))


@dataclass(frozen=True)
class Target:
    """A request target that names something inside the site folder."""

    parts: tuple[str, ...]  # decoded path segments; none is empty, "." or ".."
    folder: bool  # the path ends with "/"
    query: str

    @property
    def path(self) -> str:
        """The decoded path, normalised: "/", "/deals/", "/deals/a.html"."""
        inner = "/".join(self.parts)
        return "/" + inner + ("/" if self.folder and inner else "")

    def location(self) -> str:
        """The path with a trailing slash, percent-encoded, for a redirect that stays on this server."""
        # The query was checked to be visible ASCII: it goes back as it came.
        return quote(self.path.rstrip("/") + "/") + (f"?{self.query}" if self.query else "")


def parse_target(raw: str) -> Target | tuple[HTTPStatus, str]:
    """The site path a request target names, or the status and short reason to answer instead."""
    if len(raw) > MAX_TARGET:
        return HTTPStatus.REQUEST_URI_TOO_LONG, "the request target is too long"
    if not raw.startswith("/"):
        return HTTPStatus.BAD_REQUEST, "the request target must be a path starting with /"
    if not all("!" <= char <= "~" for char in raw):
        return HTTPStatus.BAD_REQUEST, "the request target holds characters a URL cannot hold"
    path, _, query = raw.partition("#")[0].partition("?")
    if "\\" in path:
        return HTTPStatus.BAD_REQUEST, "backslashes are not path separators here"
    if not _ESCAPES.fullmatch(path):
        return HTTPStatus.BAD_REQUEST, "malformed percent-escape in the path"
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return HTTPStatus.BAD_REQUEST, "the path is not UTF-8"
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char == "\\" for char in decoded):
        return HTTPStatus.BAD_REQUEST, "the path holds control characters or backslashes"
    segments = decoded.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        return HTTPStatus.BAD_REQUEST, "the path may not hold . or .. segments"
    parts = tuple(segment for segment in segments if segment)
    if any(len(part.encode()) > MAX_SEGMENT for part in parts):
        return HTTPStatus.NOT_FOUND, "no such file"
    return Target(parts, decoded.endswith("/"), query)
