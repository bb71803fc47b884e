"""crm.yaml's `site_url` and `notify:` (how daily digests are sent and scheduled), read into typed settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

KeyPath = tuple[str | int, ...]
Problem = Callable[[KeyPath, str], None]

WEBHOOK_KINDS = ("slack", "teams", "matrix", "generic")
EMAIL_KEYS = ("host", "port", "from", "starttls", "username")
NOTIFY_KEYS = ("email", "webhook", "hour", "time_zone")
DEFAULT_HOUR = 8
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """`notify.email`: the SMTP server digests go through (the password comes from PLAINTEXT_CRM_SMTP_PASSWORD)."""

    host: str
    sender: str  # `from`: "Brightline CRM <crm@brightline.example>"
    port: int = 587
    starttls: bool = True
    username: str | None = None  # the login (default: the sender's address) when a password is given


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """`notify.webhook`: which chat service's payload to post (the URL comes from PLAINTEXT_CRM_WEBHOOK_URL)."""

    kind: str = "generic"  # one of WEBHOOK_KINDS


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """crm.yaml's `notify:`; `written` when the mapping exists (then `ci` adds the scheduled job)."""

    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
    hour: int = DEFAULT_HOUR  # the local hour the scheduled job sends at
    time_zone: str = "UTC"  # an IANA name: Europe/Berlin
    written: bool = False

    @property
    def channels(self) -> tuple[str, ...]:
        """What the scheduled job sends: "email" and/or "webhook", as configured."""
        return tuple(name for name, on in (("email", self.email), ("webhook", self.webhook)) if on is not None)


def known_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _one_address(text: str) -> bool:
    """Whether `text` is one email address, with or without a display name ("CRM <crm@example.com>")."""
    from email.errors import MessageError
    from email.headerregistry import HeaderRegistry

    if any(ord(char) < 32 for char in text):
        return False
    try:
        header = HeaderRegistry()("From", text)
    except (MessageError, ValueError, IndexError):
        return False
    addresses: tuple[Any, ...] = tuple(getattr(header, "addresses", ()))
    return (len(addresses) == 1 and not header.defects and "@" in addresses[0].addr_spec
            and bool(addresses[0].domain))


def read_site_url(raw: Any, problem: Problem) -> str | None:
    """`site_url`: the published site's address (http or https), kept with a trailing slash."""
    if raw is None:
        return None
    try:
        parts = urlsplit(raw.strip()) if isinstance(raw, str) else None
    except ValueError:  # a malformed IPv6 host
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
            or any(char.isspace() or ord(char) < 32 for char in str(raw).strip()):
        problem(("site_url",), "'site_url' must be the published site's http(s) address, like "
                               "https://crm.example.com/")
        return None
    url = raw.strip()
    return url if url.endswith("/") else url + "/"


def read_notify(raw: Any, problem: Problem) -> NotifySettings:
    """`notify: {email: {host, port, from, starttls, username}, webhook: {kind}, hour, time_zone}`."""
    if raw is None:
        return NotifySettings()
    if not isinstance(raw, dict):
        problem(("notify",), "'notify' must be a mapping of email, webhook, hour and time_zone")
        return NotifySettings()
    _unknown(raw, ("notify",), NOTIFY_KEYS, problem)
    hour = raw.get("hour", DEFAULT_HOUR)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        problem(("notify", "hour"), "notify: 'hour' must be a whole hour from 0 to 23")
        hour = DEFAULT_HOUR
    zone = raw.get("time_zone", "UTC")
    if not isinstance(zone, str) or not known_time_zone(zone):
        problem(("notify", "time_zone"), f"notify: time_zone '{zone}' is not a time zone name like Europe/Berlin")
        zone = "UTC"
    return NotifySettings(_email(raw.get("email"), problem), _webhook(raw.get("webhook"), problem), hour, zone,
                          written=True)


def _unknown(raw: Mapping[Any, Any], where: KeyPath, valid: tuple[str, ...], problem: Problem) -> None:
    for key in raw:
        if key not in valid:
            problem((*where, str(key)), f"{'.'.join(map(str, where))}: unknown setting '{key}' "
                                        f"(valid: {', '.join(valid)})")


def _email(raw: Any, problem: Problem) -> EmailSettings | None:
    where: KeyPath = ("notify", "email")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problem(where, "notify: 'email' must be a mapping of host, port, from, starttls, username")
        return None
    _unknown(raw, where, EMAIL_KEYS, problem)
    host, sender = raw.get("host"), raw.get("from")
    port, starttls, username = raw.get("port", 587), raw.get("starttls", True), raw.get("username")
    usable = True
    if not isinstance(host, str) or not _HOST.match(host):
        problem((*where, "host") if "host" in raw else where, "notify.email: 'host' must be the SMTP server's host name")
        usable = False
    if not isinstance(sender, str) or not _one_address(sender):
        problem((*where, "from") if "from" in raw else where, "notify.email: 'from' must be the sender's address, like "
                                  "\"Brightline CRM <crm@brightline.example>\"")
        usable = False
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problem((*where, "port"), "notify.email: 'port' must be a port number from 1 to 65535")
        port = 587
    if not isinstance(starttls, bool):
        problem((*where, "starttls"), "notify.email: 'starttls' must be true or false")
        starttls = True  # the safe reading of a typo
    if username is not None and (not isinstance(username, str) or any(char in username for char in "\r\n")):
        problem((*where, "username"), "notify.email: 'username' must be text")
        username = None
    if not usable:
        return None
    assert isinstance(host, str) and isinstance(sender, str)
    return EmailSettings(host, sender, port, starttls, username)


def _webhook(raw: Any, problem: Problem) -> WebhookSettings | None:
    where: KeyPath = ("notify", "webhook")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problem(where, f"notify: 'webhook' must be a mapping like {{kind: slack}} ({', '.join(WEBHOOK_KINDS)})")
        return None
    _unknown(raw, where, ("kind",), problem)
    kind = raw.get("kind", "generic")
    if kind not in WEBHOOK_KINDS:
        problem((*where, "kind"), f"notify.webhook: kind '{kind}' is not one of {', '.join(WEBHOOK_KINDS)}")
        return None
    return WebhookSettings(str(kind))
