"""CRM analytics: per-deal figures, follow-up states, the pipeline board, follow-ups, overview and hand-offs.

Every function here is pure: (workspace, today, stage_since) in, frozen dataclasses out. Templates,
data.json, .ics feeds and terminal reports only format these values; docs/metrics.md defines each one.
Money is Decimal: deal values are converted into the workspace currency with crm.yaml's
`exchange_rates`, summed exactly, and rounded to cents (half up) only in the totals and in data.json
(json_data.to_data).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.money import cents, decimal
from plaintext_crm.records.config import Config, Stage
from plaintext_crm.records.model import OPEN_WORK, Deal, DealStatus, Workspace, stage_status

StageSince = Callable[[Deal], "dt.date | None"]


def front_matter_stage_since(deal: Deal) -> dt.date | None:
    """The default `stage_since` callable: the date written in the deal's own front matter."""
    return deal.stage_since


# --- per-deal facts -------------------------------------------------------------------------------

class FollowUpState(enum.StrEnum):
    """Pipedrive's four next-activity states of an open deal."""

    OVERDUE = "overdue"  # next_action_due is before today
    DUE_TODAY = "due_today"
    PLANNED = "planned"  # due after today
    NONE = "none"  # no next action, or no valid due date


def follow_up_state(deal: Deal, today: dt.date) -> FollowUpState:
    """The follow-up state of a deal's next action relative to `today` (meaningful for open deals)."""
    if not deal.next_action or deal.next_action_due is None:
        return FollowUpState.NONE
    if deal.next_action_due < today:
        return FollowUpState.OVERDUE
    if deal.next_action_due == today:
        return FollowUpState.DUE_TODAY
    return FollowUpState.PLANNED


def _probability_of(deal: Deal, stage: Stage | None) -> float | None:
    """The probability that weights a deal: an open deal's own `probability` first, else its stage's.

    Closed deals always use their stage's probability (won 1.0, lost 0.0); None for an unknown stage.
    """
    if stage is None:
        return None
    if stage.is_open and deal.probability is not None:
        return float(deal.probability)
    return stage.probability


def deal_currency(deal: Deal, config: Config) -> str:
    """The currency of a deal's value: its own `currency`, else the workspace currency."""
    return deal.currency or config.currency


def exchange_rate(currency: str, config: Config) -> Decimal | None:
    """Units of the workspace currency per unit of `currency`; None when crm.yaml gives no rate."""
    if currency == config.currency:
        return Decimal(1)
    return config.exchange_rates.get(currency)


@dataclass(frozen=True, slots=True)
class DealFigures:
    """Everything computed about one deal; also the card of the board and the item of follow-up lists.

    Money fields are exact Decimals; round them with `cents()` for display (to_data() does).
    """

    json_reference: ClassVar[str] = "id"  # inside other figures, data.json gives the deal id only

    id: str
    path: str
    title: str
    status: DealStatus
    stage: str | None
    client_id: str | None
    client_name: str | None  # the client's name, else its id when the client file is missing
    owner: str | None
    owner_name: str | None  # from crm.yaml's team; None for an owner not in the team
    value: Decimal | None  # as written, in `currency`
    currency: str
    value_base: Decimal | None  # in the workspace currency; None: no value, or no exchange rate
    unconverted: bool  # has a value, but its currency has no exchange rate
    probability: float | None  # the weighting probability (deal override first, else stage)
    weighted: Decimal | None  # value_base x probability
    source: str | None
    created: dt.date | None
    expected_close: dt.date | None
    closed_on: dt.date | None
    next_action: str | None
    next_action_due: dt.date | None
    follow_up: FollowUpState  # NONE for won and lost deals
    days_overdue: int  # today - next_action_due when overdue, else 0
    stage_since: dt.date | None
    days_in_stage: int | None  # today - stage_since (0 when stage_since is after today)
    rot_days: int | None  # the stage's rot_days
    rotting: bool  # open, and days_in_stage > rot_days

    @property
    def is_open(self) -> bool:
        return self.status is DealStatus.OPEN


