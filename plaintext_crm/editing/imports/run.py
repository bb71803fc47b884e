"""The import pipeline, in order: read the files -> read the cells -> mapping -> drafts -> ids -> planned changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from plaintext_crm.editing.atomic import inspect_target, write_atomic
from plaintext_crm.editing.edit import FileChange
from plaintext_crm.editing.imports.csvread import ImportFailed, Table, read_table
from plaintext_crm.editing.imports.drafts import (
    VendorRows,
    attach_contacts,
    attach_notes,
    client_draft,
    client_from_name,
    deal_draft,
    seen_values,
)
from plaintext_crm.editing.imports.mapping import (
    MAPPING_FILE,
    ImportMapping,
    Seen,
    check_mapping,
    guess_owner,
    is_identity,
    load_mapping,
    propose,
    render_mapping,
    with_defaults,
)
from plaintext_crm.editing.imports.plan import (
    Draft,
    IdBook,
    Planned,
    Skipped,
    assign_ids,
    link_clients,
    plan_changes,
)
from plaintext_crm.editing.imports.rows import date_order, raise_problems, read_rows, roles_of
from plaintext_crm.editing.imports.spreadsheet import (
    KIND_FOLDERS,
    column_synonyms,
    date_columns,
    known_keys,
    mapping_columns,
    seen_in,
    spreadsheet_drafts,
)
from plaintext_crm.editing.imports.team import add_members, member_for
from plaintext_crm.editing.imports.values import date_format_order
from plaintext_crm.editing.imports.vendors import Vendor
from plaintext_crm.records.config import Config
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.model import Workspace


@dataclass(frozen=True)
class ImportOptions:
    """How to import: the workspace, today, the mapping file, day-month order, owners to add."""

    root: Path
    today: dt.date
    command: str  # as the user typed it, for the proposal's comment
    mapping_path: Path | None = None  # default: the workspace's import-mapping.yaml
    date_format: str | None = None
    add_owners: bool = False


@dataclass(frozen=True)
class Proposal:
    """A first run: the mapping to check, where it goes, and what could not be mapped."""

    path: Path
    text: str
    unmapped: tuple[str, ...]
    notices: tuple[str, ...] = ()  # what reading the files found (cp1252, empty rows)


@dataclass(frozen=True)
class Outcome:
    """A planned import (nothing written yet) and the notices of reading it."""

    planned: Planned
    notices: tuple[str, ...]
    mapping_used: str | None  # the mapping file's path as shown, None when the data needed none
    unmapped: tuple[str, ...]  # mapping entries still empty: reported
    source: str  # "hubspot", "pipedrive", "csv"


def _month_first(options: ImportOptions) -> bool | None:
    if options.date_format is None:
        return None
    try:
        return date_format_order(options.date_format)
    except ValueError as exc:
        raise ImportFailed(str(exc)) from None


def _mapping(options: ImportOptions, seen: Seen, config: Config, source: str, known: Sequence[str],
             synonyms: Mapping[str, str]) -> tuple[ImportMapping | Proposal, str | None]:
    """The mapping to use, or the proposal of a first run. Data that maps to itself needs no file."""
    path = options.mapping_path or options.root / MAPPING_FILE
    shown = str(options.mapping_path) if options.mapping_path else MAPPING_FILE
    if path.exists():
        mapping = with_defaults(load_mapping(path, shown), seen, config)
        check_mapping(mapping, config, shown, source)
        return mapping, shown
    proposed = propose(seen, config, source, known, synonyms)
    if is_identity(proposed):
        return proposed, None
    text = render_mapping(proposed, seen, config, options.command, options.today)
    return Proposal(path, text, tuple(proposed.unmapped())), None


def write_proposal(proposal: Proposal, root: Path) -> None:
    """Write the proposed mapping (never over an existing file; through the checked writes when it is in
    the workspace)."""
    try:
        rel = proposal.path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = None
    if rel is not None:
        write_atomic(root, rel, proposal.text.encode("utf-8"), None)
        return
    try:
        with proposal.path.open("x", encoding="utf-8") as stream:
            stream.write(proposal.text)
    except OSError as exc:
        raise ImportFailed(f"{proposal.path}: cannot write the proposed mapping: {exc.strerror or exc}") from None


def _owners(mapping: ImportMapping, config: Config, options: ImportOptions, root: Path
            ) -> tuple[ImportMapping, Config, list[FileChange]]:
    """Owners the mapping leaves empty: a member added since (same name or email) maps to them; with
    --add-owners the rest are added to crm.yaml as inactive members."""
    owners = dict(mapping.owners)
    missing = []
    for text, target in owners.items():
        if target is None:
            owners[text] = guess_owner(text, config)
            if owners[text] is None:
                missing.append(text)
    if not missing or not options.add_owners:
        return replace(mapping, owners=owners), config, []
    taken = set(config.team)
    members = [member_for(text, taken) for text in missing]
    change = add_members(root, config, members)
    for text, member in zip(missing, members):
        owners[text] = member.id
    team = {**config.team, **{member.id: member for member in members}}
    return replace(mapping, owners=owners), replace(config, team=team), [change]


def _resolve(workspace: Workspace, clients: list[Draft], deals: list[Draft], skipped: list[Skipped],
             source: str) -> tuple[list[Draft], list[Draft], list[str]]:
    """Ids for every draft, deals linked to their clients; (clients, deals, notes) without skipped rows."""
    book = IdBook(workspace)
    skipped += assign_ids(clients, book)
    skipped += assign_ids(deals, book)
    dropped = {item.where for item in skipped}
    clients = [draft for draft in clients if draft.where not in dropped]
    deals = [draft for draft in deals if draft.where not in dropped]
    notes = link_clients(deals, clients, book, source, client_from_name)
    won_stages = {stage.id for stage in workspace.config.stages if stage.is_won}
    won = {draft.fields.get("client") for draft in deals if draft.fields.get("stage") in won_stages}
    for client in clients:  # a new client's status: active once a deal was won, else a prospect
        if client.existing is None and "status" not in client.fields and source != "csv":
            client.fields["status"] = "active" if client.record_id in won else "prospect"
    return clients, deals, notes


def _planned(workspace: Workspace, drafts: Sequence[Draft], skipped: Sequence[Skipped], notes: Sequence[str],
             extra: Sequence[FileChange]) -> Planned:
    changes, new, updated, unchanged = plan_changes(drafts, workspace)
    return Planned((*extra, *changes), tuple(new), tuple(updated), tuple(unchanged),
                   tuple(skipped), tuple(notes), tuple(drafts))


def import_vendor(vendor: Vendor, paths: Mapping[str, Path], options: ImportOptions) -> Outcome | Proposal:
    """Plan importing a vendor's files (kind -> path: deals, companies, contacts, notes)."""
    workspace, _findings = load_workspace(options.root)
    tables: dict[str, Table] = {kind: read_table(path) for kind, path in paths.items()}
    roles = {kind: roles_of(table, vendor, kind) for kind, table in tables.items()}
    if not any(role == "title" for role in roles["deals"][0].values()):
        raise ImportFailed(f"{tables['deals'].name}:1: no column of {vendor.label}'s deal export was found (like "
                           f"{'Deal Name' if vendor.name == 'hubspot' else 'Title'}); is this the deals file? "
                           "nothing was written")
    dates = date_order([(tables[kind], roles[kind][0]) for kind in tables], _month_first(options))
    problems: list[str] = []
    rows = {kind: read_rows(tables[kind], *roles[kind], dates, problems) for kind in tables}
    raise_problems(problems)
    data = VendorRows(vendor, rows["deals"], rows.get("companies", ()), rows.get("contacts", ()), rows.get("notes", ()))
    seen = seen_values(data)
    chosen, shown = _mapping(options, seen, workspace.config, vendor.name, (), {})
    if isinstance(chosen, Proposal):
        return replace(chosen, notices=tuple(notice for table in tables.values() for notice in table.notices))
    mapping, config, extra = _owners(chosen, workspace.config, options, workspace.root)
    clients: list[Draft] = []
    deals: list[Draft] = []
    skipped: list[Skipped] = []
    for row in data.companies:
        made = client_draft(row, vendor, mapping)
        (skipped.append(made) if isinstance(made, Skipped) else clients.append(made))
    for row in data.deals:
        made = deal_draft(row, vendor, mapping, config)
        (skipped.append(made) if isinstance(made, Skipped) else deals.append(made))
    clients, deals, notes = _resolve(replace(workspace, config=config), clients, deals, skipped, vendor.name)
    skipped += attach_contacts(data.contacts, clients) + attach_notes(data.notes, deals, clients)
    planned = _planned(workspace, [*clients, *deals], skipped, notes, extra)
    notices = tuple(notice for table in tables.values() for notice in table.notices)
    return Outcome(planned, notices, shown, tuple(mapping.unmapped()), vendor.name)


