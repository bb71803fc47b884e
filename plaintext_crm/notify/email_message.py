"""A digest as one email: multipart text + HTML, a stable Message-ID and List-Unsubscribe headers."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

from plaintext_crm.notify.digest import Digest
from plaintext_crm.notify.render_html import render_html
from plaintext_crm.notify.render_text import render_text, summary


def _one_line(text: str) -> str:
    """Header text on one line: line breaks and other controls become spaces (no header injection)."""
    return "".join(" " if ord(char) < 32 or char in "\x7f\u2028\u2029\x85" else char for char in text).strip()


def message_id(digest: Digest) -> str:
    """The same id for the same owner, day and workspace: a re-sent digest is recognised as a duplicate."""
    key = f"{digest.workspace}\0{digest.owner}\0{digest.today.isoformat()}"
    return f"<digest-{digest.today:%Y%m%d}-{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}" \
           "@plaintext-crm.invalid>"


def footer(digest: Digest) -> str:
    """How the recipient turns the digest off (also the target of List-Unsubscribe)."""
    return (f"You get this digest as '{digest.owner}' of {digest.workspace}'s team (crm.yaml). To stop it, ask "
            "to have your email removed from your team entry in crm.yaml, or reply with 'unsubscribe'. "
            "About these digests: docs/notify.md of plaintext-crm.")


def build_message(digest: Digest, sender: str, now: dt.datetime) -> EmailMessage:
    """The email of one owner's digest from `sender` (crm.yaml's notify.email.from) to the member's email."""
    if not digest.email:
        raise ValueError(f"member {digest.owner} has no email")
    message = EmailMessage()
    message["Subject"] = _one_line(f"{digest.workspace}: {summary(digest)} - {digest.today:%a %d %b}")
    message["From"] = _one_line(sender)
    message["To"] = Address(display_name=_one_line(digest.name), addr_spec=_one_line(digest.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(digest)
    address = parseaddr(sender)[1] or sender
    subject = quote(f"unsubscribe {digest.owner}")
    message["List-Id"] = formataddr((_one_line(digest.workspace), "digest.plaintext-crm.invalid"))
    message["List-Unsubscribe"] = f"<mailto:{quote(address, safe='@')}?subject={subject}>"
    message["Auto-Submitted"] = "auto-generated"
    text = render_text(digest) + "\n-- \n" + footer(digest) + "\n"
    message.set_content(text)
    message.add_alternative(render_html(digest, footer(digest)), subtype="html")
    return message
