"""Delivery rules (project side): dependency cycles, schedule conflicts, plans that drift past the promise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.delivery.status import is_active, makes_claims
from plaintext_crm.delivery.status import promise_drift as drift_of_promise
from plaintext_crm.findings import Finding, Severity
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

