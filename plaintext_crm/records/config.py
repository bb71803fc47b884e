"""crm.yaml -> Config with defaults for every setting; bad settings become findings."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records.fields import SECTIONS, SETTINGS
from plaintext_crm.records.frontmatter import InvalidDate, KeyPath, YamlTrap, parse_yaml_mapping, shown_number
from plaintext_crm.records.notify_settings import NotifySettings, read_notify, read_site_url
from plaintext_crm.records.reading import ParseProblem, decode, read_inside
from plaintext_crm.records.targets import Target, read_targets

CONFIG_FILE = "crm.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HANDOFF_FIELDS = ("scope_summary", "promised_timeline", "key_constraints", "main_stakeholder",
                          "kickoff_date")
DEFAULT_CURRENCY = "EUR"
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# Rates outside this range are mistakes (or .inf/.nan): deal values times rates stay exact in Decimal.
MIN_RATE, MAX_RATE = 1e-6, 1e6
DEFAULT_CAPACITY = 5.0  # a member's working days a week unless crm.yaml's team says otherwise
MAX_DAYS = 100_000  # rot_days: no stage lasts centuries
BODY = "body"  # in an audience's `hide`: the Markdown notes under the front matter
NOT_A_LIST = "<not a list of names>"  # an audience's list that is not one: matches no section, key or client


@dataclass(frozen=True, slots=True)
class Member:
    """A team member who can own clients, deals, projects and tasks."""

    id: str
    name: str
    email: str | None = None
    active: bool = True
    capacity: float = DEFAULT_CAPACITY  # working days a week they can be booked for
    away: tuple[tuple[dt.date, dt.date], ...] = ()  # holidays and leave: (first, last day), both included

    def is_away(self, day: dt.date) -> bool:
        """Whether `day` falls in one of the member's `away` ranges."""
        return any(first <= day <= last for first, last in self.away)


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of the sales pipeline."""

    id: str
    probability: float
    rot_days: int | None = None
    closed: str | None = None  # "won", "lost" or None for an open stage

    @property
    def is_open(self) -> bool:
        return self.closed is None

    @property
    def is_won(self) -> bool:
        return self.closed == "won"

    @property
    def is_lost(self) -> bool:
        return self.closed == "lost"


@dataclass(frozen=True, slots=True)
class Audience:
    """A named view of the workspace for `build --audience NAME`: which clients, sections and keys it sees.

    The names are kept as written; `plaintext_crm.records.audience.check_audience` refuses unknown ones
    before a build (crm.yaml's findings name them too).
    """

    name: str
    clients: tuple[str, ...] | None = None  # None: every client
    sections: tuple[str, ...] = SECTIONS
    hide: tuple[str, ...] = ()  # front matter keys, or BODY


@dataclass(frozen=True, slots=True)
class Publish:
    """crm.yaml's `publish:`: what `build --publish` (and the generated CI workflows) build."""

    audience: str | None = None  # None: everything
    encrypt: bool = False
    allow_indexing: bool = False  # False: robots.txt disallows all and pages carry a noindex meta
    written: bool = False  # crm.yaml has a `publish:` mapping (`build --publish` refuses to guess without one)


DEFAULT_PIPELINE = (
    Stage("lead", 0.1),
    Stage("qualified", 0.25),
    Stage("proposal", 0.5),
    Stage("negotiation", 0.75),
    Stage("won", 1.0, closed="won"),
    Stage("lost", 0.0, closed="lost"),
)


@dataclass(frozen=True, slots=True)
class Config:
    """Workspace settings; every field has a default so a workspace without crm.yaml works."""

    name: str = "Workspace"
    currency: str = DEFAULT_CURRENCY
    team: Mapping[str, Member] = field(default_factory=dict)
    stages: tuple[Stage, ...] = DEFAULT_PIPELINE
    handoff_fields: tuple[str, ...] = DEFAULT_HANDOFF_FIELDS
    lost_reasons: tuple[str, ...] | None = None
    working_days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    holidays: frozenset[dt.date] = frozenset()
    rule_severity: Mapping[str, Severity | None] = field(default_factory=dict)  # None = rule off
    # Units of `currency` per unit of another currency: {"USD": Decimal("0.92")}.
    exchange_rates: Mapping[str, Decimal] = field(default_factory=dict)
    external_images: bool = False  # site pages may load images of notes from other sites
    no_skip: bool = False  # stage_rules.no_skip: a deal may not pass over an open stage (lint T002)
    git_history: bool = True  # False: read no commits (docs/history.md#turning-git-history-off)
    audiences: Mapping[str, Audience] = field(default_factory=dict)
    publish: Publish = Publish()
    site_url: str | None = None  # the published site's address, with a trailing slash (digest links)
    notify: NotifySettings = field(default_factory=NotifySettings)  # daily digests by email and chat (docs/notify.md)
    targets: tuple[Target, ...] = ()  # by period, the team's first
    path: str | None = None  # "crm.yaml" when the file exists
    key_lines: Mapping[KeyPath, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # settings this version does not know
    traps: tuple[YamlTrap, ...] = ()

    def stage(self, stage_id: str | None) -> Stage | None:
        """The stage with this id, or None."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        return None

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if stage.is_open)

    def line_of(self, *key: str | int) -> int:
        """The crm.yaml line of a key path, or 1."""
        return self.key_lines.get(tuple(key), 1)


KNOWN_SETTINGS = tuple(setting.name for setting in SETTINGS)  # declared with their schemas in fields.py


class _ConfigReader:
    """Reads one crm.yaml mapping into Config fields, collecting findings with lines."""

    def __init__(self, data: dict[str, Any], key_lines: dict[KeyPath, int]) -> None:
        self.data = data
        self.key_lines = key_lines
        self.findings: list[Finding] = []

    def problem(self, key: KeyPath, message: str) -> None:
        line = self.key_lines.get(key, 1)
        self.findings.append(Finding(CONFIG_FILE, line, 1, "C001", "invalid-config", Severity.ERROR, message))

    def text(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem((key,), f"'{key}' must be text")
            return default
        return str(value)

    def team(self) -> dict[str, Member]:
        raw = self.data.get("team") or {}
        if not isinstance(raw, dict):
            self.problem(("team",), "'team' must map member ids to {name, email, active}")
            return {}
        team: dict[str, Member] = {}
        for member_id, details in raw.items():
            member_id = str(member_id)
            if details is None:
                details = {}
            if isinstance(details, str):
                details = {"name": details}
            if not isinstance(details, dict):
                self.problem(("team", member_id), f"team member '{member_id}' must be a mapping of name, email, active")
                continue
            active = details.get("active", True)
            if not isinstance(active, bool):
                self.problem(("team", member_id, "active"), f"'active' of '{member_id}' must be true or false")
                active = True
            team[member_id] = Member(member_id, str(details.get("name") or member_id),
                                     str(details["email"]) if details.get("email") else None, active,
                                     self.capacity(member_id, details.get("capacity")),
                                     self.away(member_id, details.get("away")))
        return team

    def capacity(self, member_id: str, value: Any) -> float:
        if value is None:
            return DEFAULT_CAPACITY
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 7:
            self.problem(("team", member_id, "capacity"),
                         f"'capacity' of '{member_id}' must be working days a week, from 0 to 7")
            return DEFAULT_CAPACITY
        return float(value)

    def away(self, member_id: str, value: Any) -> tuple[tuple[dt.date, dt.date], ...]:
        """`away:` as (first, last) ranges: each item a date, or {from, to} (both included)."""
        if value is None:
            return ()
        where = ("team", member_id, "away")
        items = value if isinstance(value, list) else [value]
        ranges = []
        for item in items:
            first, last = (item.get("from"), item.get("to")) if isinstance(item, dict) else (item, item)
            if last is None:
                last = first
            if not isinstance(first, dt.date) or not isinstance(last, dt.date) or last < first:
                self.problem(where, f"'away' of '{member_id}' must list dates (YYYY-MM-DD) or ranges "
                                    "{from: YYYY-MM-DD, to: YYYY-MM-DD}, each ending on or after it starts")
                continue
            ranges.append((first, last))
        return tuple(ranges)

    def pipeline(self) -> tuple[Stage, ...]:
        raw = self.data.get("pipeline")
        if raw is None:
            return DEFAULT_PIPELINE
        if not isinstance(raw, list) or not raw:
            self.problem(("pipeline",), "'pipeline' must be a non-empty list of stages; using the default pipeline")
            return DEFAULT_PIPELINE
        stages: list[Stage] = []
        for index, item in enumerate(raw):
            where = ("pipeline", index)
            if isinstance(item, str):
                item = {"stage": item}
            if not isinstance(item, dict) or not item.get("stage"):
                self.problem(where, "each pipeline entry needs a 'stage' id")
                continue
            stage_id = str(item["stage"])
            if any(stage.id == stage_id for stage in stages):
                self.problem(where + ("stage",), f"stage '{stage_id}' is listed twice")
                continue
            closed = item.get("closed")
            if closed not in (None, "won", "lost"):
                self.problem(where + ("closed",), f"'closed' of stage '{stage_id}' must be 'won' or 'lost'")
                closed = None
            default_probability = {"won": 1.0, "lost": 0.0}.get(closed or "", 0.0)
            probability = item.get("probability", default_probability)
            if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1:
                self.problem(where + ("probability",),
                             f"probability of stage '{stage_id}' must be a number from 0 to 1")
                probability = default_probability
            rot_days = item.get("rot_days")
            if rot_days is not None and (isinstance(rot_days, bool) or not isinstance(rot_days, int)
                                         or not 1 <= rot_days <= MAX_DAYS):
                self.problem(where + ("rot_days",),
                             f"rot_days of stage '{stage_id}' must be a whole number of days from 1 to {MAX_DAYS}")
                rot_days = None
            stages.append(Stage(stage_id, float(probability), rot_days, closed))
        if not stages:
            return DEFAULT_PIPELINE
        if not any(stage.is_won for stage in stages):
            self.problem(("pipeline",), "the pipeline has no stage with 'closed: won'")
        return tuple(stages)

    def targets(self, team: Mapping[str, Member]) -> tuple[Target, ...]:
        """`targets: {2026-Q4: {team: 400000, ana: 150000}}` (quarters or months; `team` or member ids)."""
        return read_targets(self.data.get("targets"), team, self.problem)

    def string_list(self, key: str, default: tuple[str, ...] | None) -> tuple[str, ...] | None:
        raw = self.data.get(key)
        if raw is None:
            return default
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            self.problem((key,), f"'{key}' must be a list of names")
            return default
        return tuple(raw)

    def working_days(self) -> frozenset[int]:
        raw = self.string_list("working_days", None)
        if raw is None:
            return frozenset(range(5))
        days = set()
        for index, name in enumerate(raw):
            short = name.strip().lower()[:3]
            if short not in WEEKDAYS:
                self.problem(("working_days", index), f"'{name}' is not a weekday (use mon, tue, ... sun)")
                continue
            days.add(WEEKDAYS.index(short))
        if not days:
            self.problem(("working_days",), "'working_days' names no day; using mon-fri")
            return frozenset(range(5))
        return frozenset(days)

    def holidays(self) -> frozenset[dt.date]:
        raw = self.data.get("holidays") or []
        if not isinstance(raw, list):
            self.problem(("holidays",), "'holidays' must be a list of dates")
            return frozenset()
        days = set()
        for index, value in enumerate(raw):
            if isinstance(value, dt.date) and not isinstance(value, InvalidDate):
                days.add(value)
            else:
                self.problem(("holidays", index), f"holiday '{value}' is not a date (YYYY-MM-DD)")
        return frozenset(days)

    def rule_severity(self) -> dict[str, Severity | None]:
        raw = self.data.get("lint") or {}
        if not isinstance(raw, dict):
            self.problem(("lint",), "'lint' must map rule codes to error, warning, info or off")
            return {}
        result: dict[str, Severity | None] = {}
        for code, level in raw.items():
            text = "off" if level is False else str(level).strip().lower()
            if text == "off":
                result[str(code).upper()] = None
            elif text in ("error", "warning", "info"):
                result[str(code).upper()] = Severity.parse(text)
            else:
                self.problem(("lint", str(code)), f"severity of {code} must be error, warning, info or off")
        return result

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem((key,), f"'{key}' must be true or false")
            return default
        return value

    def stage_rules(self) -> bool:
        """`stage_rules: {no_skip: true}`: whether deals may skip open stages (the only rule so far)."""
        raw = self.data.get("stage_rules")
        if raw is None:
            return False
        if not isinstance(raw, dict):
            self.problem(("stage_rules",), "'stage_rules' must be a mapping, like {no_skip: true}")
            return False
        for key in raw:
            if key != "no_skip":
                self.problem(("stage_rules", str(key)), f"stage_rules: unknown rule '{key}' (valid: no_skip)")
        value = raw.get("no_skip", False)
        if not isinstance(value, bool):
            self.problem(("stage_rules", "no_skip"), "stage_rules: 'no_skip' must be true or false")
            return False
        return value

    def exchange_rates(self, currency: str) -> dict[str, Decimal]:
        """`exchange_rates: {USD: 0.92}`: units of the workspace currency per unit of each other currency."""
        raw = self.data.get("exchange_rates")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(("exchange_rates",), "'exchange_rates' must map currency codes to rates, like {USD: 0.92}")
            return {}
        rates: dict[str, Decimal] = {}
        for code, rate in raw.items():
            where = ("exchange_rates", code)
            upper = str(code).strip().upper()
            if not _CURRENCY_CODE.match(upper):
                self.problem(where, f"exchange rate key '{code}' is not a three-letter currency code like USD")
                continue
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not MIN_RATE <= rate <= MAX_RATE:
                self.problem(where, f"exchange rate of {upper} must be a positive number of {currency} per {upper} "
                                    f"from {MIN_RATE:g} to {MAX_RATE:g}, not '{shown_number(rate)}'")
                continue
            if upper == currency and rate != 1:
                self.problem(where, f"{upper} is the workspace currency; its exchange rate can only be 1")
                continue
            rates[upper] = Decimal(str(rate))
        return rates

    def audiences(self) -> dict[str, Audience]:
        """`audiences: {name: {clients: [...], sections: [...], hide: [...]}}`; an unknown section is a finding."""
        raw = self.data.get("audiences")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(("audiences",), "'audiences' must map audience names to {clients, sections, hide}")
            return {}
        found: dict[str, Audience] = {}
        for name, spec in raw.items():
            name = str(name)
            where: KeyPath = ("audiences", name)
            if spec is None:
                spec = {}
            if not isinstance(spec, dict):
                self.problem(where, f"audience '{name}' must be a mapping of clients, sections and hide")
                continue
            for key in spec:
                if key not in ("clients", "sections", "hide"):
                    self.problem((*where, str(key)), f"audience '{name}': unknown setting '{key}' "
                                                     "(valid: clients, sections, hide)")
            clients = self._names(spec, where, "clients")
            sections = self._names(spec, where, "sections")
            for index, section in enumerate(sections or ()):
                if section not in SECTIONS:
                    self.problem((*where, "sections", index), f"audience '{name}': unknown section '{section}' "
                                                              f"(valid: {', '.join(SECTIONS)})")
            found[name] = Audience(name, clients, sections if sections is not None else SECTIONS,
                                   self._names(spec, where, "hide") or ())
        return found

    def _names(self, spec: dict[str, Any], where: KeyPath, key: str) -> tuple[str, ...] | None:
        raw = spec.get(key)
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            self.problem((*where, key), f"'{key}' of audience '{where[-1]}' must be a list of names")
            return (NOT_A_LIST,)  # refused by check_audience: a bad list never publishes everything
        return tuple(raw)

    def publish(self, audiences: Mapping[str, Audience]) -> Publish:
        """`publish: {audience: NAME, encrypt: true, allow_indexing: false}`."""
        raw = self.data.get("publish")
        if raw is None:
            return Publish()
        if not isinstance(raw, dict):
            self.problem(("publish",), "'publish' must be a mapping of audience, encrypt, allow_indexing")
            return Publish()
        for key in raw:
            if key not in ("audience", "encrypt", "allow_indexing"):
                self.problem(("publish", str(key)), f"publish: unknown setting '{key}' "
                                                    "(valid: audience, encrypt, allow_indexing)")
        audience = raw.get("audience")
        if audience is not None and (not isinstance(audience, str) or audience not in audiences):
            self.problem(("publish", "audience"), f"publish: audience '{audience}' is not one of crm.yaml's "
                                                  f"audiences ({', '.join(audiences) or 'none defined'})")
            audience = str(audience)  # kept: a build refuses it rather than publishing everything
        flags = {}
        for key in ("encrypt", "allow_indexing"):
            value = raw.get(key, False)
            if not isinstance(value, bool):
                self.problem(("publish", key), f"publish: '{key}' must be true or false")
                value = key == "encrypt"  # the safe reading of a typo
            flags[key] = value
        return Publish(audience, flags["encrypt"], flags["allow_indexing"], written=True)


def load_config(root: Path) -> tuple[Config, list[Finding]]:
    """Read root/crm.yaml into a Config; a missing file gives the defaults, a bad one findings."""
    if not os.path.lexists(root / CONFIG_FILE):
        return Config(), []
    raw = read_inside(root, CONFIG_FILE)  # never through a link out of the workspace, never a pipe
    if isinstance(raw, ParseProblem):
        return Config(), [Finding(CONFIG_FILE, 1, 1, "F001", "invalid-front-matter", Severity.ERROR,
                                  raw.message.replace("the file", "crm.yaml"))]
    text = decode(raw)
    if isinstance(text, ParseProblem):
        return Config(path=CONFIG_FILE), [Finding(CONFIG_FILE, text.line, 1, "F001", "invalid-front-matter",
                                                  Severity.ERROR, text.message.replace("front matter", "crm.yaml"))]
    return config_from_text(text)


def config_from_text(text: str) -> tuple[Config, list[Finding]]:
    """crm.yaml's text (read from disk, or an editor's unsaved buffer) as a Config and its findings."""
    parsed = parse_yaml_mapping(text, 1)
    if isinstance(parsed, ParseProblem):
        message = parsed.message.replace("front matter", "crm.yaml")
        return Config(path=CONFIG_FILE), [Finding(CONFIG_FILE, parsed.line, 1, "F001", "invalid-front-matter",
                                                  Severity.ERROR, message)]
    data, key_lines, traps = parsed
    reader = _ConfigReader(data, key_lines)
    currency = reader.text("currency", DEFAULT_CURRENCY).upper()
    config = Config(
        name=reader.text("name", "Workspace"),
        currency=currency,
        team=(team := reader.team()),
        stages=reader.pipeline(),
        handoff_fields=reader.string_list("handoff_fields", DEFAULT_HANDOFF_FIELDS) or (),
        lost_reasons=reader.string_list("lost_reasons", None),
        working_days=reader.working_days(),
        holidays=reader.holidays(),
        rule_severity=reader.rule_severity(),
        exchange_rates=reader.exchange_rates(currency),
        external_images=reader.flag("external_images", False),
        no_skip=reader.stage_rules(),
        git_history=reader.flag("git_history", True),
        audiences=(audiences := reader.audiences()),
        publish=reader.publish(audiences),
        site_url=read_site_url(data.get("site_url"), reader.problem),
        notify=read_notify(data.get("notify"), reader.problem),
        targets=reader.targets(team),
        path=CONFIG_FILE,
        key_lines=key_lines,
        extra={key: value for key, value in data.items() if key not in KNOWN_SETTINGS},
        traps=tuple(traps),
    )
    return config, reader.findings