def figures_for_deal(deal: Deal, workspace: Workspace, today: dt.date,
                     stage_since: StageSince = front_matter_stage_since) -> DealFigures:
    """The figures of one deal on `today`."""
    config = workspace.config
    stage = config.stage(deal.stage)
    status = stage_status(stage)
    client = workspace.clients.get(deal.client) if deal.client else None
    member = config.team.get(deal.owner) if deal.owner else None
    since = stage_since(deal)
    days_in_stage = max(0, (today - since).days) if since is not None else None
    rot_days = stage.rot_days if stage is not None else None
    value = decimal(deal.value) if deal.value is not None else None
    currency = deal_currency(deal, config)
    rate = exchange_rate(currency, config)
    value_base = value * rate if value is not None and rate is not None else None
    probability = _probability_of(deal, stage)
    weighted = value_base * decimal(probability) if value_base is not None and probability is not None else None
    is_open = status is DealStatus.OPEN
    # a deal with an unknown stage is still open work (Workspace.is_open): its next action counts
    state = follow_up_state(deal, today) if status in OPEN_WORK else FollowUpState.NONE
    return DealFigures(
        id=deal.id, path=deal.path, title=deal.display_title, status=status, stage=deal.stage,
        client_id=deal.client, client_name=client.display_name if client else deal.client,
        owner=deal.owner, owner_name=member.name if member else None,
        value=value, currency=currency, value_base=value_base, unconverted=value is not None and value_base is None,
        probability=probability, weighted=weighted,
        source=deal.source, created=deal.created, expected_close=deal.expected_close, closed_on=deal.closed_on,
        next_action=deal.next_action, next_action_due=deal.next_action_due, follow_up=state,
        days_overdue=(today - deal.next_action_due).days if state is FollowUpState.OVERDUE and deal.next_action_due
        else 0,
        stage_since=since, days_in_stage=days_in_stage, rot_days=rot_days,
        rotting=is_open and rot_days is not None and days_in_stage is not None and days_in_stage > rot_days,
    )


def deal_figures(workspace: Workspace, today: dt.date,
                 stage_since: StageSince = front_matter_stage_since) -> dict[str, DealFigures]:
    """Figures for every deal, by id, in id order."""
    return {deal_id: figures_for_deal(workspace.deals[deal_id], workspace, today, stage_since)
            for deal_id in sorted(workspace.deals)}


# --- sums --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of deal values in the workspace currency, rounded to cents, with the deals behind it.

    Deals are never silently summed: one whose currency has no exchange rate is listed in
    `unconverted`, one without a value in `no_value`, and neither is in `value`.
    """

    value: Decimal
    currency: str
    deal_ids: tuple[str, ...]  # the deals summed
    unconverted: tuple[str, ...] = ()
    no_value: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every deal asked for is in the sum."""
        return not self.unconverted and not self.no_value


