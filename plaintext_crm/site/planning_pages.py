"""The planning pages: Workload (people's booked days per week across projects) and Revenue (invoices sent
and planned beside the weighted pipeline). Both only format what the analysis computed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plaintext_crm.escape import file_name_part
from plaintext_crm.site.delivery_pages import task_anchor
from plaintext_crm.site.pages import Page, SiteData, page_type


def load_anchor(member: str, week: Any) -> str:
    """The id of a person's week on the Workload page: `load-leo-2026-12-07`."""
    return f"load-{file_name_part(member)}-{week}"


@page_type
def planning_pages(site: SiteData) -> list[Page]:
    """workload.html and revenue.html: each reads the whole workspace's plan (sources None)."""
    return [Page("workload.html", "Workload", "workload.html", _workload_context, section="workload",
                 records_only=True),
            Page("revenue.html", "Revenue", "revenue.html", _revenue_context, section="revenue", records_only=True)]


def _workload_context(site: SiteData) -> Mapping[str, Any]:
    workload = site.figures.workload
    return {"workload": workload, "overbooked": workload.overbooked(), "anchor": load_anchor,
            "task_anchor": task_anchor, "status_date": site.figures.delivery.schedule.status_date or site.today}


def _revenue_context(site: SiteData) -> Mapping[str, Any]:
    revenue = site.figures.revenue
    peak = max((month.total for month in revenue.months), default=0) or 1
    return {"revenue": revenue, "peak": peak}
