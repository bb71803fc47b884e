"""Delivering digests: SMTP (STARTTLS) and webhook posts, each retried a bounded number of times.

Secrets come from the environment only, never from crm.yaml: PLAINTEXT_CRM_SMTP_PASSWORD,
PLAINTEXT_CRM_WEBHOOK_URL and (Matrix) PLAINTEXT_CRM_WEBHOOK_TOKEN.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from plaintext_crm.records.notify_settings import EmailSettings

SMTP_PASSWORD_ENV = "PLAINTEXT_CRM_SMTP_PASSWORD"
WEBHOOK_URL_ENV = "PLAINTEXT_CRM_WEBHOOK_URL"
WEBHOOK_TOKEN_ENV = "PLAINTEXT_CRM_WEBHOOK_TOKEN"
RETRY_DELAYS: Sequence[float] = (2.0, 8.0)  # seconds before the 2nd and 3rd attempts: three in all
TIMEOUT = 30.0


class Permanent(Exception):
    """A failure that another attempt will not fix (refused recipient, 4xx answer, bad login)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one delivery: sent (after how many attempts) or why not."""

    ok: bool
    attempts: int
    error: str = ""


def with_retries(attempt: Callable[[], None], delays: Sequence[float] = RETRY_DELAYS,
                 sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Run `attempt` until it succeeds, at most len(delays) + 1 times; a Permanent failure stops at once."""
    for number in range(1, len(delays) + 2):
        try:
            attempt()
            return Outcome(True, number)
        except Permanent as exc:
            return Outcome(False, number, str(exc))
        except (OSError, smtplib.SMTPException) as exc:
            if number > len(delays):
                return Outcome(False, number, _describe(exc))
            sleep(delays[number - 1])
    raise AssertionError("unreachable")  # pragma: no cover


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the server: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def smtp_attempt(message: EmailMessage, settings: EmailSettings, password: str | None) -> Callable[[], None]:
    """One attempt at handing `message` to the SMTP server: STARTTLS when set (port 465: TLS from the start),
    a login when a password is given. Refused recipients and a refused login are permanent failures."""

    def attempt() -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if settings.port == 465:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with client:
            client.ehlo()
            if settings.starttls and settings.port != 465:
                client.starttls(context=context)
                client.ehlo()
            if password:
                try:
                    client.login(settings.username or parseaddr(settings.sender)[1], password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise Permanent(f"the SMTP server refused the login: {exc.smtp_code}") from None
            try:
                client.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                raise Permanent(f"the SMTP server refused the message: {exc}") from None

    return attempt


def matrix_send_url(url: str, transaction: str) -> str | None:
    """A Matrix client-server `.../send/m.room.message` URL completed with a transaction id (sent with PUT,
    so the homeserver itself drops a repeat); None for any other URL."""
    base, _, query = url.partition("?")
    if "/_matrix/client/" not in base or not base.rstrip("/").endswith("/send/m.room.message"):
        return None
    txn = hashlib.sha256(transaction.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{base.rstrip('/')}/{txn}" + (f"?{query}" if query else "")


def http_attempt(url: str, payload: dict[str, Any], *, method: str = "POST",
                 token: str | None = None) -> Callable[[], None]:
    """One attempt at posting `payload` as JSON; 2xx is success, 5xx, 429 and network errors are retried."""
    body = json.dumps(payload, ensure_ascii=True).encode("ascii")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "plaintext-crm notify"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def attempt() -> None:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise Permanent(f"the webhook answered HTTP {exc.code} {exc.reason}") from None
            raise

    return attempt
