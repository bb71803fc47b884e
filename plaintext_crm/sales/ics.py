"""iCalendar (RFC 5545) feeds of follow-ups: one all-day event per open deal's dated next action."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from plaintext_crm.escape import ics_text, ics_uid
from plaintext_crm.sales.figures import DealFigures, FollowUps, OwnerRef

PRODID = "-//plaintext-crm//Follow-ups//EN"
MAX_OCTETS = 75  # RFC 5545 3.1: content lines longer than this are folded
FEED_NAME = "followups.ics"
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def escape_text(text: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11); see plaintext_crm.escape.ics_text."""
    return ics_text(text)


def fold(line: str) -> str:
    """Fold one content line into CRLF-separated pieces of at most 75 octets, never splitting a character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_OCTETS:
        return line
    if len(encoded) == len(line):  # ASCII: one octet per character, slice directly
        pieces = [line[:MAX_OCTETS]]
        pieces += [line[start:start + MAX_OCTETS - 1] for start in range(MAX_OCTETS, len(line), MAX_OCTETS - 1)]
        return "\r\n ".join(pieces)
    pieces = []
    current: list[str] = []
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1  # continuation lines start with a space
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _date(day: dt.date) -> str:
    return day.isoformat().replace("-", "")  # YYYYMMDD; isoformat is much faster than strftime


def event_uid(deal_id: str) -> str:
    """The stable UID of a deal's follow-up event: the same deal keeps the same event across rebuilds.

    A file name is data: characters other than letters, digits, `.`, `_` and `-` are percent-encoded
    (plaintext_crm.escape.ics_uid), so no name can end the UID line and start a forged event."""
    return ics_uid(deal_id)


def _event(figures: DealFigures, stamp: str) -> list[str]:
    assert figures.next_action_due is not None
    due = figures.next_action_due
    summary = f"{figures.next_action or 'Next action'} - {figures.title}"
    details = [f"Deal: {figures.title} ({figures.id})"]
    if figures.client_name:
        details.append(f"Client: {figures.client_name}")
    if figures.stage:
        details.append(f"Stage: {figures.stage}")
    if figures.owner:
        details.append(f"Owner: {figures.owner_name or figures.owner}")
    return [
        "BEGIN:VEVENT",
        f"UID:{event_uid(figures.id)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_date(due)}",
        f"DTEND;VALUE=DATE:{_date(due + dt.timedelta(days=1))}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(chr(10).join(details))}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def followups_ics(followups: Iterable[DealFigures], workspace_name: str, today: dt.date,
                  title: str = "follow-ups") -> str:
    """An RFC 5545 calendar of the deals' dated next actions, as all-day events.

    Deals without a next action due date are skipped. DTSTAMP is midnight UTC of `today`, so the
    same workspace and day always give the same bytes. Lines end with CRLF and are folded at 75 octets.
    """
    stamp = f"{_date(today)}T000000Z"
    name = escape_text(f"{workspace_name} {title}")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"NAME:{name}", f"X-WR-CALNAME:{name}"]
    dated = sorted((f for f in followups if f.next_action_due is not None),
                   key=lambda f: (f.next_action_due, f.id))
    for figures in dated:
        lines.extend(_event(figures, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def owner_feed_name(owner_id: str | None) -> str:
    """The file name of one owner's feed: followups-<owner>.ics (followups-no-owner.ics without an owner)."""
    slug = _UNSAFE.sub("-", (owner_id or "no-owner").lower()).strip("-") or "owner"
    return f"followups-{slug}.ics"


@dataclass(frozen=True, slots=True)
class Feed:
    """One .ics file of the site: everyone's follow-ups (owner None) or one owner's.

    The calendar text is written only when asked for (`text`): a rebuild that reuses the feed never needs it.
    """

    filename: str
    owner: OwnerRef | None
    deals: tuple[DealFigures, ...]
    workspace_name: str
    today: dt.date
    title: str = "follow-ups"

    @property
    def text(self) -> str:
        """The feed's RFC 5545 text (see `followups_ics`)."""
        return followups_ics(self.deals, self.workspace_name, self.today, self.title)


def followup_feeds(followups: FollowUps, workspace_name: str, today: dt.date) -> list[Feed]:
    """followups.ics for everyone, then one feed per owner with an open deal, in FollowUps.owners order.

    Owner ids that give the same file name get -2, -3, ... in that order.
    """
    feeds = [Feed(FEED_NAME, None, tuple(followups.all.scheduled), workspace_name, today)]
    taken = {FEED_NAME}
    for owner in followups.owners:
        name = owner_feed_name(owner.owner.id)
        stem, counter = name[:-4], 2
        while name in taken:
            name, counter = f"{stem}-{counter}.ics", counter + 1
        taken.add(name)
        feeds.append(Feed(name, owner.owner, tuple(owner.lists.scheduled), workspace_name, today,
                          f"follow-ups of {owner.owner.name}"))
    return feeds
