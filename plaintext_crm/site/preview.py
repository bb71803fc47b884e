"""A quick first rendering of a saved record's own page, from the last full gather patched with that record.

Serve mode shows it while the exact update (lint and analytics of the whole workspace) is still running;
that update replaces it moments later. What the preview takes from the saved file: the record, its body,
its load findings (F001/F002) and its own figures (`figures_for_deal`, its hand-off). What may lag until
the exact page: findings of rules across files and figures of other records shown on the page.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from markupsafe import Markup

from plaintext_crm.findings import Finding
from plaintext_crm.records.model import Deal, Workspace
from plaintext_crm.sales.analytics import CrmAnalytics
from plaintext_crm.sales.figures import figures_for_deal, handoff_for
from plaintext_crm.site.pages import SiteData

LOAD_CODES = ("F001", "F002")  # findings made while loading one file; rules make the others


def preview_site(previous: SiteData, workspace: Workspace, load_findings: Iterable[Finding], changed: set[str],
                 bodies: Mapping[str, Markup]) -> SiteData:
    """`previous` with the records of `changed` paths taken from `workspace` (and their own figures)."""
    load_findings = [finding for finding in load_findings if finding.path in changed]
    findings = [finding for finding in previous.findings
                if finding.path not in changed or finding.code not in LOAD_CODES] + load_findings
    figures = previous.figures
    deals = [deal for deal in workspace.deals.values() if deal.path in changed]
    if deals:
        figures = dataclasses.replace(figures, crm=_patched_crm(figures.crm, deals, workspace, previous.today))
    site = SiteData(workspace, previous.today, findings, figures, dict(bodies), dict(previous.links),
                    list(previous.nav))
    return site


# Page types that plan one page per record of a kind and read other records of that kind only through the
# figures: planning them over the saved records alone gives the same pages for those records, much sooner.
FOCUSED_KINDS = {"deal_pages": "deals", "client_pages": "clients"}


def focused(site: SiteData, changed: set[str], page_type: Callable[[SiteData], object]) -> SiteData:
    """`site` whose records of the page type's kind are only those in `changed` (see FOCUSED_KINDS)."""
    kind = FOCUSED_KINDS.get(getattr(page_type, "__name__", ""))
    if kind is None:
        return site
    records = {key: record for key, record in getattr(site.workspace, kind).items() if record.path in changed}
    narrow = copy.copy(site)  # shares the indexes and caches: the same findings, links and partials
    narrow.workspace = dataclasses.replace(site.workspace, **{kind: records})  # type: ignore[arg-type]
    return narrow


def _patched_crm(crm: CrmAnalytics, deals: list[Deal], workspace: Workspace, today: dt.date) -> CrmAnalytics:
    old = crm.deals

    def stage_since(deal: Deal) -> dt.date | None:
        before = old.get(deal.id)
        return deal.stage_since or (before.stage_since if before is not None and before.stage == deal.stage else None)

    fresh = {deal.id: figures_for_deal(deal, workspace, today, stage_since) for deal in deals}
    handoffs = crm.handoffs
    items = tuple(handoff_for(workspace.deals[item.deal.id], fresh[item.deal.id], workspace, today)
                  if item.deal.id in fresh else item for item in handoffs.items)
    return dataclasses.replace(crm, deals={**old, **fresh},
                               handoffs=dataclasses.replace(handoffs, items=items))
