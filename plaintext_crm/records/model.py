"""Typed, immutable records of a workspace: clients, deals (CRM side), projects and tasks (delivery side)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plaintext_crm.findings import Location
from plaintext_crm.records.config import Config, Stage
from plaintext_crm.records.fields import (
    CLIENT_FIELDS,
    COMMON_FIELDS,
    DEAL_FIELDS,
    PROJECT_FIELDS,
    TASK_FIELDS,
    names,
)
from plaintext_crm.records.frontmatter import YamlTrap

# The keys of each kind, from the one declaration the loader reads by (records/fields.py).
CLIENT_KEYS = names(CLIENT_FIELDS)
DEAL_KEYS = names(DEAL_FIELDS)
PROJECT_KEYS = names(PROJECT_FIELDS)
TASK_KEYS = names(TASK_FIELDS)
COMMON_KEYS = names(COMMON_FIELDS)

KINDS = ("clients", "deals", "projects")
# The years records and plans live in: a date written outside them is a typo (an F002 finding), and
# a plan running past them (a chain of absurd durations) stops at their end; charts add weeks to dates.
EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


# --- facts of the domain: defined here once, asked by rules, analytics, pages and commands ------------

class DealStatus(enum.StrEnum):
    """Where a deal stands, from its stage."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    UNKNOWN = "unknown"  # no stage, or a stage crm.yaml does not list: left out of money figures


# Still open work (follow-ups, next actions, open-deal rules): an open stage, or a missing or unknown one
# (D005 reports those). The money figures count OPEN only.
OPEN_WORK = frozenset({DealStatus.OPEN, DealStatus.UNKNOWN})


def stage_status(stage: Stage | None) -> DealStatus:
    """open / won / lost from a deal's stage; unknown when the stage is missing or not in the pipeline."""
    if stage is None:
        return DealStatus.UNKNOWN
    if stage.is_won:
        return DealStatus.WON
    if stage.is_lost:
        return DealStatus.LOST
    return DealStatus.OPEN


def is_empty(value: Any) -> bool:
    """True for a missing or blank front matter value: None, '', whitespace, [] or {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict | tuple):
        return not value
    return False


def lost_reason_valid(reason: str | None, allowed: Sequence[str] | None) -> bool:
    """A lost deal's reason is given, and is one of crm.yaml's `lost_reasons` when it lists them (D007)."""
    return reason is not None and (not allowed or reason in allowed)


@dataclass(frozen=True, slots=True)
class DatedNote:
    """A dated heading in a record's notes: `## 2026-11-20 Call with Jane`."""

    date: dt.date
    title: str
    text: str  # the Markdown under the heading, up to the next heading of the same or a higher level
    line: int


@dataclass(frozen=True, slots=True)
class Record:
    """What every record has: its id, file, the front matter as written and where each key is."""

    id: str
    path: str  # relative to the workspace root, "/" separators
    fields: Mapping[str, Any]  # the front matter as written (unknown keys included)
    key_lines: Mapping[str, int]  # 1-based line of each top-level key
    body: str
    body_line: int  # the file line on which the body starts
    history: tuple[DatedNote, ...]
    lint_ignore: tuple[str, ...]
    traps: tuple[YamlTrap, ...]

    def location(self, key: str | None = None) -> Location:
        """Where `key` is written, or the file's first line when it is missing."""
        return Location(self.path, self.key_lines.get(key, 1) if key else 1)

    def extra_fields(self, known: tuple[str, ...]) -> dict[str, Any]:
        """Front matter keys this tool does not interpret, in file order."""
        return {key: value for key, value in self.fields.items() if key not in known and key not in COMMON_KEYS}


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Client(Record):
    """A customer organisation (CRM side)."""

    name: str | None
    owner: str | None
    contacts: tuple[Contact, ...]
    source: str | None
    status: str | None

    @property
    def display_name(self) -> str:
        return self.name or self.id

    def extra(self) -> dict[str, Any]:
        return self.extra_fields(CLIENT_KEYS)


