"""`export csv` then `import csv` reproduces every record's front matter, on random workspaces (hypothesis)."""

from __future__ import annotations

import datetime as dt
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plaintext_crm.analysis import analyze
from plaintext_crm.editing.edit import apply_changes, same_value
from plaintext_crm.editing.imports.export import export_table
from plaintext_crm.editing.imports.render import record_text
from plaintext_crm.editing.imports.run import ImportOptions, Outcome, import_spreadsheet
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.model import CLIENT_KEYS, DEAL_KEYS
from tests.import_support import IMPORT_CONFIG

TODAY = dt.date(2026, 11, 26)
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
OWNERS = ["ana", "ben"]

# Text as people write it: any printable character, `#`, quotes, colons, YAML words, accents, line breaks
# inside; never surrounding spaces (a spreadsheet cell loses those, see docs/import.md).
_ALPHABET = string.ascii_letters + string.digits + " .,;:#'\"-_/&!?()[]{}@%*+=|~éüß€\n"
texts = st.text(_ALPHABET, min_size=1, max_size=30).filter(lambda text: text == text.strip()) | \
    st.sampled_from(["yes", "No", "null", "~", "12", "0x1F", "1e3", "2026-01-01", "12:30", "- item", "a # b",
                     "'quoted'", "[not a list", "Acme: the site"])
dates = st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31))
numbers = st.integers(0, 10**12) | st.floats(0, 1e12, allow_nan=False).filter(lambda number: number != 0)
scalars = texts | dates | st.integers(-10**6, 10**6) | st.booleans() | \
    st.floats(allow_nan=False, allow_infinity=False)
extra_keys = st.sampled_from(["industry", "budget_holder", "region", "tier", "notes_count", "renewal", "tags"])
extras = st.dictionaries(extra_keys, scalars | st.lists(texts, min_size=1, max_size=3), max_size=3)
contacts = st.lists(texts | st.fixed_dictionaries(
    {"name": texts}, optional={"role": texts, "email": texts, "phone": texts}), min_size=1, max_size=3)


@st.composite
def clients(draw: Any) -> dict[str, Any]:
    fields = {"name": draw(texts), "owner": draw(st.sampled_from(OWNERS)),
              "status": draw(st.sampled_from(["prospect", "active", "past"]))}
    if draw(st.booleans()):
        fields["contacts"] = draw(contacts)
    if draw(st.booleans()):
        fields["source"] = draw(texts)
    return {**fields, **draw(extras)}


@st.composite
def deals(draw: Any, client_ids: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": draw(texts), "client": draw(st.sampled_from(client_ids)),
                              "owner": draw(st.sampled_from(OWNERS)), "stage": draw(st.sampled_from(STAGES))}
    optional = {"value": numbers, "currency": st.sampled_from(["USD", "GBP"]), "probability": st.floats(0, 1),
                "created": dates, "expected_close": dates, "next_action": texts, "next_action_due": dates,
                "stage_since": dates, "closed_on": dates, "lost_reason": texts, "scope_summary": texts,
                "key_constraints": st.lists(texts, min_size=1, max_size=3) | texts, "kickoff_date": dates,
                "promised_timeline": texts | dates}
    for key, strategy in optional.items():
        if draw(st.booleans()):
            fields[key] = draw(strategy)
    return {**{key: fields[key] for key in DEAL_KEYS if key in fields}, **draw(extras)}


@st.composite
def workspaces(draw: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    client_ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?", fullmatch=True),
                               min_size=1, max_size=4, unique=True))
    deal_ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?", fullmatch=True),
                             min_size=1, max_size=5, unique=True))
    return ({client_id: draw(clients()) for client_id in client_ids},
            {deal_id: draw(deals(client_ids)) for deal_id in deal_ids})


def _write(root: Path, folder: str, records: dict[str, dict[str, Any]], order: tuple[str, ...]) -> None:
    (root / folder).mkdir(parents=True, exist_ok=True)
    for record_id, fields in records.items():
        ordered = {**{key: fields[key] for key in order if key in fields}, **fields}
        (root / folder / f"{record_id}.md").write_text(record_text(ordered, "Notes.\n", record_id), encoding="utf-8")


def _import(root: Path, path: Path, kind: str) -> Outcome:
    outcome = import_spreadsheet(path, kind, ImportOptions(root, TODAY, "import csv"))
    assert isinstance(outcome, Outcome), "our own export needs no mapping"
    apply_changes(outcome.planned.changes)
    return outcome


def _same(left: Any, right: Any) -> bool:
    return set(left) == set(right) and all(same_value(left[key], right[key]) for key in left)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workspaces())
def test_importing_our_own_export_reproduces_the_front_matter(generated: Any) -> None:
    client_records, deal_records = generated
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "source", Path(folder) / "target"
        for root in (source, target):
            root.mkdir()
            (root / "crm.yaml").write_text(IMPORT_CONFIG, encoding="utf-8")
        _write(source, "clients", client_records, CLIENT_KEYS)
        _write(source, "deals", deal_records, DEAL_KEYS)
        original, _findings = load_workspace(source)
        for kind in ("clients", "deals"):
            (Path(folder) / f"{kind}.csv").write_text(export_table(analyze(original, TODAY, GitHistory.none()), kind).csv_text(),
                                                      encoding="utf-8", newline="")
        for kind, singular in (("clients", "client"), ("deals", "deal")):
            again = _import(source, Path(folder) / f"{kind}.csv", singular)
            assert again.planned.changes == () and len(again.planned.unchanged) == len(getattr(original, kind))
            _import(target, Path(folder) / f"{kind}.csv", singular)
        copied, _findings = load_workspace(target)
        for kind in ("clients", "deals"):
            before, after = getattr(original, kind), getattr(copied, kind)
            assert set(before) == set(after)
            for record_id, record in before.items():
                assert _same(dict(record.fields), dict(after[record_id].fields)), (record.fields,
                                                                                  after[record_id].fields)
