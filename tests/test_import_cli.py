"""`plaintext-crm import` end to end on the sample exports of tests/fixtures/imports (the CLI in-process)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.import_support import (
    FIXTURES,
    IMPORT_CONFIG,
    fill_mapping,
    hubspot_args,
    pipedrive_args,
    run,
    snapshot,
)

Make = Callable[..., Path]


def exact(path: Path) -> str:
    """A file's text with its line endings as written (read_text would turn CRLF into LF)."""
    return path.read_bytes().decode("utf-8")

HUBSPOT_LINT = """\
deals/acme-mobile-app.md:1:1: D002 [error] open deal has no next_action and no next_action_due
deals/acme-mobile-app.md:1:1: D010 [error] deal has no client
deals/acme-mobile-app.md:4:1: D005 [error] stage 'mystery-stage' is not in the pipeline (lead, qualified, proposal, negotiation, won, lost)
deals/globex-brand-refresh.md:5:1: D004 [error] won deal is missing hand-off field 'key_constraints'
deals/globex-brand-refresh.md:5:1: D004 [error] won deal is missing hand-off field 'kickoff_date'
deals/globex-brand-refresh.md:5:1: D004 [error] won deal is missing hand-off field 'main_stakeholder'
deals/globex-brand-refresh.md:5:1: D004 [error] won deal is missing hand-off field 'promised_timeline'
deals/globex-brand-refresh.md:5:1: D004 [error] won deal is missing hand-off field 'scope_summary'
deals/hooli-pitch.md:1:1: D001 [error] deal has no owner
deals/hooli-pitch.md:1:1: D010 [error] deal has no client
deals/initech-intranet.md:10:1: D007 [warning] lost_reason 'Went with a competitor' is not one of price, timing, competitor
Found 10 errors, 1 warning (9 records checked).
"""

ACME_DEAL = """\
---
title: Acme Website Redesign
client: acme-gmbh
owner: ana
stage: negotiation
value: 12500
currency: USD
created: 2026-09-01
expected_close: 2026-12-15
next_action: Send the revised contract
next_action_due: 2026-11-30
hubspot_id: 9001
pipeline: Sales Pipeline
deal_type: newbusiness
lead_source: Referral
---
New site on a headless CMS.
Two languages.
"""


def imported_hubspot(make_workspace: Make) -> Path:
    """A workspace after the first run (mapping proposed) and the second (mapping filled in)."""
    root = make_workspace({}, config=IMPORT_CONFIG)
    first = run(*hubspot_args(root))
    assert first.exit_code == 1, first.output
    fill_mapping(root, {"  Mystery Stage:   # 1 row, could not map": "  Mystery Stage:   # left unmapped"})
    second = run(*hubspot_args(root, "--report", str(root.parent / "report.md")))
    assert second.exit_code == 0, second.output
    return root