def sum_amount(deals: Iterable[DealFigures], currency: str, *, weighted: bool = False) -> Amount:
    """Sum value_base (or weighted) of `deals` exactly, then round to cents."""
    total = Decimal(0)
    summed: list[str] = []
    unconverted: list[str] = []
    no_value: list[str] = []
    for figures in deals:
        amount = figures.weighted if weighted else figures.value_base
        if figures.value is None:
            no_value.append(figures.id)
        elif figures.unconverted:
            unconverted.append(figures.id)
        elif amount is not None:
            total += amount
            summed.append(figures.id)
    return Amount(cents(total), currency, tuple(summed), tuple(unconverted), tuple(no_value))


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure: how many deals, optionally how much money, and which deals (for the link)."""

    key: str
    label: str
    count: int
    deal_ids: tuple[str, ...]
    amount: Amount | None = None


def _figure(key: str, label: str, deals: Sequence[DealFigures], currency: str | None = None,
            weighted: bool = False) -> Figure:
    amount = sum_amount(deals, currency, weighted=weighted) if currency is not None else None
    return Figure(key, label, len(deals), tuple(figures.id for figures in deals), amount)


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """An owner as lists and filters show them."""

    id: str | None  # None: deals without an owner
    name: str
    active: bool | None  # None: not a member of crm.yaml's team


def owner_refs(deals: Iterable[DealFigures], config: Config) -> tuple[OwnerRef, ...]:
    """The owners of `deals`: team members in crm.yaml order, then unknown owners by id, then 'no owner'."""
    present = {figures.owner for figures in deals}
    refs = [OwnerRef(member.id, member.name, member.active) for member in config.team.values() if member.id in present]
    refs += [OwnerRef(owner, owner, None) for owner in sorted(o for o in present if o and o not in config.team)]
    if None in present:
        refs.append(OwnerRef(None, "(no owner)", None))
    return tuple(refs)


def _by_due(figures: DealFigures) -> tuple[bool, dt.date, str]:
    return (figures.next_action_due is None, figures.next_action_due or dt.date.max, figures.id)


# --- board -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BoardColumn:
    """One open stage of the kanban board."""

    stage: str
    probability: float
    rot_days: int | None
    cards: tuple[DealFigures, ...]  # overdue first, then by next_action_due; deals with none last
    total: Amount
    weighted: Amount

    @property
    def count(self) -> int:
        return len(self.cards)

    @property
    def rotting_count(self) -> int:
        return sum(1 for card in self.cards if card.rotting)


@dataclass(frozen=True, slots=True)
class Board:
    """The pipeline board: one column per open stage in pipeline order."""

    today: dt.date
    currency: str
    columns: tuple[BoardColumn, ...]
    unstaged: tuple[DealFigures, ...]  # deals whose stage is missing or unknown; on no column, in no total
    owners: tuple[OwnerRef, ...]  # owners of the cards, for the owner filter
    total: Amount
    weighted: Amount


def board_from(deals: Mapping[str, DealFigures], config: Config, today: dt.date) -> Board:
    """The board from already computed deal figures."""
    columns = []
    for stage in config.open_stages:
        cards = tuple(sorted((f for f in deals.values() if f.stage == stage.id), key=_by_due))
        columns.append(BoardColumn(stage.id, stage.probability, stage.rot_days, cards,
                                   sum_amount(cards, config.currency),
                                   sum_amount(cards, config.currency, weighted=True)))
    on_board = [card for column in columns for card in column.cards]
    unstaged = tuple(sorted((f for f in deals.values() if f.status is DealStatus.UNKNOWN), key=_by_due))
    return Board(today, config.currency, tuple(columns), unstaged, owner_refs(on_board, config),
                 sum_amount(on_board, config.currency), sum_amount(on_board, config.currency, weighted=True))


# --- follow-ups --------------------------------------------------------------------------------

def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the calendar week that holds `today`."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


@dataclass(frozen=True, slots=True)
class FollowUpLists:
    """Open deals split by their next action: each open deal is in exactly one list."""

    overdue: tuple[DealFigures, ...]  # due before today, oldest first
    due_today: tuple[DealFigures, ...]
    this_week: tuple[DealFigures, ...]  # due after today, up to Sunday of this week
    later: tuple[DealFigures, ...]  # due after this week
    missing: tuple[DealFigures, ...]  # no next action or no valid due date

    @property
    def scheduled(self) -> tuple[DealFigures, ...]:
        """Every deal with a dated next action (what the .ics feed holds), by due date."""
        return self.overdue + self.due_today + self.this_week + self.later


def _follow_up_lists(open_deals: Iterable[DealFigures], today: dt.date) -> FollowUpLists:
    week_end = week_of(today)[1]
    ordered = sorted(open_deals, key=_by_due)
    overdue = tuple(f for f in ordered if f.follow_up is FollowUpState.OVERDUE)
    due_today = tuple(f for f in ordered if f.follow_up is FollowUpState.DUE_TODAY)
    planned = [f for f in ordered if f.follow_up is FollowUpState.PLANNED]
    missing = tuple(sorted((f for f in ordered if f.follow_up is FollowUpState.NONE), key=lambda f: f.id))
    return FollowUpLists(overdue, due_today,
                         tuple(f for f in planned if f.next_action_due and f.next_action_due <= week_end),
                         tuple(f for f in planned if f.next_action_due and f.next_action_due > week_end),
                         missing)


@dataclass(frozen=True, slots=True)
class OwnerFollowUps:
    """One owner's follow-ups."""

    owner: OwnerRef
    lists: FollowUpLists


