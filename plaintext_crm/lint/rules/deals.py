"""Deal rules (CRM side): owners, next actions, hand-off, stages, rotting, lost reasons, closing dates."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.history.accuracy import SLIPPED_TIMES
from plaintext_crm.lint.registry import Example, HistoryExample, Rule, rule
from plaintext_crm.records.model import Deal, is_empty, lost_reason_valid

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

def days(count: int) -> str:
    """'1 day', '5 days'."""
    return f"{count} day" if count == 1 else f"{count} days"


def _written(deal: Deal, key: str) -> bool:
    """The key has a non-empty value in the file (it may still be invalid: F002 reports that)."""
    return not is_empty(deal.fields.get(key))


OPEN_DEAL = """\
    ---
    title: Website relaunch
    client: acme
    owner: {owner}
    stage: proposal
    next_action: Send the revised proposal
    next_action_due: 2026-11-30
    ---
    """


@rule("D001", "owner-required", Severity.ERROR,
      "Every deal has an owner; with a team in crm.yaml, a member, and an active one for open deals.",
      examples=[
          Example({"deals/website.md": OPEN_DEAL.replace("    owner: {owner}\n", "")},
                  {"deals/website.md": OPEN_DEAL.format(owner="ana")}, "A deal without an owner"),
          Example({"deals/website.md": OPEN_DEAL.format(owner="tom")},
                  {"deals/website.md": OPEN_DEAL.format(owner="ben")},
                  "An open deal owned by someone who left (tom is `active: false` in crm.yaml)"),
          Example({"deals/website.md": OPEN_DEAL.format(owner="jane")},
                  {"deals/website.md": OPEN_DEAL.format(owner="ana")}, "An owner who is not in the team"),
      ])
def owner_required(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Someone must be accountable for every deal. When crm.yaml lists a `team`, the owner must be one
    of its ids; an open deal must belong to an active member (people who left keep their closed deals).
    Without a team any owner name is accepted."""
    team = analysis.workspace.config.team
    for deal in analysis.deals_by_status.all:
        if deal.owner is None:
            if not _written(deal, "owner"):
                yield rule.finding(deal.location("owner"), "deal has no owner")
            continue
        if not team:
            continue
        member = team.get(deal.owner)
        if member is None:
            yield rule.finding(deal.location("owner"),
                               f"owner '{deal.owner}' is not in the team ({', '.join(sorted(team))})")
        elif not member.active and analysis.workspace.is_open(deal):
            yield rule.finding(deal.location("owner"),
                               f"open deal is owned by '{deal.owner}', who is no longer active; "
                               "give it to an active team member")


@rule("D002", "next-action-required", Severity.ERROR,
      "Every open deal has a non-empty next_action and a next_action_due date.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
          "    next_action: Send the revised proposal\n    next_action_due: 2026-11-30\n", "")},
          {"deals/website.md": OPEN_DEAL.format(owner="ana")}, "An open deal with no next step")])
def next_action_required(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """An open deal (its stage is not a closed one) without a next step is a deal nobody is working.
    Both `next_action` (what) and `next_action_due` (when) are required. A due date that is written
    but is not a date is reported by F002 instead."""
    for deal in analysis.deals_by_status.open:
        missing = [key for key in ("next_action", "next_action_due")
                   if getattr(deal, key) is None and not (key == "next_action_due" and _written(deal, key))]
        if missing:
            where = deal.location(missing[0] if missing[0] in deal.key_lines else None)
            yield rule.finding(where, f"open deal has no {' and no '.join(missing)}")


@rule("D003", "next-action-overdue", Severity.WARNING,
      "An open deal's next_action_due is before today.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace("2026-11-30", "2026-11-18")},
                        {"deals/website.md": OPEN_DEAL.format(owner="ana")},
                        "A next action that slipped (today is 2026-11-26)")])