def test_a_first_run_proposes_a_mapping_and_writes_nothing_else(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    before = snapshot(root)
    result = run(*hubspot_args(root))
    assert result.exit_code == 1
    assert "Could not map: stage 'Mystery Stage', owner 'Carla Diaz'" in result.output
    assert set(snapshot(root)) - set(before) == {"import-mapping.yaml"}
    mapping = exact(root / "import-mapping.yaml")
    for line in ("source: hubspot", "  Contract Sent: negotiation  # 1 row", "  Closed Won: won  # 1 row",
                 "  Mystery Stage:   # 1 row, could not map", "  Carla Diaz:   # 1 row, could not map",
                 "  ana@studio.example: ana  # 1 row", "  Ana Ruiz: ana  # 4 rows"):
        assert line in mapping.splitlines()


def test_hubspot_records_lint_with_exactly_the_expected_findings(make_workspace: Make,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = imported_hubspot(make_workspace)
    assert exact(root / "deals" / "acme-website-redesign.md") == ACME_DEAL
    acme = exact(root / "clients" / "acme-gmbh.md")
    assert "  - {name: José Müller, role: Head of Marketing, email: jose@acme.example, phone: +49 40 555 0101}" in acme
    assert "hubspot_id: 5001" in acme and "industry: Manufacturing" in acme
    assert (root / "clients" / "acme-gmbh-2.md").exists()  # two companies, one name: two clients
    mobile = exact(root / "deals" / "acme-mobile-app.md")
    assert "imported_company: Acme GmbH" in mobile and "client:" not in mobile
    won = exact(root / "deals" / "globex-brand-refresh.md")
    assert "value: 12000\n" in won and "closed_on: 2026-03-20\n" in won and "stage_since: 2026-03-20\n" in won
    monkeypatch.chdir(root)
    lint = run("lint")
    assert lint.exit_code == 1
    assert lint.output == HUBSPOT_LINT


def test_the_migration_report_is_a_grouped_to_do_list(make_workspace: Make) -> None:
    root = imported_hubspot(make_workspace)
    report = exact(root.parent / "report.md")
    assert report.startswith("# Migration report (hubspot)\n\n7 things to do in the imported records. "
                             "10 lint errors and 1 warning remain in the workspace; `plaintext-crm lint` shows them.")
    for heading in ("## Open deals without a next action (1)", "## Open deals without an owner (1)",
                    "## Won deals missing hand-off fields (1)", "## Lost deals without a reason (1)",
                    "## Deals in stages the pipeline does not have (1)", "## Deals without a client (2)"):
        assert heading in report.splitlines()
    assert "- [ ] deals/hooli-pitch.md: choose an owner (the export said &#x27;Carla Diaz&#x27;)" in report


def test_a_second_identical_run_changes_no_byte(make_workspace: Make) -> None:
    root = imported_hubspot(make_workspace)
    before = snapshot(root)
    result = run(*hubspot_args(root))
    assert result.exit_code == 0
    assert "Imported from hubspot: 0 new, 0 updated, 9 unchanged, 0 skipped" in result.output
    assert snapshot(root) == before


def test_a_rerun_rewrites_only_changed_keys_and_keeps_hand_edits(make_workspace: Make) -> None:
    root = imported_hubspot(make_workspace)
    path = root / "deals" / "acme-website-redesign.md"
    edited = ACME_DEAL.replace("value: 12500", "value: 99  # a typo").replace(
        "lead_source: Referral\n", "lead_source: Referral\nbudget_holder: Jane   # added by hand\n") + \
        "\n## 2026-11-20 Call with Jane\nShe liked it.\n"
    path.write_text(edited, encoding="utf-8")
    result = run(*hubspot_args(root))
    assert "0 new, 1 updated, 8 unchanged" in result.output
    assert exact(path) == edited.replace("value: 99  # a typo", "value: 12500  # a typo")


def test_dry_run_prints_the_plan_and_diffs_and_writes_nothing(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    run(*hubspot_args(root))
    before = snapshot(root)
    result = run(*hubspot_args(root, "--dry-run"))
    assert result.exit_code == 0
    assert snapshot(root) == before
    assert "--- /dev/null\n+++ b/deals/acme-website-redesign.md\n" in result.output
    assert "Would import from hubspot: 9 new, 0 updated, 0 unchanged, 0 skipped" in result.output
    assert result.output.rstrip().endswith("Dry run: nothing was written.")


def test_pipedrive_values_dates_notes_and_statuses(make_workspace: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    assert run(*pipedrive_args(root)).exit_code == 1
    result = run(*pipedrive_args(root))
    assert result.exit_code == 0, result.output
    assert "6 new, 0 updated, 0 unchanged, 0 skipped" in result.output
    umbrella = exact(root / "deals" / "umbrella-rebrand.md")
    assert umbrella == """\
---
title: Umbrella Rebrand
client: umbrella-corp
owner: ana
stage: proposal
value: 12500
probability: 0.6
created: 2026-09-15
expected_close: 2026-12-31
next_action_due: 2026-12-02
pipedrive_id: 101
pipeline: Default
contact: Alice Abernathy
budget_holder: Alice
---
## 2026-10-20 Call with Alice
She wants two concepts & a budget.

user: Ana Ruiz
"""
    stark = exact(root / "deals" / "stark-website.md")
    for line in ("value: 8000", "stage: won", "created: 2026-01-01", "closed_on: 2026-03-20", "stage_since: 2026-03-20"):
        assert line in stark.splitlines()  # 8.000 in a decimal-comma column; an Excel serial date; Won time
    wayne = exact(root / "deals" / "wayne-campaign.md")
    for line in ("stage: lost", "currency: USD", "value: 4500", "closed_on: 2026-05-15", "lost_reason: price"):
        assert line in wayne.splitlines()
    assert "## 2026-04-05 Kick-off lunch" in exact(root / "clients" / "stark-industries.md")
    assert "  - {name: Alice Abernathy, email: alice@umbrella.example, label: Decision maker}\n" in \
        exact(root / "clients" / "umbrella-corp.md")  # a person's other columns stay with the contact
    monkeypatch.chdir(root)
    lint = run("lint")
    assert [line.split(": ", 1)[1][:4] for line in lint.output.splitlines()[:-1]] == [*["D004"] * 5, "D002"]
    assert lint.output.splitlines()[-2:] == [
        "deals/umbrella-rebrand.md:1:1: D002 [error] open deal has no next_action",
        "Found 6 errors, 0 warnings (6 records checked)."]
    before = snapshot(root)
    assert "0 new, 0 updated, 6 unchanged" in run(*pipedrive_args(root)).output
    assert snapshot(root) == before


def test_ambiguous_dates_are_refused_until_date_format_says(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    args = ["import", "hubspot", str(root), "--deals", str(FIXTURES / "ambiguous-dates.csv")]
    result = run(*args)
    assert result.exit_code == 2
    assert "ambiguous-dates.csv:2: '03/04/2026' could be day-month or month-day" in result.output
    assert "--date-format" in result.output
    assert not (root / "import-mapping.yaml").exists()
    fill = run(*args, "--date-format", "DD/MM/YYYY")
    assert fill.exit_code == 1  # the mapping is proposed now
    assert run(*args, "--date-format", "DD/MM/YYYY").exit_code == 0
    assert "expected_close: 2026-04-03" in exact(root / "deals" / "ambiguous-deal.md")


def test_a_failed_import_writes_nothing(make_workspace: Make, tmp_path: Path) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    bad = tmp_path / "deals.csv"
    bad.write_text((FIXTURES / "hubspot" / "deals.csv").read_text(encoding="utf-8-sig").replace("12 500", "12 5x0"),
                   encoding="utf-8")
    before = snapshot(root)
    result = run("import", "hubspot", str(root), "--deals", str(bad))
    assert result.exit_code == 2
    assert "deals.csv:6: column 'Amount': '12 5x0' is not an amount" in result.output
    assert snapshot(root) == before


def test_a_blocked_target_stops_the_import_before_any_write(make_workspace: Make, tmp_path: Path) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    run(*hubspot_args(root))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, root / "deals")
    before = snapshot(root)
    result = run(*hubspot_args(root))
    assert result.exit_code == 2
    assert "symbolic link" in result.output
    assert snapshot(root) == before and not any(outside.iterdir())
    assert not (root / "clients").exists()


def test_unknown_owners_are_added_inactive_only_when_asked(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    run(*hubspot_args(root))
    result = run(*hubspot_args(root, "--add-owners"))
    assert result.exit_code == 0, result.output
    config = exact(root / "crm.yaml")
    assert config == IMPORT_CONFIG.replace(
        "  ben: {name: Ben Ortiz}\n", "  ben: {name: Ben Ortiz}\n  carla_diaz: {name: Carla Diaz, active: false}\n")
    assert "owner: carla_diaz" in exact(root / "deals" / "hooli-pitch.md")
    before = snapshot(root)
    again = run(*hubspot_args(root, "--add-owners"))
    assert "0 new, 0 updated, 9 unchanged" in again.output
    assert snapshot(root) == before  # the member is found again, not added twice


def test_a_spreadsheet_through_its_mapping(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    result = run("import", "csv", str(FIXTURES / "sheet.tsv"), str(root), "--kind", "deal",
                 "--map", str(FIXTURES / "sheet-mapping.yaml"))
    assert result.exit_code == 0, result.output
    assert exact(root / "deals" / "northwind-catalogue.md") == """\
---
title: Northwind catalogue
client: northwind
owner: ana
stage: proposal
value: 12500
created: 2026-11-04
next_action: Send proposal
next_action_due: 2026-12-01
notes: Big one
---
"""
    assert "value: 3000.5" in exact(root / "deals" / "contoso-kiosk.md")
    assert exact(root / "clients" / "northwind.md") == "---\nname: Northwind\n---\n"


@pytest.mark.slow
def test_an_imported_workspace_builds(make_workspace: Make, tmp_path: Path) -> None:
    root = imported_hubspot(make_workspace)
    run(*pipedrive_args(root, "--map", str(tmp_path / "pd-mapping.yaml")))
    assert run(*pipedrive_args(root, "--map", str(tmp_path / "pd-mapping.yaml"))).exit_code == 0
    result = run("build", str(root), "-o", str(tmp_path / "site"))
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "deals" / "umbrella-rebrand.html").exists()


def test_a_move_that_fails_undoes_the_ones_done(make_workspace: Make) -> None:
    from plaintext_crm.editing.atomic import EditError
    from plaintext_crm.editing.imports.run import ImportOptions, Outcome, import_vendor
    from plaintext_crm.editing.imports.stage import write_staged
    from plaintext_crm.editing.imports.vendors import HUBSPOT

    root = imported_hubspot(make_workspace)
    deal = root / "deals" / "acme-website-redesign.md"
    deal.write_text(ACME_DEAL.replace("value: 12500", "value: 1"), encoding="utf-8")
    (root / "deals" / "globex-brand-refresh.md").unlink()
    options = ImportOptions(root, dt.date(2026, 11, 26), "import hubspot")
    outcome = import_vendor(HUBSPOT, {"deals": FIXTURES / "hubspot" / "deals.csv"}, options)
    assert isinstance(outcome, Outcome)
    assert {change.rel for change in outcome.planned.changes} == {"deals/acme-website-redesign.md",
                                                                   "deals/globex-brand-refresh.md"}
    (root / "deals" / "globex-brand-refresh.md").write_text("someone else's\n", encoding="utf-8")  # meanwhile
    before = snapshot(root)
    with pytest.raises(EditError, match="created by someone else meanwhile"):
        write_staged(root, outcome.planned.changes)
    assert snapshot(root) == before  # the edit done before the failure is undone; no staging folder is left


def test_notes_become_dated_history_entries_once(make_workspace: Make) -> None:
    root = imported_hubspot(make_workspace)
    args = hubspot_args(root, "--notes", str(FIXTURES / "hubspot" / "notes.csv"))
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated, 8 unchanged, 1 skipped" in result.output
    assert "notes.csv:4: the note's deal or company is not in the import" in result.output
    assert exact(root / "deals" / "acme-website-redesign.md") == ACME_DEAL + (
        "\n## 2026-10-20 Call with José\nNeeds a second language & a CMS demo.\n\n"
        "## 2026-11-03 Sent the revised contract\n")
    before = snapshot(root)
    assert "0 new, 0 updated, 9 unchanged, 1 skipped" in run(*args).output
    assert snapshot(root) == before


def test_a_deal_renamed_in_the_crm_keeps_its_file(make_workspace: Make, tmp_path: Path) -> None:
    root = imported_hubspot(make_workspace)
    renamed = tmp_path / "deals.csv"
    renamed.write_bytes((FIXTURES / "hubspot" / "deals.csv").read_bytes().replace(b"Acme Website Redesign",
                                                                                  b"Acme Website Relaunch"))
    result = run("import", "hubspot", str(root), "--deals", str(renamed))
    assert "0 new, 1 updated, 4 unchanged" in result.output
    assert exact(root / "deals" / "acme-website-redesign.md") == ACME_DEAL.replace("Redesign", "Relaunch")
    assert not (root / "deals" / "acme-website-relaunch.md").exists()


def test_notices_say_what_was_guessed_about_a_file(make_workspace: Make) -> None:
    root = make_workspace({}, config=IMPORT_CONFIG)
    result = run(*hubspot_args(root, "--dry-run"))
    assert "contacts.csv:2: not UTF-8; read as Windows-1252 (cp1252)" in result.output
    assert "deals.csv: skipped 1 empty row" in result.output


@pytest.mark.slow
def test_a_hundred_thousand_rows_plan_into_unique_stable_ids(make_workspace: Make, tmp_path: Path) -> None:
    from plaintext_crm.editing.imports.run import ImportOptions, Outcome, import_vendor
    from plaintext_crm.editing.imports.vendors import HUBSPOT

    root = make_workspace({"import-mapping.yaml": "source: hubspot\nstages: {Contract Sent: negotiation}\n"
                                                  "owners: {Ana Ruiz: ana}\n"}, config=IMPORT_CONFIG)
    lines = ["Record ID,Deal Name,Deal Stage,Amount,Create Date,Deal owner,Associated Company"]
    lines += [f"{index},Company {index // 50} Website,Contract Sent,\"${index % 900 + 1},000.00\",2026-01-02,"
              f"Ana Ruiz,Company {index // 50}" for index in range(1, 100_001)]
    source = tmp_path / "big.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = import_vendor(HUBSPOT, {"deals": source}, ImportOptions(root, dt.date(2026, 11, 26), "import hubspot"))
    assert isinstance(outcome, Outcome)
    deals = [path for path in outcome.planned.new if path.startswith("deals/")]
    assert len(deals) == 100_000 and len(set(deals)) == 100_000
    assert len(outcome.planned.new) == 100_000 + 2_001  # one client per company name
    assert deals[:3] == ["deals/company-0-website.md", "deals/company-0-website-2.md", "deals/company-0-website-3.md"]


def test_a_client_made_by_hand_is_joined_but_a_deal_made_by_hand_is_not(make_workspace: Make) -> None:
    hand_client = "---\nname: Globex\nowner: ben\nstatus: active\n---\nMet them at a fair.\n"
    hand_deal = "---\ntitle: Hooli Pitch\nclient: globex\nowner: ben\nstage: lead\n---\n"
    root = make_workspace({"clients/globex.md": hand_client, "deals/hooli-pitch.md": hand_deal}, config=IMPORT_CONFIG)
    run(*hubspot_args(root))
    result = run(*hubspot_args(root))
    assert result.exit_code == 0, result.output
    assert "Imported from hubspot: 8 new, 1 updated, 0 unchanged, 0 skipped" in result.output
    assert exact(root / "clients" / "globex.md") == (
        "---\nname: Globex\nowner: ben\ncontacts:\n  - {name: Hank Scorpio, role: CEO, email: hank@globex.example}\n"
        "status: active\ncreated: 2025-12-01\ndomain: globex.example\nhubspot_id: 5002\nindustry: Retail\n---\n"
        "Met them at a fair.\n")
    assert exact(root / "deals" / "hooli-pitch.md") == hand_deal
    assert "hubspot_id: 9004" in exact(root / "deals" / "hooli-pitch-2.md")
