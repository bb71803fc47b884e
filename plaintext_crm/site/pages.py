"""Page specs: what the site is made of. A page type is a function `SiteData -> list[Page]` registered by @page_type.

Adding a page type (projects, portfolio, this week) means writing one such function, decorated with
@page_type in a module of PAGE_MODULES, and its template (and a NAV entry when it belongs in the
navigation). Each Page names the record files it reads (`sources`), so a rebuild can reuse pages whose
inputs did not change; `None` means "reads the whole workspace" and is always rendered.
"""

from __future__ import annotations

import datetime as dt
import importlib
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment
from markupsafe import Markup

from plaintext_crm.findings import Finding
from plaintext_crm.records.model import Client, DatedNote, Deal, Project, Record, Workspace
from plaintext_crm.site.fragments import Fragments, item_base, store_path

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis
    from plaintext_crm.site.figures import Figures

Context = Callable[["SiteData"], Mapping[str, Any]]
Content = Callable[["SiteData"], "str | bytes"]


@dataclass(frozen=True)
class NavItem:
    """An entry of the navigation shown on every page."""

    key: str  # the `section` of the pages it highlights
    title: str
    output: str


@dataclass
class SiteData:
    """Everything gathered before any page is written: workspace, findings, figures, rendered bodies."""

    workspace: Workspace
    today: dt.date
    findings: list[Finding]
    figures: Figures  # every business figure, from the analysis
    bodies: dict[str, Markup] = field(default_factory=dict)  # record path -> rendered body
    links: dict[str, str] = field(default_factory=dict)  # record path -> page output path
    nav: list[NavItem] = field(default_factory=list)
    findings_by_path: dict[str, list[Finding]] = field(default_factory=dict)
    partials: dict[tuple[str, str, str | None], Markup] = field(default_factory=dict)
    cache_dir: Path | None = None  # the workspace's cache folder (cache_store) when the build may use caches
    build_key: str | None = None  # the build's global key, under which cached page items are kept (fragments.py)
    item_reprs: dict[int, tuple[object, str]] = field(default_factory=dict)  # fragments.py: values' texts
    _findings_keys: dict[str, str] = field(default_factory=dict)
    _urls: dict[str, str | None] = field(default_factory=dict)  # record path -> escaped page URL
    outputs: frozenset[str] = frozenset()  # every planned page (set_pages): links to others are not written

    def __post_init__(self) -> None:
        for finding in self.findings:
            self.findings_by_path.setdefault(finding.path, []).append(finding)

    def set_pages(self, pages: Iterable[Page]) -> None:
        """Index the planned pages: record pages for links, and the navigation (NAV entries that exist)."""
        outputs = {}
        self._urls.clear()
        for page in pages:
            outputs[page.output] = page.section
            if page.record is not None:
                self.links[page.record] = page.output
        # An entry shows when its page is planned and is that section's (an audience's contents page is not)
        self.nav = [NavItem(key, title, target) for key, title, target in NAV if outputs.get(target, "") == key]
        self.outputs = frozenset(outputs)

    def publishes(self, target: str) -> bool:
        """Whether `target` (a site path, maybe with a #fragment) is a page of this build (an audience's site
        leaves out pages); True before the pages are planned."""
        return not self.outputs or target.split("#", 1)[0] in self.outputs

    def findings_key(self, path: str) -> str:
        """A stable text of a file's findings, part of its page's fingerprint ("" without findings)."""
        key = self._findings_keys.get(path)
        if key is None:
            key = self._findings_keys[path] = findings_key(self.findings_by_path.get(path, ()))
        return key

    def record_url(self, record: Record | str | None) -> str | None:
        """The site-relative URL of a record's page (escaped: ids are file names), or None when it has none."""
        if record is None:
            return None
        path = record if isinstance(record, str) else record.path
        try:
            return self._urls[path]  # pages link to the same records thousands of times: quote each once
        except KeyError:
            output = self.links.get(path)
            url = self._urls[path] = None if output is None else quote(output, safe="/")
            return url

    def deal_url(self, deal_id: str | None) -> str | None:
        deal = self.workspace.deals.get(deal_id or "")
        return self.record_url(deal) if deal else None

    def client_url(self, client_id: str | None) -> str | None:
        client = self.workspace.clients.get(client_id or "")
        return self.record_url(client) if client else None

    def project_url(self, project_id: str | None) -> str | None:
        project = self.workspace.projects.get(project_id or "")
        return self.record_url(project) if project else None

    def member_name(self, member_id: str | None) -> str:
        """A team member's name, or the id as written (or 'Unassigned')."""
        if not member_id:
            return "Unassigned"
        member = self.workspace.config.team.get(member_id)
        return member.name if member else member_id


