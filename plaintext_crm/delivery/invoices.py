"""Invoices of the delivery plan: what each task or milestone invoices (`invoice: 30%` of the budget, or an
amount), when (its planned finish, from the status-date plan, or the day it was `invoiced`), and whether a
project's invoices add up to its budget (the `budget`, else its deal's value)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from plaintext_crm.delivery.schedule import Schedule
from plaintext_crm.money import cents, decimal
from plaintext_crm.records.model import Project, Task, Workspace


@dataclass(frozen=True, slots=True)
class PlannedInvoice:
    """One invoice of a project: a task or milestone carrying `invoice:`."""

    project: str
    client: str | None
    task: str
    title: str
    amount: Decimal | None  # in the workspace currency; None: a share of a project without a budget
    share: float | None  # per cent of the budget, as written
    date: dt.date  # when it is (or was) invoiced: `invoiced`, else the task's planned finish
    invoiced: bool  # sent: `invoiced:` is written
    due: dt.date | None  # the task's due date
    late: bool  # not invoiced, its task not done, and its due date passed or planned to be missed
    line: int  # the line of `invoice:`


@dataclass(frozen=True, slots=True)
class ProjectInvoices:
    """A project's invoices and its budget."""

    project: str
    budget: Decimal | None  # `budget`, else the deal's value (in the workspace currency); None: unknown
    invoices: tuple[PlannedInvoice, ...]  # by date, then task

    @property
    def total(self) -> Decimal:
        """The sum of the invoices whose amount is known."""
        return sum((item.amount for item in self.invoices if item.amount is not None), Decimal(0))

    @property
    def balanced(self) -> bool:
        """The invoices add up to the budget (True without invoices; False with shares but no budget)."""
        if not self.invoices:
            return True
        if self.budget is None:
            return all(item.share is None for item in self.invoices)  # amounts alone: nothing to check against
        return cents(self.total) == cents(self.budget)


def project_budget(workspace: Workspace, project: Project) -> Decimal | None:
    """`budget`, else the value of the project's deal when it is in the workspace currency."""
    if project.budget is not None:
        return decimal(project.budget)
    deal = workspace.deals.get(project.deal or "")
    if deal is None or deal.value is None or deal.currency not in (None, workspace.config.currency):
        return None
    return decimal(deal.value)


def _invoice(project: Project, task: Task, budget: Decimal | None, schedule: Schedule,
             status_date: dt.date) -> PlannedInvoice | None:
    invoice = task.invoice
    if invoice is None:
        return None
    planned = schedule.task(project.id, task.id)
    if planned is None:
        return None
    if invoice.amount is not None:
        amount: Decimal | None = cents(decimal(invoice.amount))
    elif budget is not None and invoice.share is not None:
        amount = cents(budget * decimal(invoice.share) / 100)
    else:
        amount = None
    done = task.status == "done"
    late = (task.invoiced is None and not done and task.due is not None
            and (task.due < status_date or planned.earliest_finish > task.due))
    return PlannedInvoice(project.id, project.client, task.id, task.title or task.id, amount, invoice.share,
                          task.invoiced or planned.earliest_finish, task.invoiced is not None, task.due, late,
                          task.line_of("invoice"))


def project_invoices(workspace: Workspace, schedule: Schedule, status_date: dt.date) -> Mapping[str, ProjectInvoices]:
    """Every project's invoices (cancelled projects invoice nothing more than what was sent), by project id."""
    found: dict[str, ProjectInvoices] = {}
    for project_id, project in workspace.projects.items():
        budget = project_budget(workspace, project)
        seen: set[str] = set()
        items = []
        for task in project.tasks:
            if task.id in seen:
                continue
            seen.add(task.id)
            item = _invoice(project, task, budget, schedule, status_date)
            if item is not None and (project.status != "cancelled" or item.invoiced):
                items.append(item)
        items.sort(key=lambda item: (item.date, item.task))
        found[project_id] = ProjectInvoices(project_id, budget, tuple(items))
    return found
