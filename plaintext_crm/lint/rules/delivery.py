"""Delivery rules (project side): dependency cycles, schedule conflicts, plans that drift past the promise,
people booked over capacity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.delivery.status import is_active, makes_claims
from plaintext_crm.delivery.status import promise_drift as drift_of_promise
from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.lint.registry import Example, Rule, rule
from plaintext_crm.lint.rules.references import LINKED_DEAL

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis


PROJECT_HEAD = """\
    ---
    title: Website relaunch
    client: acme
    owner: ana
    status: active
    start: 2026-12-07
    due: 2027-01-29
    tasks:
"""
PROJECT = PROJECT_HEAD + """\
      - id: design
        owner: ana
        duration: 5
        depends_on: [{design_depends_on}]
      - id: build
        owner: ben
        duration: 10
        depends_on: [design]
      - id: review
        owner: ana
        duration: 2
        depends_on: [build]
    ---
    """


@rule("P001", "dependency-cycle", Severity.ERROR,
      "Tasks (or projects) depend on each other in a circle, so none of them can start first.",
      examples=[Example({"projects/website.md": PROJECT.format(design_depends_on="review")},
                        {"projects/website.md": PROJECT.format(design_depends_on="")},
                        "A design that waits for the review of what it designs")])
def dependency_cycle(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Dependencies must form no circle: `design -> review -> build -> design` (each depends on the
    next) has no task that can start first. The finding names the whole circle and sits on the
    dependency the schedule leaves out to carry on; everything else is still scheduled. A cycle of
    projects (`depends_on` between projects, or cross-project task dependencies) is reported the same
    way, with the project ids."""
    schedule = analysis.plan
    for cycle in schedule.cycles:
        what = "project dependency cycle" if cycle.level == "project" else "dependency cycle"
        yield rule.finding(cycle.location, f"{what}: {cycle.description} (each depends on the next); "
                                           f"scheduled as if {cycle.ignored} were not written")


UAT_PROJECT = PROJECT_HEAD + """\
      - id: build
        owner: ben
        start: 2026-12-07
        duration: 10
      - id: uat
        owner: ana
        start: {uat_start}
        due: {uat_due}
        duration: 3
        depends_on: [build]
    ---
    """


@rule("P002", "schedule-conflict", Severity.WARNING,
      "A task's written dates cannot hold: its dependencies or duration push it past its due date or "
      "after its start, or it started before a dependency allowed.",
      examples=[Example({"projects/website.md": UAT_PROJECT.format(uat_start="2026-12-14", uat_due="2026-12-16")},
                        {"projects/website.md": UAT_PROJECT.format(uat_start="2026-12-21", uat_due="2026-12-23")},
                        "Acceptance testing booked before the build it tests is finished")])