@dataclass(frozen=True, slots=True)
class Deal(Record):
    """A sales opportunity moving through the pipeline (CRM side)."""

    title: str | None
    client: str | None
    owner: str | None
    stage: str | None
    value: float | None
    currency: str | None
    probability: float | None  # per-deal override of the stage probability
    source: str | None
    created: dt.date | None
    expected_close: dt.date | None
    next_action: str | None
    next_action_due: dt.date | None
    stage_since: dt.date | None
    closed_on: dt.date | None
    lost_reason: str | None
    scope_summary: str | None
    promised_timeline: str | None
    key_constraints: tuple[str, ...]
    main_stakeholder: str | None
    kickoff_date: dt.date | None
    project: str | None
    reopen_reason: str | None = None  # why a closed deal was reopened (lint T001)
    skip_reason: str | None = None  # why stages were skipped despite stage_rules.no_skip (lint T002)

    @property
    def display_title(self) -> str:
        return self.title or self.id

    def handoff_gaps(self, required: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The hand-off fields of `required` (crm.yaml's `handoff_fields`) that are missing (no value
        written: D004), and those written but unusable (a kickoff_date that is not a date: F002)."""
        missing: list[str] = []
        invalid: list[str] = []
        for name in required:
            raw = self.fields.get(name)
            if is_empty(raw):
                missing.append(name)
            elif name in DEAL_KEYS and is_empty(getattr(self, name)):
                invalid.append(name)
        return tuple(missing), tuple(invalid)


@dataclass(frozen=True, slots=True)
class Dependency:
    """A task's dependency: `design`, `other-project/launch`, or `{task: build, type: SS, lag: 2}`."""

    task: str  # task id
    project: str | None = None  # None: the same project
    type: str = "FS"
    lag: int = 0  # working days; negative is a lead
    line: int = 1

    @property
    def ref(self) -> str:
        return f"{self.project}/{self.task}" if self.project else self.task


@dataclass(frozen=True, slots=True)
class Approval:
    by: str | None
    status: str | None  # pending, approved, rejected
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class Invoice:
    """What a task or milestone invoices when it finishes: a share of the project budget (per cent) or an amount."""

    share: float | None = None  # per cent of the project's budget
    amount: float | None = None

    def value(self, budget: float | None) -> float | None:
        """The amount in the workspace currency (None for a share of a project without a budget)."""
        if self.amount is not None:
            return self.amount
        return budget * self.share / 100 if budget is not None and self.share is not None else None


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of delivery work inside a project."""

    id: str
    title: str | None
    owner: str | None
    start: dt.date | None
    due: dt.date | None
    duration: int | None  # working days
    status: str
    depends_on: tuple[Dependency, ...]
    milestone: bool
    approval: Approval | None
    line: int  # the line of the task's first key
    key_lines: Mapping[str, int] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    owners: tuple[str, ...] = ()  # every owner (`owner` is the first)
    effort: float | None = None  # working days of work shared by the owners; None: its duration
    remaining: int | None = None  # working days left on a task in progress
    percent: float | None = None  # per cent done of a task in progress
    finished: dt.date | None = None  # the actual finish of a done task
    invoice: Invoice | None = None
    invoiced: dt.date | None = None  # when its invoice was sent

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True, slots=True)
class Project(Record):
    """A delivery project, usually started from a won deal (delivery side)."""

    title: str | None
    client: str | None
    deal: str | None
    owner: str | None
    status: str | None
    start: dt.date | None
    due: dt.date | None
    depends_on: tuple[str, ...]
    tasks: tuple[Task, ...]
    budget: float | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.id

    def task(self, task_id: str) -> Task | None:
        for task in self.tasks:
            if task.id == task_id:
                return task
        return None


@dataclass(frozen=True, slots=True)
class Workspace:
    """Everything loaded from a workspace folder, indexed by kind and id."""

    root: Path
    config: Config
    clients: Mapping[str, Client]
    deals: Mapping[str, Deal]
    projects: Mapping[str, Project]
    files: tuple[str, ...]  # every record file found, loaded or not (relative paths)

    def status(self, deal: Deal) -> DealStatus:
        """open / won / lost / unknown from the deal's stage."""
        return stage_status(self.config.stage(deal.stage))

    def is_open(self, deal: Deal) -> bool:
        """Still open work (OPEN_WORK): an open stage, or a missing or unknown one."""
        return self.status(deal) in OPEN_WORK

    def is_won(self, deal: Deal) -> bool:
        return self.status(deal) is DealStatus.WON

    def projects_by_deal(self) -> dict[str, str]:
        """deal id -> the first project (by id) whose `deal:` names it."""
        index: dict[str, str] = {}
        for project_id in sorted(self.projects):
            deal_id = self.projects[project_id].deal
            if deal_id and deal_id not in index:
                index[deal_id] = project_id
        return index

    def project_of(self, deal: Deal, projects_by_deal: Mapping[str, str] | None = None) -> str | None:
        """The id of the project a deal became: its `project:` when that project exists, else the first
        project (by id) whose `deal:` names it; None when there is none. Pass `projects_by_deal()` when
        asking for many deals (it saves a scan of every project per deal)."""
        if deal.project is not None and deal.project in self.projects:
            return deal.project
        return (projects_by_deal if projects_by_deal is not None else self.projects_by_deal()).get(deal.id)

    def records(self) -> list[Record]:
        """All records, in path order."""
        found: list[Record] = [*self.clients.values(), *self.deals.values(), *self.projects.values()]
        return sorted(found, key=lambda record: record.path)
