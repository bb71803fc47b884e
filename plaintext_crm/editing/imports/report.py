"""The migration report: what the imported records lack that plaintext-crm expects, as a grouped to-do list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.escape import markdown_code, markdown_text
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records.model import OPEN_WORK, DealStatus, Workspace, is_empty, lost_reason_valid


def remaining_findings(root: Path, today: dt.date) -> list[Finding]:
    """Lint the workspace as it is after the import: the one place the import calls the linter."""
    from plaintext_crm.lint.run import run_lint

    return run_lint(root, today, use_cache=False).findings


@dataclass(frozen=True)
class ToDo:
    path: str
    what: str  # plain text


@dataclass(frozen=True)
class MigrationReport:
    """Groups of to-dos (heading, items) and the lint findings left after the import."""

    source: str
    groups: tuple[tuple[str, tuple[ToDo, ...]], ...]
    errors: int
    warnings: int

    @property
    def open_items(self) -> int:
        return sum(len(items) for _heading, items in self.groups)

    def summary(self) -> str:
        return (f"{self.errors} lint error{'s' if self.errors != 1 else ''} and {self.warnings} "
                f"warning{'s' if self.warnings != 1 else ''} remain in the workspace; `plaintext-crm lint` shows them")

    def lines(self) -> list[str]:
        """The report for the terminal."""
        lines = [f"Migration report: {self.open_items} thing{'s' if self.open_items != 1 else ''} to do"]
        for heading, items in self.groups:
            lines.append(f"  {heading} ({len(items)})")
            lines += [f"    [ ] {item.path}: {item.what}" for item in items]
        lines.append(self.summary())
        return lines

    def markdown(self) -> str:
        """The report as Markdown (a GitHub-style task list per group)."""
        errors = f"{self.errors} lint error{'s' if self.errors != 1 else ''}"
        warnings = f"{self.warnings} warning{'s' if self.warnings != 1 else ''}"
        out = [f"# Migration report ({markdown_text(self.source)})", "",
               (f"{self.open_items} thing{'s' if self.open_items != 1 else ''} to do in the imported records. "
                f"{errors} and {warnings} remain in the workspace; `plaintext-crm lint` shows them."), ""]
        for heading, items in self.groups:
            out += [f"## {markdown_text(heading)} ({len(items)})", ""]
            out += [f"- [ ] {markdown_code(item.path)}: {markdown_text(item.what)}" for item in items]
            out.append("")
        return "\n".join(out).rstrip("\n") + "\n"


def migration_report(workspace: Workspace, paths: Iterable[str], findings: Sequence[Finding],
                     source: str) -> MigrationReport:
    """The to-do list of the imported records at `paths`."""
    wanted = set(paths)
    config = workspace.config
    groups: dict[str, list[ToDo]] = {heading: [] for heading in (
        "Open deals without a next action", "Open deals without an owner", "Won deals missing hand-off fields",
        "Lost deals without a reason", "Deals in stages the pipeline does not have", "Deals without a client",
        "Clients without an owner")}
    for deal in sorted(workspace.deals.values(), key=lambda item: item.path):
        if deal.path not in wanted:
            continue
        status = workspace.status(deal)
        if status is DealStatus.UNKNOWN:
            groups["Deals in stages the pipeline does not have"].append(ToDo(
                deal.path, f"stage '{deal.stage}' is not in crm.yaml's pipeline" if deal.stage else "set a stage"))
        if status in OPEN_WORK:
            if is_empty(deal.fields.get("next_action")) or deal.next_action_due is None:
                missing = [key for key in ("next_action", "next_action_due") if is_empty(deal.fields.get(key))]
                groups["Open deals without a next action"].append(ToDo(deal.path, "set " + " and ".join(missing)))
            if deal.owner is None or deal.owner not in config.team and config.team:
                shown = deal.fields.get("imported_owner")
                groups["Open deals without an owner"].append(ToDo(
                    deal.path, f"choose an owner (the export said '{shown}')" if shown else "choose an owner"))
        elif status is DealStatus.WON:
            gaps, _invalid = deal.handoff_gaps(config.handoff_fields)
            if gaps:
                groups["Won deals missing hand-off fields"].append(ToDo(deal.path, "fill " + ", ".join(gaps)))
        elif status is DealStatus.LOST and not lost_reason_valid(deal.lost_reason, config.lost_reasons):
            what = (f"'{deal.lost_reason}' is not one of crm.yaml's lost_reasons" if deal.lost_reason
                    else "give a lost_reason")
            groups["Lost deals without a reason"].append(ToDo(deal.path, what))
        if deal.client is None or deal.client not in workspace.clients:
            company = deal.fields.get("imported_company")
            groups["Deals without a client"].append(ToDo(
                deal.path, f"choose the client ('{company}' names several)" if company else "set a client"))
    for client in sorted(workspace.clients.values(), key=lambda item: item.path):
        if client.path in wanted and (client.owner is None or (config.team and client.owner not in config.team)):
            shown = client.fields.get("imported_owner")
            groups["Clients without an owner"].append(ToDo(
                client.path, f"choose an owner (the export said '{shown}')" if shown else "choose an owner"))
    errors = sum(1 for finding in findings if finding.severity is Severity.ERROR)
    warnings = sum(1 for finding in findings if finding.severity is Severity.WARNING)
    return MigrationReport(source, tuple((heading, tuple(items)) for heading, items in groups.items() if items),
                           errors, warnings)
