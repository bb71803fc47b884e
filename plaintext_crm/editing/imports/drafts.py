"""Vendor rows -> drafts of records: stages and owners through the mapping, the CRM's own dates derived."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plaintext_crm.editing.imports.mapping import ImportMapping, Seen
from plaintext_crm.editing.imports.plan import Draft, Skipped
from plaintext_crm.editing.imports.rows import Incoming, note_heading, note_text
from plaintext_crm.editing.imports.values import slug
from plaintext_crm.editing.imports.vendors import Vendor
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import DEAL_KEYS


@dataclass(frozen=True)
class VendorRows:
    """Every file of one vendor import, read."""

    vendor: Vendor
    deals: Sequence[Incoming]
    companies: Sequence[Incoming] = ()
    contacts: Sequence[Incoming] = ()
    notes: Sequence[Incoming] = ()


def seen_values(rows: VendorRows) -> Seen:
    """The stages, statuses and owners the mapping has to cover."""
    stages: Counter[str] = Counter()
    status: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    for row in rows.deals:
        state = (row.text("status") or "").casefold()
        if state in ("won", "lost"):
            status[state] += 1
        elif row.text("stage"):
            stages[str(row.text("stage"))] += 1
    for row in [*rows.deals, *rows.companies]:
        if row.text("owner"):
            owners[str(row.text("owner"))] += 1
    return Seen(stages, status, owners)


def _ordered(fields: dict[str, Any], known: Sequence[str]) -> dict[str, Any]:
    first = {key: fields[key] for key in known if key in fields}
    return {**first, **{key: value for key, value in fields.items() if key not in first}}


def _owner(row: Incoming, mapping: ImportMapping, fields: dict[str, Any]) -> None:
    text = row.text("owner")
    if text:
        owner = mapping.owners.get(text)
        if owner:
            fields["owner"] = owner
        else:
            fields["imported_owner"] = text


def deal_draft(row: Incoming, vendor: Vendor, mapping: ImportMapping, config: Config) -> Draft | Skipped:
    """One deal: stage through the mapping (Pipedrive's won/lost status first), dates as the CRM keeps them."""
    roles = row.roles
    source = roles.get("source_id")
    title = row.text("title")
    if not title and source is None:
        return Skipped(row.where, "the row has neither a title nor an id")
    title = title or f"{vendor.label} deal {source}"
    state = (row.text("status") or "").casefold()
    vendor_stage = row.text("stage")
    stage: str | None = None
    if state in ("won", "lost") and mapping.status.get(state):
        stage = mapping.status[state]
    elif vendor_stage:
        stage = mapping.stages.get(vendor_stage) or slug(vendor_stage) or None
    known = config.stage(stage)
    closed = known.closed if known is not None else (state if state in ("won", "lost") else None)
    fields: dict[str, Any] = {"title": title}
    if stage:
        fields["stage"] = stage
    _owner(row, mapping, fields)
    if "value" in roles:
        amount, symbol_currency = roles["value"]
        fields["value"] = amount
        currency = roles.get("currency") or symbol_currency
        if currency and currency != config.currency:
            fields["currency"] = currency
    elif roles.get("currency") and roles["currency"] != config.currency:
        fields["currency"] = roles["currency"]
    probability = roles.get("probability")
    if probability is not None and (known is None or abs(probability - known.probability) > 1e-9):
        fields["probability"] = probability
    if "created" in roles:
        fields["created"] = roles["created"]
    closed_on = roles.get("won_time") if closed == "won" else roles.get("lost_time") if closed == "lost" else None
    if closed and closed_on is None:
        closed_on = roles.get("close_date")
    expected = roles.get("expected_close") or (roles.get("close_date") if not closed else None)
    if expected is not None:
        fields["expected_close"] = expected
    if row.text("next_action"):
        fields["next_action"] = row.text("next_action")
    if "next_activity_date" in roles:
        fields["next_action_due"] = roles["next_activity_date"]
    since = roles.get("stage_changed") or closed_on
    if since is not None:
        fields["stage_since"] = since
    if closed_on is not None:
        fields["closed_on"] = closed_on
    if row.text("lost_reason"):
        fields["lost_reason"] = row.text("lost_reason")
    if source is not None:
        fields[vendor.id_key] = source
    for role in ("pipeline", "contact"):
        if row.text(role):
            fields[role] = row.text(role)
    fields.update(row.extras)
    company = (row.text("company"), roles.get("company_id"))
    return Draft("deals", row.where, _ordered(fields, DEAL_KEYS), title,
                 (vendor.id_key, source) if source is not None else None,
                 company=company if any(part is not None for part in company) else None,
                 body=(str(roles["description"]) + "\n") if roles.get("description") else "")


def client_draft(row: Incoming, vendor: Vendor, mapping: ImportMapping) -> Draft | Skipped:
    """One company or organization."""
    source = row.roles.get("source_id")
    name = row.text("name")
    if not name:
        return Skipped(row.where, "the company has no name")
    fields: dict[str, Any] = {"name": name}
    _owner(row, mapping, fields)
    for role in ("created", "domain"):
        if role in row.roles:
            fields[role] = row.roles[role]
    if source is not None:
        fields[vendor.id_key] = source
    fields.update(row.extras)
    return Draft("clients", row.where, fields, name, (vendor.id_key, source) if source is not None else None)


def client_from_name(name: str, where: str) -> Draft:
    """A client made from a deal's company name, when the export has no such company."""
    return Draft("clients", where, {"name": name}, name)


def contact_of(row: Incoming) -> dict[str, Any] | None:
    """A contact mapping (name, role, email, phone) from a contact or person row."""
    name = (row.text("name") or " ".join(part for part in (row.text("first_name"), row.text("last_name")) if part)
            or row.text("email"))
    if not name:
        return None
    contact = {"name": name}
    for role in ("role", "email", "phone"):
        if row.text(role):
            contact[role] = str(row.text(role))
    return {**contact, **row.extras}  # the export's other columns stay with the contact


def _find(drafts: Sequence[Draft], source: Any, name: str | None, name_key: str) -> Draft | None | str:
    """The draft with this source id, else the one draft with this name; a text saying why not."""
    if source is not None:
        for draft in drafts:
            if draft.match is not None and str(draft.match[1]) == str(source):
                return draft
    if name:
        named = [draft for draft in drafts if str(draft.fields.get(name_key, "")).casefold() == name.casefold()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            return f"'{name}' names {len(named)} records of the import"
    return None


def attach_contacts(rows: Sequence[Incoming], clients: Sequence[Draft]) -> list[Skipped]:
    """Each contact onto its company's client draft."""
    skipped = []
    for row in rows:
        contact = contact_of(row)
        if contact is None:
            skipped.append(Skipped(row.where, "the contact has no name and no email"))
            continue
        found = _find(clients, row.roles.get("company_id"), row.text("company"), "name")
        if not isinstance(found, Draft):
            skipped.append(Skipped(row.where, found or "the contact's company is not in the import"))
            continue
        contacts = found.fields.setdefault("contacts", [])
        if contact not in contacts:
            contacts.append(contact)
    return skipped


def attach_notes(rows: Sequence[Incoming], deals: Sequence[Draft], clients: Sequence[Draft]) -> list[Skipped]:
    """Each note as a dated history entry of its deal (else its company's client)."""
    skipped = []
    for row in rows:
        text = note_text(str(row.roles.get("content") or ""))
        day = row.roles.get("date")
        if not text or day is None:
            skipped.append(Skipped(row.where, "the note has no text" if not text else "the note has no date"))
            continue
        found = _find(deals, row.roles.get("deal_id"), row.text("deal"), "title")
        if not isinstance(found, Draft) and (row.roles.get("company_id") is not None or row.text("company")):
            found = _find(clients, row.roles.get("company_id"), row.text("company"), "name")
        if not isinstance(found, Draft):
            skipped.append(Skipped(row.where, found or "the note's deal or company is not in the import"))
            continue
        heading, rest = note_heading(day, text)
        kept = "\n".join(f"{key}: {value}" for key, value in row.extras.items())  # the other columns, kept
        found.entries.append((heading, "\n\n".join(part for part in (rest, kept) if part)))
    for draft in [*deals, *clients]:
        draft.entries.sort(key=lambda entry: entry[0][3:13])  # by date, the export's order within a day
    return skipped
