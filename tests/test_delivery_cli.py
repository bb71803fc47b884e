"""`plaintext-crm schedule`: exact lines on the example workspace, JSON shape, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from plaintext_crm.cli import cli
from tests.support import EXAMPLE, EXAMPLE_TODAY


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["schedule", str(EXAMPLE), "--today", EXAMPLE_TODAY, *args])
    return result.exit_code, result.output


def test_projects_text() -> None:
    code, output = run()
    assert code == 0
    lines = output.splitlines()
    start = lines.index("projects/helix-website.md: Helix Health website relaunch - at risk, 21% done")
    assert lines[start + 1:start + 5] == [
        ("  planned 2026-08-03 -> 2026-12-30, due 2026-12-11 (10 working days behind); promised 2026-11-20 "
        "(26 working days late)"),
        "  critical path: content-migration -> build -> accessibility-audit -> qa -> a11y-fixes -> launch",
        "  next milestone: Launch 2026-12-30",
        # standard CPM: the work before the launch milestone ends 2026-12-29, 10 working days past the due date
        "  the critical path runs 10 working days past the due date 2026-12-11 (planned finish 2026-12-30)",
    ]
    assert lines[-2:] == ["8 projects: 5 on track, 1 at risk, 1 on hold, 1 done",
                          "1 schedule problem (P001/P002): see `plaintext-crm lint`"]


def test_one_project_tasks() -> None:
    code, output = run("--project", "atlas-dashboard")
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == "projects/atlas-dashboard.md: Atlas dispatcher dashboard - on track"
    uat = next(line for line in lines if line.startswith(" uat"))
    assert uat.split() == ["uat", "waiting", "3", "2026-12-14", "2026-12-16", "2027-01-05", "2027-01-07", "12"]
    assert next(line for line in lines if line.startswith("*go-live")).split()[-1] == "0"
    assert "uat: waits for 'frontend-build' to be done (it is doing)" in lines


def test_json() -> None:
    code, output = run("--format", "json")
    assert code == 0
    data = json.loads(output)
    assert sorted(data) == sorted(path.stem for path in (EXAMPLE / "projects").glob("*.md"))
    assert data["northwind-webshop"]["tasks"]["qa"]["earliest_start"] == "2027-03-08"
    code, output = run("--format", "json", "--project", "kite-mobile-app")
    assert json.loads(output)["pending_approvals"] == [{"task": "design-signoff", "by": "Nina Park"}]


def test_unknown_project_is_a_tool_error() -> None:
    code, output = run("--project", "helix-websit")
    assert code == 2
    assert "no project 'helix-websit' (did you mean 'helix-website'?)" in output
    assert "Traceback" not in output


def test_status_date_option_replans_unfinished_work() -> None:
    code, output = run("--status-date", "2026-12-16", "--format", "json")
    assert code == 0
    helix = json.loads(output)["helix-website"]
    # on 2026-12-16 build (doing, planned to end 12-04) is not done: it ends on the status date at the
    # earliest, and qa (planned from 12-07) follows it on 12-17
    build, qa = helix["tasks"]["build"], helix["tasks"]["qa"]
    assert (build["earliest_finish"], build["rescheduled"]) == ("2026-12-16", True)
    assert qa["earliest_start"] == "2026-12-17"
    assert helix["planned_finish"] > "2026-12-30"
    code, text = run("--status-date", "2026-12-16")
    assert text.splitlines()[0] == "Schedule on Thu 2026-11-26, status date Wed 2026-12-16"
    code, _ = run("--status-date", "16.12.2026")
    assert code == 2
    museum = json.loads(run("--format", "json")[1])["museum-website"]
    assert (museum["plan_note"], museum["drift"]) == ("on hold", None)
