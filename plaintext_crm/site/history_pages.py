"""Site pages and page parts from git history: the "This week" page and the commits on client timelines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plaintext_crm.history.changes import SECTIONS
from plaintext_crm.records.model import Client, Record
from plaintext_crm.site.pages import Page, SiteData, TimelineEntry, page_type, related_records


@page_type
def this_week_pages(site: SiteData) -> list[Page]:
    """this-week.html: what changed in the pipeline over the last seven days (as `plaintext-crm changes`)."""
    return [Page("this-week.html", "This week", "this-week.html", _this_week_context, section="this-week")]


def _this_week_context(site: SiteData) -> Mapping[str, Any]:
    figures = site.figures.history
    changes = figures.this_week
    sections = []
    if changes is not None:
        sections = [(attribute, heading, what, getattr(changes, attribute)) for attribute, heading, what in SECTIONS]
    return {"changes": changes, "sections": sections,
            "problem": figures.this_week_problem, "notices": figures.history.notices}


def commit_entries(site: SiteData, client: Client) -> list[TimelineEntry]:
    """One timeline entry per commit touching one of the client's records (client, deals, projects).

    `title` is the commit message; `text` says who made it and what it changed.
    """
    figures = site.figures.history
    records: dict[str, tuple[str, Record]] = {record.path: (kind, record)
                                              for kind, record in related_records(site.workspace, client)}
    entries = []
    for item in figures.record_activity(records):
        for event in item.events:
            if event.action == "imported":  # one entry for the import, naming this client's records in it
                mine = [path for path in event.records if path in records]
                if mine:
                    total = len(figures.imported.get(item.commit.sha, event.records))
                    entries.append(TimelineEntry(item.commit.date, item.commit.subject,
                                                 f"{item.commit.author} · imported {total} records, "
                                                 f"among them {', '.join(mine)}", records[mine[0]][1], "commit"))
                continue
            if event.path not in records:
                continue
            _kind, record = records[event.path]
            what = "; ".join(event.details) if event.details else event.action
            entries.append(TimelineEntry(item.commit.date, item.commit.subject,
                                         f"{item.commit.author} · {event.action} {event.path}: {what}",
                                         record, "commit"))
    return entries


def timeline_with_commits(site: SiteData, client: Client, notes: list[TimelineEntry]) -> list[TimelineEntry]:
    """Dated notes and commits together, newest first (on the same day, commits above notes)."""
    entries = [*notes, *commit_entries(site, client)]
    return sorted(entries, key=lambda entry: (entry.date, entry.kind == "commit", entry.record.path, entry.title),
                  reverse=True)
