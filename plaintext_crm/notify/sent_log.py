"""The sent-log: which owner's digest went out by which channel on which day, in the workspace's cache folder.

A re-run of `notify` on the same day (after a network failure, or a CI job run again) sends only what
did not go out yet. The log is a checksummed cache file (records/cache_store.py) holding JSON; entries
older than KEEP_DAYS are dropped when it is written.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from plaintext_crm.records.cache_store import cache_folder, read_entry, write_entry

KIND = "notify-sent-log"
FILE = "notify-sent.log"
KEEP_DAYS = 14


def _key(channel: str, owner: str, day: dt.date) -> str:
    return json.dumps([day.isoformat(), channel, owner])


def _day_of(key: str) -> str:
    """The ISO day of an entry's key ("" for a key this version did not write: dropped)."""
    try:
        day = json.loads(key)[0]
    except (ValueError, LookupError, TypeError):
        return ""
    return day if isinstance(day, str) else ""


class SentLog:
    """The digests already sent, read once; `mark` records one and writes the log at once."""

    def __init__(self, root: Path) -> None:
        self.path = cache_folder(root) / FILE
        self.entries: dict[str, str] = {}
        payload = read_entry(self.path, KIND)
        if payload is not None:
            try:
                data = json.loads(payload)
            except ValueError:
                data = None
            if isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
                self.entries = data

    def sent(self, channel: str, owner: str, day: dt.date) -> bool:
        return _key(channel, owner, day) in self.entries

    def mark(self, channel: str, owner: str, day: dt.date, when: dt.datetime) -> None:
        """Record a delivery and write the log (a later failure must not lose what was already sent)."""
        self.entries[_key(channel, owner, day)] = when.isoformat()
        oldest = (day - dt.timedelta(days=KEEP_DAYS)).isoformat()
        self.entries = {key: value for key, value in self.entries.items() if _day_of(key) >= oldest}
        write_entry(self.path, KIND, json.dumps(self.entries, sort_keys=True).encode("utf-8"))
