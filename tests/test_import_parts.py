"""Parts of the import: vendor headers, mapping guesses, members added to crm.yaml; `export csv` on the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from plaintext_crm.editing.atomic import EditError
from plaintext_crm.editing.imports.cells import read_cell_for, write_cell
from plaintext_crm.editing.imports.mapping import guess_owner, guess_stage
from plaintext_crm.editing.imports.team import add_members, member_for
from plaintext_crm.editing.imports.values import DateReader
from plaintext_crm.editing.imports.vendors import HUBSPOT, PIPEDRIVE
from plaintext_crm.records.config import load_config
from tests.import_support import IMPORT_CONFIG, run
from tests.support import EXAMPLE

Make = Callable[..., Path]


def test_headers_match_ignoring_case_spaces_and_pipedrive_prefixes() -> None:
    assert HUBSPOT.role("deals", "  deal NAME ") == "title"
    assert HUBSPOT.role("deals", "Associated Company IDs") == "company_id"
    assert PIPEDRIVE.role("deals", "Deal - Won time") == "won_time"
    assert PIPEDRIVE.role("deals", "won time") == "won_time"
    assert PIPEDRIVE.role("companies", "Organization - Name") == "name"
    assert PIPEDRIVE.role("deals", "Organization - Name") is None  # another file's prefix: an extra column
    assert PIPEDRIVE.unprefixed("deals", "Deal - Budget holder") == "Budget holder"


def test_stage_and_owner_guesses(make_workspace: Make) -> None:
    config, _findings = load_config(make_workspace({}, config=IMPORT_CONFIG))
    assert [guess_stage(value, config) for value in ("Closed Won", "closedlost", "contractsent", "Qualified",
                                                     "Proposal Made", "Mystery")] == \
        ["won", "lost", "negotiation", "qualified", "proposal", None]
    assert [guess_owner(value, config) for value in ("ANA@studio.example", "Ben Ortiz", "ben", "Carla")] == \
        ["ana", "ben", "ben", None]


@pytest.mark.parametrize(("config", "expected"), [
    ("name: X\n", "name: X\nteam:\n  carla_diaz: {name: Carla Diaz, active: false}\n"),
    ("name: X", "name: X\nteam:\n  carla_diaz: {name: Carla Diaz, active: false}\n"),
    ("team:\n    ana:\n        name: Ana\n# the pipeline\npipeline: [lead, won]\n",
     ("team:\n    ana:\n        name: Ana\n    carla_diaz: {name: Carla Diaz, active: false}\n# the pipeline\n"
     "pipeline: [lead, won]\n")),
    ("team:\r\n  ana: {name: Ana}  # founder\r\n", ("team:\r\n  ana: {name: Ana}  # founder\r\n"
     "  carla_diaz: {name: Carla Diaz, active: false}\r\n")),
])
def test_members_are_added_at_the_end_of_the_team_keeping_every_other_byte(make_workspace: Make, config: str,
                                                                            expected: str) -> None:
    root = make_workspace({"crm.yaml": config.encode()}, config=None)
    loaded, _findings = load_config(root)
    change = add_members(root, loaded, [member_for("Carla Diaz", set(loaded.team))])
    assert change.after == expected


def test_a_team_written_as_a_flow_mapping_is_left_for_a_person(make_workspace: Make) -> None:
    root = make_workspace({"crm.yaml": "team: {ana: {name: Ana}}\n"}, config=None)
    loaded, _findings = load_config(root)
    with pytest.raises(EditError, match="add carla_diaz by hand"):
        add_members(root, loaded, [member_for("Carla Diaz", set(loaded.team))])
    assert member_for("jo.smith@example.com", {"jo_smith"}).id == "jo_smith_2"


@pytest.mark.parametrize(("key", "value"), [
    ("title", "2027"), ("title", "yes"), ("title", "Acme # 2"), ("promised_timeline", dt.date(2027, 1, 29)),
    ("key_constraints", "one; two"), ("key_constraints", ["a;b", "c"]), ("value", 12000.0), ("value", 12000),
    ("industry", "null"), ("tier", 3), ("title", "=HYPERLINK(\"http://x\")"), ("industry", "-5"),
    ("tags", ["@cmd", "b"]), ("value", -5), ("tags", ["web", "brand"]), ("contacts", [{"name": "Jana", "email": "j@x"}]),
])
def test_cells_read_back_as_the_value_written(key: str, value: object) -> None:
    cell = write_cell(key, value)
    back = read_cell_for(key, cell, DateReader(None))
    assert back == value and type(back) is type(value), (cell, back)


def test_text_a_spreadsheet_would_run_as_a_formula_is_written_quoted() -> None:
    assert write_cell("title", "=1+1") == "'=1+1'"
    assert write_cell("industry", "@SUM(A1)") == "'@SUM(A1)'"
    assert write_cell("tags", ["-x"]).startswith("[")
    assert write_cell("value", -5) == "-5"  # a number is no formula


def test_export_csv_of_every_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("export", "csv", str(EXAMPLE), "--kind", "tasks", "-o", str(tmp_path / "tasks.csv"), "--bom")
    assert result.exit_code == 0, result.output
    data = (tmp_path / "tasks.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfproject,id,title,owner,start,due,duration,status,depends_on,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert set(rows[0]) >= {"computed:planned_start", "computed:planned_finish", "computed:slack", "computed:critical"}
    assert {row["computed:critical"] for row in rows} == {"true", "false"}
    deals = list(csv.DictReader(io.StringIO(run("export", "csv", str(EXAMPLE), "--kind", "deals").output)))
    assert len(deals) == 40 and deals[0]["id"] == "atlas-logistics-annual-report"
    assert {"computed:weighted_value", "computed:follow_up", "computed:days_in_stage"} <= set(deals[0])
    projects = run("export", "csv", str(EXAMPLE), "--kind", "projects").output
    assert projects.startswith("id,title,client,deal,owner,status,start,due,")
    assert "tasks" not in projects.splitlines()[0].split(",")