def next_action_overdue(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Do the action, or move its date honestly. Closed deals are skipped: their next action no
    longer matters."""
    for deal in analysis.deals_by_status.open:
        due = deal.next_action_due
        if due is not None and due < analysis.today:
            late = (analysis.today - due).days
            yield rule.finding(deal.location("next_action_due"),
                               f"next action '{deal.next_action or '?'}' was due {due} ({days(late)} ago)")


WON_DEAL = """\
    ---
    title: Website relaunch
    client: acme
    owner: ana
    stage: won
    closed_on: 2026-11-20
    scope_summary: Relaunch of the marketing site, 12 pages
    promised_timeline: 10 weeks
    key_constraints: [Launch before the March trade fair]
    main_stakeholder: Jane Doe (CMO)
    kickoff_date: 2026-12-07
    ---
    """


@rule("D004", "handoff-required", Severity.ERROR,
      "A won deal has every hand-off field crm.yaml requires, non-empty, with kickoff_date a date.",
      examples=[Example({"deals/website.md": WON_DEAL.replace("    key_constraints: [Launch before the March trade fair]\n",
                                                              "    key_constraints: []\n")
                         .replace("    kickoff_date: 2026-12-07\n", "")},
                        {"deals/website.md": WON_DEAL},
                        "A deal marked won before delivery has what it needs")])
def handoff_required(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """What delivery needs to start well must be written down before a deal is closed-won: by
    default scope_summary, promised_timeline, key_constraints, main_stakeholder and kickoff_date
    (crm.yaml `handoff_fields` changes the list). One finding per missing or empty field, on the
    field's line when it is written empty, else on the `stage:` line that made the deal won. A
    kickoff_date that is not a date is reported by F002."""
    required = analysis.workspace.config.handoff_fields
    for deal in analysis.deals_by_status.won:
        for key in deal.handoff_gaps(required)[0]:
            where = deal.location(key if key in deal.key_lines else "stage")
            yield rule.finding(where, f"won deal is missing hand-off field '{key}'")


@rule("D005", "unknown-stage", Severity.ERROR,
      "A deal's stage is missing or not one of the pipeline's stages.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace("stage: proposal", "stage: pitch")},
                        {"deals/website.md": OPEN_DEAL.format(owner="ana")},
                        "A stage that is not in the pipeline")])
def unknown_stage(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """The stage decides the forecast weight and which rules apply, so it must be one of crm.yaml's
    `pipeline` stages (by default lead, qualified, proposal, negotiation, won, lost). A deal with an
    unknown stage is treated as open."""
    config = analysis.workspace.config
    for deal in analysis.deals_by_status.all:
        if deal.stage is None:
            if not _written(deal, "stage"):
                yield rule.finding(deal.location("stage"), "deal has no stage")
        elif config.stage(deal.stage) is None:
            ids = [stage.id for stage in config.stages]
            close = difflib.get_close_matches(deal.stage.lower(), ids, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            yield rule.finding(deal.location("stage"),
                               f"stage '{deal.stage}' is not in the pipeline ({', '.join(ids)}){hint}")


@rule("D006", "deal-rotting", Severity.WARNING,
      "An open deal has stayed in its stage longer than the stage's rot_days.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
          "stage: proposal\n", "stage: proposal\n    stage_since: 2026-10-20\n")},
          {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", "stage: proposal\n    stage_since: 2026-11-16\n")},
          "A proposal (rot_days: 14 in crm.yaml) waiting since 2026-10-20")])
def deal_rotting(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Deals that sit still go cold. Give a stage `rot_days` in crm.yaml's pipeline; a deal is rotting
    when today is more than rot_days after it entered the stage: its `stage_since` (unless git history
    contradicts it, see D012), else the date git history says the stage was set. Skipped when neither
    is known or the stage has no rot_days."""
    for deal in analysis.deals_by_status.open:
        stage = analysis.workspace.config.stage(deal.stage)
        if stage is None or stage.rot_days is None:
            continue
        since = analysis.stage_since(deal)
        if since is None:
            continue
        age = (analysis.today - since).days
        if age > stage.rot_days:
            where = deal.location("stage_since" if deal.stage_since == since else "stage")
            yield rule.finding(where, f"in '{stage.id}' since {since} ({days(age)}; rot_days {stage.rot_days})")


LOST_DEAL = """\
    ---
    title: Website relaunch
    client: acme
    owner: ana
    stage: lost
    closed_on: 2026-11-20
    lost_reason: {reason}
    ---
    """


@rule("D007", "lost-without-reason", Severity.WARNING,
      "A lost deal has no lost_reason, or one outside crm.yaml's lost_reasons list.",
      examples=[Example({"deals/website.md": LOST_DEAL.replace("    lost_reason: {reason}\n", "")},
                        {"deals/website.md": LOST_DEAL.format(reason="price")}, "No reason recorded"),
                Example({"deals/website.md": LOST_DEAL.format(reason="too expensive")},
                        {"deals/website.md": LOST_DEAL.format(reason="price")},
                        "A reason outside crm.yaml's `lost_reasons: [price, timing, competitor]`")])
def lost_without_reason(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Why deals are lost is what a team learns from. When crm.yaml lists `lost_reasons`, the reason
    must be one of them, so reasons can be counted."""
    allowed = analysis.workspace.config.lost_reasons
    for deal in analysis.deals_by_status.lost:
        if lost_reason_valid(deal.lost_reason, allowed):
            continue
        if deal.lost_reason is None:
            yield rule.finding(deal.location("lost_reason"), "lost deal has no lost_reason")
        else:
            yield rule.finding(deal.location("lost_reason"),
                               f"lost_reason '{deal.lost_reason}' is not one of {', '.join(allowed or ())}")


@rule("D008", "closed-without-date", Severity.WARNING,
      "A won or lost deal has no closed_on date, or one after today.",
      examples=[Example({"deals/website.md": LOST_DEAL.format(reason="price").replace("    closed_on: 2026-11-20\n", "")},
                        {"deals/website.md": LOST_DEAL.format(reason="price")}, "A lost deal without its date"),
                Example({"deals/website.md": WON_DEAL.replace("closed_on: 2026-11-20", "closed_on: 2026-12-20")},
                        {"deals/website.md": WON_DEAL}, "A deal closed in the future (today is 2026-11-26)")])
def closed_without_date(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Win rates, sales cycles and revenue by month need the day a deal closed. A closing date in
    the future usually means the stage was changed too early. A closed_on that is not a date is
    reported by F002."""
    for deal in analysis.deals_by_status.closed:
        if deal.closed_on is None:
            change = analysis.transitions.get(deal.id)
            if change is not None and change.won_now:
                continue  # won by the change being checked: T004 reports it, as an error
            if not _written(deal, "closed_on"):
                yield rule.finding(deal.location("closed_on"), f"{deal.stage} deal has no closed_on date")
        elif deal.closed_on > analysis.today:
            yield rule.finding(deal.location("closed_on"), f"closed_on {deal.closed_on} is after today")


@rule("D009", "expected-close-passed", Severity.WARNING,
      "An open deal's expected_close is before today, so the forecast counts it in the past.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
          "stage: proposal\n", "stage: proposal\n    expected_close: 2026-10-31\n")},
          {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", "stage: proposal\n    expected_close: 2026-12-18\n")},
          "An expected close date that went by")])
