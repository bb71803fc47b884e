"""Audiences: the part of a workspace one reader may see (crm.yaml's `audiences`), as a restricted Workspace.

`restrict` is a pure transform applied after loading and before any analysis: the records an audience
does not see are dropped, hidden front matter keys and bodies are removed from the others, and every
reference from a shown record to a dropped one is replaced, so nothing downstream can reach them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from plaintext_crm.errors import ToolError
from plaintext_crm.records.config import BODY, SECTIONS, Audience, Config
from plaintext_crm.records.model import (
    CLIENT_KEYS,
    DEAL_KEYS,
    PROJECT_KEYS,
    Client,
    Deal,
    Project,
    Record,
    Task,
    Workspace,
)

ANOTHER_PROJECT = "another project"  # what a shown project's dependency on a hidden project becomes
ANOTHER_RECORD = "another record"  # what any other mention of a hidden record's id becomes
R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class View:
    """What an audience sees: the restricted workspace, its published sections, and what was left out."""

    audience: Audience
    workspace: Workspace
    sections: frozenset[str]
    hidden_keys: frozenset[str]
    hidden_ids: frozenset[str]  # ids of the records left out, to keep out of any message
    hidden_paths: frozenset[str]  # record files left out (loaded or not)

    @property
    def everything(self) -> bool:
        """True when the view leaves nothing out (no client filter, every section, no hidden key)."""
        return self.audience.clients is None and not self.hidden_keys and self.sections == frozenset(SECTIONS)

    def shows(self, path: str) -> bool:
        """Whether the record file at `path` is part of the view."""
        return path not in self.hidden_paths


def valid_keys(workspace: Workspace) -> tuple[str, ...]:
    """The names `hide` accepts: body, every key this tool knows, and every key a record of the workspace uses."""
    keys = dict.fromkeys((BODY, *CLIENT_KEYS, *DEAL_KEYS, *PROJECT_KEYS))
    for record in workspace.records():
        keys.update(dict.fromkeys(key for key in record.fields if isinstance(key, str)))
    return tuple(keys)


def check_audience(config: Config, name: str, workspace: Workspace) -> Audience:
    """The audience `name` of crm.yaml; a ToolError (exit 2) listing the valid names when it, one of its
    sections, hidden keys or clients is unknown: a typo must never publish more than was meant."""
    audience = config.audiences.get(name)
    if audience is None:
        defined = ", ".join(sorted(config.audiences)) or "none; add an `audiences:` mapping to crm.yaml"
        raise ToolError(f"unknown audience '{name}'; crm.yaml defines: {defined}")
    unknown = [section for section in audience.sections if section not in SECTIONS]
    if unknown:
        raise ToolError(f"audience '{name}': unknown section {_listed(unknown)}; valid sections: {', '.join(SECTIONS)}")
    keys = valid_keys(workspace)
    unknown = [key for key in audience.hide if key not in keys]
    if unknown:
        raise ToolError(f"audience '{name}': unknown key {_listed(unknown)} in hide; valid keys: {', '.join(keys)}")
    unknown = [client for client in audience.clients or () if client not in workspace.clients]
    if unknown:
        raise ToolError(f"audience '{name}': unknown client {_listed(unknown)}; clients: "
                        f"{', '.join(sorted(workspace.clients)) or 'none'}")
    return audience


def _listed(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def restrict(workspace: Workspace, audience: Audience) -> View:
    """The view of `workspace` for `audience`: only its clients, their deals and projects (by `client:` or
    through one of their deals), with the hidden keys and bodies removed and no way back to the rest."""
    hidden_keys = frozenset(audience.hide)
    if audience.clients is None:
        clients, deals, projects = dict(workspace.clients), dict(workspace.deals), dict(workspace.projects)
    else:
        wanted = set(audience.clients)
        clients = {key: client for key, client in workspace.clients.items() if key in wanted}
        deals = {key: deal for key, deal in workspace.deals.items() if deal.client in wanted}
        projects = {key: project for key, project in workspace.projects.items()  # a project naming another
                    if project.client in wanted or (project.client is None and project.deal in deals)}  # client: no
    shown = {record.path for group in (clients, deals, projects) for record in group.values()}
    if audience.clients is None and not hidden_keys:  # a file that did not load belongs to no client, and
        shown.update(workspace.files)  # what it holds is unknown: only a view hiding nothing lists it
    hidden_ids = frozenset(
        {record.id for record in workspace.records() if record.path not in shown}
        | {_file_id(path) for path in workspace.files if path not in shown}) - {""}
    shown_ids = {record.id for group in (clients, deals, projects) for record in group.values()}
    scrub = _Scrubber(hidden_ids - shown_ids, frozenset(workspace.projects) - shown_ids)
    restricted = Workspace(
        workspace.root, workspace.config,
        {key: _client(client, hidden_keys, scrub) for key, client in clients.items()},
        {key: _deal(deal, hidden_keys, scrub, projects) for key, deal in deals.items()},
        {key: _project(project, hidden_keys, scrub, deals, clients) for key, project in projects.items()},
        tuple(path for path in workspace.files if path in shown))
    return View(audience, restricted, frozenset(audience.sections), hidden_keys, scrub.ids,
                frozenset(path for path in workspace.files if path not in shown))


def _file_id(path: str) -> str:
    """The id a record file would have (its name without .md), for files that did not load."""
    name = path.rsplit("/", 1)[-1]
    return name.removesuffix(".md")


class _Scrubber:
    """Replaces every mention of a hidden record's id in front matter values."""

    def __init__(self, ids: frozenset[str], projects: frozenset[str]) -> None:
        self.ids = ids
        self.projects = projects  # hidden project ids: "another project" reads better for them

    def text(self, value: str) -> str:
        """`value`, or what replaces it when it is (or starts with `ID/`, a task of) a hidden record's id."""
        head = value.split("/", 1)[0]
        if value in self.ids or head in self.ids:
            return ANOTHER_PROJECT if value in self.projects or head in self.projects else ANOTHER_RECORD
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
        return value