@dataclass(frozen=True)
class Page:
    """One output file: a template with its context, or raw content (data.json, .ics)."""

    output: str  # relative to the site root, "/" separators
    title: str
    template: str | None = None
    context: Context | None = None
    content: Content | None = None
    sources: frozenset[str] | None = None  # record files read; None = the whole workspace
    key: str = ""  # other inputs that change the page, e.g. its record's findings
    section: str | None = None  # the nav entry this page belongs to
    record: str | None = None  # the record path this page presents
    # With sources None: the page reads records, findings and figures but no deal or client notes and
    # nothing of git beyond HEAD, so a build may reuse it while none of those changed (workspace_key.py).
    records_only: bool = False

    def render(self, site: SiteData, env: Environment) -> str | bytes:
        """The page's text (or bytes)."""
        if self.content is not None:
            return self.content(site)
        assert self.template is not None
        context = dict(self.base_context(site))
        context["partial"] = lambda name: self.partial(site, env, name, context)
        store = store_path(site.cache_dir, self.output) if site.cache_dir is not None and self.sources is None else None
        context["cached"] = items = Fragments(env, item_base(context["root"], context["url"], site.workspace.config,
                                                             site.today), store, site.build_key, site.item_reprs)
        if self.context is not None:
            context.update(self.context(site))
        text = env.get_template(self.template).render(context)
        items.save()
        return text

    def partial(self, site: SiteData, env: Environment, name: str, context: Mapping[str, Any]) -> Markup:
        """A page-independent partial (_header.html, _footer.html), rendered once per folder depth and section.

        Such a partial may use root, url, nav, page.section, config, workspace and today, nothing page-specific.
        """
        key = (name, context["root"], self.section)
        cached = site.partials.get(key)
        if cached is None:
            cached = site.partials[key] = Markup(env.get_template(name).render(context))
        return cached

    def base_context(self, site: SiteData) -> dict[str, Any]:
        """What every template gets: the page, the site, links relative to this page, today."""
        depth = self.output.count("/")
        root = "../" * depth

        def url(target: str | None) -> str | None:  # None for a page this build does not publish
            return None if target is None or not site.publishes(target) else root + target

        def link(target: str | None) -> str | None:  # a record page's URL (escaped; only planned pages have one)
            return None if target is None else root + target

        return {
            "page": self,
            "site": site,
            "workspace": site.workspace,
            "config": site.workspace.config,
            "today": site.today,
            "root": root,
            "url": url,
            "nav": site.nav,
            "member_name": site.member_name,
            "record_url": lambda record: link(site.record_url(record)),
            "deal_url": lambda deal_id: link(site.deal_url(deal_id)),
            "client_url": lambda client_id: link(site.client_url(client_id)),
            "project_url": lambda project_id: link(site.project_url(project_id)),
        }


def relative(target: str, page_output: str) -> str:
    """A link from one site page to another, relative so the site works from any sub-path."""
    return posixpath.relpath(target, posixpath.dirname(page_output) or ".")


# --- timeline ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    """A dated history entry with the record it comes from."""

    date: dt.date
    title: str
    text: str
    record: Record
    kind: str  # "client", "deal", "project"


def client_timeline(workspace: Workspace, client: Client) -> list[TimelineEntry]:
    """Every dated history entry of the client's notes, its deals and its projects, newest first."""
    entries: list[TimelineEntry] = []
    for kind, record in related_records(workspace, client):
        entries.extend(TimelineEntry(entry.date, entry.title, entry.text, record, kind) for entry in record.history)
    return sorted(entries, key=lambda entry: (entry.date, entry.record.path, entry.title), reverse=True)


@dataclass(frozen=True)
class RecordIndex:
    """Who refers to whom, built once per workspace so pages never scan every record."""

    deals_by_client: Mapping[str, list[Deal]]
    projects_by_client: Mapping[str, list[Project]]
    projects_by_deal: Mapping[str, list[Project]]
    project_ids_by_deal: Mapping[str, str]  # Workspace.projects_by_deal(): deal id -> first project naming it


_INDEX: list[tuple[Workspace, RecordIndex]] = []  # a one-entry cache: the workspace is immutable