@dataclass(frozen=True, slots=True)
class FollowUps:
    """Follow-ups of every open deal (any deal not in a won or lost stage), overall and per owner."""

    today: dt.date
    week_start: dt.date  # Monday of today's week
    week_end: dt.date  # Sunday of today's week
    all: FollowUpLists
    owners: tuple[OwnerFollowUps, ...]  # owners with at least one open deal


def followups_from(deals: Mapping[str, DealFigures], config: Config, today: dt.date) -> FollowUps:
    """Follow-ups from already computed deal figures."""
    open_deals = [f for f in deals.values() if f.status in OPEN_WORK]
    owners = tuple(OwnerFollowUps(ref, _follow_up_lists((f for f in open_deals if f.owner == ref.id), today))
                   for ref in owner_refs(open_deals, config))
    week_start, week_end = week_of(today)
    return FollowUps(today, week_start, week_end, _follow_up_lists(open_deals, today), owners)


# --- hand-offs ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Handoff:
    """A won deal and how ready it is for delivery."""

    deal: DealFigures
    required: tuple[str, ...]  # config.handoff_fields
    missing: tuple[str, ...]  # required fields with no value
    invalid: tuple[str, ...]  # required fields written but unusable (kickoff_date that is not a date)
    kickoff_date: dt.date | None
    project_ref: str | None  # the deal's `project` as written
    project_id: str | None  # the existing project this deal became: deal.project, else a project whose deal is it
    kickoff_passed: bool  # kickoff_date is before today and no project exists yet

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid


@dataclass(frozen=True, slots=True)
class Handoffs:
    """Every won deal's hand-off, most recently closed first."""

    items: tuple[Handoff, ...]

    @property
    def incomplete(self) -> tuple[Handoff, ...]:
        return tuple(item for item in self.items if not item.complete)

    @property
    def without_project(self) -> tuple[Handoff, ...]:
        return tuple(item for item in self.items if item.project_id is None)


def handoff_for(deal: Deal, figures: DealFigures, workspace: Workspace, today: dt.date,
                projects_by_deal: Mapping[str, str] | None = None) -> Handoff:
    """Hand-off completeness of one won deal and the project it became.

    `projects_by_deal` (Workspace.projects_by_deal()) saves a scan of every project when many deals are checked.
    """
    required = workspace.config.handoff_fields
    missing, invalid = deal.handoff_gaps(required)
    project_id = workspace.project_of(deal, projects_by_deal)
    return Handoff(figures, required, missing, invalid, deal.kickoff_date, deal.project, project_id,
                   project_id is None and deal.kickoff_date is not None and deal.kickoff_date < today)


def handoffs_from(deals: Mapping[str, DealFigures], workspace: Workspace, today: dt.date) -> Handoffs:
    """Hand-offs from already computed deal figures."""
    won = [f for f in deals.values() if f.status is DealStatus.WON]
    won.sort(key=lambda f: (f.closed_on is None, -(f.closed_on or dt.date.min).toordinal(), f.id))
    index = workspace.projects_by_deal()
    return Handoffs(tuple(handoff_for(workspace.deals[f.id], f, workspace, today, index) for f in won))