def import_spreadsheet(path: Path, kind: str, options: ImportOptions) -> Outcome | Proposal:
    """Plan importing one spreadsheet of deals or clients (`kind`: deal or client)."""
    folder = KIND_FOLDERS[kind]
    workspace, _findings = load_workspace(options.root)
    table = read_table(path)
    identity = mapping_columns(table, folder)
    seen = seen_in(table, identity)
    chosen, shown = _mapping(options, seen, workspace.config, "csv", known_keys(folder), column_synonyms(folder))
    if isinstance(chosen, Proposal):
        return replace(chosen, notices=table.notices)
    chosen = replace(chosen, columns={**identity, **chosen.columns})
    if shown is not None:  # the stages and owners of the mapped columns
        seen = seen_in(table, chosen.columns)
        chosen = with_defaults(chosen, seen, workspace.config)
    mapping, config, extra = _owners(chosen, workspace.config, options, workspace.root)
    dates = date_order([(table, date_columns(mapping.columns))], _month_first(options))
    problems: list[str] = []
    drafts, skipped = spreadsheet_drafts(table, folder, mapping, dates, problems)
    raise_problems(problems)
    for draft in drafts:
        if draft.explicit_id is not None:
            refusal = _id_refusal(draft.explicit_id)
            if refusal:
                raise ImportFailed(f"{draft.where}: cannot use '{draft.explicit_id}' as an id: {refusal}; "
                                   "nothing was written")
    clients = drafts if folder == "clients" else []
    deals = drafts if folder == "deals" else []
    clients, deals, notes = _resolve(replace(workspace, config=config), clients, deals, skipped, "csv")
    planned = _planned(workspace, [*clients, *deals], skipped, notes, extra)
    return Outcome(planned, table.notices, shown, tuple(mapping.unmapped()), "csv")


def _id_refusal(record_id: str) -> str | None:
    """Why a spreadsheet's id cannot name a record file (as `new` refuses it), or None."""
    from plaintext_crm.editing.record_templates import id_problem
    from plaintext_crm.lint.rules.names import name_problems

    problem = id_problem(record_id)
    if problem is None:
        unsafe, _odd = name_problems(record_id)
        problem = f"the id holds {'; '.join(unsafe)}" if unsafe else None
    return problem


def check_targets(planned: Planned) -> None:
    """Every file the import writes must be writable (no link, no folder in the way) before any is written."""
    for change in planned.changes:
        inspect_target(change.root, change.rel)
