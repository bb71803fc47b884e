"""`plaintext-crm export csv --kind deals|clients|projects|tasks`: records as a spreadsheet."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from plaintext_crm.editing.imports.export import EXPORT_KINDS, export_table
from plaintext_crm.errors import ToolError
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.loader import workspace_root


@click.group("export")
def export_group() -> None:
    """Export records (see docs/import.md)."""


@export_group.command("csv")
@workspace_argument
@click.option("--kind", type=click.Choice(EXPORT_KINDS), required=True, help="Which records: one row each.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--bom", is_flag=True, help="Start with a UTF-8 byte order mark (older Excel versions need it).")
@today_option
def export_csv(workspace: Path | None, kind: str, output: Path | None, bom: bool, today: dt.date) -> None:
    """Write KIND records as CSV: front matter keys as columns (lists joined by `; `, ISO dates), then
    computed figures in `computed:` columns. `import csv` reads the file back to the same front matter."""
    from plaintext_crm.analysis import load_analysis

    text = export_table(load_analysis(workspace_root(workspace), today), kind).csv_text()
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    temp = output.with_name(f".{output.name}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, output)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ToolError(f"{output}: cannot write the export: {exc.strerror or exc}") from None
    click.echo(f"Wrote {text.count(chr(10)) - 1} {kind} to {output}", err=True)
