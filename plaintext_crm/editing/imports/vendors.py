"""What the columns of HubSpot and Pipedrive exports mean: header -> role, per file kind, per vendor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plaintext_crm.editing.imports.csvread import header_key

# Roles: what a column means to the import, before it becomes a front matter key.
DEAL_ROLES = ("source_id", "title", "stage", "status", "value", "currency", "close_date", "expected_close",
              "created", "owner", "pipeline", "company", "company_id", "contact", "lost_reason", "next_action",
              "description", "probability", "won_time", "lost_time", "stage_changed", "next_activity_date")
DATE_ROLES = frozenset({"close_date", "expected_close", "created", "won_time", "lost_time", "stage_changed",
                        "next_activity_date", "date"})


@dataclass(frozen=True, slots=True)
class Vendor:
    """One CRM's export format."""

    name: str  # "hubspot"
    label: str  # "HubSpot"
    id_key: str  # the front matter key keeping the vendor's record id
    prefixes: Mapping[str, str]  # file kind -> the prefix its headers may carry ("deal - ")
    headers: Mapping[str, Mapping[str, str]]  # file kind -> header key -> role

    def unprefixed(self, kind: str, header: str) -> str:
        """`header` without the prefix of its file kind (`Deal - Budget holder` -> `Budget holder`)."""
        prefix = self.prefixes.get(kind)
        if prefix and header_key(header).startswith(prefix):
            return header.strip()[len(prefix.rstrip()):].strip()
        return header

    def role(self, kind: str, header: str) -> str | None:
        """The role of `header` in a `kind` file (deals, companies, contacts, notes), or None."""
        return self.headers[kind].get(header_key(self.unprefixed(kind, header)))


HUBSPOT = Vendor("hubspot", "HubSpot", "hubspot_id", {}, {
    "deals": {"record id": "source_id", "deal id": "source_id", "deal name": "title", "deal stage": "stage",
              "amount": "value", "close date": "close_date", "create date": "created", "deal owner": "owner",
              "pipeline": "pipeline", "associated company": "company", "associated company (primary)": "company",
              "associated company ids": "company_id", "associated company ids (primary)": "company_id",
              "associated company id": "company_id", "closed lost reason": "lost_reason",
              "next step": "next_action", "deal description": "description", "currency": "currency",
              "deal probability": "probability", "next activity date": "next_activity_date",
              "date entered current stage": "stage_changed"},
    "companies": {"record id": "source_id", "company id": "source_id", "company name": "name", "name": "name",
                  "company domain name": "domain", "company owner": "owner", "create date": "created"},
    "contacts": {"record id": "source_id", "contact id": "source_id", "first name": "first_name",
                 "last name": "last_name", "email": "email", "phone number": "phone", "job title": "role",
                 "associated company": "company", "company name": "company", "associated company ids": "company_id",
                 "associated company id": "company_id", "associated company ids (primary)": "company_id"},
    "notes": {"activity date": "date", "create date": "date", "note body": "content", "body": "content",
              "associated deal": "deal", "associated deal ids": "deal_id", "associated deal id": "deal_id",
              "associated company": "company", "associated company ids": "company_id"},
})

PIPEDRIVE = Vendor("pipedrive", "Pipedrive", "pipedrive_id",
                   {"deals": "deal - ", "companies": "organization - ", "contacts": "person - ", "notes": "note - "}, {
    "deals": {"id": "source_id", "title": "title", "value": "value", "currency": "currency",
              "organization": "company", "organization id": "company_id", "contact person": "contact",
              "stage": "stage", "status": "status", "owner": "owner", "expected close date": "expected_close",
              "deal created": "created", "won time": "won_time", "lost time": "lost_time",
              "lost reason": "lost_reason", "next activity date": "next_activity_date",
              "next activity subject": "next_action", "probability": "probability", "pipeline": "pipeline",
              "last stage change": "stage_changed"},
    "companies": {"id": "source_id", "name": "name", "owner": "owner", "organization created": "created",
                  "created": "created", "add time": "created", "website": "domain"},
    "contacts": {"id": "source_id", "name": "name", "first name": "first_name", "last name": "last_name",
                 "email": "email", "phone": "phone", "job title": "role", "organization": "company",
                 "organization id": "company_id"},
    "notes": {"content": "content", "add time": "date", "date": "date", "deal": "deal", "deal id": "deal_id",
              "organization": "company", "organization id": "company_id"},
})

VENDORS = {vendor.name: vendor for vendor in (HUBSPOT, PIPEDRIVE)}

# HubSpot's default pipeline writes internal stage ids in some exports: what each one usually means.
HUBSPOT_STAGE_IDS = {"appointmentscheduled": "lead", "qualifiedtobuy": "qualified",
                     "presentationscheduled": "proposal", "decisionmakerboughtin": "negotiation",
                     "contractsent": "negotiation", "closedwon": "won", "closedlost": "lost"}
