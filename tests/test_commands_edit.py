"""new, next, move and handoff as users run them, on copies of workspace-example: output, exit codes, lint."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.commands import edit_support
from plaintext_crm.lint.run import run_lint
from plaintext_crm.records.loader import load_workspace
from tests.support import EXAMPLE, EXAMPLE_TODAY

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A fresh copy of workspace-example."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


def run(root: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [*args, str(root)], input=input, env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})


def findings(root: Path) -> Counter[tuple[str, str]]:
    return Counter((finding.path, finding.code) for finding in run_lint(root, TODAY, use_cache=False).findings)


def changed_files(root: Path) -> dict[str, str]:
    """Files that differ from workspace-example (new ones included), with their new text."""
    result = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("templates/"):
            continue
        original = EXAMPLE / rel
        if not original.exists() or original.read_bytes() != path.read_bytes():
            result[rel] = path.read_text(encoding="utf-8")
    return result


def test_next_sets_the_action_and_fixes_the_missing_next_action(ws: Path) -> None:
    before = findings(ws)
    result = run(ws, "next", "tidewater-bikes-app", "Call Ben about the workshops", "--due", "monday")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Updated deals/tidewater-bikes-app.md",
        "  next_action: (new) 'Call Ben about the workshops'",
        "  next_action_due: (new) 2026-11-30",
    ]
    original = (EXAMPLE / "deals/tidewater-bikes-app.md").read_text()
    assert changed_files(ws) == {"deals/tidewater-bikes-app.md": original.replace(
        "expected_close: 2027-03-31\n",
        "expected_close: 2027-03-31\nnext_action: Call Ben about the workshops\nnext_action_due: 2026-11-30\n")}
    assert before - findings(ws) == Counter({("deals/tidewater-bikes-app.md", "D002"): 1})
    assert findings(ws) - before == Counter()


def test_next_replaces_an_overdue_action_in_place(ws: Path) -> None:
    result = run(ws, "next", "deals/quanta-robotics-website.md", "Call Emily", "--due", "+3d")
    assert result.exit_code == 0, result.output
    assert "  next_action_due: 2026-11-20 -> 2026-11-29" in result.output.splitlines()
    original = (EXAMPLE / "deals/quanta-robotics-website.md").read_text().splitlines()
    changed = changed_files(ws)["deals/quanta-robotics-website.md"].splitlines()
    assert [(a, b) for a, b in zip(original, changed) if a != b] == [
        ("next_action: Send revised US-market pricing to Emily", "next_action: Call Emily"),
        ("next_action_due: 2026-11-20", "next_action_due: 2026-11-29")]
    assert ("deals/quanta-robotics-website.md", "D003") not in findings(ws)


def test_dry_run_prints_the_diff_and_writes_nothing(ws: Path) -> None:
    result = run(ws, "next", "tidewater-bikes-app", "Call Ben", "--due", "2026-12-01", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["--- a/deals/tidewater-bikes-app.md",
                                              "+++ b/deals/tidewater-bikes-app.md", "@@ -7,6 +7,8 @@"]
    assert "+next_action: Call Ben" in result.output.splitlines()
    assert result.output.splitlines()[-1] == "Dry run: 1 file would change; nothing was written."
    assert changed_files(ws) == {}


@pytest.mark.parametrize("args, message", [
    (("next", "tidewater-bikes", "Call", "--due", "monday"), "no deal 'tidewater-bikes'"),
    (("next", "tidewater-bikes-app", "Call", "--due", "soonish"), "--due: 'soonish' is not a date"),
    (("next", "tidewater-bikes-app", "Call"), "needs --due DATE"),
    (("next", "tidewater-bikes-app", "  ", "--due", "monday"), "ACTION is empty"),
    (("move", "tidewater-bikes-app", "signed"), "no stage 'signed' in the pipeline (stages: lead, qualified"),
    (("handoff", "tidewater-bikes-app"), "is in stage 'lead', not won"),
])
def test_bad_input_is_a_clear_message_and_exit_2(ws: Path, args: tuple[str, ...], message: str) -> None:
    result = run(ws, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert changed_files(ws) == {}


def test_a_broken_file_is_reported_with_its_line(ws: Path) -> None:
    path = ws / "deals/tidewater-bikes-app.md"
    path.write_text(path.read_text().replace("value: 65000", "value: [65000"))
    result = run(ws, "next", "tidewater-bikes-app", "Call", "--due", "monday")
    assert result.exit_code == 2
    assert result.output.startswith("Error: deals/tidewater-bikes-app.md:7: invalid YAML")
    assert "nothing was written" in result.output


def test_move_to_lost_needs_a_reason_from_the_list(ws: Path) -> None:
    refused = run(ws, "move", "pinecrest-hotels-booking-flow", "lost")
    assert refused.exit_code == 2
    assert "needs --reason (price|timing|competitor|no_budget|no_response|scope_mismatch)" in refused.output
    wrong = run(ws, "move", "pinecrest-hotels-booking-flow", "lost", "--reason", "weather")
    assert wrong.exit_code == 2 and "'weather' is not one of price" in wrong.output
    assert changed_files(ws) == {}
    before = findings(ws)
    result = run(ws, "move", "pinecrest-hotels-booking-flow", "lost", "--reason", "price")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Updated deals/pinecrest-hotels-booking-flow.md",
        "  stage: 'qualified' -> 'lost'",
        "  stage_since: 2026-11-13 -> 2026-11-26",
        "  lost_reason: (new) 'price'",
        "  closed_on: (new) 2026-11-26",
        "  next_action: 'Send the UX audit findings to Luca' -> (removed)",
        "  next_action_due: 2026-11-19 -> (removed)",
        ("  removed the next action 'Send the UX audit findings to Luca': a closed deal has none "
         "(--keep-next-action keeps it)"),
    ]
    # Lost: the overdue next action no longer matters, and nothing new is reported.
    assert before - findings(ws) == Counter({("deals/pinecrest-hotels-booking-flow.md", "D003"): 1})
    assert findings(ws) - before == Counter()


def test_move_to_won_lists_missing_handoff_fields_then_accepts_them_as_options(ws: Path) -> None:
    refused = run(ws, "move", "quanta-robotics-website", "won", "--main-stakeholder", "Emily Carter")
    assert refused.exit_code == 2
    assert ("the hand-off is missing scope_summary, promised_timeline, key_constraints, kickoff_date; "
            "give --scope-summary --promised-timeline --key-constraint --kickoff-date") in refused.output
    assert changed_files(ws) == {}
    before = findings(ws)
    result = run(ws, "move", "quanta-robotics-website", "won", "--scope-summary", "US website: 8 pages, CMS",
                 "--promised-timeline", "10 weeks from kickoff", "--key-constraint", "Live before CES: January",
                 "--key-constraint", "NO stock photos", "--main-stakeholder", "Emily Carter",
                 "--kickoff-date", "+2w")
    assert result.exit_code == 0, result.output
    assert "  closed_on: (new) 2026-11-26" in result.output.splitlines()
    text = changed_files(ws)["deals/quanta-robotics-website.md"]
    assert "key_constraints:\n  - 'Live before CES: January'\n  - NO stock photos\n" in text
    assert "kickoff_date: 2026-12-10\n" in text
    after = findings(ws)
    assert after - before == Counter()
    assert ("deals/quanta-robotics-website.md", "D003") not in after

    handoff = run(ws, "handoff", "quanta-robotics-website")
    assert handoff.exit_code == 0, handoff.output
    assert "  due 2027-02-17 from the promised timeline '10 weeks from kickoff'" in handoff.output.splitlines()
    assert findings(ws) - before == Counter()


def test_moving_back_to_an_open_stage_removes_closed_on(ws: Path) -> None:
    refused = run(ws, "move", "kite-finance-investor-deck", "negotiation")  # reopening says why (T001)
    assert refused.exit_code == 2 and "--reason" in refused.output
    result = run(ws, "move", "kite-finance-investor-deck", "negotiation", "--reason", "Second round")
    assert result.exit_code == 0, result.output
    assert "  closed_on: 2026-11-24 -> (removed)" in result.output.splitlines()
    text = changed_files(ws)["deals/kite-finance-investor-deck.md"]
    assert "closed_on" not in text and "reopen_reason: Second round" in text


def test_handoff_creates_the_project_that_lints_clean_and_links_the_deal(ws: Path) -> None:
    before = findings(ws)
    result = run(ws, "handoff", "pinecrest-hotels-microsite")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Created projects/pinecrest-hotels-microsite.md",
        "  created from built-in kickoff.md for deal 'pinecrest-hotels-microsite'",
        "Updated deals/pinecrest-hotels-microsite.md",
        "  project: (new) 'pinecrest-hotels-microsite'",
        "  due 2026-12-18 from the promised timeline '5 weeks from kickoff'",
        "  owner left empty: give --owner MEMBER, or set `owner:` in the project, for who runs it",
    ]
    assert before - findings(ws) == Counter({("deals/pinecrest-hotels-microsite.md", "H001"): 1})
    assert findings(ws) - before == Counter()
    workspace, load_findings = load_workspace(ws)
    assert load_findings == []
    project = workspace.projects["pinecrest-hotels-microsite"]
    assert (project.client, project.deal, project.owner, project.status) == (
        "pinecrest-hotels", "pinecrest-hotels-microsite", None, "active")  # the salesperson is not made its owner
    assert "Handed over by Maya Chen.\n" in project.body
    assert (project.start, project.due) == (dt.date(2026, 11, 16), dt.date(2026, 12, 18))
    assert project.fields["key_constraints"][0] == "Must be live before 21 December (first ski weekend)"
    assert project.fields["main_stakeholder"] == "Sofia Marino"
    assert "- [ ] Planned for: Reuse the existing CMS templates" in project.body
    assert "- Promised timeline: 5 weeks from kickoff (due 2026-12-18)" in project.body
    assert workspace.deals["pinecrest-hotels-microsite"].project == "pinecrest-hotels-microsite"
    deal_text = changed_files(ws)["deals/pinecrest-hotels-microsite.md"]
    assert deal_text == (EXAMPLE / "deals/pinecrest-hotels-microsite.md").read_text().replace(
        "kickoff_date: 2026-11-16\n", "kickoff_date: 2026-11-16\nproject: pinecrest-hotels-microsite\n")

    again = run(ws, "handoff", "pinecrest-hotels-microsite")
    assert again.exit_code == 2
    assert "projects/pinecrest-hotels-microsite.md already exists" in again.output


def test_handoff_refuses_an_incomplete_handoff_listing_what_is_missing(ws: Path) -> None:
    result = run(ws, "handoff", "atlas-logistics-annual-report")
    assert result.exit_code == 2
    assert ("the hand-off of deal 'atlas-logistics-annual-report' is incomplete: missing key_constraints, "
            "kickoff_date") in result.output
    assert changed_files(ws) == {}


def test_handoff_of_a_deal_that_has_its_project_is_refused(ws: Path) -> None:
    result = run(ws, "handoff", "northwind-coffee-webshop")
    assert result.exit_code == 2
    assert "was handed off already: its project is 'northwind-webshop'" in result.output


def test_handoff_uses_the_workspace_kickoff_template_and_dry_run(ws: Path) -> None:
    (ws / "templates").mkdir()
    (ws / "templates/kickoff.md").write_text(
        "---\ntitle: {{ 'Delivery: ' ~ deal_title }}\nclient: {{ client }}\ndeal: {{ deal }}\n"
        "owner: {{ owner }}\nstatus: planned\n---\n## Checklist\n- [ ] Call {{ main_stakeholder }}\n")
    dry = run(ws, "handoff", "pinecrest-hotels-microsite", "--owner", "priya", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+title: 'Delivery: Winter season microsite'" in dry.output.splitlines()
    assert "+owner: priya" in dry.output.splitlines()
    assert changed_files(ws) == {}
    bad_owner = run(ws, "handoff", "pinecrest-hotels-microsite", "--owner", "tom")
    assert bad_owner.exit_code == 2 and "'tom' is not active" in bad_owner.output


def test_a_broken_template_is_reported_with_its_line(ws: Path) -> None:
    (ws / "templates").mkdir()
    (ws / "templates/kickoff.md").write_text("---\ntitle: {{ title }\n---\n")
    result = run(ws, "handoff", "pinecrest-hotels-microsite")
    assert result.exit_code == 2
    assert "templates/kickoff.md:2:" in result.output
    (ws / "templates/kickoff.md").write_text("---\ntitle: {{ nonsense }}\n---\n")
    result = run(ws, "handoff", "pinecrest-hotels-microsite")
    assert result.exit_code == 2 and "'nonsense' is undefined; the variables are:" in result.output
    assert changed_files(ws) == {}


def test_new_records_lint_clean(ws: Path) -> None:
    before = findings(ws)
    client = run(ws, "new", "client", "harbor-books", "--owner", "sam", "--contact", "Mia Lund",
                 "--contact-email", "mia@harbor.example")
    assert client.exit_code == 0, client.output
    assert client.output.splitlines() == ["Created clients/harbor-books.md", "  from built-in client.md"]
    deal = run(ws, "new", "deal", "harbor-books-shop", "--title", "Shop: phase 1", "--client", "harbor-books",
               "--owner", "sam", "--value", "12,500", "--next", "Send #1 proposal", "--due", "tomorrow",
               "--expected-close", "+1m")
    assert deal.exit_code == 0, deal.output
    project = run(ws, "new", "project", "harbor-site", "--title", "Harbor site", "--client", "harbor-books",
                  "--owner", "leo", "--due", "+6w")
    assert project.exit_code == 0, project.output
    assert findings(ws) - before == Counter()
    workspace, load_findings = load_workspace(ws)
    assert load_findings == []
    new_deal = workspace.deals["harbor-books-shop"]
    assert (new_deal.title, new_deal.value, new_deal.stage, new_deal.next_action) == (
        "Shop: phase 1", 12500, "lead", "Send #1 proposal")
    assert (new_deal.created, new_deal.stage_since, new_deal.next_action_due) == (
        TODAY, TODAY, dt.date(2026, 11, 27))
    assert workspace.clients["harbor-books"].contacts[0].email == "mia@harbor.example"
    assert workspace.projects["harbor-site"].due == dt.date(2027, 1, 7)


@pytest.mark.parametrize("record_id, message", [
    ("../escape", "path separator"), ("a/b", "path separator"), (".hidden", "starts with '.'"),
    ("con", "reserved"), ("acme.md", "without '.md'"), ("", "empty"), ("-x", "starts with '.' or '-'"),
    ("a\tb", "not allowed in file names"), ("x.", "ends with '.'"),
])
def test_unsafe_ids_are_refused(ws: Path, record_id: str, message: str) -> None:
    result = run(ws, "new", "client", "--owner", "sam", "--", record_id)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert changed_files(ws) == {}


def test_existing_ids_are_refused_in_any_case(ws: Path) -> None:
    for record_id in ("pinecrest-hotels", "Pinecrest-Hotels"):
        result = run(ws, "new", "client", record_id, "--owner", "sam")
        assert result.exit_code == 2
        assert "clients/pinecrest-hotels.md already exists" in result.output


def test_non_kebab_ids_work_with_advice(ws: Path) -> None:
    result = run(ws, "new", "client", "Harbor_Books", "--owner", "sam")
    assert result.exit_code == 0, result.output
    assert "ids are best written in lowercase kebab-case (like 'harbor-books')" in result.output


def test_missing_required_options_outside_a_terminal(ws: Path) -> None:
    result = run(ws, "new", "deal", "harbor-shop", "--client", "pinecrest-hotels")
    assert result.exit_code == 2
    assert "a new deal needs --title, --owner, --next, --due (asked for only when run in a terminal)" in result.output
    bad = run(ws, "new", "deal", "harbor-shop", "--title", "T", "--client", "pinecrest", "--owner", "tom",
              "--next", "x", "--due", "monday")
    assert bad.exit_code == 2 and "no client 'pinecrest'" in bad.output and "pinecrest-hotels" in bad.output


def test_prompts_for_required_fields_in_a_terminal(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edit_support, "interactive", lambda: True)
    monkeypatch.setattr("plaintext_crm.commands.new.interactive", lambda: True)
    monkeypatch.setattr("plaintext_crm.commands.move.interactive", lambda: True)
    answers = "Harbor shop\nnobody-client\npinecrest-hotels\ntom\nsam\nCall Mia\nsoon\n+3d\n"
    result = run(ws, "new", "deal", "harbor-shop", input=answers)
    assert result.exit_code == 0, result.output
    assert "no client 'nobody-client'" in result.output and "'tom' is not active" in result.output
    assert "'soon' is not a date" in result.output
    deal = load_workspace(ws)[0].deals["harbor-shop"]
    assert (deal.title, deal.client, deal.owner, deal.next_action_due) == (
        "Harbor shop", "pinecrest-hotels", "sam", dt.date(2026, 11, 29))

    answers = "Five pages; CMS\n8 weeks\nCopy from the client; Launch in March\nSofia\nmonday\n"
    won = run(ws, "move", "harbor-shop", "won", input=answers)
    assert won.exit_code == 0, won.output
    deal = load_workspace(ws)[0].deals["harbor-shop"]
    assert deal.key_constraints == ("Copy from the client", "Launch in March")
    assert deal.kickoff_date == dt.date(2026, 11, 30)