# --- overview ----------------------------------------------------------------------------------

def quarter_of(day: dt.date) -> tuple[dt.date, str]:
    """The first day of the calendar quarter holding `day`, and its label (2026-Q4)."""
    quarter = (day.month - 1) // 3
    return dt.date(day.year, quarter * 3 + 1, 1), f"{day.year}-Q{quarter + 1}"


@dataclass(frozen=True, slots=True)
class Overview:
    """The headline figures, each with the deals behind it."""

    today: dt.date
    currency: str
    month: str  # 2026-11
    quarter: str  # 2026-Q4
    open_pipeline: Figure  # open deals, amount = sum of values
    weighted_forecast: Figure  # open deals, amount = sum of value x probability
    won_this_month: Figure  # won deals with closed_on in today's calendar month
    won_this_quarter: Figure  # won deals with closed_on in today's calendar quarter
    overdue: Figure  # open deals whose next action is overdue
    due_today: Figure
    due_this_week: Figure  # due after today up to Sunday (disjoint from due_today)
    no_next_action: Figure  # open deals with follow-up state none
    rotting: Figure
    unknown_stage: Figure  # deals with a missing or unknown stage (in no money figure)
    lint_problems: int  # the findings the caller passed in
    lint_by_severity: Mapping[str, int]  # {"error": n, "warning": n, "info": n}

    def figures(self) -> tuple[Figure, ...]:
        """The deal figures in display order."""
        return (self.open_pipeline, self.weighted_forecast, self.won_this_month, self.won_this_quarter,
                self.overdue, self.due_today, self.due_this_week, self.no_next_action, self.rotting,
                self.unknown_stage)


def overview_from(deals: Mapping[str, DealFigures], config: Config, today: dt.date,
                  findings: Sequence[Finding] = ()) -> Overview:
    """The overview from already computed deal figures and the lint findings to count."""
    currency = config.currency
    open_deals = [f for f in deals.values() if f.status is DealStatus.OPEN]
    won = [f for f in deals.values() if f.status is DealStatus.WON and f.closed_on is not None]
    quarter_start, quarter = quarter_of(today)
    this_month = [f for f in won if f.closed_on and (f.closed_on.year, f.closed_on.month) == (today.year, today.month)]
    this_quarter = [f for f in won if f.closed_on and quarter_of(f.closed_on)[0] == quarter_start]
    open_or_unknown = [f for f in deals.values() if f.status in OPEN_WORK]
    lists = _follow_up_lists(open_or_unknown, today)
    return Overview(
        today=today, currency=currency, month=f"{today:%Y-%m}", quarter=quarter,
        open_pipeline=_figure("open_pipeline", "Open pipeline", open_deals, currency),
        weighted_forecast=_figure("weighted_forecast", "Weighted forecast", open_deals, currency, weighted=True),
        won_this_month=_figure("won_this_month", "Won this month", this_month, currency),
        won_this_quarter=_figure("won_this_quarter", "Won this quarter", this_quarter, currency),
        overdue=_figure("overdue", "Follow-ups overdue", lists.overdue),
        due_today=_figure("due_today", "Follow-ups due today", lists.due_today),
        due_this_week=_figure("due_this_week", "Follow-ups due later this week", lists.this_week),
        no_next_action=_figure("no_next_action", "Open deals with no next action", lists.missing),
        rotting=_figure("rotting", "Rotting deals", sorted((f for f in open_or_unknown if f.rotting),  # longest first
                                                           key=lambda f: (-(f.days_in_stage or 0), f.id))),
        unknown_stage=_figure("unknown_stage", "Deals with an unknown stage",
                              [f for f in deals.values() if f.status is DealStatus.UNKNOWN]),
        lint_problems=len(findings),
        lint_by_severity={severity.label: sum(1 for f in findings if f.severity is severity)
                          for severity in sorted(Severity, reverse=True)},
    )
