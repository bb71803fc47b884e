"""Benchmark scheduling: N projects of M tasks (default 1,000 x 50) through the whole CPM and delivery status.

    python benchmarks/bench_schedule.py [--projects 1000] [--tasks 50] [--repeat 5]

The workspace is built in memory (loading files is the loader's benchmark). Printed beside the figures is
a baseline measured in the same run: graphlib's topological sort of the same task graph, the least any
dependency scheduler has to do, so the ratio says what the passes, calendar and dates cost on top.
"""

from __future__ import annotations

import argparse
import datetime as dt
import graphlib
import random
import statistics
import time
from pathlib import Path

from plaintext_crm.delivery.invoices import project_invoices
from plaintext_crm.delivery.schedule import schedule_workspace
from plaintext_crm.delivery.status import project_statuses
from plaintext_crm.delivery.workload import workload
from plaintext_crm.records.config import Config
from plaintext_crm.records.model import Approval, Dependency, Invoice, Project, Task, Workspace

TODAY = dt.date(2026, 11, 26)
HOLIDAYS = frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2026, 12, 31), dt.date(2027, 1, 1)})


def synthetic_workspace(projects: int, tasks: int, seed: int = 5) -> Workspace:
    """Projects of `tasks` tasks each: chains and fans of FS/SS/FF links with lags, explicit dates on some
    tasks, finished early tasks, milestones, approvals, a cross-project link on every tenth project, and
    tasks listed out of dependency order in every fifth project (so they need sorting)."""
    rng = random.Random(seed)
    built: dict[str, Project] = {}
    for number in range(projects):
        project_id = f"project-{number:04d}"
        start = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(0, 600))
        items = []
        for index in range(tasks):
            preds = rng.sample(range(max(0, index - 6), index), k=min(index, rng.randint(1, 3))) if index else []
            depends = [Dependency(task=f"t{pred}", type=rng.choice(["FS", "FS", "FS", "SS", "FF"]),
                                  lag=rng.choice([0, 0, 0, 1, 2, -1]), line=index + 2) for pred in preds]
            if number % 10 == 5 and index == 3:
                depends.append(Dependency(task="t10", project=f"project-{number - 1:04d}"))
            milestone = index % 12 == 11
            status = "done" if index < tasks // 5 else ("doing" if index < tasks // 4 else "todo")
            explicit = start + dt.timedelta(days=index * 3) if index % 7 == 0 else None
            items.append(Task(
                id=f"t{index}", title=f"Task {index}", owner="ana", start=explicit,
                due=explicit + dt.timedelta(days=10) if explicit and status == "done" else None,
                duration=0 if milestone else rng.randint(1, 15), status=status, depends_on=tuple(depends),
                milestone=milestone, approval=Approval("Client", "pending", None) if index % 9 == 4 else None,
                line=index + 2, owners=("ana",) if index % 3 else ("ana", "ben"),
                invoice=Invoice(share=25) if milestone else None))
        if number % 5 == 2:  # a fifth of the projects list their tasks out of dependency order
            rng.shuffle(items)
        built[project_id] = Project(
            id=project_id, path=f"projects/{project_id}.md", fields={}, key_lines={}, body="- [x] Kickoff\n- [ ] Go",
            body_line=20, history=(), lint_ignore=(), traps=(), title=project_id, client="acme", deal=None,
            owner="ana", status="active", start=start, due=start + dt.timedelta(days=rng.randrange(150, 400)),
            depends_on=(f"project-{number - 1:04d}",) if number % 25 == 24 else (), tasks=tuple(items),
            budget=100000)
    config = Config(holidays=HOLIDAYS)
    return Workspace(Path("."), config, {}, {}, built, tuple(project.path for project in built.values()))


def baseline(workspace: Workspace) -> None:
    """Topological order of the same task graph with graphlib: the floor."""
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for project in workspace.projects.values():
        for task in project.tasks:
            graph[(project.id, task.id)] = [(dependency.project or project.id, dependency.task)
                                            for dependency in task.depends_on]
    list(graphlib.TopologicalSorter(graph).static_order())


def timed(function, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time suffers less from other processes on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    workspace = synthetic_workspace(args.projects, args.tasks)
    count = sum(len(project.tasks) for project in workspace.projects.values())
    floor = timed(lambda: baseline(workspace), args.repeat)
    schedule_times = timed(lambda: schedule_workspace(workspace, TODAY), args.repeat)

    def everything() -> None:
        project_statuses(workspace, schedule_workspace(workspace, TODAY), TODAY)

    full = timed(everything, args.repeat)
    planned = schedule_workspace(workspace, TODAY)

    def planning() -> None:
        workload(workspace, planned, TODAY)
        project_invoices(workspace, planned, TODAY)

    plans = timed(planning, args.repeat)
    schedule = schedule_workspace(workspace, TODAY)
    print(f"{args.projects} projects x {args.tasks} tasks = {count} tasks; {len(schedule.conflicts)} conflicts, "
          f"{len(schedule.cycles)} cycles; median of {args.repeat} runs")
    base_wall, base_cpu = (statistics.median(times) for times in floor)
    for label, (wall, cpu) in (("baseline: graphlib order only", floor), ("schedule_workspace (CPM)", schedule_times),
                               ("schedule + project_statuses", full),
                               ("workload + invoices (given the schedule)", plans)):
        print(f"  {label:42} wall {statistics.median(wall) * 1000:7.1f} ms ({statistics.median(wall) / base_wall:4.1f}x)"
              f"   cpu {statistics.median(cpu) * 1000:7.1f} ms ({statistics.median(cpu) / base_cpu:4.1f}x baseline)")

if __name__ == "__main__":
    main()
