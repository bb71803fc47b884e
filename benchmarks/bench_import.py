"""Import speed: a generated HubSpot deals export of 100,000 rows, imported into an empty workspace.

Prints the time to merely read the CSV (csv.reader over the decoded text), the time to plan the import
(read, cells, mapping, ids, every file's text verified), the time to write the files (staged, synced once,
moved in), and the time of a
second identical run (every file unchanged). Ratios are against the plain CSV read of the same run.
Run: python benchmarks/bench_import.py [ROWS]
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plaintext_crm.editing.imports.run import ImportOptions, Outcome, import_vendor
from plaintext_crm.editing.imports.stage import write_staged
from plaintext_crm.editing.imports.vendors import HUBSPOT

CONFIG = """\
name: Bench
currency: USD
team:
  ana: {name: Ana Ruiz, email: ana@bench.example}
  ben: {name: Ben Ortiz}
"""
MAPPING = """\
source: hubspot
stages: {Appointment Scheduled: lead, Qualified To Buy: qualified, Contract Sent: negotiation,
         Closed Won: won, Closed Lost: lost}
owners: {Ana Ruiz: ana, Ben Ortiz: ben}
"""
HEADERS = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Deal owner", "Pipeline",
           "Associated Company", "Closed Lost Reason", "Next step", "Deal Description", "Currency", "Deal Type"]
STAGES = ["Appointment Scheduled", "Qualified To Buy", "Contract Sent", "Closed Won", "Closed Lost"]
WORDS = ["Website", "Brand", "Campaign", "App", "Portal", "Report", "Shop", "Intranet", "Rebrand", "Video"]


def export(rows: int) -> str:
    """A HubSpot-style deals export with `rows` deals over rows // 20 companies."""
    rng = random.Random(13)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    start = dt.date(2024, 1, 1)
    for index in range(rows):
        stage = rng.choice(STAGES)
        created = start + dt.timedelta(days=rng.randrange(900))
        close = created + dt.timedelta(days=rng.randrange(10, 200))
        writer.writerow([
            100000 + index, f"Company {index // 20} {rng.choice(WORDS)} {index}", stage,
            f"${rng.randrange(1, 500) * 100:,}.00", close.strftime("%m/%d/%Y"), f"{created.isoformat()} 10:30",
            rng.choice(["Ana Ruiz", "Ben Ortiz"]), "Sales Pipeline", f"Company {index // 20}",
            "Price" if stage == "Closed Lost" else "", "Call back" if stage not in STAGES[3:] else "",
            "Line one\nline two" if index % 7 == 0 else "", "USD", "newbusiness"])
    return out.getvalue()


def timed(label: str, function, baseline: float | None = None):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - began
    ratio = f"  ({seconds / baseline:5.1f}x the CSV read)" if baseline else ""
    print(f"{label:<42} {seconds:8.2f} s{ratio}")
    return result, seconds


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        source = folder / "deals.csv"
        source.write_text(export(rows), encoding="utf-8")
        root = folder / "ws"
        root.mkdir()
        (root / "crm.yaml").write_text(CONFIG, encoding="utf-8")
        (root / "import-mapping.yaml").write_text(MAPPING, encoding="utf-8")
        print(f"{rows:,} deals, {source.stat().st_size / 2**20:.1f} MB of CSV")
        _rows, read = timed("read the CSV (csv.reader, nothing else)",
                            lambda: sum(1 for _ in csv.reader(io.StringIO(source.read_text(encoding="utf-8"),
                                                                          newline=""))))
        options = ImportOptions(root, dt.date(2026, 11, 26), "import hubspot")
        outcome, plan = timed("plan the import (no file written)",
                              lambda: import_vendor(HUBSPOT, {"deals": source}, options), read)
        assert isinstance(outcome, Outcome)
        _done, write = timed(f"write {len(outcome.planned.changes):,} files (staged, one sync)",
                             lambda: write_staged(root, outcome.planned.changes), read)
        again, _rerun = timed("run again: plan, every file unchanged",
                             lambda: import_vendor(HUBSPOT, {"deals": source}, options), read)
        assert isinstance(again, Outcome) and not again.planned.changes
        print(f"{'import, plan and write':<42} {plan + write:8.2f} s  ({(plan + write) / read:5.1f}x the CSV read)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
