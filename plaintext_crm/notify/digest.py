"""Each owner's daily digest, computed from the analysis: what is overdue, due, rotting, stuck or late.

The CRM items come from `analysis.crm` (follow-ups, per-deal figures, hand-offs); the delivery items
from `analysis.delivery` (task states on the critical path, pending approvals, milestones). Renderers
(text, markdown, html, json) and the senders only format a Digest; nothing here formats or sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from plaintext_crm.escape import file_name_part
from plaintext_crm.records.model import OPEN_WORK, Project
from plaintext_crm.sales.figures import DealFigures, FollowUpLists, Handoff, week_of

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

# (key, heading) of every section, in the order a digest shows them.
SECTIONS = (
    ("overdue", "Overdue next actions"),
    ("due_today", "Due today"),
    ("this_week", "Due this week"),
    ("no_next_action", "Open deals without a next action"),
    ("rotting", "Rotting deals"),
    ("handoffs", "Won deals waiting for delivery"),
    ("late_tasks", "Late critical tasks"),
    ("approvals", "Approvals waiting"),
    ("milestones", "Milestones this week"),
)
HEADINGS = dict(SECTIONS)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One line of a digest: a record, what is due about it, and its page on the published site."""

    kind: str  # "deal" or "project"
    record_id: str
    path: str  # the record file, relative to the workspace
    title: str  # the deal's or project's title
    detail: str  # "Send the revised proposal (due 2026-11-20, 6 days overdue)"
    date: dt.date | None  # the date the item is about (due date, milestone, kickoff), when there is one
    page: str  # the site page, relative to the site's root: deals/<id>.html (URL-quoted)
    url: str | None  # the page on the published site, when crm.yaml has `site_url`


@dataclass(frozen=True, slots=True)
class DigestSection:
    key: str  # one of SECTIONS' keys
    title: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """One owner's digest on one day: only the sections that hold something."""

    workspace: str  # crm.yaml's name
    today: dt.date
    owner: str  # the member id (or the owner id as written, for an owner not in the team)
    name: str
    email: str | None
    active: bool  # False for an inactive member (notify skips them) and for an owner not in the team
    member: bool  # in crm.yaml's team
    sections: tuple[DigestSection, ...]
    site_url: str | None

    @property
    def empty(self) -> bool:
        return not self.sections

    def count(self, key: str) -> int:
        """How many items the section `key` holds (0 when it is not in the digest)."""
        return next((len(section.items) for section in self.sections if section.key == key), 0)


def page_of(kind: str, record_id: str) -> str:
    """The site page of a record, as the site plans it (site/crm_pages.py, site/delivery_pages.py)."""
    folder = {"deal": "deals", "project": "projects", "client": "clients"}[kind]
    return quote(f"{folder}/{file_name_part(record_id)}.html", safe="/")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


