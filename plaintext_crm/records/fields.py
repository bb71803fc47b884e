"""The keys of each record kind and of crm.yaml, declared once: the loader reads by them, schemas and the editor show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROJECT_STATUSES = ("planned", "active", "on_hold", "done", "cancelled")
TASK_STATUSES = ("todo", "doing", "done", "blocked")
APPROVAL_STATUSES = ("pending", "approved", "rejected")
DEPENDENCY_TYPES = ("FS", "SS", "FF", "SF")

# Amounts past this (either way) are mistakes or hostile: exact sums in Decimal keep cents up to 10^26.
MAX_AMOUNT = 10**15
MAX_WORKING_DAYS = 10_000  # task durations and dependency lags: forty years of working days

# How the loader reads a value of each kind (loader._Fields has one method per simple kind); the
# other kinds (contacts, tasks, dependencies, approval) have builders of their own in the loader.
SIMPLE_KINDS = ("text", "texts", "date", "number", "probability", "whole", "choice", "flag", "effort", "percent",
                "invoice", "owners")


@dataclass(frozen=True, slots=True)
class Field:
    """One front matter key: its name, the kind of value the loader reads, and what it means."""

    name: str
    kind: str  # one of SIMPLE_KINDS, or "contacts", "tasks", "dependencies", "approval"
    doc: str
    choices: tuple[str, ...] = ()  # the allowed values of a "choice"
    refers_to: str | None = None  # "clients", "deals", "projects", "team", "pipeline", "lost_reasons"
    upper: bool = False  # the loader upper-cases the text (currency codes)


def names(fields: tuple[Field, ...]) -> tuple[str, ...]:
    """The key names of a field list, in declaration order."""
    return tuple(spec.name for spec in fields)


CLIENT_FIELDS = (
    Field("name", "text", "Company name."),
    Field("owner", "text", "Account owner: a member id of crm.yaml's team.", refers_to="team"),
    Field("contacts", "contacts", "People at the client: a list of {name, role, email, phone}."),
    Field("source", "text", "How the client found you (referral, inbound, event...)."),
    Field("status", "text", "Relationship status: prospect, active or past."),
)

DEAL_FIELDS = (
    Field("title", "text", "What is being sold."),
    Field("client", "text", "The client's id: the name of its file in clients/ without .md.", refers_to="clients"),
    Field("owner", "text", "Who is accountable: a member id of crm.yaml's team (an active one for open deals).",
          refers_to="team"),
    Field("stage", "text", "One of crm.yaml's pipeline stages.", refers_to="pipeline"),
    Field("value", "number", "Deal value, digits only (68000, not 68,000)."),
    Field("currency", "text", "Only when different from the workspace currency (USD, GBP).", upper=True),
    Field("probability", "probability", "Overrides the stage probability for this deal, 0..1."),
    Field("source", "text", "Lead source: referral, website, conference, outbound, partner, repeat..."),
    Field("created", "date", "When the deal was opened (YYYY-MM-DD)."),
    Field("expected_close", "date", "When you expect a decision (YYYY-MM-DD)."),
    Field("next_action", "text", "The very next concrete step (open deals)."),
    Field("next_action_due", "date", "When the next action is due (YYYY-MM-DD); past is overdue."),
    Field("stage_since", "date", "When the deal entered its current stage; drives the rotting check."),
    Field("closed_on", "date", "When the deal was won or lost."),
    Field("lost_reason", "text", "Why a lost deal was lost: one of crm.yaml's lost_reasons when it lists them.",
          refers_to="lost_reasons"),
    Field("scope_summary", "text", "Hand-off: what was sold, in a sentence or two."),
    Field("promised_timeline", "text", "Hand-off: what the client was promised (10 weeks, or a date)."),
    Field("key_constraints", "texts", "Hand-off: hard constraints delivery must know about (text or list)."),
    Field("main_stakeholder", "text", "Hand-off: the client person delivery works with."),
    Field("kickoff_date", "date", "Hand-off: the agreed project start."),
    Field("project", "text", "The project this deal was handed to (its id in projects/).", refers_to="projects"),
    Field("reopen_reason", "text", "Why a won or lost deal was moved back to an open stage (T001)."),
    Field("skip_reason", "text", "Why this deal skipped stages where crm.yaml's stage_rules forbid it (T002)."),
)

TASK_FIELDS = (
    Field("id", "text", "Unique within the project; kebab-case."),
    Field("title", "text", "What the task is."),
    Field("owner", "owners", "Who does it: a member id of crm.yaml's team, or a list of them.", refers_to="team"),
    Field("start", "date", "Planned start (YYYY-MM-DD)."),
    Field("due", "date", "Planned end, inclusive (YYYY-MM-DD)."),
    Field("duration", "whole", "Length in working days."),
    Field("status", "choice", "Where the task stands.", choices=TASK_STATUSES),
    Field("depends_on", "dependencies",
          "Tasks this one waits for: `design`, `other-project/launch` or {task: build, type: SS, lag: 2}."),
    Field("milestone", "flag", "A point in time: duration 0, start = due."),
    Field("approval", "approval", "A sign-off on this task: {by, status, date}."),
    Field("effort", "effort", "Working days of work, shared by its owners (default: its duration)."),
    Field("remaining", "whole", "Working days of work left on a task in progress (plans it from the status date)."),
    Field("percent", "percent", "Per cent of a task in progress that is done, 0..100 (when `remaining` is not given)."),
    Field("finished", "date", "When a done task actually finished (YYYY-MM-DD)."),
    Field("invoice", "invoice", "What is invoiced when this finishes: `30%` of the project budget or an amount."),
    Field("invoiced", "date", "When that invoice was sent (YYYY-MM-DD)."),
)

APPROVAL_FIELDS = (
    Field("by", "text", "Who approves (a client contact or a member)."),
    Field("status", "choice", "pending, approved or rejected.", choices=APPROVAL_STATUSES),
    Field("date", "date", "When it was approved or rejected."),
)

PROJECT_FIELDS = (
    Field("title", "text", "Project name."),
    Field("client", "text", "The client's id (clients/ID.md).", refers_to="clients"),
    Field("deal", "text", "The won deal this project came from (deals/ID.md).", refers_to="deals"),
    Field("owner", "text", "Project lead: a member id of crm.yaml's team.", refers_to="team"),
    Field("status", "choice", "Where the project stands.", choices=PROJECT_STATUSES),
    Field("start", "date", "Project start, usually the deal's kickoff_date."),
    Field("due", "date", "Committed end date."),
    Field("depends_on", "texts", "Projects that must finish before this one starts (ids).", refers_to="projects"),
    Field("budget", "number", "What the project is sold for (hand-off copies the deal's value): invoices share it."),
    Field("tasks", "tasks", "The work plan: a list of tasks."),
)

COMMON_FIELDS = (
    Field("lint_ignore", "texts", "Rule codes not reported for this record, like [D006]."),
)

RECORD_FIELDS: Mapping[str, tuple[Field, ...]] = {
    "clients": CLIENT_FIELDS, "deals": DEAL_FIELDS, "projects": PROJECT_FIELDS,
}


def field_of(kind: str, name: str) -> Field | None:
    """The declared field `name` of a record kind ("clients", "deals", "projects", "tasks"), or None."""
    fields = TASK_FIELDS if kind == "tasks" else RECORD_FIELDS.get(kind, ())
    for spec in (*fields, *COMMON_FIELDS):
        if spec.name == name:
            return spec
    return None


# --- crm.yaml -----------------------------------------------------------------------------------------

_ID_MAP = {"type": "object"}
_NAMES = {"type": "array", "items": {"type": "string"}}
_DATE = {"type": "string", "format": "date"}
_NAME_LIST = {"type": ["array", "null"], "items": {"type": "string"}}
_AWAY = {"anyOf": [_DATE, {"type": "object", "required": ["from"],
                           "properties": {"from": _DATE, "to": _DATE}}]}
# The page families an audience can publish (docs/publishing.md); the site maps each to its pages.
SECTIONS = ("overview", "pipeline", "forecast", "followups", "clients", "deals", "projects", "portfolio", "history",
            "problems", "handoffs", "workload", "revenue")


def _any_case(*words: str) -> str:
    """An ECMA-262 pattern group matching any of `words` in any case (JSON Schema regexes have no (?i))."""
    return "(?:" + "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in word) for word in words) + ")"


@dataclass(frozen=True, slots=True)
class Setting:
    """One crm.yaml setting: its name, what it means and the JSON Schema of the values the reader accepts."""

    name: str
    doc: str
    schema: Mapping[str, Any] = field(default_factory=dict)


SETTINGS = (
    Setting("name", "The workspace's name, shown in reports and on the site.", {"type": ["string", "number"]}),
    Setting("currency", "Currency code of deal values (EUR unless set).", {"type": ["string", "number"]}),
    Setting("team", "Everyone who can own clients, deals, projects and tasks: id -> {name, email, active, "
                    "capacity (working days a week, 5 unless set), away (dates or {from, to} ranges of leave)}.", {
        **_ID_MAP,
        "additionalProperties": {"anyOf": [
            {"type": "null"}, {"type": "string"},
            {"type": "object", "properties": {"name": {"type": ["string", "number", "null"]},
                                              "email": {"type": ["string", "null"]},
                                              "active": {"type": "boolean"},
                                              "capacity": {"type": ["number", "null"], "minimum": 0, "maximum": 7},
                                              "away": {"anyOf": [{"type": "null"}, _AWAY, {"type": "array",
                                                                                           "items": _AWAY}]}}},
        ]},
    }),
    Setting("pipeline", "The sales stages, in order: {stage, probability, rot_days, closed}.", {
        "type": "array", "minItems": 1,
        "items": {"anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "required": ["stage"],
             "properties": {"stage": {"type": ["string", "number"]},
                            "probability": {"type": "number", "minimum": 0, "maximum": 1},
                            "rot_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 100_000},
                            "closed": {"enum": ["won", "lost", None]}}},
        ]},
    }),
    Setting("handoff_fields", "Deal keys a won deal must fill before delivery takes over.", _NAMES),
    Setting("lost_reasons", "The allowed values of a lost deal's lost_reason (any reason when absent).", _NAMES),
    Setting("working_days", "Days counted by task durations and lags: [mon, tue, wed, thu, fri].", {
        "type": "array", "minItems": 1,
        "items": {"type": "string", "pattern": "^\\s*" + _any_case("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    }),
    Setting("holidays", "Dates (YYYY-MM-DD) that are not worked.", {"type": ["array", "null"], "items": _DATE}),
    Setting("lint", "Per-rule severities: a rule code -> error, warning, info or off.", {
        "type": ["object", "null"],
        "additionalProperties": {"anyOf": [{"enum": [False]},
                                           {"type": "string",
                                            "pattern": "^\\s*" + _any_case("error", "warning", "info", "off") + "\\s*$"}]},
    }),
    Setting("exchange_rates", "Workspace-currency units per unit of another currency: {USD: 0.92}.", {
        "type": "object",
        "propertyNames": {"pattern": "^\\s*[A-Za-z]{3}\\s*$"},
        "additionalProperties": {"type": "number", "minimum": 1e-6, "maximum": 1e6},
    }),
    Setting("stage_rules", "Rules for moving deals between stages, checked against a base revision: "
                           "{no_skip: true} forbids skipping open stages (T002).", {
        "type": ["object", "null"], "additionalProperties": False,
        "properties": {"no_skip": {"type": "boolean"}},
    }),
    Setting("external_images", "Whether site pages show images of notes that live on other sites.",
            {"type": "boolean"}),
    Setting("git_history", "Whether commits are read (stage history, client timelines, This week); false: "
                           "front matter only, for a workspace whose commits are not its story.",
            {"type": "boolean"}),
    Setting("audiences", "Who sees what of a published site: name -> {clients, sections, hide} "
                         "(docs/publishing.md).", {
        "type": ["object", "null"],
        "additionalProperties": {"anyOf": [
            {"type": "null"},
            {"type": "object", "additionalProperties": False,
             "properties": {"clients": _NAME_LIST, "hide": _NAME_LIST,
                            "sections": {"type": ["array", "null"], "items": {"enum": list(SECTIONS)}}}},
        ]},
    }),
    Setting("targets", "Sales targets by quarter or month, for the team and per owner: "
                       "{2026-Q4: {team: 400000, ana: 150000}} (won + weighted pipeline is measured against them).", {
        "type": ["object", "null"],
        "propertyNames": {"pattern": "^[0-9]{4}-(?:Q[1-4]|0[1-9]|1[0-2])$"},
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
    }),
    Setting("publish", "What `build --publish` and the CI workflows build: {audience, encrypt, allow_indexing}; "
                       "the audience must be one of `audiences`.", {
        "type": ["object", "null"], "additionalProperties": False,
        "properties": {"audience": {"type": ["string", "null"]}, "encrypt": {"type": "boolean"},
                       "allow_indexing": {"type": "boolean"}},
    }),
    Setting("site_url", "The published site's http(s) address: digests link each item to its page there.",
            {"type": ["string", "null"], "pattern": "^\\s*https?://[^/\\s]+\\S*\\s*$"}),
    Setting("notify", "Daily digests by email and chat (docs/notify.md): {email: {host, port, from, starttls, "
                      "username}, webhook: {kind}, hour, time_zone}.", {
        "type": ["object", "null"], "additionalProperties": False,
        "properties": {
            "email": {"type": ["object", "null"], "additionalProperties": False, "required": ["host", "from"],
                      "properties": {"host": {"type": "string", "pattern": "^[A-Za-z0-9.-]{1,253}$|^\\[[0-9A-Fa-f:.]+\\]$"},
                                     "from": {"type": "string", "pattern": "@"},
                                     "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                     "starttls": {"type": "boolean"}, "username": {"type": ["string", "null"]}}},
            "webhook": {"type": ["object", "null"], "additionalProperties": False,
                        "properties": {"kind": {"enum": ["slack", "teams", "matrix", "generic"]}}},
            "hour": {"type": "integer", "minimum": 0, "maximum": 23},
            "time_zone": {"type": "string", "minLength": 1},
        },
    }),
)
