"""Reference rules: ids that name clients, deals, projects, tasks and team members must exist and agree."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.lint.registry import Example, Rule, rule
from plaintext_crm.lint.rules.deals import OPEN_DEAL, WON_DEAL

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis


def _suggest(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a known id is close to `name`, else ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _missing(what: str, name: str, known: Mapping[str, object], folder: str) -> str:
    return f"{what} '{name}' does not exist (no {folder}/{name}.md){_suggest(name, known)}"


PROJECT = """\
    ---
    title: Website relaunch
    client: acme
    owner: {owner}
    status: active
    tasks:
      - id: design
        owner: ana
        duration: 5
      - id: build
        owner: ben
        duration: 10
        depends_on: [{dependency}]
    ---
    """


@rule("R001", "unknown-reference", Severity.ERROR,
      "client, deal, project, owner or depends_on names a record, task or team member that does not exist.",
      examples=[
          Example({"projects/website.md": PROJECT.format(owner="ana", dependency="desing")},
                  {"projects/website.md": PROJECT.format(owner="ana", dependency="design")},
                  "A task depending on a misspelt task"),
          Example({"projects/website.md": PROJECT.format(owner="jane", dependency="design")},
                  {"projects/website.md": PROJECT.format(owner="ana", dependency="design")},
                  "A project owner who is not in crm.yaml's team"),
          Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace("client: acme", "client: acme-corp")},
                  {"deals/website.md": OPEN_DEAL.format(owner="ana")},
                  "A deal for a client that has no file (the client is clients/acme.md)"),
      ])
def unknown_reference(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Records link by id (the file name without `.md`): a deal's `client` and `project`, a project's
    `client`, `deal` and `depends_on` (project ids), a task's `depends_on` (`task`, or
    `other-project/task` across projects). Owners of clients, projects and tasks must be team
    members when crm.yaml lists a team (a deal's owner is checked by D001)."""
    workspace = analysis.workspace
    team = workspace.config.team
    clients, deals, projects = workspace.clients, workspace.deals, workspace.projects

    def owner(where: Location, name: str | None, what: str) -> Iterator[Finding]:
        if team and name is not None and name not in team:
            yield rule.finding(where, f"{what} '{name}' is not in the team{_suggest(name, team)}")

    for client in clients.values():
        yield from owner(client.location("owner"), client.owner, "owner")
    for deal in deals.values():
        if deal.client is not None and deal.client not in clients:
            yield rule.finding(deal.location("client"), _missing("client", deal.client, clients, "clients"))
        if deal.project is not None and deal.project not in projects:
            yield rule.finding(deal.location("project"), _missing("project", deal.project, projects, "projects"))
    for project in projects.values():
        if project.client is not None and project.client not in clients:
            yield rule.finding(project.location("client"), _missing("client", project.client, clients, "clients"))
        if project.deal is not None and project.deal not in deals:
            yield rule.finding(project.location("deal"), _missing("deal", project.deal, deals, "deals"))
        yield from owner(project.location("owner"), project.owner, "owner")
        for other in project.depends_on:
            if other not in projects:
                yield rule.finding(project.location("depends_on"),
                                   _missing("project", other, projects, "projects"))
        task_ids = {task.id for task in project.tasks}
        for task in project.tasks:
            for name in task.owners or (task.owner,):
                yield from owner(Location(project.path, task.line_of("owner")), name, f"task '{task.id}': owner")
            for dependency in task.depends_on:
                where = Location(project.path, dependency.line)
                if dependency.project is None or dependency.project == project.id:
                    if dependency.task not in task_ids:
                        yield rule.finding(where, f"task '{task.id}' depends on '{dependency.ref}', which is not a "
                                                  f"task of this project{_suggest(dependency.task, task_ids)}")
                    continue
                target = projects.get(dependency.project)
                if target is None:
                    yield rule.finding(where, f"task '{task.id}' depends on '{dependency.ref}': "
                                       + _missing("project", dependency.project, projects, "projects"))
                elif target.task(dependency.task) is None:
                    others = [other_task.id for other_task in target.tasks]
                    yield rule.finding(where, f"task '{task.id}' depends on '{dependency.ref}', but project "
                                              f"'{target.id}' has no task '{dependency.task}'"
                                              f"{_suggest(dependency.task, others)}")


LINKED_DEAL = WON_DEAL.replace("    kickoff_date: 2026-12-07\n", "    kickoff_date: 2026-12-07\n    project: website\n")
LINKED_PROJECT = """\
    ---
    title: Website relaunch
    client: {client}
    deal: website
    owner: ana
    status: planned
    ---
    """


@rule("R002", "inconsistent-link", Severity.WARNING,
      "A project and its deal disagree: a different client, or the deal names another project.",
      examples=[Example({"deals/website.md": LINKED_DEAL,
                         "clients/globex.md": "---\nname: Globex\nowner: ben\n---\n",
                         "projects/website.md": LINKED_PROJECT.format(client="globex")},
                        {"deals/website.md": LINKED_DEAL,
                         "projects/website.md": LINKED_PROJECT.format(client="acme")},
                        "A project filed under another client than its deal")])
def inconsistent_link(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """The hand-off joins a deal and a project in both directions (`project:` on the deal, `deal:` on
    the project); both must tell the same story, or pages and reports disagree about who the work is
    for."""
    workspace = analysis.workspace
    for project in workspace.projects.values():
        deal = workspace.deals.get(project.deal or "")
        if deal is None:
            continue
        if project.client and deal.client and project.client != deal.client:
            yield rule.finding(project.location("client"),
                               f"client '{project.client}' differs from the client of deal '{deal.id}' "
                               f"('{deal.client}')")
        if deal.project and deal.project != project.id and deal.project in workspace.projects:
            yield rule.finding(project.location("deal"),
                               f"deal '{deal.id}' names project '{deal.project}', not this one")