class _Builder:
    """Collects the items of every owner from one analysis."""

    def __init__(self, analysis: Analysis, site_url: str | None) -> None:
        self.analysis = analysis
        self.today = analysis.today
        self.site_url = site_url

    def item(self, kind: str, record_id: str, path: str, title: str, detail: str, date: dt.date | None) -> DigestItem:
        page = page_of(kind, record_id)
        return DigestItem(kind, record_id, path, title, detail, date, page,
                          self.site_url + page if self.site_url else None)

    def deal(self, figures: DealFigures, detail: str, date: dt.date | None = None) -> DigestItem:
        return self.item("deal", figures.id, figures.path, figures.title, detail, date)

    def next_action(self, figures: DealFigures) -> DigestItem:
        due = figures.next_action_due
        when = f"due {due.isoformat()}" if due else "no due date"
        if figures.days_overdue:
            when += f", {_plural(figures.days_overdue, 'day')} overdue"
        return self.deal(figures, f"{figures.next_action or 'next action'} ({when})", due)

    def crm_sections(self, owner: str, lists: FollowUpLists | None) -> list[DigestSection]:
        crm = self.analysis.crm
        sections = []
        if lists is not None:
            for key, deals in (("overdue", lists.overdue), ("due_today", lists.due_today),
                               ("this_week", lists.this_week)):
                sections.append((key, [self.next_action(figures) for figures in deals]))
            sections.append(("no_next_action", [
                self.deal(figures, "no next action" if not figures.next_action else "the next action has no due date")
                for figures in lists.missing]))
        rotting = sorted((f for f in crm.deals.values() if f.owner == owner and f.status in OPEN_WORK and f.rotting),
                         key=lambda f: (-(f.days_in_stage or 0), f.id))
        sections.append(("rotting", [
            self.deal(f, f"in {f.stage} for {_plural(f.days_in_stage or 0, 'day')} (rots after {f.rot_days})",
                      f.stage_since) for f in rotting]))
        sections.append(("handoffs", [self.handoff(item) for item in crm.handoffs.items
                                      if item.deal.owner == owner and (not item.complete or item.kickoff_passed)]))
        return [DigestSection(key, HEADINGS[key], tuple(items)) for key, items in sections]

    def handoff(self, item: Handoff) -> DigestItem:
        problems = []
        if item.missing:
            problems.append("hand-off missing " + ", ".join(item.missing))
        if item.invalid:
            problems.append("hand-off unreadable " + ", ".join(item.invalid))
        if item.kickoff_passed and item.kickoff_date is not None:
            problems.append(f"kickoff {item.kickoff_date.isoformat()} passed without a project")
        return self.deal(item.deal, "; ".join(problems), item.kickoff_date)

    def delivery_sections(self, owner: str) -> list[DigestSection]:
        delivery = self.analysis.delivery
        week_end = week_of(self.today)[1]
        late: list[DigestItem] = []
        approvals: list[DigestItem] = []
        milestones: list[DigestItem] = []
        for project_id in sorted(self.analysis.workspace.projects):
            project = self.analysis.workspace.projects[project_id]
            status = delivery.statuses.get(project_id)
            planned = delivery.schedule.projects.get(project_id)
            if project.owner != owner or status is None or planned is None or not status.active:
                continue
            def add(into: list[DigestItem], detail: str, date: dt.date | None, project: Project = project) -> None:
                into.append(self.item("project", project.id, project.path, project.display_title, detail, date))

            for task_id in planned.critical_path:
                if status.tasks[task_id].late:
                    task = project.task(task_id)
                    deadline = (task.due if task and task.due else planned.tasks[task_id].earliest_finish)
                    days = (self.today - deadline).days
                    add(late, f"{(task.title if task else None) or task_id} (due {deadline.isoformat()}, "
                              f"{_plural(days, 'day')} late)", deadline)
            for task_id, who in status.pending_approvals:
                task = project.task(task_id)
                add(approvals, f"{(task.title if task else None) or task_id}: waiting for {who}'s approval", None)
            for milestone in status.milestones:
                if not milestone.done and self.today <= milestone.date <= week_end:
                    add(milestones, f"{milestone.title} ({milestone.date:%a %Y-%m-%d})", milestone.date)
        late.sort(key=lambda item: (item.date or dt.date.max, item.record_id))
        milestones.sort(key=lambda item: (item.date or dt.date.max, item.record_id))
        return [DigestSection("late_tasks", HEADINGS["late_tasks"], tuple(late)),
                DigestSection("approvals", HEADINGS["approvals"], tuple(approvals)),
                DigestSection("milestones", HEADINGS["milestones"], tuple(milestones))]


def owners_of(analysis: Analysis) -> tuple[str, ...]:
    """Team members in crm.yaml order, then every other owner id of a deal or project, sorted."""
    workspace = analysis.workspace
    team = tuple(workspace.config.team)
    written = {deal.owner for deal in workspace.deals.values()} | {p.owner for p in workspace.projects.values()}
    return team + tuple(sorted(owner for owner in written if owner and owner not in workspace.config.team))


def digests(analysis: Analysis, owners: Iterable[str] | None = None) -> tuple[Digest, ...]:
    """The digest of each owner (every owner, or those of `owners`, in that order), empty ones included.

    Callers that send leave out empty digests (`Digest.empty`): nobody gets a mail saying nothing.
    """
    config = analysis.workspace.config
    builder = _Builder(analysis, config.site_url)
    lists = {ref.id: owner.lists for owner in analysis.crm.followups.owners for ref in (owner.owner,) if ref.id}
    found = []
    for owner in owners if owners is not None else owners_of(analysis):
        member = config.team.get(owner)
        sections = builder.crm_sections(owner, lists.get(owner)) + builder.delivery_sections(owner)
        found.append(Digest(config.name, analysis.today, owner, member.name if member else owner,
                            member.email if member else None, member.active if member else False,
                            member is not None, tuple(section for section in sections if section.items),
                            config.site_url))
    return tuple(found)


def chosen_digests(analysis: Analysis, owner_ids: Iterable[str] = ()) -> tuple[Digest, ...]:
    """Every owner's digest, or those of `owner_ids` (ToolError naming the ids that own nothing and are
    not in the team)."""
    from plaintext_crm.errors import ToolError

    wanted = tuple(dict.fromkeys(owner_ids))
    if not wanted:
        return digests(analysis)
    known = owners_of(analysis)
    unknown = [owner for owner in wanted if owner not in known]
    if unknown:
        from plaintext_crm.escape import terminal

        raise ToolError(f"no owner {terminal(', '.join(unknown))}: owners are "
                        f"{terminal(', '.join(known))} (crm.yaml's team and the owners records name)")
    return digests(analysis, wanted)
