"""Follow-up iCalendar feeds: RFC 5545 structure, escaping, folding, determinism, per-owner feeds."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from plaintext_crm.records.loader import load_workspace
from plaintext_crm.sales.analytics import CrmAnalytics, sales_figures
from plaintext_crm.sales.ics import (
    escape_text,
    event_uid,
    fold,
    followup_feeds,
    followups_ics,
    owner_feed_name,
)

TODAY = dt.date(2026, 11, 26)
CONFIG = """\
name: Test Studio, Ltd; "North"
team:
  ana: {name: Ana Ruiz}
  ben: {name: Ben Okafor}
"""


def _deal(owner: str, due: str | None, action: str = "Call Jo", title: str = "Site") -> str:
    lines = ["---", f"title: {title}", "stage: lead", f"owner: {owner}", "client: acme"]
    if due:
        lines += [f"next_action: {action}", f"next_action_due: {due}"]
    return "\n".join(lines + ["---", ""])


def _analytics(make_workspace) -> CrmAnalytics:
    root = make_workspace({
        "clients/acme.md": "---\nname: Acme Ünited\n---\n",
        "deals/a-later.md": _deal("ana", "2026-12-03"),
        "deals/a-overdue.md": _deal("ana", "2026-11-20", action="'Send quote; v2, with \\ options'",
                                    title="'Ünïcode café redesign — a very long title that needs folding'"),
        "deals/b-today.md": _deal("ben", "2026-11-26"),
        "deals/b-none.md": _deal("ben", None),
        "deals/won.md": "---\ntitle: W\nstage: won\nowner: ana\nnext_action: x\nnext_action_due: 2026-11-27\n---\n",
    }, config=CONFIG)
    workspace, findings = load_workspace(root)
    assert findings == []
    return sales_figures(workspace, TODAY)


def test_feed_parses_back_with_icalendar(make_workspace) -> None:
    analytics = _analytics(make_workspace)
    text = followups_ics(analytics.followups.all.scheduled, analytics_name(), TODAY)
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == "-//plaintext-crm//Follow-ups//EN"
    for key in ("NAME", "X-WR-CALNAME"):  # icalendar keeps calendar-level names raw
        assert unescape(str(calendar[key])) == 'Test Studio, Ltd; "North" follow-ups'
    events = calendar.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [
        "followup-a-overdue@plaintext-crm", "followup-b-today@plaintext-crm", "followup-a-later@plaintext-crm"]
    first = events[0]
    assert first.decoded("DTSTART") == dt.date(2026, 11, 20)  # an all-day event
    assert first.decoded("DTEND") == dt.date(2026, 11, 21)
    assert first.decoded("DTSTAMP") == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    assert str(first["SUMMARY"]) == \
        "Send quote; v2, with \\ options - Ünïcode café redesign — a very long title that needs folding"
    assert str(first["DESCRIPTION"]).splitlines() == [
        "Deal: Ünïcode café redesign — a very long title that needs folding (a-overdue)",
        "Client: Acme Ünited", "Stage: lead", "Owner: Ana Ruiz"]


def unescape(text: str) -> str:
    """RFC 5545 TEXT unescaping, written independently of the module under test."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def analytics_name() -> str:
    return 'Test Studio, Ltd; "North"'


def test_lines_are_crlf_and_at_most_75_octets(make_workspace) -> None:
    analytics = _analytics(make_workspace)
    text = followups_ics(analytics.followups.all.scheduled, analytics_name(), TODAY)
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert any(line.startswith(" ") for line in lines)  # the long summary was folded
    assert "SUMMARY:Send quote\\; v2\\, with \\\\ options" in text.replace("\r\n ", "")


def test_output_is_deterministic_and_uids_stable(make_workspace) -> None:
    first = _analytics(make_workspace)
    feeds = followup_feeds(first.followups, "Studio", TODAY)
    again = followup_feeds(first.followups, "Studio", TODAY)
    assert [(feed.filename, feed.text) for feed in feeds] == [(feed.filename, feed.text) for feed in again]
    assert event_uid("a-later") == "followup-a-later@plaintext-crm"


def test_one_feed_for_everyone_and_one_per_owner(make_workspace) -> None:
    analytics = _analytics(make_workspace)
    feeds = followup_feeds(analytics.followups, "Studio", TODAY)
    assert [(feed.filename, feed.owner.id if feed.owner else None) for feed in feeds] == [
        ("followups.ics", None), ("followups-ana.ics", "ana"), ("followups-ben.ics", "ben")]
    uids = {feed.filename: [str(event["UID"]) for event in icalendar.Calendar.from_ical(feed.text).walk("VEVENT")]
            for feed in feeds}
    assert uids["followups-ana.ics"] == ["followup-a-overdue@plaintext-crm", "followup-a-later@plaintext-crm"]
    assert uids["followups-ben.ics"] == ["followup-b-today@plaintext-crm"]  # b-none has no date
    assert "won" not in " ".join(uids["followups.ics"])
    assert str(icalendar.Calendar.from_ical(feeds[2].text)["NAME"]) == "Studio follow-ups of Ben Okafor"


def test_empty_feed_is_still_a_valid_calendar() -> None:
    text = followups_ics([], "Studio", TODAY)
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar.walk("VEVENT") == []


def test_owner_feed_names_are_safe_and_unique(make_workspace) -> None:
    assert owner_feed_name("Ana Ruiz/../x") == "followups-ana-ruiz-x.ics"
    assert owner_feed_name(None) == "followups-no-owner.ics"
    root = make_workspace({"deals/a.md": _deal("Ana R", "2026-12-01"), "deals/b.md": _deal("ana-r", "2026-12-02")},
                          config="name: S\n")
    workspace, _ = load_workspace(root)
    feeds = followup_feeds(sales_figures(workspace, TODAY).followups, "S", TODAY)
    assert [feed.filename for feed in feeds] == ["followups.ics", "followups-ana-r.ics", "followups-ana-r-2.ics"]


def test_escape_text() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert unescape(escape_text("a\\b;c,d\ne")) == "a\\b;c,d\ne"


@given(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=400),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=400)))
def test_fold_round_trips_and_respects_octets(value: str) -> None:
    line = "SUMMARY:" + value
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line
