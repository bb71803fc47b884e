"""`plaintext-crm report`: aligned text, colour only on a terminal without NO_COLOR, CSV, JSON and Markdown;
--base and --as-of outside a repository;
and the history helpers behind forecast accuracy and slippage (fields_on, Slippage) on hand-made histories."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.commands.report import use_colour
from plaintext_crm.history.accuracy import CloseMove, Slippage, fields_on
from plaintext_crm.history.gitlog import Commit
from plaintext_crm.history.record_history import FieldChange, RecordHistory, Touch
from plaintext_crm.records.config import config_from_text
from plaintext_crm.reports.render import render
from plaintext_crm.reports.tables import Column, Row, Table

CONFIG = """\
name: Test
currency: EUR
exchange_rates: {USD: 0.5}
team: {ana: {name: Ana Ruiz}, ben: {name: Ben Okafor}}
"""


def deal(stage: str, owner: str, value: int, close: str = "2026-12-10", extra: str = "") -> str:
    return (f"---\ntitle: Deal\nclient: acme\nowner: {owner}\nstage: {stage}\nvalue: {value}\n"
            f"expected_close: {close}\nnext_action: Call\nnext_action_due: 2026-12-01\n{extra}---\n")


@pytest.fixture
def workspace(make_workspace: Callable[..., Path]) -> Path:
    return make_workspace({"clients/acme.md": "---\nname: Acme\nowner: ana\n---\n",
                           "deals/a.md": deal("lead", "ana", 10000),
                           "deals/b.md": deal("proposal", "ben", 20000),
                           "deals/c.md": deal("proposal", "ana", 1000, extra="currency: USD\n"),
                           "deals/d.md": deal("won", "ana", 5000, extra="closed_on: 2026-11-02\n")}, config=CONFIG)


def report(*args: str) -> str:
    result = CliRunner().invoke(cli, ["report", *args, "--today", "2026-11-26"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_text_report_has_aligned_columns_and_totals(workspace: Path) -> None:
    lines = report("pipeline", str(workspace)).splitlines()
    assert lines[0] == "Open pipeline by stage on 2026-11-26 (amounts in EUR)"
    header = lines[2]
    assert header.split() == ["Stage", "Probability", "Deals", "Value", "Weighted", "Rotting"]
    rows = {line.split()[0]: line for line in lines[4:] if line and not line.startswith("-")}
    # 20000 + 1000 USD at 0.5 = 20500; weighted at 50%: 10250.
    assert rows["proposal"].split() == ["proposal", "50%", "2", "20,500.00", "10,250.00", "0"]
    assert rows["Total"].split() == ["Total", "—", "3", "30,500.00", "11,250.00", "0"]
    # Numbers end in the same column as their heading.
    value_end = header.index("Value") + len("Value")
    assert all(line[:value_end].endswith(("0", "—")) for line in (rows["proposal"], rows["lead"], rows["Total"]))


def test_csv_json_markdown_and_owner(workspace: Path) -> None:
    csv_lines = report("pipeline", str(workspace), "--format", "csv").splitlines()
    assert csv_lines[0] == "stage,probability,deals,value,weighted,rotting"
    assert "proposal,0.5,2,20500.0,10250.0,0" in csv_lines
    data = json.loads(report("owners", str(workspace), "--format", "json"))
    assert [(row["owner"], row["deals"], row["value"]) for row in data["rows"]] == [
        ("Ana Ruiz", 2, 10500.0), ("Ben Okafor", 1, 20000.0)]
    assert data["total"]["value"] == 30500.0
    mine = json.loads(report("clients", str(workspace), "--format", "json", "--owner", "ben"))
    assert mine["rows"] == [{"client": "Acme", "owner": "ana", "open_deals": 1, "open_value": 20000.0,
                             "won_deals": 0, "won_value": 0.0}]
    markdown = report("forecast", str(workspace), "--format", "markdown")
    assert "| Month | Won | Open |" in markdown and "| Nov 2026 | 5,000.00 |" in markdown
    unknown = CliRunner().invoke(cli, ["report", "pipeline", str(workspace), "--owner", "zoe"])
    assert unknown.exit_code == 2 and "no owner zoe" in unknown.output


def test_cells_are_escaped_for_each_format() -> None:
    columns = (Column("Name", "name"), Column("Value", "value", "money"))
    table = Table("clients", "Clients", dt.date(2026, 11, 26), "EUR", None, columns,
                  (Row(("=cmd|' /C calc'!A0", Decimal("1.5"))), Row(("a|b\x1b[31m", None))))
    assert "'=cmd|' /C calc'!A0" in render(table, "csv")  # never a formula in a spreadsheet
    markdown = render(table, "markdown")
    assert "a&#124;b" in markdown and "\x1b" not in markdown
    assert "\x1b" not in render(table, "text") and "\\x1b" in render(table, "text")


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) and not use_colour(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())
    table = Table("pipeline", "P", dt.date(2026, 11, 26), "EUR", None, (Column("Stage", "stage"),),
                  (Row(("lead",), alert=True),), Row(("Total",)))
    assert click.unstyle(render(table, "text", colour=True)) == render(table, "text", colour=False)
    assert "\x1b[" in render(table, "text", colour=True)


def _commit(day: str, sha: str) -> Commit:
    return Commit(sha, dt.date.fromisoformat(day), 0, "Ana", "ana@example.com", "change")


def test_fields_on_rolls_the_committed_fields_back_to_a_day() -> None:
    first, second, third = _commit("2026-08-01", "a"), _commit("2026-09-01", "b"), _commit("2026-10-01", "c")
    record = RecordHistory(
        "deals/x.md", (), (Touch(first, "created", "deals/x.md"), Touch(second, "edited", "deals/x.md"),
                           Touch(third, "edited", "deals/x.md")), False, True,
        {"stage": "won", "value": 12000, "expected_close": dt.date(2026, 11, 1)},
        (FieldChange("expected_close", dt.date(2026, 9, 10), dt.date(2026, 11, 1), second),
         FieldChange("stage", "proposal", "won", third), FieldChange("value", 10000, 12000, third)), ())
    assert fields_on(record, dt.date(2026, 7, 31)) is None
    assert fields_on(record, dt.date(2026, 8, 1)) == {"stage": "proposal", "value": 10000,
                                                     "expected_close": dt.date(2026, 9, 10)}
    assert fields_on(record, dt.date(2026, 9, 30))["expected_close"] == dt.date(2026, 11, 1)  # type: ignore[index]
    assert fields_on(record, dt.date(2026, 10, 1))["stage"] == "won"  # type: ignore[index]


def test_slippage_sums_the_moves() -> None:
    slipped = Slippage("x", (CloseMove(dt.date(2026, 9, 1), "Ana", dt.date(2026, 9, 10), dt.date(2026, 10, 1)),
                             CloseMove(dt.date(2026, 10, 1), "Ben", dt.date(2026, 10, 1), dt.date(2026, 10, 15))))
    assert (slipped.count, slipped.days) == (2, 35)
    assert slipped.to_data()["moves"][1] == {"date": "2026-10-01", "author": "Ben", "from": "2026-10-01",
                                             "to": "2026-10-15", "days": 14}


def test_stage_rules_setting() -> None:
    config, findings = config_from_text("stage_rules: {no_skip: true}\n")
    assert config.no_skip and not findings
    config, findings = config_from_text("stage_rules: {no_skip: maybe, other: 1}\n")
    assert not config.no_skip
    assert sorted(finding.message for finding in findings) == [
        "stage_rules: 'no_skip' must be true or false", "stage_rules: unknown rule 'other' (valid: no_skip)"]


def test_base_and_as_of_need_a_repository(workspace: Path) -> None:
    for args in (["lint", str(workspace), "--base", "HEAD"], ["report", "pipeline", str(workspace), "--as-of", "HEAD"],
                 ["lint", str(workspace), "--as-of", "2026-10-01"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "not inside a git repository" in result.output, args
