"""History notices (a shallow clone, no git, commits dated after today) said once on stderr, not on every run."""

from __future__ import annotations

from pathlib import Path

import click

from plaintext_crm.escape import terminal
from plaintext_crm.records import cache_store

_SAID: set[str] = set()
NOTICE_FILE = "history-notice.cache"


def say_once(notice: str, workspace: Path | None = None) -> None:
    """Print a history notice on stderr once per process; with `workspace`, once for that workspace
    (remembered in its cache folder until the notice changes), for notices about a lasting state."""
    if notice in _SAID:
        return
    _SAID.add(notice)
    if workspace is not None:
        marker = cache_store.cache_folder(workspace) / NOTICE_FILE
        if cache_store.read_entry(marker, NOTICE_FILE) == notice.encode("utf-8"):
            return
        cache_store.write_entry(marker, NOTICE_FILE, notice.encode("utf-8"))
    click.echo(f"note: {terminal(notice)}", err=True)