def schedule_conflict(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A task's `start` is the earliest day it may begin and its `due` a deadline. When the schedule,
    following the task's dependencies and duration in working days, has it finish after its `due`, or
    start later than its written `start`, or a task that is `doing` was started before a dependency
    allowed, the written dates and the plan disagree: move the date, shorten the work, or change the
    dependency. One finding per task (the missed due date first). Done tasks keep their recorded dates
    and are not checked."""
    schedule = analysis.plan
    for conflict in schedule.conflicts:
        yield rule.finding(conflict.location, conflict.message)


PROMISED_DEAL = LINKED_DEAL.replace("promised_timeline: 10 weeks", "promised_timeline: {promise}")
PROMISED_PROJECT = """\
    ---
    title: Website relaunch
    client: acme
    deal: website
    owner: ana
    status: planned
    start: 2026-12-07
    tasks:
      - id: design
        owner: ana
        duration: 15
      - id: build
        owner: ben
        duration: 20
        depends_on: [design]
    ---
    """


@rule("P003", "promise-drift", Severity.WARNING,
      "A project is planned to finish later than its deal's promised_timeline.",
      examples=[Example({"deals/website.md": PROMISED_DEAL.format(promise="6 weeks from kickoff"),
                         "projects/website.md": PROMISED_PROJECT},
                        {"deals/website.md": PROMISED_DEAL.format(promise="8 weeks from kickoff"),
                         "projects/website.md": PROMISED_PROJECT},
                        "Seven weeks of work sold as six")])
def promise_drift(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """The deal's `promised_timeline` (a date, or a span such as `12 weeks from kickoff` counted from
    its `kickoff_date`) is what the client was told at the sale. When the schedule's planned finish
    lies after it, the finding gives the drift in working days, so the promise can be renegotiated
    early. Done, cancelled and on-hold projects are not checked, nor a project with no work planned
    yet (only milestones, like a kickoff); a timeline that cannot be read is not checked either (docs/delivery.md lists what is understood)."""
    plans = analysis.plan
    for project_id, project in analysis.workspace.projects.items():
        if not project.deal or not is_active(project) or not makes_claims(project):
            continue
        plan = plans.spans[project_id]
        promise, drift = drift_of_promise(analysis.workspace, project, plan, plans.calendar)
        if promise is None or promise.finish is None or drift is None or drift <= 0:
            continue
        counted = f", kickoff {promise.anchor}" if promise.anchor else ""
        yield rule.finding(project.location("deal"),
                           f"planned to finish {plan.finish}, {drift} working days after the "
                           f"{promise.finish} promised at the sale (deal '{project.deal}': "
                           f"promised_timeline '{promise.text}'{counted})")



OVERBOOKED_PROJECT = PROJECT_HEAD + """\
      - {{id: design, owner: ana, duration: 5}}
      - {{id: copy, owner: {copy_owner}, duration: 5}}
    ---
    """


@rule("P004", "over-allocation", Severity.WARNING,
      "A team member is booked for more working days in a week than their capacity.",
      examples=[Example({"projects/website.md": OVERBOOKED_PROJECT.format(copy_owner="ana")},
                        {"projects/website.md": OVERBOOKED_PROJECT.format(copy_owner="ben")},
                        "Design and copy at the same time, both on Ana")])
def over_allocation(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Each unfinished task books its owners for its `effort` (working days, default its duration),
    spread over the working days the schedule plans it on and shared by its owners; a member's week
    holds `capacity` days (crm.yaml's team, 5 unless set) less holidays and `away` days. For the next
    12 weeks from the status date, a week booked over capacity is reported on the line of the biggest
    task behind it, naming the week and every task (docs/delivery.md#workload-across-projects).
    Projects on hold, done or cancelled book nobody."""
    workspace = analysis.workspace
    for member, load in analysis.workload.overbooked():
        first = load.tasks[0]
        project = workspace.projects[first.project]
        task = project.task(first.task)
        line = task.line_of("owner") if task is not None else 1
        tasks = ", ".join(f"{item.project}/{item.task} ({item.days:g})" for item in load.tasks)
        yield rule.finding(Location(project.path, line),
                           f"'{member}' is booked {load.booked:g} working days in the week of {load.week}, over "
                           f"a capacity of {load.capacity:g}: {tasks}")


INVOICED_PROJECT = PROJECT_HEAD.replace("    tasks:", "    budget: 20000\n    tasks:") + """\
      - {{id: design, owner: ana, duration: 5, invoice: 30%}}
      - {{id: launch, milestone: true, depends_on: [design], invoice: {last_invoice}}}
    ---
    """


@rule("P005", "invoices-budget", Severity.WARNING,
      "A project's invoices do not add up to its budget, or an invoiced milestone is late.",
      examples=[Example({"projects/website.md": INVOICED_PROJECT.format(last_invoice="50%")},
                        {"projects/website.md": INVOICED_PROJECT.format(last_invoice="70%")},
                        "30 % and 50 % of the budget: a fifth is never invoiced")])
def invoices_budget(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Tasks and milestones carry `invoice: 30%` (of the project's `budget`, else its deal's value) or an
    amount. When a project has invoices, they should add up to its budget: the finding gives both sums
    (shares without any budget are reported too). An invoice whose task is not done and not `invoiced`
    is late when its `due` date has passed or the plan finishes it after its due date: money comes in
    later than agreed. Cancelled projects are not checked."""
    workspace = analysis.workspace
    currency = workspace.config.currency
    for project_id, found in analysis.invoices.items():
        project = workspace.projects[project_id]
        if project.status == "cancelled" or not found.invoices:
            continue
        if not found.balanced:
            if found.budget is None:
                yield rule.finding(project.location("tasks"),
                                   "invoices are given as shares of the budget, but the project has no `budget` "
                                   "(and no deal value in " + currency + ")")
            else:
                yield rule.finding(project.location("budget") if "budget" in project.key_lines
                                   else project.location("tasks"),
                                   f"invoices add up to {found.total:,.2f} {currency}, but the budget is "
                                   f"{found.budget:,.2f} {currency}")
        for item in found.invoices:
            if item.late:
                yield rule.finding(Location(project.path, item.line),
                                   f"invoice of '{item.task}' is late: due {item.due}, planned to finish "
                                   f"{item.date}")
