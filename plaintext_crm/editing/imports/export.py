"""`export csv`: one row per record, front matter keys as columns, plus the figures the tool computes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plaintext_crm.analysis import Analysis
from plaintext_crm.editing.imports.cells import write_cell
from plaintext_crm.editing.imports.spreadsheet import COMPUTED_PREFIX
from plaintext_crm.records.model import CLIENT_KEYS, DEAL_KEYS, PROJECT_KEYS, TASK_KEYS

EXPORT_KINDS = ("deals", "clients", "projects", "tasks")


@dataclass(frozen=True)
class ExportTable:
    """The header and rows of one export, every cell already text."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def csv_text(self) -> str:
        """CSV as Excel and LibreOffice read it: comma-separated, CRLF line ends, quotes where needed."""
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return stream.getvalue()


def _columns(records: Iterable[Mapping[str, Any]], known: Sequence[str], skip: Sequence[str] = ()) -> list[str]:
    """Keys in the order the model lists them, then the others in the order records first use them."""
    seen: dict[str, None] = {}
    for fields in records:
        for key in fields:
            if key not in skip:
                seen.setdefault(key)
    first = [key for key in known if key in seen]
    return first + [key for key in seen if key not in first]


def _table(items: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]], known: Sequence[str],
           skip: Sequence[str] = (), lead: Sequence[str] = ("id",)) -> ExportTable:
    """items: (id, front matter, computed figures)."""
    columns = _columns((fields for _id, fields, _computed in items), known, [*skip, *lead])
    computed = _columns((figures for _id, _fields, figures in items), ())
    rows = []
    for record_id, fields, figures in items:
        cells = [record_id] if lead == ("id",) else [str(fields.get(key, "")) for key in lead]
        cells += [write_cell(key, fields[key]) if key in fields else "" for key in columns]
        cells += [write_cell(key, figures.get(key)) for key in computed]
        rows.append(tuple(cells))
    return ExportTable((*lead, *columns, *(COMPUTED_PREFIX + key for key in computed)), tuple(rows))


def _number(value: Any) -> Any:
    return None if value is None else float(value) if not float(value).is_integer() else int(value)


def export_table(analysis: Analysis, kind: str) -> ExportTable:
    """The `kind` export of an analysed workspace (deals, clients, projects, tasks), with its figures."""
    workspace = analysis.workspace
    if kind == "clients":
        return _table([(client.id, client.fields, {}) for client in sorted(workspace.clients.values(),
                                                                             key=lambda item: item.id)], CLIENT_KEYS)
    if kind == "deals":
        figures = analysis.crm.deals
        return _table([(deal_id, workspace.deals[deal_id].fields,
                        {"weighted_value": _number(item.weighted), "follow_up": item.follow_up.value,
                         "days_in_stage": item.days_in_stage}) for deal_id, item in figures.items()], DEAL_KEYS)
    schedule = analysis.delivery.schedule
    projects = sorted(workspace.projects.values(), key=lambda item: item.id)
    if kind == "projects":
        items = []
        for project in projects:
            planned = schedule.projects.get(project.id)
            items.append((project.id, project.fields, {
                "planned_start": planned.start if planned else None,
                "planned_finish": planned.finish if planned else None,
                "slack": planned.slack if planned else None}))
        return _table(items, PROJECT_KEYS, skip=("tasks",))
    task_items = []
    for project in projects:
        planned = schedule.projects.get(project.id)
        for task in project.tasks:
            timing = planned.tasks.get(task.id) if planned else None
            task_items.append((task.id, {"project": project.id, "id": task.id, **task.fields}, {
                "planned_start": timing.earliest_start if timing else None,
                "planned_finish": timing.earliest_finish if timing else None,
                "slack": timing.slack if timing else None,
                "critical": timing.critical if timing else None}))
    return _table(task_items, TASK_KEYS, lead=("project", "id"))