def expected_close_passed(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Either the deal closed (move it to won or lost) or its expected_close must move: a forecast
    built on past dates is wrong."""
    for deal in analysis.deals_by_status.open:
        if deal.expected_close is not None and deal.expected_close < analysis.today:
            yield rule.finding(deal.location("expected_close"),
                               f"expected_close {deal.expected_close} has passed; close the deal or move the date")


@rule("D010", "client-required", Severity.ERROR,
      "Every deal names its client.",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace("    client: acme\n", "")},
                        {"deals/website.md": OPEN_DEAL.format(owner="ana")}, "A deal for nobody")])
def client_required(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A deal belongs to a client (clients/<id>.md): client pages, revenue per client and the hand-off
    to a project need it. A client id that does not exist is R001."""
    for deal in analysis.deals_by_status.all:
        if deal.client is None and not _written(deal, "client"):
            yield rule.finding(deal.location("client"), "deal has no client")


@rule("D011", "close-date-slipped", Severity.WARNING,
      f"An open deal's expected_close moved later {SLIPPED_TIMES} times or more (git history, and the working tree).",
      examples=[HistoryExample(
          {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", "stage: proposal\n    expected_close: 2027-01-29\n")},
          {"deals/website.md": LOST_DEAL.format(reason="timing")},
          "expected_close pushed from October to January in three commits; lost is the honest answer",
          history=tuple((when, {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", f"stage: {stage}\n    expected_close: {close}\n")})
              for when, stage, close in (("2026-09-01T10:00:00+00:00", "qualified", "2026-10-30"),
                                         ("2026-10-01T10:00:00+00:00", "qualified", "2026-11-27"),
                                         ("2026-11-02T10:00:00+00:00", "qualified", "2026-12-18"),
                                         ("2026-11-20T10:00:00+00:00", "proposal", "2027-01-29"))))])
def close_date_slipped(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A deal whose expected close keeps moving is counted in every forecast and closes in none. Git
    knows how often it moved: after the third push to a later date, re-qualify the deal (move it back
    a stage, or close it as lost) rather than push it again. The deal page lists every move."""
    for deal in analysis.deals_by_status.open:
        slipped = analysis.slippage.get(deal.id)
        if slipped is not None and slipped.count >= SLIPPED_TIMES:
            yield rule.finding(deal.location("expected_close"),
                               f"expected_close moved later {slipped.count} times, by {days(slipped.days)} in "
                               f"total (from {slipped.moves[0].old} to {slipped.moves[-1].new})")


@rule("D012", "stage-since-contradicts-history", Severity.WARNING,
      "A deal's stage_since was left over from an earlier stage: git shows a later stage change that did not update it.",
      examples=[HistoryExample(
          {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", "stage: negotiation\n    stage_since: 2026-10-20\n")},
          {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
              "stage: proposal\n", "stage: negotiation\n    stage_since: 2026-11-20\n")},
          "Committed on 2026-10-20 in proposal with stage_since 2026-10-20, moved to negotiation on "
          "2026-11-20 without updating stage_since",
          history=(("2026-10-20T10:00:00+00:00", {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
                       "stage: proposal\n", "stage: proposal\n    stage_since: 2026-10-20\n")}),
                   ("2026-11-20T10:00:00+00:00", {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
                       "stage: proposal\n", "stage: negotiation\n    stage_since: 2026-10-20\n")})))])
def stage_since_contradicts_history(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """`stage_since` overrides git for what git does not know (when an imported deal really entered
    its stage, or a stage change made days before it was committed). A `stage_since` left over from an
    earlier stage is not that: when git shows the deal moved to its stage in a commit (or a
    working-tree edit) that left `stage_since` as it was, the date is stale, whether it is before or
    after the move (it dated the earlier stay). Days in stage, D006
    and the stage history then count from git's date, and this warning says what git shows. A
    `stage_since` before the deal entered its previous stage is reported too (the stay starts when
    that one began). Update `stage_since` to the day the deal entered its stage, or remove it to let
    git's date count. Needs git history."""
    conflicts = analysis.stage_dates.conflicts
    for deal in analysis.deals_by_status.all:
        conflict = conflicts.get(deal.id)
        if conflict is not None:
            yield rule.finding(deal.location("stage_since"), conflict.message)


@rule("H001", "won-without-project", Severity.WARNING,
      "A won deal whose kickoff_date has passed and that no project references.",
      examples=[Example({"deals/website.md": WON_DEAL.replace("kickoff_date: 2026-12-07", "kickoff_date: 2026-11-16")},
                        {"deals/website.md": WON_DEAL.replace("kickoff_date: 2026-12-07", "kickoff_date: 2026-11-16"),
                         "projects/website.md": """\
                             ---
                             title: Website relaunch
                             client: acme
                             deal: website
                             owner: ana
                             status: active
                             ---
                             """},
                        "Kickoff was on 2026-11-16 but delivery has no project")])
def won_without_project(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A won deal must reach delivery: once its kickoff_date has passed, a project should exist
    (`plaintext-crm handoff DEAL` creates one). The deal counts as handed over when a project's
    `deal:` names it or its own `project:` names an existing project."""
    workspace = analysis.workspace
    projects_by_deal = workspace.projects_by_deal()
    for deal in analysis.deals_by_status.won:
        kickoff = deal.kickoff_date
        if kickoff is None or kickoff >= analysis.today:
            continue
        if workspace.project_of(deal, projects_by_deal) is not None:
            continue
        yield rule.finding(deal.location("kickoff_date"),
                           f"won deal kicked off on {kickoff} ({days((analysis.today - kickoff).days)} ago) "
                           "but no project references it")
