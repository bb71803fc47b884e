"""What an id under the cursor is: hover text, where it is defined, and where it is referred to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from plaintext_crm.delivery.schedule import Schedule
from plaintext_crm.findings import Location
from plaintext_crm.lsp.text import context_at, line_parts, word_at
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.fields import SETTINGS, field_of
from plaintext_crm.records.model import Workspace


@dataclass(frozen=True, slots=True)
class Target:
    """An id the cursor is on: what it names and the span of the word."""

    kind: str  # "clients", "deals", "projects", "team", "pipeline", "task", "key"
    id: str
    scope: str | None = None  # a task's project; for a key: "clients", "deals", "projects", "tasks" or crm.yaml
    span: tuple[int, int, int] = (0, 0, 0)  # line, start, end (0-based)


def target_at(workspace: Workspace, rel: str, lines: list[str], line: int, column: int) -> Target | None:
    """The id (or key name) at a 0-based position of a record, or None."""
    if line >= len(lines):
        return None
    found = word_at(lines[line], column)
    if found is None:
        return None
    start, end, word = found
    span = (line, start, end)
    kind = rel.split("/", 1)[0]
    parts = line_parts(lines[line])
    context = context_at(lines, line, end)
    if parts.key_span is not None and parts.key_span[0] <= start < parts.key_span[1]:
        in_task = kind == "projects" and context is not None and context.parents[:1] == ("tasks",)
        return Target("key", parts.key or word, "tasks" if in_task else kind if rel != CONFIG_FILE else rel, span)
    if context is None or context.key is None:
        return None
    own = rel.rsplit("/", 1)[-1].removesuffix(".md")
    in_task = kind == "projects" and context.parents[:1] == ("tasks",)
    if in_task and context.key in ("depends_on", "task"):
        project, _, task = word.rpartition("/")
        return Target("task", task, project or own, span=span)
    if in_task and context.key == "id":
        return Target("task", word, own, span=span)
    spec = field_of("tasks" if in_task else kind, context.key)
    if spec is None or spec.refers_to is None or spec.refers_to == "lost_reasons":
        return None
    return Target(spec.refers_to, word, span=span)


def definition(workspace: Workspace, target: Target) -> Location | None:
    """Where the target is defined: a record file, a task's line, or crm.yaml's team or pipeline entry."""
    if target.kind in ("clients", "deals", "projects"):
        records = {"clients": workspace.clients, "deals": workspace.deals, "projects": workspace.projects}
        record = records[target.kind].get(target.id)
        return Location(record.path, 1) if record else None
    if target.kind == "task":
        project = workspace.projects.get(target.scope or "")
        task = project.task(target.id) if project else None
        return Location(project.path, task.line) if project and task else None
    config = workspace.config
    if target.kind == "team" and target.id in config.team:
        return Location(CONFIG_FILE, config.line_of("team", target.id))
    if target.kind == "pipeline":
        for index, stage in enumerate(config.stages):
            if stage.id == target.id and config.path:
                return Location(CONFIG_FILE, config.line_of("pipeline", index))
    return None


def references(workspace: Workspace, target: Target) -> Iterator[Location]:
    """Where records refer to the target: deals and projects of a client, tasks depending on a task..."""
    if target.kind == "task":
        for project in workspace.projects.values():
            for task in project.tasks:
                for dependency in task.depends_on:
                    if dependency.task == target.id and (dependency.project or project.id) == target.scope:
                        yield Location(project.path, dependency.line)
        return
    for record in workspace.records():
        keys: tuple[str, ...] = ()
        if target.kind == "clients":
            keys = ("client",)
        elif target.kind == "team":
            keys = ("owner",)
        elif target.kind == "pipeline":
            keys = ("stage",)
        elif target.kind == "deals":
            keys = ("deal",)
        elif target.kind == "projects":
            keys = ("project", "depends_on")
        for key in keys:
            value = record.fields.get(key)
            values = value if isinstance(value, list) else [value]
            if any(str(item).strip() == target.id for item in values if item is not None):
                yield record.location(key)
    if target.kind == "team":
        for project in workspace.projects.values():
            for task in project.tasks:
                if target.id in task.owners:
                    yield Location(project.path, task.line_of("owner"))


def _money(value: float | None, currency: str) -> str:
    return f"{value:,.0f} {currency}" if value is not None else "no value"


def hover_text(workspace: Workspace, target: Target, today: dt.date, schedule: Callable[[], Schedule]) -> str | None:
    """Markdown saying who or what the target is."""
    config = workspace.config
    if target.kind == "key":
        if target.scope == CONFIG_FILE:
            docs = [setting.doc for setting in SETTINGS if setting.name == target.id]
            return f"**{target.id}**: {docs[0]}" if docs else None
        spec = field_of(target.scope or "", target.id)
        return f"**{target.id}**: {spec.doc}" if spec else None
    if target.kind == "clients":
        client = workspace.clients.get(target.id)
        if client is None:
            return f"No client `{target.id}` (clients/{target.id}.md does not exist)"
        deals = [deal for deal in workspace.deals.values() if deal.client == client.id]
        open_deals = [deal for deal in deals if workspace.is_open(deal)]
        lines = [f"**{client.display_name}** (client)", f"owner: {_member(workspace, client.owner)}"]
        if client.status:
            lines.append(f"status: {client.status}")
        lines.append(f"open deals: {len(open_deals)} of {len(deals)}")
        lines += [f"- {deal.display_title}: {deal.stage or 'no stage'}, "
                  f"{_money(deal.value, deal.currency or config.currency)}" for deal in open_deals[:10]]
        return "\n\n".join(lines[:4]) + ("\n" + "\n".join(lines[4:]) if lines[4:] else "")
    if target.kind == "deals":
        deal = workspace.deals.get(target.id)
        if deal is None:
            return f"No deal `{target.id}`"
        return "\n\n".join([f"**{deal.display_title}** (deal)", f"client: {deal.client or '-'}",
                            f"owner: {_member(workspace, deal.owner)}", f"stage: {deal.stage or '-'}",
                            f"value: {_money(deal.value, deal.currency or config.currency)}",
                            f"next: {deal.next_action or '-'} ({deal.next_action_due or 'no date'})"])
    if target.kind == "projects":
        project = workspace.projects.get(target.id)
        if project is None:
            return f"No project `{target.id}`"
        return "\n\n".join([f"**{project.display_title}** (project)", f"client: {project.client or '-'}",
                            f"owner: {_member(workspace, project.owner)}", f"status: {project.status or '-'}",
                            f"{project.start or '?'} to {project.due or '?'}, {len(project.tasks)} tasks"])
    if target.kind == "team":
        return _member_text(workspace, target.id)
    if target.kind == "pipeline":
        stage = config.stage(target.id)
        if stage is None:
            return f"`{target.id}` is not a pipeline stage ({', '.join(s.id for s in config.stages)})"
        rot = f"rots after {stage.rot_days} days" if stage.rot_days else "never rots"
        closed = f", closed {stage.closed}" if stage.closed else ""
        return f"**{stage.id}** (stage{closed})\n\nprobability {stage.probability:g}, {rot}"
    if target.kind == "task":
        return _task_text(workspace, target, schedule)
    return None


def _member(workspace: Workspace, member_id: str | None) -> str:
    member = workspace.config.team.get(member_id or "")
    return f"{member.name} ({member.id})" if member else (member_id or "-")


def _member_text(workspace: Workspace, member_id: str) -> str:
    member = workspace.config.team.get(member_id)
    if member is None:
        return f"`{member_id}` is not in crm.yaml's team"
    open_deals = sum(1 for deal in workspace.deals.values() if deal.owner == member_id and workspace.is_open(deal))
    state = "active" if member.active else "left (active: false)"
    return f"**{member.name}** ({member.id}, {state})\n\n{member.email or 'no email'}\n\nopen deals: {open_deals}"


def _task_text(workspace: Workspace, target: Target, schedule: Callable[[], Schedule]) -> str:
    project = workspace.projects.get(target.scope or "")
    task = project.task(target.id) if project else None
    if project is None or task is None:
        return f"No task `{target.id}` in project `{target.scope}`"
    lines = [f"**{task.title or task.id}** (task {project.id}/{task.id}, {task.status})"]
    planned = schedule().task(project.id, task.id)
    if planned is not None:
        lines.append(f"planned {planned.earliest_start} to {planned.earliest_finish} "
                     f"({planned.duration} working days)")
        slack = "none left (done)" if planned.slack is None else f"{planned.slack} working days"
        lines.append(f"slack: {slack}; " + ("**on the critical path**" if planned.critical else "not critical"))
    return "\n\n".join(lines)
