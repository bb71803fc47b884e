"""`plaintext-crm import hubspot|pipedrive|csv`: plan an import, show it (--dry-run) or write it, then report."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from plaintext_crm.editing.edit import apply_changes
from plaintext_crm.editing.imports.csvread import ImportFailed
from plaintext_crm.editing.imports.mapping import MAPPING_FILE
from plaintext_crm.editing.imports.report import migration_report, remaining_findings
from plaintext_crm.editing.imports.run import (
    ImportOptions,
    Outcome,
    Proposal,
    check_targets,
    import_spreadsheet,
    import_vendor,
    write_proposal,
)
from plaintext_crm.editing.imports.stage import SUPPORTED, write_staged
from plaintext_crm.editing.imports.values import DATE_FORMATS
from plaintext_crm.editing.imports.vendors import HUBSPOT, PIPEDRIVE, Vendor
from plaintext_crm.escape import terminal, terminal_lines
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.loader import load_workspace, workspace_root

LISTED = 20  # paths listed per group; the rest are counted
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed((
        workspace_argument,
        click.option("--map", "mapping", type=click.Path(dir_okay=False, path_type=Path),
                     help=f"The mapping file (default: the workspace's {MAPPING_FILE}; a first run proposes it)."),
        click.option("--date-format", metavar="ORDER",
                     help=f"How to read dates like 03/04/2026: {' or '.join(DATE_FORMATS)}."),
        click.option("--add-owners", is_flag=True,
                     help="Add owners the mapping leaves empty to crm.yaml's team as inactive members."),
        click.option("--dry-run", "-n", is_flag=True, help="Print the plan and the diffs; write nothing."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the migration report to this Markdown file."),
        today_option,
    )):
        function = option(function)
    return function


@click.group("import")
def import_group() -> None:
    """Import deals and clients from HubSpot, Pipedrive or a spreadsheet (see docs/import.md).

    A first run writes a proposed import-mapping.yaml (vendor stages and owners -> this workspace's) and
    stops; check it and run the same command again. Running an import again updates the same files.
    """


def _options(workspace: Path | None, mapping: Path | None, date_format: str | None, add_owners: bool,
             today: dt.date) -> ImportOptions:
    command = f"import {click.get_current_context().info_name}"
    return ImportOptions(workspace_root(workspace), today, command, mapping, date_format, add_owners)


@import_group.command("hubspot")
@click.option("--deals", "deals", type=_FILE, required=True, help="HubSpot's deals export (CSV).")
@click.option("--companies", type=_FILE, help="HubSpot's companies export.")
@click.option("--contacts", type=_FILE, help="HubSpot's contacts export.")
@click.option("--notes", type=_FILE, help="HubSpot's notes export (activity date, note body, associated deal).")
@_common
def hubspot(deals: Path, companies: Path | None, contacts: Path | None, notes: Path | None, **common: Any) -> None:
    """Import HubSpot's CSV exports of deals (and companies, contacts, notes)."""
    _vendor(HUBSPOT, {"deals": deals, "companies": companies, "contacts": contacts, "notes": notes}, **common)


@import_group.command("pipedrive")
@click.option("--deals", "deals", type=_FILE, required=True, help="Pipedrive's deals export (CSV).")
@click.option("--organizations", type=_FILE, help="Pipedrive's organizations export.")
@click.option("--persons", type=_FILE, help="Pipedrive's people export.")
@click.option("--notes", type=_FILE, help="Pipedrive's notes export.")
@_common
def pipedrive(deals: Path, organizations: Path | None, persons: Path | None, notes: Path | None,
              **common: Any) -> None:
    """Import Pipedrive's CSV exports of deals (and organizations, persons, notes)."""
    _vendor(PIPEDRIVE, {"deals": deals, "companies": organizations, "contacts": persons, "notes": notes}, **common)


@import_group.command("csv")
@click.argument("file", type=_FILE)
@click.option("--kind", type=click.Choice(("deal", "client")), required=True, help="What each row is.")
@_common
def csv_command(file: Path, kind: str, **common: Any) -> None:
    """Import a spreadsheet (CSV) of deals or clients; `export csv` writes one this reads back exactly."""
    options = _options(common["workspace"], common["mapping"], common["date_format"], common["add_owners"],
                       common["today"])
    _run(lambda: import_spreadsheet(file, kind, options), options, common["dry_run"], common["report_path"])


def _vendor(vendor: Vendor, paths: Mapping[str, Path | None], workspace: Path | None, mapping: Path | None,
            date_format: str | None, add_owners: bool, dry_run: bool, report_path: Path | None,
            today: dt.date) -> None:
    options = _options(workspace, mapping, date_format, add_owners, today)
    given = {kind: path for kind, path in paths.items() if path is not None}
    _run(lambda: import_vendor(vendor, given, options), options, dry_run, report_path)


def _listed(label: str, paths: Sequence[str]) -> None:
    for path in paths[:LISTED]:
        click.echo(f"  {label:<9} {terminal(path)}")
    if len(paths) > LISTED:
        click.echo(f"  {label:<9} ... and {len(paths) - LISTED} more")


def _run(plan: Callable[[], Outcome | Proposal], options: ImportOptions, dry_run: bool,
         report_path: Path | None) -> None:
    outcome = plan()
    for notice in outcome.notices:
        click.echo(f"notice: {terminal(notice)}", err=True)
    if isinstance(outcome, Proposal):
        _propose(outcome, options.root, dry_run)
        return
    planned = outcome.planned
    if dry_run:
        for change in planned.changes:
            click.echo(terminal_lines(change.diff()), nl=False)
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} from {outcome.source}: {len(planned.new)} new, {len(planned.updated)} updated, "
               f"{len(planned.unchanged)} unchanged, {len(planned.skipped)} skipped"
               + (f" (mapping: {terminal(outcome.mapping_used)})" if outcome.mapping_used else ""))
    _listed("new", planned.new)
    _listed("updated", planned.updated)
    for change in planned.changes:
        if change.rel == CONFIG_FILE:
            click.echo(f"  updated   {CONFIG_FILE} ({terminal('; '.join(change.summary))})")
    if dry_run:
        _listed("unchanged", planned.unchanged)
    for skipped in planned.skipped[:LISTED]:
        click.echo(f"  skipped   {terminal(skipped.where)}: {terminal(skipped.reason)}")
    if len(planned.skipped) > LISTED:
        click.echo(f"  skipped   ... and {len(planned.skipped) - LISTED} more")
    for note in planned.notes:
        click.echo(f"  note: {terminal(note)}")
    if outcome.unmapped:
        click.echo(f"  not mapped (kept as written, see the report): {terminal(', '.join(outcome.unmapped))}")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    check_targets(planned)  # every target writable before the first write
    if SUPPORTED:
        write_staged(options.root, planned.changes)
    else:  # no descriptor-relative calls (Windows): one atomic write after the other, undone on failure
        apply_changes(planned.changes)
    workspace, _findings = load_workspace(options.root)
    paths = [*planned.new, *planned.updated, *planned.unchanged]
    report = migration_report(workspace, paths, remaining_findings(options.root, options.today), outcome.source)
    for line in report.lines():
        click.echo(terminal(line))
    if report_path is not None:
        _write_report(report_path, report.markdown())
        click.echo(f"Wrote the migration report to {terminal(str(report_path))}")


def _propose(proposal: Proposal, root: Path, dry_run: bool) -> None:
    shown = os.path.relpath(proposal.path, Path.cwd()) if proposal.path.is_absolute() else str(proposal.path)
    if dry_run:
        click.echo(terminal_lines(proposal.text), nl=False)
        click.echo(f"Dry run: the import needs a mapping; this is the {terminal(shown)} a real run would write.")
    else:
        write_proposal(proposal, root)
        click.echo(f"Wrote a proposed mapping to {terminal(shown)}: check it, fill what is empty, then run the "
                   "same command again. Nothing else was written.")
    if proposal.unmapped:
        click.echo(f"Could not map: {terminal(', '.join(proposal.unmapped))}")
    raise SystemExit(1)


def _write_report(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ImportFailed(f"{path}: cannot write the report: {exc.strerror or exc} (the import itself was "
                           "written)") from None
