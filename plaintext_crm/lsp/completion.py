"""Completion in front matter: keys of the record's kind, stages, members, ids, lost reasons, tasks, dates."""

from __future__ import annotations

import datetime as dt

from lsprotocol import types

from plaintext_crm.lsp.text import Context, line_parts
from plaintext_crm.records.fields import (
    APPROVAL_FIELDS,
    COMMON_FIELDS,
    DEPENDENCY_TYPES,
    RECORD_FIELDS,
    SETTINGS,
    TASK_FIELDS,
    Field,
    field_of,
)
from plaintext_crm.records.model import Workspace

Item = types.CompletionItem
Kind = types.CompletionItemKind

_DEPENDENCY_DOCS = {"FS": "finish-to-start: starts after the other task finishes (default)",
                    "SS": "start-to-start: starts when the other task starts",
                    "FF": "finish-to-finish: finishes when the other task finishes",
                    "SF": "start-to-finish: finishes when the other task starts"}


def date_items(today: dt.date) -> list[Item]:
    """today, next Monday and a week from today, written as YYYY-MM-DD."""
    monday = today + dt.timedelta(days=7 - today.weekday())
    choices = (("today", today), ("next Monday", monday), ("+1 week", today + dt.timedelta(days=7)))
    return [Item(label=day.isoformat(), kind=Kind.Value, detail=name, sort_text=f"{index}",
                 filter_text=f"{day.isoformat()} {name}") for index, (name, day) in enumerate(choices)]


def _key_items(fields: tuple[Field, ...], present: set[str]) -> list[Item]:
    return [Item(label=spec.name, kind=Kind.Field, detail=spec.kind,
                 documentation=types.MarkupContent(types.MarkupKind.Markdown, spec.doc),
                 insert_text=f"{spec.name}: ") for spec in fields if spec.name not in present]


def _present_keys(lines: list[str], line: int, indent: int) -> set[str]:
    """Keys already written at the same indentation in the front matter (not offered again)."""
    present = set()
    for index, text in enumerate(lines[1:], start=1):
        if text.rstrip() == "---":
            break
        if index == line:
            continue
        parts = line_parts(text)
        if parts.key is not None and parts.indent == indent:
            present.add(parts.key)
    return present


def complete(workspace: Workspace, rel: str, lines: list[str], line: int, context: Context,
             today: dt.date) -> list[Item]:
    """The completion items at a position of a record or of crm.yaml."""
    kind = rel.split("/", 1)[0]
    if rel == "crm.yaml":
        if context.key is None and not context.parents:
            return [Item(label=setting.name, kind=Kind.Property, insert_text=f"{setting.name}: ",
                         documentation=types.MarkupContent(types.MarkupKind.Markdown, setting.doc))
                    for setting in SETTINGS]
        return []
    if kind not in RECORD_FIELDS:
        return []
    in_task = bool(context.parents) and context.parents[0] == "tasks" and kind == "projects"
    if context.key is None:
        if in_task and context.parents[-1:] == ("approval",):
            return _key_items(APPROVAL_FIELDS, set())
        if in_task:
            return _key_items(TASK_FIELDS, set())
        if context.parents:
            return []
        indent = len(lines[line]) - len(lines[line].lstrip())
        return _key_items((*RECORD_FIELDS[kind], *COMMON_FIELDS), _present_keys(lines, line, indent))
    return _values(workspace, rel, context, in_task, today)


def _values(workspace: Workspace, rel: str, context: Context, in_task: bool, today: dt.date) -> list[Item]:
    key = context.key
    assert key is not None
    if in_task and key in ("depends_on", "task"):
        return _task_items(workspace, rel)
    if in_task and key == "type":
        return [Item(label=code, kind=Kind.EnumMember, detail=_DEPENDENCY_DOCS[code]) for code in DEPENDENCY_TYPES]
    spec = field_of("tasks" if in_task else rel.split("/", 1)[0], key)
    if in_task and context.parents[-1:] == ("approval",):
        spec = next((field for field in APPROVAL_FIELDS if field.name == key), None)
    if spec is None:
        return []
    if spec.kind == "date":
        return date_items(today)
    if spec.kind == "choice":
        return [Item(label=choice, kind=Kind.EnumMember) for choice in spec.choices]
    if spec.kind == "flag":
        return [Item(label=word, kind=Kind.Keyword) for word in ("true", "false")]
    return _references(workspace, spec)


def _references(workspace: Workspace, spec: Field) -> list[Item]:
    config = workspace.config
    target = spec.refers_to
    if target == "pipeline":
        return [Item(label=stage.id, kind=Kind.EnumMember, sort_text=f"{index:03d}",
                     detail=f"probability {stage.probability:g}"
                            + (f", closed {stage.closed}" if stage.closed else "")
                            + (f", rots after {stage.rot_days} days" if stage.rot_days else ""))
                for index, stage in enumerate(config.stages)]
    if target == "team":
        return [Item(label=member.id, kind=Kind.Variable, detail=member.name + ("" if member.active else " (left)"),
                     sort_text=("0" if member.active else "1") + member.id)
                for member in config.team.values()]
    if target == "lost_reasons":
        return [Item(label=reason, kind=Kind.EnumMember) for reason in config.lost_reasons or ()]
    if target == "clients":
        return [Item(label=client_id, kind=Kind.Reference, detail=client.display_name)
                for client_id, client in sorted(workspace.clients.items())]
    if target == "deals":
        return [Item(label=deal_id, kind=Kind.Reference, detail=deal.display_title)
                for deal_id, deal in sorted(workspace.deals.items())]
    if target == "projects":
        return [Item(label=project_id, kind=Kind.Reference, detail=project.display_title)
                for project_id, project in sorted(workspace.projects.items())]
    return []


def _task_items(workspace: Workspace, rel: str) -> list[Item]:
    """Task ids of this project first, then `project/task` of the others."""
    own_id = rel.rsplit("/", 1)[-1].removesuffix(".md")
    items: list[Item] = []
    own = workspace.projects.get(own_id)
    for task in own.tasks if own else ():
        items.append(Item(label=task.id, kind=Kind.Reference, detail=task.title or "", sort_text="0" + task.id))
    for project_id, project in sorted(workspace.projects.items()):
        if project_id == own_id:
            continue
        for task in project.tasks:
            items.append(Item(label=f"{project_id}/{task.id}", kind=Kind.Reference,
                              detail=f"{project.display_title}: {task.title or task.id}",
                              sort_text=f"1{project_id}/{task.id}"))
    return items
