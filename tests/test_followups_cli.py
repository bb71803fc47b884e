"""`plaintext-crm followups`: exact text lines, JSON shape, the .ics feed and exit codes."""

from __future__ import annotations

import json

import icalendar
from click.testing import CliRunner

from plaintext_crm.cli import cli
from tests.support import EXAMPLE, EXAMPLE_TODAY

DEALS = {
    "deals/late.md": "---\ntitle: Late\nstage: lead\nowner: ana\nnext_action: Call Jo\nnext_action_due: 2026-11-25\n---\n",
    "deals/soon.md": "---\ntitle: Soon\nstage: lead\nowner: ana\nnext_action: Send, quote\n"
                     "next_action_due: 2026-11-28\n---\n",
    "deals/far.md": "---\ntitle: Far\nstage: lead\nowner: ben\nnext_action: Demo\nnext_action_due: 2026-12-10\n---\n",
    "deals/bare.md": "---\ntitle: Bare\nstage: lead\nowner: ben\n---\n",
    "deals/won.md": "---\ntitle: Won\nstage: won\nowner: ben\nnext_action: x\nnext_action_due: 2026-11-20\n---\n",
}


def invoke(*args: str):
    return CliRunner().invoke(cli, ["followups", *args, "--today", "2026-11-26"])


def test_text_lists_each_owner(make_workspace, monkeypatch) -> None:
    monkeypatch.chdir(make_workspace(DEALS))
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Follow-ups on Thu 2026-11-26 (this week: Mon 23 Nov - Sun 29 Nov)",
        "",
        "Ana Ruiz (ana)",
        "  overdue (1)",
        "    deals/late.md: Call Jo (2026-11-25, 1 day overdue) - Late",
        "  due this week (1)",
        "    deals/soon.md: Send, quote (2026-11-28) - Soon",
        "",
        "Ben Okafor (ben)",
        "  no next action (1)",
        "    deals/bare.md: Bare has no dated next action",
        "",
        "1 overdue, 0 due today, 1 due this week, 1 later, 1 no next action (add --later to list those)",
    ]
    assert "    deals/far.md: Demo (2026-12-10) - Far" in invoke("--later", "--owner", "ben").output.splitlines()


def test_paths_are_relative_to_the_current_folder(make_workspace, monkeypatch) -> None:
    root = make_workspace(DEALS)
    monkeypatch.chdir(root.parent)
    assert f"    {root.name}/deals/late.md: Call Jo (2026-11-25, 1 day overdue) - Late" in \
        invoke(root.name).output.splitlines()


def test_json_has_full_deal_figures(make_workspace) -> None:
    root = make_workspace(DEALS)
    result = invoke(str(root), "--format", "json", "--owner", "ana")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["week_start"], data["week_end"]) == ("2026-11-23", "2026-11-29")
    [ana] = data["owners"]
    assert ana["owner"] == {"id": "ana", "name": "Ana Ruiz", "active": True}
    assert [deal["id"] for deal in ana["overdue"]] == ["late"] and ana["overdue"][0]["days_overdue"] == 1
    assert [deal["id"] for deal in ana["this_week"]] == ["soon"]
    assert ana["later"] == [] and ana["missing"] == []


def test_ics_is_the_owner_feed(make_workspace) -> None:
    root = make_workspace(DEALS)
    result = CliRunner().invoke(cli, ["followups", str(root), "--today", "2026-11-26", "--format", "ics",
                                      "--owner", "ben"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    events = icalendar.Calendar.from_ical(result.stdout_bytes).walk("VEVENT")
    assert [str(event["UID"]) for event in events] == ["followup-far@plaintext-crm"]


def test_unknown_owner_is_a_tool_error(make_workspace) -> None:
    root = make_workspace(DEALS)
    result = invoke(str(root), "--owner", "zed")
    assert result.exit_code == 2
    assert "no owner zed: owners are ana, ben, old" in result.output
    assert "Traceback" not in result.output


def test_example_summary_line() -> None:
    result = CliRunner().invoke(cli, ["followups", str(EXAMPLE), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == \
        "6 overdue, 2 due today, 3 due this week, 11 later, 1 no next action (add --later to list those)"
