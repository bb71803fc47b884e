"""Transition rules: how a deal may change since a base revision (the hook's HEAD, `lint --base REV`).

They run only when the analysis knows a base (`Analysis.base`); a plain `lint` has none and they stay silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.lint.registry import EXAMPLE_BASE, HistoryExample, Rule, rule
from plaintext_crm.lint.rules.deals import OPEN_DEAL, WON_DEAL
from plaintext_crm.records.model import DealStatus, is_empty

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

CONFIG = EXAMPLE_BASE["crm.yaml"]
NO_SKIP_CONFIG = CONFIG + "stage_rules: {no_skip: true}\n"
COMMITTED = "2026-11-20T10:00:00+00:00"
OPEN_IN = OPEN_DEAL.format(owner="ana")


def _example(history: dict[str, str], bad: dict[str, str], fixed: dict[str, str], title: str) -> HistoryExample:
    """An example linted against HEAD: `history` committed (with crm.yaml) on 2026-11-20, then edited."""
    return HistoryExample(bad, fixed, title, history=((COMMITTED, {"crm.yaml": CONFIG, **history}),), base=True)


@rule("T001", "reopened-without-reason", Severity.ERROR,
      "A won or lost deal moved back to an open stage without a reopen_reason (needs a base revision).",
      examples=[_example({"deals/website.md": WON_DEAL}, {"deals/website.md": OPEN_IN},
                         {"deals/website.md": OPEN_IN.replace(
                             "stage: proposal\n", "stage: proposal\n    reopen_reason: They want a second phase\n")},
                         "A deal won at HEAD, moved back to proposal in the commit")])
def reopened_without_reason(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A closed deal is history: the win counts in revenue, the loss in the win rate. Reopening it
    changes both, so the commit that does it says why in `reopen_reason` (kept in the file, and in git)."""
    for deal_id, change in analysis.transitions.items():
        if change.reopened and is_empty(change.after.fields.get("reopen_reason")):
            yield rule.finding(change.after.location("stage"),
                               f"{deal_id} was {change.before.stage} and is reopened to {change.after.stage}: "
                               "add reopen_reason saying why")


@rule("T002", "stage-skipped", Severity.ERROR,
      "With crm.yaml's `stage_rules: {no_skip: true}`, a deal moved over an open stage without a skip_reason "
      "(needs a base revision).",
      examples=[HistoryExample(
          {"crm.yaml": NO_SKIP_CONFIG, "deals/website.md": OPEN_IN},
          {"crm.yaml": NO_SKIP_CONFIG, "deals/website.md": OPEN_IN.replace(
              "stage: proposal\n", "stage: proposal\n    skip_reason: Referral, qualified on the first call\n")},
          "A lead moved straight to proposal, passing over qualified",
          history=((COMMITTED, {"crm.yaml": NO_SKIP_CONFIG,
                                "deals/website.md": OPEN_IN.replace("stage: proposal", "stage: lead")}),),
          base=True)])
def stage_skipped(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Stage conversion and days in stage are only comparable when every deal goes through every stage.
    A team that wants that sets `stage_rules: {no_skip: true}` in crm.yaml; a deal may then move to the
    next open stage, back to any earlier one, or close (won or lost) from any stage, but a move to a
    later open stage that passes over one needs `skip_reason:` in the deal, saying why."""
    config = analysis.workspace.config
    if not config.no_skip:
        return
    for deal_id, change in analysis.transitions.items():
        skipped = change.skipped(config)
        if skipped and is_empty(change.after.fields.get("skip_reason")):
            yield rule.finding(change.after.location("stage"),
                               f"{deal_id} moved from {change.before.stage} to {change.after.stage}, skipping "
                               f"{', '.join(skipped)}; crm.yaml's stage_rules forbid skipping stages (add "
                               "skip_reason to allow it)")


@rule("T003", "closed-deal-changed", Severity.WARNING,
      "A won deal's value changed after it closed, or a closed deal's closed_on moved (needs a base revision).",
      examples=[_example({"deals/website.md": WON_DEAL.replace("stage: won", "stage: won\n    value: 10000")},
                         {"deals/website.md": WON_DEAL.replace("stage: won", "stage: won\n    value: 12000")},
                         {"deals/website.md": WON_DEAL.replace("stage: won", "stage: won\n    value: 10000")},
                         "The value of a deal won at HEAD raised in the commit"),
                _example({"deals/website.md": WON_DEAL},
                         {"deals/website.md": WON_DEAL.replace("closed_on: 2026-11-20", "closed_on: 2026-11-02")},
                         {"deals/website.md": WON_DEAL}, "A won deal's closing date moved back")])
def closed_deal_changed(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Revenue by month, the forecast's accuracy and the sales cycle count a won deal's value on the day
    it closed. A later change of the value (or currency), or of `closed_on`, rewrites figures that were
    already reported; more work sold to the same client is usually a new deal. The warning gives the
    old and the new values."""
    for deal_id, change in analysis.transitions.items():
        before, after = change.before, change.after
        if change.was is DealStatus.WON and change.now is DealStatus.WON:
            for key in ("value", "currency"):
                if before.fields.get(key) != after.fields.get(key):
                    yield rule.finding(after.location(key),
                                       f"{key} of won deal {deal_id} changed after it closed: "
                                       f"{before.fields.get(key)} → {after.fields.get(key)}")
        closed = (DealStatus.WON, DealStatus.LOST)
        if (change.was in closed and change.now in closed and before.closed_on is not None
                and after.closed_on is not None and before.closed_on != after.closed_on):
            yield rule.finding(after.location("closed_on"),
                               f"closed_on of {deal_id} moved: {before.closed_on} → {after.closed_on}")


@rule("T004", "won-without-closed-on", Severity.ERROR,
      "A deal moved to won without closed_on (needs a base revision; `plaintext-crm move` sets it).",
      examples=[_example({"deals/website.md": OPEN_IN},
                         {"deals/website.md": WON_DEAL.replace("    closed_on: 2026-11-20\n", "")},
                         {"deals/website.md": WON_DEAL}, "A deal marked won by editing its stage only")])
def won_without_closed_on(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """The day a deal is won is the day it counts in revenue, in the forecast's accuracy and in the
    sales cycle. The commit that moves a deal to won must say when (`plaintext-crm move DEAL won` writes
    today's date). Without a base revision, D008 warns about any closed deal without its date; with
    one, a deal won by the change is reported here instead."""
    for deal_id, change in analysis.transitions.items():
        if change.won_now and is_empty(change.after.fields.get("closed_on")):
            yield rule.finding(change.after.location("stage"),
                               f"{deal_id} moved from {change.before.stage} to {change.after.stage} without closed_on")