def _strip(record: R, hidden: frozenset[str], known: tuple[str, ...], scrub: _Scrubber, **changes: Any) -> R:
    """`record` without its hidden keys (typed value emptied too), its body when hidden, and with hidden ids
    replaced in what it wrote; `changes` set typed fields."""
    for key in hidden & set(known):
        current = getattr(record, key)
        changes.setdefault(key, () if isinstance(current, tuple) else None)
    fields = {key: scrub.value(value) for key, value in record.fields.items() if key not in hidden}
    changes.update(fields=fields, key_lines={key: line for key, line in record.key_lines.items() if key not in hidden},
                   traps=())  # traps quote values as written; the linter already ran on the whole workspace
    if BODY in hidden:
        changes.update(body="", history=())
    return dataclasses.replace(record, **changes)


def _client(client: Client, hidden: frozenset[str], scrub: _Scrubber) -> Client:
    return _strip(client, hidden, CLIENT_KEYS, scrub)


def _deal(deal: Deal, hidden: frozenset[str], scrub: _Scrubber, projects: Mapping[str, Project]) -> Deal:
    changes: dict[str, Any] = {}
    if deal.project is not None and deal.project not in projects:
        changes["project"] = None
    return _strip(deal, hidden, DEAL_KEYS, scrub, **changes)


def _project(project: Project, hidden: frozenset[str], scrub: _Scrubber, deals: Mapping[str, Deal],
             clients: Mapping[str, Client]) -> Project:
    changes: dict[str, Any] = {
        "depends_on": tuple(scrub.text(other) for other in project.depends_on),
        "tasks": tuple(_task(task, scrub) for task in project.tasks),
    }
    if project.deal is not None and project.deal not in deals:
        changes["deal"] = None
    if project.client is not None and project.client not in clients:
        changes["client"] = None
    return _strip(project, hidden, PROJECT_KEYS, scrub, **changes)


def _task(task: Task, scrub: _Scrubber) -> Task:
    dependencies = tuple(dataclasses.replace(dependency, project=ANOTHER_PROJECT, task="")
                         if dependency.project and dependency.project in scrub.ids else dependency
                         for dependency in task.depends_on)
    return dataclasses.replace(task, depends_on=dependencies, fields=scrub.value(dict(task.fields)))
