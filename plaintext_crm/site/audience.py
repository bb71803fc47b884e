"""An audience's site (`build --audience NAME`): its data from the restricted workspace, and only the pages
of its published sections, with a data.json holding nothing else."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from plaintext_crm.escape import json_hidden
from plaintext_crm.findings import Finding
from plaintext_crm.history.record_history import empty_history
from plaintext_crm.json_data import json_default, to_data
from plaintext_crm.records.audience import View, check_audience, restrict
from plaintext_crm.records.config import BODY, SECTIONS
from plaintext_crm.records.model import Workspace
from plaintext_crm.site.pages import Page, SiteData

# Page outputs by section: an exact path, or a folder ending in "/". Pages of no section are published
# only in full builds: a page type added later stays out of every audience until it is listed here.
SECTION_PAGES: dict[str, tuple[str, ...]] = {
    "overview": ("index.html", "lists/"),
    "pipeline": ("board.html",),
    "forecast": ("forecast.html",),
    "followups": ("followups.html", "followups.ics", "followups-"),
    "clients": ("clients/",),
    "deals": ("deals/",),
    "projects": ("projects/",),
    "portfolio": ("portfolio.html",),
    "history": ("this-week.html",),
    "problems": ("problems.html",),
    "handoffs": ("handoffs.html",),
    "workload": ("workload.html",),
    "revenue": ("revenue.html",),
}
EVERY_AUDIENCE = ("data.json", "robots.txt")  # built for every audience (data.json holds only what it sees)
# Sections whose pages show sales figures (the overview's, the board's, the forecast's...): data.json
# carries `figures` when one of them is published.
FIGURE_SECTIONS = frozenset({"overview", "pipeline", "forecast", "followups", "handoffs"})
RECORD_SECTIONS = {"clients": "clients", "deals": "deals", "projects": "projects"}  # data.json key -> section
CONTENTS = Page("index.html", "Contents", "contents.html", section="contents")  # index without the overview


def page_section(output: str) -> str | None:
    """The section an output file belongs to (None: no section)."""
    for section, outputs in SECTION_PAGES.items():
        for item in outputs:
            if output == item or (item.endswith(("/", "-")) and output.startswith(item)):
                return section
    return None


def view_site_data(root: Any, today: dt.date, audience_name: str, *, use_cache: bool = True) -> tuple[SiteData, View]:
    """Load and analyse the whole workspace, then gather the site's data from the audience's view of it only:
    the view's findings are the whole workspace's about its records, its history the restricted one."""
    from plaintext_crm.analysis import analyze, load_analysis
    from plaintext_crm.history.audience import NO_HISTORY, restrict_history, view_history_figures
    from plaintext_crm.history.reader import GitHistory
    from plaintext_crm.lint.run import say_history_notices
    from plaintext_crm.site.figures import Figures

    whole = load_analysis(root, today, use_cache=use_cache, whole_history=True)
    say_history_notices(whole)
    audience = check_audience(whole.workspace.config, audience_name, whole.workspace)
    view = restrict(whole.workspace, audience)
    findings = view_findings(whole.findings, view, whole.workspace)
    with_git = "history" in view.sections
    history = restrict_history(whole.git.history_as_of(today), view) if with_git else empty_history(NO_HISTORY)
    analysis = analyze(view.workspace, today, GitHistory.of(history), findings=findings)
    figures = Figures(analysis.crm, analysis.owner_boards,
                      view_history_figures(view, today, history, figures=analysis.crm.deals, with_git=with_git),
                      analysis.delivery, analysis.workload, analysis.revenue,
                      analysis.invoices, analysis.owner_figures)
    return SiteData(view.workspace, today, list(findings), figures), view


def view_findings(findings: Sequence[Finding], view: View, workspace: Workspace) -> list[Finding]:
    """The findings a view shows: none unless it publishes `problems`; else those of its records, minus those
    on a hidden key or the hidden notes, with the ids of hidden records taken out of the messages."""
    if "problems" not in view.sections:
        return []
    records = {record.path: record for record in view.workspace.records()}
    full = {record.path: record for record in workspace.records()}
    hidden_lines: dict[str, list[tuple[int, int]]] = {}
    for path in records:
        original = full[path]
        starts = sorted(set(original.key_lines.values()) | {original.body_line})
        spans = []
        for key, line in original.key_lines.items():
            if key in view.hidden_keys:
                spans.append((line, next((start for start in starts if start > line), original.body_line)))
        if BODY in view.hidden_keys:
            spans.append((original.body_line, 1 << 62))
        hidden_lines[path] = spans
    names = sorted(view.hidden_ids, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(name)}(?![\w-])" for name in names)) if names else None
    kept = []
    for finding in findings:
        if finding.path not in records:
            if view.audience.clients is not None or not view.shows(finding.path):
                continue  # crm.yaml names every audience's clients; a file that did not load: see restrict
        elif any(start <= finding.line < end for start, end in hidden_lines[finding.path]):
            continue
        if pattern is not None and pattern.search(finding.message):
            finding = dataclasses.replace(finding, message=pattern.sub("another record", finding.message))
        kept.append(finding)
    return kept


def published_pages(pages: Sequence[Page], view: View) -> list[Page]:
    """The pages of the view's sections (a contents page stands in for the overview when it is not one)."""
    kept = [page for page in pages
            if page.output in EVERY_AUDIENCE or page_section(page.output) in view.sections]
    if "overview" not in view.sections:
        kept.insert(0, CONTENTS)
    if "data.json" in {page.output for page in kept}:
        kept = [view_data_page(view) if page.output == "data.json" else page for page in kept]
    return kept


def view_data_page(view: View) -> Page:
    """data.json for an audience: the records and figures of its published sections only."""

    def content(site: SiteData) -> str:
        from plaintext_crm.site.data import site_data

        data = site_data(site)
        for key, section in RECORD_SECTIONS.items():
            if section not in view.sections:
                data[key] = {}
                data["files"] = [path for path in data["files"] if not path.startswith(f"{key}/")]
        if not FIGURE_SECTIONS & view.sections:
            data["figures"] = None
        if "history" not in view.sections:
            data["history"] = None
        for section in ("workload", "revenue"):
            if section not in view.sections:
                data[section] = None
        data["audience"] = {"name": view.audience.name,
                            "sections": [section for section in SECTIONS if section in view.sections],
                            "hidden": list(view.audience.hide)}
        try:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=json_default)
        except (TypeError, ValueError):  # e.g. a front matter mapping with date keys: convert everything first
            text = json.dumps(to_data(data), ensure_ascii=False, separators=(",", ":"), default=str)
        return json_hidden(text + "\n")

    return Page("data.json", "Data", content=content)
