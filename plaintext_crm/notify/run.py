"""`notify` in one function: which digests go to whom by which channel, skipping what the sent-log holds,
then deliver each (or, for a dry run, show exactly what would be sent) and report per recipient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.errors import MessageError
from email.message import EmailMessage
from typing import Any

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import json_dumps, terminal
from plaintext_crm.notify import send
from plaintext_crm.notify.digest import Digest
from plaintext_crm.notify.email_message import build_message
from plaintext_crm.notify.send import (
    SMTP_PASSWORD_ENV,
    WEBHOOK_TOKEN_ENV,
    WEBHOOK_URL_ENV,
    Outcome,
    http_attempt,
    matrix_send_url,
    smtp_attempt,
    with_retries,
)
from plaintext_crm.notify.sent_log import SentLog
from plaintext_crm.notify.webhooks import payload_of
from plaintext_crm.records.notify_settings import NotifySettings


@dataclass(frozen=True, slots=True)
class Delivery:
    """One digest to send: by email (a message) or to the webhook (a payload)."""

    digest: Digest
    channel: str  # "email" or "webhook"
    to: str  # the address, or "the <kind> webhook"
    message: EmailMessage | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What `notify` did: a line per owner (sent, skipped, failed), and whether anything failed."""

    lines: tuple[str, ...]
    failed: int
    sent: int


def check_settings(settings: NotifySettings, via: str, env: dict[str, str], dry_run: bool) -> None:
    """Refuse (ToolError, exit 2) a channel crm.yaml does not configure or whose secret is missing."""
    if via == "email" and settings.email is None:
        raise ToolError("crm.yaml has no usable notify.email: {host, port, from, starttls} (docs/notify.md)")
    if via == "webhook" and not dry_run and not env.get(WEBHOOK_URL_ENV):
        raise ToolError(f"set the webhook's URL in the environment variable {WEBHOOK_URL_ENV} "
                        "(a CI secret; never in the repository)")


def plan(digests: Iterable[Digest], settings: NotifySettings, via: str,
         now: dt.datetime) -> tuple[list[Delivery], list[str]]:
    """The deliveries of the digests that hold something, and a notice for each owner left out."""
    deliveries: list[Delivery] = []
    notices: list[str] = []
    kind = settings.webhook.kind if settings.webhook is not None else "generic"
    for digest in digests:
        if digest.empty:
            continue
        who = terminal(digest.owner)
        if via == "webhook" and (digest.active or not digest.member):  # the chat needs no address
            deliveries.append(Delivery(digest, via, f"the {kind} webhook", payload=payload_of(kind, digest)))
            continue
        if not digest.member:
            notices.append(f"{who}: skipped, not a member of crm.yaml's team (no email to send to)")
        elif not digest.active:
            notices.append(f"{who}: skipped, an inactive member (active: false in crm.yaml); "
                           "their open records need a new owner")
        elif not digest.email:
            notices.append(f"{who}: skipped, no email in crm.yaml's team")
        else:
            assert settings.email is not None
            try:
                message = build_message(digest, settings.email.sender, now)
            except (ValueError, TypeError, MessageError) as exc:
                notices.append(f"{who}: skipped, the email '{terminal(digest.email)}' cannot be used ({exc})")
                continue
            deliveries.append(Delivery(digest, via, digest.email, message=message))
    return deliveries, notices


def show(delivery: Delivery) -> str:
    """Exactly what would be sent: the whole email, or the webhook's JSON payload."""
    if delivery.message is not None:
        return delivery.message.as_string()
    return json_dumps(delivery.payload) + "\n"


def deliver_all(deliveries: Sequence[Delivery], settings: NotifySettings, env: dict[str, str], log: SentLog | None,
                *, dry_run: bool, now: dt.datetime, echo: Callable[[str], None],
                delays: Sequence[float] | None = None) -> Report:
    """Send each delivery not yet in the sent-log (retrying after `delays`, by default send.RETRY_DELAYS),
    recording each success at once."""
    lines: list[str] = []
    failed = sent = 0
    for delivery in deliveries:
        digest = delivery.digest
        label = f"{terminal(digest.owner)} -> {terminal(delivery.to)}"
        if log is not None and log.sent(delivery.channel, digest.owner, digest.today):
            lines.append(f"{label}: already sent on {digest.today.isoformat()} (sent-log), not sent again")
            continue
        if dry_run:
            echo(f"=== {delivery.channel} to {terminal(delivery.to)} ({terminal(digest.owner)}) ===\n"
                 + terminal_block(show(delivery)))
            lines.append(f"{label}: would be sent (dry run)")
            continue
        outcome = _send(delivery, settings, env, send.RETRY_DELAYS if delays is None else delays)
        if outcome.ok:
            sent += 1
            if log is not None:
                log.mark(delivery.channel, digest.owner, digest.today, now)
            tries = f" after {outcome.attempts} attempts" if outcome.attempts > 1 else ""
            lines.append(f"{label}: sent{tries}")
        else:
            failed += 1
            lines.append(f"{label}: FAILED after {outcome.attempts} attempt{'s' if outcome.attempts > 1 else ''}: "
                         f"{terminal(outcome.error)}")
    return Report(tuple(lines), failed, sent)


def terminal_block(text: str) -> str:
    """Multi-line text for the terminal: each line's hidden characters visible, line breaks kept."""
    return "\n".join(terminal(line) for line in text.replace("\r\n", "\n").split("\n"))


def _send(delivery: Delivery, settings: NotifySettings, env: dict[str, str], delays: Sequence[float]) -> Outcome:
    if delivery.message is not None:
        assert settings.email is not None
        return with_retries(smtp_attempt(delivery.message, settings.email, env.get(SMTP_PASSWORD_ENV)), delays)
    assert delivery.payload is not None
    url = env[WEBHOOK_URL_ENV]
    digest = delivery.digest
    matrix = matrix_send_url(url, f"{digest.workspace}\0{digest.owner}\0{digest.today}") \
        if settings.webhook is not None and settings.webhook.kind == "matrix" else None
    attempt = http_attempt(matrix or url, delivery.payload, method="PUT" if matrix else "POST",
                           token=env.get(WEBHOOK_TOKEN_ENV))
    return with_retries(attempt, delays)
