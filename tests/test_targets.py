"""Sales targets of crm.yaml: periods, owners, bad values as C001 findings, won + weighted against each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from plaintext_crm.analysis import analyze
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.records.config import config_from_text
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.targets import period_span

D = dt.date


@pytest.mark.parametrize(("period", "span"), [
    ("2026-Q1", (D(2026, 1, 1), D(2026, 3, 31))), ("2026-Q4", (D(2026, 10, 1), D(2026, 12, 31))),
    ("2027-02", (D(2027, 2, 1), D(2027, 2, 28))), ("2026-12", (D(2026, 12, 1), D(2026, 12, 31))),
    ("2026-Q5", None), ("2026-13", None), ("Q4", None),
])
def test_periods(period: str, span) -> None:
    assert period_span(period) == span


def test_targets_are_read_and_bad_ones_reported() -> None:
    config, findings = config_from_text(
        "team: {ana: Ana, ben: Ben}\n"
        "targets:\n"
        "  2026-Q4: {team: 400000, ana: 150000, bob: 5}\n"
        "  2026-12: {ben: lots}\n"
        "  autumn: {team: 1}\n")
    assert [(t.period, t.owner, t.amount) for t in config.targets] == [
        ("2026-Q4", None, Decimal(400000)), ("2026-Q4", "ana", Decimal(150000))]
    assert [(finding.code, finding.line, finding.message) for finding in findings] == [
        ("C001", 3, "target owner 'bob' is not 'team' nor a member of the team"),
        ("C001", 4, "target of 'ben' in 2026-12 must be an amount, like 150000"),
        ("C001", 5, ("target period 'autumn' must be a quarter (2026-Q4) or a month (2026-12) mapping team or "
                     "member ids to amounts"))]


DEAL = """\
---
title: {id}
client: acme
owner: {owner}
stage: {stage}
value: {value}
{when}
---
"""


def test_won_and_weighted_against_each_target(make_workspace) -> None:
    deals = {
        "a": DEAL.format(id="a", owner="ana", stage="won", value=50000, when="closed_on: 2026-10-14"),
        "b": DEAL.format(id="b", owner="ben", stage="won", value=20000, when="closed_on: 2026-11-02"),
        "c": DEAL.format(id="c", owner="ana", stage="proposal", value=40000, when="expected_close: 2026-12-10"),
        "d": DEAL.format(id="d", owner="ana", stage="proposal", value=99000, when="expected_close: 2027-01-10"),
        "e": DEAL.format(id="e", owner="ana", stage="won", value=7000, when="closed_on: 2026-09-30"),
    }
    config = ("name: T\nteam: {ana: Ana Ruiz, ben: Ben}\n"
              "targets: {2026-Q4: {team: 100000, ana: 60000}, 2026-12: {ana: 10000}}\n")
    root = make_workspace({f"deals/{key}.md": text for key, text in deals.items()}, config=config)
    workspace, findings = load_workspace(root)
    assert findings == []
    analysis = analyze(workspace, D(2026, 11, 26), GitHistory(workspace.root))
    summary = [(t.period, t.owner_name, t.won.value, t.weighted.value, t.percent, t.gap)
               for t in analysis.crm.targets]
    assert summary == [
        ("2026-Q4", "Team", Decimal(70000), Decimal("20000.00"), 90, Decimal("10000.00")),
        ("2026-Q4", "Ana Ruiz", Decimal(50000), Decimal("20000.00"), 117, Decimal("0.00")),
        ("2026-12", "Ana Ruiz", Decimal(0), Decimal("20000.00"), 200, Decimal("0.00")),
    ]
    # the owner filter's figures: each owner sees the team's targets and their own
    assert [(t.period, t.owner) for t in analysis.owner_figures["ana"].targets] == [
        ("2026-Q4", None), ("2026-Q4", "ana"), ("2026-12", "ana")]
    assert "ben" not in analysis.owner_figures  # the filter lists the owners of open deals, as the board does
    assert analysis.owner_figures["ana"].overview.open_pipeline.count == 2