def record_index(workspace: Workspace) -> RecordIndex:
    """The reference index of `workspace` (computed on first use, then reused)."""
    if _INDEX and _INDEX[0][0] is workspace:
        return _INDEX[0][1]
    deals_by_client: dict[str, list[Deal]] = {}
    for deal in sorted(workspace.deals.values(), key=lambda deal: deal.id):
        if deal.client:
            deals_by_client.setdefault(deal.client, []).append(deal)
    projects_by_client: dict[str, list[Project]] = {}
    projects_by_deal: dict[str, list[Project]] = {}
    for project in sorted(workspace.projects.values(), key=lambda project: project.id):
        if project.client:
            projects_by_client.setdefault(project.client, []).append(project)
        if project.deal:
            projects_by_deal.setdefault(project.deal, []).append(project)
    index = RecordIndex(deals_by_client, projects_by_client, projects_by_deal, workspace.projects_by_deal())
    _INDEX[:] = [(workspace, index)]
    return index


def related_records(workspace: Workspace, client: Client) -> list[tuple[str, Record]]:
    """The client itself, its deals and its projects (by `client:`, or through one of its deals)."""
    index = record_index(workspace)
    deals = index.deals_by_client.get(client.id, [])
    projects = {project.id: project for project in index.projects_by_client.get(client.id, [])}
    for deal in deals:
        projects.update((project.id, project) for project in index.projects_by_deal.get(deal.id, []))
    found: list[tuple[str, Record]] = [("client", client)]
    found.extend(("deal", deal) for deal in deals)
    found.extend(("project", projects[project_id]) for project_id in sorted(projects))
    return found


def deal_project(workspace: Workspace, deal: Deal) -> Project | None:
    """The project a deal became (Workspace.project_of)."""
    project_id = workspace.project_of(deal, record_index(workspace).project_ids_by_deal)
    return workspace.projects[project_id] if project_id is not None else None


def dated_notes_newest_first(record: Record) -> list[DatedNote]:
    """A record's dated entries, newest first."""
    return sorted(record.history, key=lambda entry: (entry.date, entry.line), reverse=True)


def findings_key(findings: Iterable[Finding]) -> str:
    """A stable text of a record's findings, part of its page's fingerprint."""
    return "\n".join(f"{f.line}:{f.column}:{f.code}:{f.severity.label}:{f.message}" for f in findings)


# The navigation, in order: (section key, title, output path). A page type that adds a section
# appends its entry here; entries whose page does not exist are left out of the menu.
NAV: list[tuple[str, str, str]] = [
    ("overview", "Overview", "index.html"),
    ("board", "Pipeline", "board.html"),
    ("forecast", "Forecast", "forecast.html"),
    ("this-week", "This week", "this-week.html"),
    ("followups", "Follow-ups", "followups.html"),
    ("clients", "Clients", "clients/index.html"),
    ("handoffs", "Hand-offs", "handoffs.html"),
    ("projects", "Projects", "projects/index.html"),
    ("portfolio", "Portfolio", "portfolio.html"),
    ("workload", "Workload", "workload.html"),
    ("revenue", "Revenue", "revenue.html"),
    ("problems", "Problems", "problems.html"),
]

# Modules whose @page_type functions make up the site, in NAV order; importing them registers them.
PAGE_MODULES: tuple[str, ...] = ("plaintext_crm.site.crm_pages", "plaintext_crm.site.history_pages",
                                 "plaintext_crm.site.delivery_pages", "plaintext_crm.site.planning_pages",
                                 "plaintext_crm.site.robots")
PAGE_TYPES: list[Callable[[SiteData], list[Page]]] = []


def page_type(function: Callable[[SiteData], list[Page]]) -> Callable[[SiteData], list[Page]]:
    """Decorator registering a function that plans the pages of one kind."""
    PAGE_TYPES.append(function)
    return function


def all_page_types() -> list[Callable[[SiteData], list[Page]]]:
    """Every registered page type, after importing the modules of PAGE_MODULES."""
    for module in PAGE_MODULES:
        importlib.import_module(module)
    return list(PAGE_TYPES)


def gather_site_data(root: Path, today: dt.date, *, use_cache: bool = True) -> SiteData:
    """Load and analyse the workspace (through the parse cache): everything the pages show."""
    from plaintext_crm.analysis import load_analysis

    return site_data_of(load_analysis(root, today, use_cache=use_cache, whole_history=True))


def site_data_of(analysis: Analysis) -> SiteData:
    """The site's view of an analysis: its findings and figures, computed now (before any page is written)."""
    from plaintext_crm.lint.run import say_history_notices
    from plaintext_crm.site.figures import Figures

    say_history_notices(analysis)
    return SiteData(analysis.workspace, analysis.today, list(analysis.findings), Figures.of(analysis))
