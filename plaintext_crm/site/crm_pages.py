"""The CRM pages: overview, figure lists, board, forecast, follow-ups, deals, clients, hand-offs, problems, data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plaintext_crm.escape import file_name_part
from plaintext_crm.records.model import DEAL_KEYS, Client, Deal
from plaintext_crm.sales.analytics import owner_key
from plaintext_crm.sales.figures import DealFigures
from plaintext_crm.site import svg
from plaintext_crm.site.data import data_json
from plaintext_crm.site.filters import compact_money, money, percent
from plaintext_crm.site.history_pages import timeline_with_commits
from plaintext_crm.site.owner_filter import forecast_island, overview_island
from plaintext_crm.site.pages import (
    Page,
    SiteData,
    client_timeline,
    dated_notes_newest_first,
    deal_project,
    page_type,
    related_records,
)


def _deals(site: SiteData, ids: tuple[str, ...]) -> list[DealFigures]:
    return [site.figures.crm.deals[deal_id] for deal_id in ids if deal_id in site.figures.crm.deals]


# --- overview and the list behind each figure -----------------------------------------------------

@page_type
def overview_pages(site: SiteData) -> list[Page]:
    """index.html, and lists/<figure>.html: the deals behind each headline figure.

    Figures over the same deals (open pipeline and weighted forecast) share one list page.
    """
    overview = site.figures.crm.overview
    shared: dict[tuple[str, ...], list[Any]] = {}
    for figure in overview.figures():
        shared.setdefault(figure.deal_ids, []).append(figure)
    list_urls = {figure.key: figure_list_url(group[0].key) for group in shared.values() for figure in group}

    def context(site: SiteData) -> Mapping[str, Any]:
        return {"overview": overview, "board": site.figures.crm.board, "list_url": list_urls.__getitem__,
                "overdue": _deals(site, overview.overdue.deal_ids)[:8],
                "rotting": _deals(site, overview.rotting.deal_ids)[:8],
                "owner_filter": {"owners": site.figures.crm.board.owners, "key": owner_key,
                                 "island": overview_island(site.figures.owner_figures, overview.currency)}}

    pages = [Page("index.html", "Overview", "overview.html", context, section="overview")]
    for group in shared.values():
        pages.append(Page(figure_list_url(group[0].key), " · ".join(figure.label for figure in group), "list.html",
                          _list_context(group), section="overview", records_only=True))
    return pages


def figure_list_url(key: str) -> str:
    """The site path of the list behind an overview figure."""
    return f"lists/{key.replace('_', '-')}.html"


def _list_context(figures: list[Any]) -> Any:
    return lambda site: {"figures": figures, "deals": _deals(site, figures[0].deal_ids)}


# --- board -----------------------------------------------------------------------------------

@page_type
def board_pages(site: SiteData) -> list[Page]:
    """board.html: the kanban of open stages with the owner filter."""

    def context(site: SiteData) -> Mapping[str, Any]:
        board = site.figures.crm.board
        currency = board.currency
        totals: dict[str, dict[str, dict[str, str | int]]] = {}
        for key, owner_board in site.figures.owner_boards.items():
            totals[key] = {column.stage: {"count": column.count, "total": money(column.total.value, currency),
                                          "weighted": money(column.weighted.value, currency)}
                           for column in owner_board.columns}
            totals[key]["_all"] = {"count": sum(column.count for column in owner_board.columns),
                                   "total": money(owner_board.total.value, currency),
                                   "weighted": money(owner_board.weighted.value, currency)}
        return {"board": board, "owner_key": owner_key, "owner_totals": totals,
                "overview_count": site.figures.crm.overview.open_pipeline.count}

    return [Page("board.html", "Pipeline board", "board.html", context, section="board", records_only=True)]


# --- forecast --------------------------------------------------------------------------------

@page_type
def forecast_pages(site: SiteData) -> list[Page]:
    """forecast.html: the weighted forecast by month, conversion, sources and stage totals, with charts."""

    def context(site: SiteData) -> Mapping[str, Any]:
        forecast = site.figures.crm.forecast
        currency = forecast.currency

        def fmt(value: float) -> str:
            return compact_money(value, currency)

        months = forecast.months
        this_month = f"{site.today:%Y-%m}"
        month_chart = svg.column_chart(
            "Forecast by month",
            f"Won deals by close month and open deals weighted by probability by expected close month, in "
            f"{currency}.",
            [bucket.label.replace(" 20", " '") for bucket in months],
            [svg.Series("Won", "series-won", [float(bucket.won.value) for bucket in months]),
             svg.Series("Weighted open", "series-weighted", [float(bucket.weighted.value) for bucket in months])],
            fmt, highlight=next((i for i, bucket in enumerate(months) if bucket.key == this_month), None),
            table="months-table")
        stages = forecast.stages
        stage_chart = svg.bar_chart(
            "Stage totals", f"Value and weighted value of the deals in each stage, in {currency}.",
            [stage.stage for stage in stages],
            [svg.Series("Value", "series-value", [float(stage.value.value) for stage in stages]),
             svg.Series("Weighted", "series-weighted", [float(stage.weighted.value) for stage in stages])], fmt,
            table="stages-table")
        sources = forecast.sources
        source_chart = svg.bar_chart(
            "Lead source conversion", "Won, lost and open deals per lead source, with the win rate.",
            [row.source for row in sources],
            [svg.Series("Won", "series-won", [row.won for row in sources]),
             svg.Series("Lost", "series-lost", [row.lost for row in sources]),
             svg.Series("Open", "series-open", [row.open for row in sources])],
            lambda value: f"{value:.0f}", stacked=True,
            notes=[f"{row.won} won · {row.lost} lost · {row.open} open · win rate {percent(row.win_rate)}"
                   for row in sources], width=900, table="sources-table")
        return {"forecast": forecast, "month_chart": month_chart, "stage_chart": stage_chart,
                "source_chart": source_chart, "this_month": this_month, "targets": site.figures.crm.targets,
                "owner_filter": {"owners": site.figures.crm.board.owners, "key": owner_key,
                                 "island": forecast_island(site.figures.owner_figures, currency)}}

    return [Page("forecast.html", "Forecast", "forecast.html", context, section="forecast", records_only=True)]


# --- follow-ups and calendar feeds ---------------------------------------------------------------

@page_type
def followup_pages(site: SiteData) -> list[Page]:
    """followups.html, followups.ics for everyone and followups-<owner>.ics per owner."""
    from plaintext_crm.sales.ics import followup_feeds

    followups = site.figures.crm.followups
    feeds = followup_feeds(followups, site.workspace.config.name, site.today)
    feed_of = {feed.owner.id: feed.filename for feed in feeds if feed.owner is not None}
    everyone = next(feed.filename for feed in feeds if feed.owner is None)
    pages = [Page("followups.html", "Follow-ups", "followups.html",
                  lambda site: {"followups": followups, "owner_key": owner_key, "feed_of": feed_of,
                                "everyone_feed": everyone},
                  section="followups", records_only=True)]
    pages.extend(Page(feed.filename, f"Follow-ups calendar: {feed.owner.name if feed.owner else 'everyone'}",
                      content=_feed_text(feed), records_only=True) for feed in feeds)
    return pages


def _feed_text(feed: Any) -> Any:
    return lambda site: feed.text  # written only when the feed is rendered, not when it is reused


# --- deals -----------------------------------------------------------------------------------

@page_type
def deal_pages(site: SiteData) -> list[Page]:
    """deals/<id>.html for every deal that loaded."""
    workspace = site.workspace
    handoffs = {item.deal.id: item for item in site.figures.crm.handoffs.items}
    pages = []
    for deal in workspace.deals.values():
        figures = site.figures.crm.deals[deal.id]
        project = deal_project(workspace, deal)
        sources = {deal.path}
        if deal.client:
            sources.add(f"clients/{deal.client}.md")
        if project is not None:
            sources.add(project.path)
        key = f"{site.findings_key(deal.path)}|{figures.stage_since}"
        pages.append(Page(f"deals/{file_name_part(deal.id)}.html", deal.display_title, "deal.html",
                          _deal_context(deal, handoffs.get(deal.id)), sources=frozenset(sources), key=key,
                          section="board", record=deal.path))
    return pages


def _deal_context(deal: Deal, handoff: Any) -> Any:
    def context(site: SiteData) -> Mapping[str, Any]:
        workspace = site.workspace
        return {"deal": deal, "figures": site.figures.crm.deals[deal.id], "handoff": handoff,
                "client": workspace.clients.get(deal.client or ""), "project": deal_project(workspace, deal),
                "fields": _fields(deal, DEAL_KEYS), "history": dated_notes_newest_first(deal), "body": site.bodies[deal.path],
                "findings": site.findings_by_path.get(deal.path, [])}

    return context


def _fields(record: Any, known: tuple[str, ...]) -> list[tuple[str, Any, int | None, bool]]:
    """(key, value as written, line, is a custom key) for every front matter key, in file order."""
    return [(key, value, record.key_lines.get(key), key not in known and key != "lint_ignore")
            for key, value in record.fields.items()]


# --- clients ---------------------------------------------------------------------------------

@page_type
def client_pages(site: SiteData) -> list[Page]:
    """clients/index.html and clients/<id>.html."""
    workspace = site.workspace
    clients = sorted(workspace.clients.values(), key=lambda client: client.display_name.lower())
    pages = [Page("clients/index.html", "Clients", "clients.html", _clients_context(clients), section="clients",
                  records_only=True)]
    for client in clients:
        related = related_records(workspace, client)
        deals = [record for kind, record in related if kind == "deal"]
        key = site.findings_key(client.path) + "|" + ",".join(
            f"{site.figures.crm.deals[deal.id].stage_since}" for deal in deals)
        key += "|" + site.figures.delivery.health_key(  # the projects' health lines
            record.id for kind, record in related if kind == "project")
        pages.append(Page(f"clients/{file_name_part(client.id)}.html", client.display_name, "client.html",
                          _client_context(client), sources=frozenset(record.path for _, record in related),
                          key=key, section="clients", record=client.path))
    return pages


def _clients_context(clients: list[Client]) -> Any:
    def context(site: SiteData) -> Mapping[str, Any]:
        deals_of: dict[str, list[DealFigures]] = {}
        for figures in site.figures.crm.deals.values():
            if figures.client_id:
                deals_of.setdefault(figures.client_id, []).append(figures)
        return {"clients": clients, "deals_of": deals_of}

    return context


def _client_context(client: Client) -> Any:
    def context(site: SiteData) -> Mapping[str, Any]:
        workspace = site.workspace
        related = related_records(workspace, client)
        deals = [site.figures.crm.deals[record.id] for kind, record in related if kind == "deal"]
        projects = [record for kind, record in related if kind == "project"]
        timeline = timeline_with_commits(site, client, client_timeline(workspace, client))
        return {"client": client, "deals": deals, "projects": projects, "timeline": timeline,
                "body": site.bodies[client.path], "findings": site.findings_by_path.get(client.path, []),
                "extra": client.extra()}

    return context


# --- hand-offs, problems, data.json ----------------------------------------------------------------

@page_type
def handoff_pages(site: SiteData) -> list[Page]:
    """handoffs.html: every won deal, its hand-off completeness and the project it became."""
    return [Page("handoffs.html", "Hand-offs", "handoffs.html",
                 lambda site: {"handoffs": site.figures.crm.handoffs}, section="handoffs", records_only=True)]


@page_type
def problem_pages(site: SiteData) -> list[Page]:
    """problems.html: the lint findings by file, each linked to its record's page."""

    def context(site: SiteData) -> Mapping[str, Any]:
        owners = {record.path: getattr(record, "owner", None) for record in site.workspace.records()}
        # errors first, then warnings, then notes: files by their worst finding, findings by severity then line
        files = sorted(((path, sorted(findings, key=lambda f: (-f.severity, f.line, f.column, f.code)))
                        for path, findings in site.findings_by_path.items()),
                       key=lambda item: (-max(f.severity for f in item[1]), item[0]))
        file_owners = {path: owners.get(path) for path, _ in files}
        owner_ids = sorted({owner for owner in file_owners.values() if owner is not None})
        return {"files": files, "counts": site.figures.crm.overview.lint_by_severity, "loaded": set(owners),
                "file_owners": file_owners, "owner_ids": owner_ids, "owner_key": owner_key}

    return [Page("problems.html", "Problems", "problems.html", context, section="problems", records_only=True)]


@page_type
def data_pages(site: SiteData) -> list[Page]:
    """data.json: the whole model and every computed figure."""
    return [Page("data.json", "Data", content=data_json)]
