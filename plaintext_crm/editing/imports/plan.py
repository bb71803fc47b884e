"""Planning an import: match drafts to existing records, give new ones stable readable ids, plan each file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from plaintext_crm.editing.edit import FileChange, plan_edit, same_value
from plaintext_crm.editing.imports.render import record_text
from plaintext_crm.editing.imports.values import slug
from plaintext_crm.records.model import CLIENT_KEYS, DEAL_KEYS, Record, Workspace

FOLDERS = {"clients": "clients", "deals": "deals"}
ORDER = {"clients": CLIENT_KEYS, "deals": DEAL_KEYS}


@dataclass
class Draft:
    """One record as the export describes it, before it has an id."""

    kind: str  # "clients" or "deals"
    where: str  # file:line of the row
    fields: dict[str, Any]  # front matter in order; a deal's `client` is set when its company is resolved
    name: str  # what the id is made from (title or name)
    match: tuple[str, Any] | None = None  # (key, value) naming the existing record: ("hubspot_id", 123)
    explicit_id: str | None = None  # a spreadsheet's own id column
    company: tuple[str | None, Any] | None = None  # deals: (company name, company source id)
    body: str = ""  # the Markdown body of a new file
    entries: list[tuple[str, str]] = field(default_factory=list)  # dated history entries: (heading, text)
    record_id: str | None = None
    existing: Record | None = None


@dataclass(frozen=True)
class Skipped:
    where: str
    reason: str


@dataclass(frozen=True)
class Planned:
    """What the import will do: the file changes and, for --dry-run, each record's fate."""

    changes: tuple[FileChange, ...]
    new: tuple[str, ...]  # paths
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]  # what the user should know (ambiguous companies, clients made from names)
    drafts: tuple[Draft, ...]


def _key(value: Any) -> str:
    return str(value).strip().casefold()


