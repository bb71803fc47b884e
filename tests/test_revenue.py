"""Invoices of the delivery plan and the revenue forecast: shares and amounts, budgets, P005, months and clients,
the `revenue` command, data.json's `revenue`, and the hand-off copying the deal value as budget."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from click.testing import CliRunner

from plaintext_crm.analysis import analyze
from plaintext_crm.cli import cli
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.records.loader import load_workspace
from tests.schedule_support import CONFIG, project
from tests.support import EXAMPLE

D = dt.date
STATUS = D(2026, 12, 7)

DEAL = """\
---
title: {title}
client: acme
owner: ana
stage: {stage}
value: {value}
expected_close: {close}
---
"""


def analysis_of(make_workspace, files: dict[str, str], name: str = "ws"):
    workspace, findings = load_workspace(make_workspace(files, config=CONFIG, name=name))
    assert findings == []
    return analyze(workspace, STATUS, GitHistory(workspace.root))


TASKS = [
    {"id": "design", "duration": 5, "status": "done", "start": D(2026, 11, 2), "finished": D(2026, 11, 6),
     "invoice": "30%", "invoiced": D(2026, 11, 10)},
    {"id": "build", "duration": 10, "depends_on": ["design"]},
    {"id": "launch", "milestone": True, "depends_on": ["build"], "invoice": "70%"},
]


def test_invoices_share_the_budget_and_join_the_weighted_pipeline(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {
        "projects/p.md": project(TASKS, client="acme", budget=20000),
        "deals/next.md": DEAL.format(title="Next", stage="proposal", value=10000, close="2027-01-20"),
        "deals/old.md": DEAL.format(title="Old", stage="lead", value=5000, close="2026-11-01"),
    })
    found = analysis.invoices["p"]
    assert found.budget == Decimal(20000) and found.balanced
    assert [(item.task, item.amount, item.date, item.invoiced) for item in found.invoices] == [
        ("design", Decimal("6000.00"), D(2026, 11, 10), True),
        ("launch", Decimal("14000.00"), D(2026, 12, 21), False)]  # build from the status date: 7..18
    revenue = analysis.revenue
    assert [(month.month, month.invoiced, month.booked, month.weighted_pipeline) for month in revenue.months] == [
        (D(2026, 11, 1), Decimal("6000.00"), 0, 0), (D(2026, 12, 1), 0, Decimal("14000.00"), 0),
        (D(2027, 1, 1), 0, 0, Decimal("5000.00"))]  # proposal: 0.5 of 10000
    assert revenue.unscheduled_deal_ids == ("old",) and revenue.unscheduled_pipeline == Decimal("500.00")
    assert [(row.client, row.invoiced, row.booked, row.weighted_pipeline) for row in revenue.clients] == [
        ("acme", Decimal("6000.00"), Decimal("14000.00"), Decimal("5000.00"))]
    assert revenue.to_data()[1] == {"month": "2026-12", "invoiced": 0.0, "booked": 14000.0, "weighted_pipeline": 0.0}
    assert not [finding for finding in analysis.findings if finding.code == "P005"]


def test_p005_invoices_that_do_not_add_up_and_a_late_invoiced_milestone(make_workspace) -> None:
    tasks = [dict(TASKS[0]), dict(TASKS[1]), {**TASKS[2], "invoice": "60%", "due": D(2026, 12, 11)}]
    analysis = analysis_of(make_workspace, {"projects/p.md": project(tasks, budget=20000)})
    messages = [finding.message for finding in analysis.findings if finding.code == "P005"]
    assert messages == ["invoices add up to 18,000.00 EUR, but the budget is 20,000.00 EUR",
                        "invoice of 'launch' is late: due 2026-12-11, planned to finish 2026-12-21"]
    no_budget = analysis_of(make_workspace, {"projects/p.md": project(TASKS)}, name="other")
    assert no_budget.invoices["p"].budget is None and not no_budget.invoices["p"].balanced
    assert [finding.message for finding in no_budget.findings if finding.code == "P005"] == [
        "invoices are given as shares of the budget, but the project has no `budget` (and no deal value in EUR)"]
    assert [item.task for item in no_budget.revenue.unpriced] == ["design", "launch"]


def test_the_budget_falls_back_to_the_deal_value(make_workspace) -> None:
    analysis = analysis_of(make_workspace, {
        "projects/p.md": project(TASKS, deal="won-deal"),
        "deals/won-deal.md": DEAL.format(title="Won", stage="won", value=30000, close="2026-10-01"),
    })
    assert analysis.invoices["p"].budget == Decimal(30000)
    assert [item.amount for item in analysis.invoices["p"].invoices] == [Decimal("9000.00"), Decimal("21000.00")]


def test_invalid_invoice_values_are_findings(make_workspace) -> None:
    root = make_workspace({"projects/p.md": project([{"id": "a", "duration": 1, "invoice": "lots"},
                                                     {"id": "b", "duration": 1, "percent": 140}])}, config=CONFIG)
    _workspace, findings = load_workspace(root)
    assert [finding.message for finding in findings] == [
        "task 'a': 'invoice': 'lots' must be a share of the budget like 30% or an amount like 12000",
        "task 'b': 'percent': '140' must be a per cent from 0 to 100"]


def test_revenue_command_and_data_json_on_the_example() -> None:
    result = CliRunner().invoke(cli, ["revenue", str(EXAMPLE), "--today", "2026-11-26"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[4].split() == ["Sep", "2026", "36,000", "0", "0", "36,000"]  # helix's visual design, sent
    assert lines[7].split() == ["Dec", "2026", "0", "48,000", "252,500", "300,500"]  # helix's launch: 40 %
    assert "  Kite Finance: 208,750 (invoiced 36,000, booked 144,000, weighted 28,750)" in lines
    data = json.loads(CliRunner().invoke(cli, ["revenue", str(EXAMPLE), "--today", "2026-11-26",
                                               "--format", "json"]).output)
    assert data[0] == {"month": "2026-08", "invoiced": 36000.0, "booked": 0.0, "weighted_pipeline": 0.0}
    assert [row["month"] for row in data] == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01",
                                              "2027-02", "2027-03"]
