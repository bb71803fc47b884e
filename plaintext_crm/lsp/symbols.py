"""Document symbols (a project's tasks, a record's keys) and workspace symbols (every record)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from plaintext_crm.lsp.state import record_of
from plaintext_crm.records.model import Client, Deal, Project, Record, Workspace

MAX_WORKSPACE_SYMBOLS = 500  # enough for a picker; clients filter further as the user types


@dataclass(frozen=True, slots=True)
class Symbol:
    """A named place in a file: 0-based line, and a kind name ("task", "key", "client"...)."""

    name: str
    detail: str
    kind: str
    path: str
    line: int


def document_symbols(workspace: Workspace, rel: str) -> list[Symbol]:
    """A project's tasks (with their titles), else the front matter keys of the record."""
    record_id = rel.rsplit("/", 1)[-1].removesuffix(".md")
    project = workspace.projects.get(record_id)
    if rel.startswith("projects/") and project is not None:
        keys = [Symbol(key, "", "key", rel, line - 1) for key, line in project.key_lines.items() if key != "tasks"]
        tasks = [Symbol(task.id, task.title or "", "milestone" if task.milestone else "task", rel, task.line - 1)
                 for task in project.tasks]
        return sorted([*keys, *tasks], key=lambda symbol: symbol.line)
    record = record_of(workspace, rel)
    if record is None:
        return []
    return [Symbol(key, str(record.fields.get(key, "")) if not isinstance(record.fields.get(key), list | dict) else "",
                   "key", rel, line - 1) for key, line in sorted(record.key_lines.items(), key=lambda item: item[1])]


def _title(record: Record) -> str:
    if isinstance(record, Client):
        return record.display_name
    if isinstance(record, Deal | Project):
        return record.display_title
    return record.id


def workspace_symbols(workspace: Workspace, query: str) -> Iterator[Symbol]:
    """Records whose id or title contains every word of the query (case-insensitive), at most a few hundred."""
    words = query.lower().split()
    count = 0
    for record in workspace.records():
        title = _title(record)
        haystack = f"{record.id} {title}".lower()
        if all(word in haystack for word in words):
            kind = record.path.split("/", 1)[0][:-1]
            yield Symbol(record.id, title, kind, record.path, 0)
            count += 1
            if count >= MAX_WORKSPACE_SYMBOLS:
                return