class IdBook:
    """Ids in use (by kind, ignoring case) and the records holding each source id."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.taken: dict[str, set[str]] = {kind: {name.split("/", 1)[1][:-3].casefold() for name in workspace.files
                                                  if name.startswith(kind + "/")} for kind in FOLDERS}
        self.by_source: dict[tuple[str, str, str], Record] = {}
        self.by_name: dict[tuple[str, str], list[Record]] = {}
        for kind, records in (("clients", workspace.clients), ("deals", workspace.deals)):
            for record in records.values():
                for key, value in record.fields.items():
                    if key.endswith("_id") and isinstance(value, int | str):
                        self.by_source.setdefault((kind, key, _key(value)), record)
                self.by_source.setdefault((kind, "id", record.id.casefold()), record)
                name = record.fields.get("name" if kind == "clients" else "title")
                if isinstance(name, str):
                    self.by_name.setdefault((kind, _key(name)), []).append(record)

    def find(self, draft: Draft) -> Record | None:
        """The existing record this draft updates: by source id, else (spreadsheets) by its own id."""
        if draft.match is not None:
            found = self.by_source.get((draft.kind, draft.match[0], _key(draft.match[1])))
            if found is not None:
                return found
        if draft.explicit_id is not None:
            return self.by_source.get((draft.kind, "id", draft.explicit_id.casefold()))
        # No id of its own (a spreadsheet without an id column): the one record of that name. A client with a
        # vendor id this workspace has not seen: the one client of that name that no vendor record holds yet
        # (made by hand, or from a deal's company name). A vendor's deal is never merged by title.
        if draft.match is not None and draft.kind == "deals":
            return None
        named = [record for record in self.by_name.get((draft.kind, _key(draft.name)), [])
                 if draft.match is None or draft.match[0] not in record.fields]
        return named[0] if len(named) == 1 else None

    def new_id(self, kind: str, name: str, fallback: str) -> str:
        """A readable id not taken yet: `acme-website-redesign`, then `acme-website-redesign-2`..."""
        base = slug(name) or slug(fallback) or kind.rstrip("s")
        candidate, number = base, 2
        while candidate.casefold() in self.taken[kind]:
            candidate, number = f"{base}-{number}", number + 1
        self.taken[kind].add(candidate.casefold())
        return candidate


def assign_ids(drafts: Sequence[Draft], book: IdBook) -> list[Skipped]:
    """Give every draft its record: the existing one it matches, else a new id. A second row naming the
    same record is skipped, saying where the first one is."""
    skipped: list[Skipped] = []
    claimed: dict[tuple[str, str], str] = {}
    for draft in drafts:
        existing = book.find(draft)
        if existing is not None:
            draft.existing, draft.record_id = existing, existing.id
        elif draft.explicit_id is not None:
            draft.record_id = draft.explicit_id
            book.taken[draft.kind].add(draft.explicit_id.casefold())
        else:
            fallback = f"{draft.kind.rstrip('s')}-{draft.match[1]}" if draft.match else ""
            draft.record_id = book.new_id(draft.kind, draft.name, fallback)
        first = claimed.setdefault((draft.kind, draft.record_id.casefold()), draft.where)
        if first != draft.where:
            skipped.append(Skipped(draft.where, f"the same record as {first} ({draft.kind}/{draft.record_id}.md)"))
    return skipped


def link_clients(deals: Sequence[Draft], clients: list[Draft], book: IdBook, source: str,
                 make_draft: Callable[[str, str], Draft]) -> list[str]:
    """Set each deal's `client` from its company: by the company's source id, else by a name that names one
    client only. A name no client has becomes a new client; an ambiguous name is left for the user."""
    notes: list[str] = []
    by_source = {(_key(draft.match[1])): draft for draft in clients if draft.match is not None}
    by_name: dict[str, list[str]] = {}
    for draft in clients:
        if draft.record_id:
            by_name.setdefault(_key(draft.fields.get("name") or ""), []).append(draft.record_id)
    for record in book.workspace.clients.values():
        if isinstance(record.fields.get("name"), str):
            ids = by_name.setdefault(_key(record.fields["name"]), [])
            if record.id not in ids:
                ids.append(record.id)
    for deal in deals:
        if deal.company is None:
            continue
        name, company_id = deal.company
        found = by_source.get(_key(company_id)) if company_id is not None else None
        if found is None and company_id is not None:
            known = book.by_source.get(("clients", f"{source}_id", _key(company_id)))
            if known is not None:
                deal.fields["client"] = known.id
                continue
        if found is not None and found.record_id:
            deal.fields["client"] = found.record_id
            continue
        if not name:
            continue
        candidates = by_name.get(_key(name), [])
        if len(candidates) == 1:
            deal.fields["client"] = candidates[0]
        elif candidates:
            deal.fields["imported_company"] = name
            notes.append(f"{deal.where}: company '{name}' names {len(candidates)} clients "
                         f"({', '.join(candidates)}); the deal's client is left for you to choose")
        else:
            client = make_draft(name, deal.where)
            client.record_id = book.new_id("clients", name, "client")
            clients.append(client)
            by_name[_key(name)] = [client.record_id]
            deal.fields["client"] = client.record_id
            notes.append(f"{deal.where}: no company '{name}' in the export; made clients/{client.record_id}.md")
    return notes


def _body_with(text: str, entries: Sequence[tuple[str, str]]) -> str:
    """`text` with each history entry whose heading it lacks appended at the end."""
    present = {line.rstrip() for line in text.splitlines()}
    first_break = re.search(r"\r\n|\n", text)  # the file's own line ending, as its first line has it
    newline = first_break.group(0) if first_break else "\n"
    added = ""
    for heading, entry in entries:
        if heading in present:
            continue
        present.add(heading)
        block = heading + (newline + newline.join(entry.split("\n")) if entry else "")
        added += block + newline + newline
    if not added:
        return text
    separator = "" if not text or text.endswith(newline + newline) else (newline if text.endswith(newline) else newline * 2)
    return text + separator + added.rstrip(newline) + newline


def plan_changes(drafts: Sequence[Draft], workspace: Workspace) -> tuple[list[FileChange], list[str], list[str],
                                                                           list[str]]:
    """(changes, new paths, updated paths, unchanged paths) for drafts that have ids."""
    changes: list[FileChange] = []
    new: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    root = workspace.root
    for draft in drafts:
        rel = f"{FOLDERS[draft.kind]}/{draft.record_id}.md"
        if draft.existing is None:
            body = _body_with(draft.body, draft.entries)
            known = {key: draft.fields[key] for key in ORDER[draft.kind] if key in draft.fields}
            fields = {**known, **{key: value for key, value in draft.fields.items() if key not in known}}
            changes.append(FileChange(root, rel, None, record_text(fields, body, rel), None,
                                      (f"from {draft.where}",)))
            new.append(rel)
            continue
        rel = draft.existing.path
        old = draft.existing.fields
        if draft.kind == "clients" and isinstance(draft.fields.get("contacts"), list):
            draft.fields["contacts"] = merged_contacts(old.get("contacts"), draft.fields["contacts"])
        updates = {key: value for key, value in draft.fields.items()
                   if not same_value(old.get(key), list(value) if isinstance(value, tuple) else value)}
        change = plan_edit(root, rel, updates, order=ORDER[draft.kind]) if updates else None
        text = change.after if change else None
        if draft.entries:
            if change is None:
                change = plan_edit(root, rel, {}, order=ORDER[draft.kind])
            text = _body_with(change.after, draft.entries)
        if change is None or text == change.before:
            unchanged.append(rel)
            continue
        assert text is not None
        summary = [*change.summary] + ([f"history entries added from {draft.where}"] if text != change.after else [])
        changes.append(FileChange(root, rel, change.before, text, change.stamp, tuple(summary)))
        updated.append(rel)
    return changes, new, updated, unchanged


def merged_contacts(existing: Any, incoming: list[Any]) -> list[Any]:
    """The contacts a client has, then the imported ones it lacks (same email, else same name)."""
    current = list(existing) if isinstance(existing, list) else []

    def keys(contact: Any) -> set[str]:
        if isinstance(contact, dict):
            return {_key(contact[part]) for part in ("email", "name") if contact.get(part)}
        return {_key(contact)}

    known = set().union(*(keys(contact) for contact in current)) if current else set()
    for contact in incoming:
        if not keys(contact) & known:
            current.append(contact)
            known |= keys(contact)
    return current
