"""data.json: the whole model (config, clients, deals, projects as loaded), the findings and every figure."""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any

from plaintext_crm import __version__, json_data
from plaintext_crm.escape import json_hidden
from plaintext_crm.json_data import field_names, json_default, to_data
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Record
from plaintext_crm.sales import figures as sales_figures
from plaintext_crm.site.data_fragments import FigureTexts, RecordFragments

if TYPE_CHECKING:
    from plaintext_crm.site.pages import SiteData

DATA_VERSION = 1


def site_data(site: SiteData) -> dict[str, Any]:
    """A JSON-able dict of everything the site shows, for other tools (see docs/site.md for the shape)."""
    workspace = site.workspace
    return _site_data(site, {client_id: record_data(client) for client_id, client in sorted(workspace.clients.items())},
                      {deal_id: {**record_data(deal), **_git_history_of(site, deal_id)}
                       for deal_id, deal in sorted(workspace.deals.items())},
                      {project_id: {**record_data(project), **_schedule_of(site, project_id)}
                       for project_id, project in sorted(workspace.projects.items())})


def _site_data(site: SiteData, clients: Any, deals: Any, projects: Any, deal_figures: Any = None) -> dict[str, Any]:
    """data.json's object; `deal_figures` stands for figures.deals when given (filled in by the caller)."""
    workspace = site.workspace
    figures = site.figures.crm.to_data(deals_in_full=deal_figures is None)
    if deal_figures is not None:
        figures["deals"] = deal_figures
    return {
        "version": DATA_VERSION,
        "generator": f"plaintext-crm {__version__}",
        "today": site.today.isoformat(),
        "workspace": config_data(workspace.config),
        "files": list(workspace.files),
        "clients": clients,
        "deals": deals,
        "projects": projects,
        "findings": [{"path": f.path, "line": f.line, "column": f.column, "code": f.code, "rule": f.rule,
                      "severity": f.severity.label, "message": f.message} for f in site.findings],
        "figures": figures,
        "pages": {path: output for path, output in sorted(site.links.items())},
        "history": site.figures.history.to_data(),
        "forecast_accuracy": [month.to_data() for month in site.figures.forecast_accuracy],
        "slippage": {deal_id: item.to_data() for deal_id, item in sorted((site.figures.slippage or {}).items())},
        "workload": site.figures.workload.to_data(),
        "revenue": site.figures.revenue.to_data(),
    }


def _schedule_of(site: SiteData, project_id: str) -> dict[str, Any]:
    """A project's `schedule`: planned dates, health, drift and each task's computed dates (docs/delivery.md)."""
    return {"schedule": site.figures.delivery.project_data(project_id)}


def _git_history_of(site: SiteData, deal_id: str) -> dict[str, Any]:
    """A deal's git-history fields: stage_since, days_in_stage, stage_history, created/last changed."""
    return dict(site.figures.history.deals.get(deal_id, {}))


def data_json(site: SiteData) -> str:
    """data.json's text: one line, encoded by json's C encoder (nested values converted by `json_default`).

    Records come from cached per-record fragments (data_fragments.py) when `site.cache_dir` is set.
    """
    # Hidden characters (bidi overrides, line separators, C1 controls) as \u escapes, as in every JSON output.
    return json_hidden(_data_json(site))


def _data_json(site: SiteData) -> str:
    try:
        return _data_json_from_fragments(site)
    except (TypeError, ValueError):  # e.g. a front matter mapping with date keys: the whole way below
        pass
    data = site_data(site)
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=json_default) + "\n"
    except (TypeError, ValueError):  # e.g. a front matter mapping with date keys: convert everything first
        return json.dumps(to_data(data), ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=lambda value: json_default(value)).encode
_HOLES = {kind: f"\x00{kind}\x00" for kind in ("clients", "deals", "projects")}
_FIGURES_HOLE = "\x00figures.deals\x00"  # figures.deals comes after the records in data.json


def _data_json_from_fragments(site: SiteData) -> str:
    """data_json's text with each record's object taken from (or added to) the fragment cache."""
    workspace = site.workspace
    fragments = RecordFragments(workspace.root, site.cache_dir, _ENCODE, record_data,
                                (__file__, json_data.__file__))
    objects = {
        "clients": [(client_id, fragments.text(client, {})) for client_id, client in sorted(workspace.clients.items())],
        "deals": [(deal_id, fragments.text(deal, _git_history_of(site, deal_id)))
                  for deal_id, deal in sorted(workspace.deals.items())],
        "projects": [(project_id, fragments.text(project, _schedule_of(site, project_id)))
                     for project_id, project in sorted(workspace.projects.items())],
    }
    figure_texts = FigureTexts(site.cache_dir, _ENCODE, partial(to_data, nested=False),
                               (__file__, json_data.__file__, sales_figures.__file__))
    objects["figures"] = [(deal_id, figure_texts.text(figures)) for deal_id, figures in site.figures.crm.deals.items()]
    rest = _ENCODE(_site_data(site, _HOLES["clients"], _HOLES["deals"], _HOLES["projects"], _FIGURES_HOLE)) + "\n"
    parts: list[str] = []
    for kind, hole in [*_HOLES.items(), ("figures", _FIGURES_HOLE)]:
        before, *after = rest.split(_ENCODE(hole))
        if len(after) != 1:
            raise ValueError(f"data.json: cannot place the {kind}")
        parts.extend((before, "{", ",".join([f"{_ENCODE(key)}:{value}" for key, value in objects[kind]]), "}"))
        rest = after[0]
    parts.append(rest)
    fragments.save()
    figure_texts.save()
    return "".join(parts)


def record_data(record: Record) -> dict[str, Any]:
    """A record's typed fields, its front matter as written (`fields`), history, and Markdown body.

    Nested values (dates, contacts, tasks, history entries) are left as they are for `data_json`'s
    encoder to convert, which is much faster than converting them here.
    """
    data = {name: getattr(record, name) for name in field_names(type(record)) if name not in ("key_lines", "traps")}
    data["lines"] = {key: line for key, line in record.key_lines.items() if isinstance(key, str)}
    return data


def config_data(config: Config) -> dict[str, Any]:
    """The settings the figures depend on."""
    return {
        "name": config.name,
        "currency": config.currency,
        "team": {member.id: to_data(member) for member in config.team.values()},
        "pipeline": [to_data(stage) for stage in config.stages],
        "handoff_fields": list(config.handoff_fields),
        "lost_reasons": list(config.lost_reasons) if config.lost_reasons is not None else None,
        "exchange_rates": {currency: float(rate) for currency, rate in sorted(config.exchange_rates.items())},
    }
