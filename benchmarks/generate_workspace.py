"""Generate a synthetic, realistic workspace (clients, deals, projects with tasks) for benchmarks; deterministic by seed.

Usage: python benchmarks/generate_workspace.py DIR --deals 10000 [--seed 1] [--today 2026-11-26]
Other benchmarks import `generate_workspace(root, deals, seed)`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

TEAM = ("ana", "maya", "leo", "priya", "sam", "noor", "ivan", "tom")
STAGES = (("lead", 0.1, 21), ("qualified", 0.25, 21), ("proposal", 0.5, 14), ("negotiation", 0.75, 14))
STAGE_MIX = ("lead",) * 4 + ("qualified",) * 3 + ("proposal",) * 3 + ("negotiation",) * 2 + ("won",) * 3 + ("lost",) * 3
INDUSTRIES = ("coffee", "health", "logistics", "energy", "fintech", "museum", "saas", "education", "hotels", "retail")
WORDS = ("north", "wind", "helix", "atlas", "verde", "kite", "lumen", "oak", "pine", "quanta", "tide", "fjord",
         "harbor", "summit", "cedar", "delta", "ember", "falcon", "granite", "indigo", "juniper", "meadow")
SERVICES = ("website", "rebrand", "webshop", "mobile app", "design system", "dashboard", "campaign", "intranet",
            "booking flow", "investor deck", "packaging", "video series")
SOURCES = ("referral", "inbound", "outbound", "event", "repeat", "partner")
LOST_REASONS = ("price", "timing", "competitor", "no_budget", "no_response")
SENTENCES = (
    "They want to launch before the spring trade fair and have budget approved for this quarter.",
    "The decision sits with the CFO; marketing is the champion and drives the brief.",
    "Current site is slow on mobile and the CMS is a pain for their editors.",
    "We showed two case studies; they liked the booking-flow work for the hotel group.",
    "Procurement wants three quotes, so expect a formal RFP response in two weeks.",
    "Open question: who owns content migration, them or us? Agree before the proposal.",
    "Their IT lead is cautious about integrations with the warehouse system.",
)

CONFIG = """\
name: Synthetic Studio
currency: EUR
team:
{team}
pipeline:
{pipeline}
  - {{stage: won, probability: 1.0, closed: won}}
  - {{stage: lost, probability: 0.0, closed: lost}}
handoff_fields: [scope_summary, promised_timeline, key_constraints, main_stakeholder, kickoff_date]
lost_reasons: [{lost}]
working_days: [mon, tue, wed, thu, fri]
holidays: [2026-12-24, 2026-12-25, 2026-12-31, 2027-01-01]
"""


@dataclass(frozen=True)
class Generated:
    """What was written."""

    root: Path
    clients: int
    deals: int
    projects: int

    @property
    def files(self) -> int:
        return self.clients + self.deals + self.projects


def _body(rng: random.Random, today: dt.date, entries: int) -> str:
    parts = [" ".join(rng.sample(SENTENCES, 3)), ""]
    for index in range(entries):
        day = today - dt.timedelta(days=rng.randint(1, 120))
        parts += [f"## {day.isoformat()} {rng.choice(('Call', 'Workshop', 'Email', 'Meeting'))} with the client",
                  " ".join(rng.sample(SENTENCES, 2)), "", f"- [ ] Follow up on point {index + 1}", ""]
    return "\n".join(parts) + "\n"


def generate_workspace(root: Path, deals: int = 1000, seed: int = 1, today: dt.date = dt.date(2026, 11, 26)
                       ) -> Generated:
    """Write crm.yaml, deals/, clients/ (one per five deals) and projects/ (one per won deal, with tasks)."""
    rng = random.Random(seed)
    for kind in ("clients", "deals", "projects"):
        (root / kind).mkdir(parents=True, exist_ok=True)
    team = "\n".join(f"  {member}: {{name: {member.title()} Example, email: {member}@studio.example"
                     f"{', active: false' if member == 'tom' else ''}}}" for member in TEAM)
    pipeline = "\n".join(f"  - {{stage: {stage}, probability: {p}, rot_days: {rot}}}" for stage, p, rot in STAGES)
    (root / "crm.yaml").write_text(CONFIG.format(team=team, pipeline=pipeline, lost=", ".join(LOST_REASONS)))
    active = TEAM[:-1]
    client_ids = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index:05d}" for index in range(max(1, deals // 5))]
    for client_id in client_ids:
        name = " ".join(part.title() for part in client_id.split("-")[:2])
        (root / "clients" / f"{client_id}.md").write_text(
            f"---\nname: {name}\nowner: {rng.choice(active)}\nstatus: active\nsource: {rng.choice(SOURCES)}\n"
            f"industry: {rng.choice(INDUSTRIES)}\ncontacts:\n"
            f"  - {{name: Jane {name.split()[0]}, role: CMO, email: jane@{client_id}.example}}\n"
            f"  - {{name: Omar {name.split()[1]}, role: CFO, phone: \"+44 20 5550 {rng.randint(1000, 9999)}\"}}\n"
            f"---\n{_body(rng, today, 2)}", encoding="utf-8")
    projects = 0
    for index in range(deals):
        client = rng.choice(client_ids)
        service = rng.choice(SERVICES)
        deal_id = f"{client}-{service.replace(' ', '-')}-{index:05d}"
        stage = rng.choice(STAGE_MIX)
        created = today - dt.timedelta(days=rng.randint(20, 300))
        since = today - dt.timedelta(days=rng.randint(0, 30))
        lines = ["---", f"title: {service.title()} for {client.split('-')[0].title()}", f"client: {client}",
                 f"owner: {rng.choice(active)}", f"stage: {stage}", f"value: {rng.randrange(3000, 200000, 500)}",
                 f"source: {rng.choice(SOURCES)}", f"created: {created}",
                 f"expected_close: {today + dt.timedelta(days=rng.randint(5, 120))}", f"stage_since: {since}"]
        if stage in ("won", "lost"):
            lines.append(f"closed_on: {since}")
        if stage == "lost":
            lines.append(f"lost_reason: {rng.choice(LOST_REASONS)}")
        elif stage == "won":
            kickoff = since + dt.timedelta(days=rng.randint(7, 30))
            lines += [f"scope_summary: {service.title()} with CMS and analytics", "promised_timeline: 10 weeks",
                      "key_constraints: [Launch before the trade fair, Accessibility AA]",
                      "main_stakeholder: Jane (CMO)", f"kickoff_date: {kickoff}", f"project: {deal_id}"]
            projects += 1
            _write_project(root, rng, deal_id, client, kickoff, active)
        else:
            lines += ["next_action: Send the revised proposal",
                      f"next_action_due: {today + dt.timedelta(days=rng.randint(-3, 21))}"]
        if rng.random() < 0.3:
            lines.append(f"competitors: [{rng.choice(WORDS)} agency]")
        lines.append("---")
        (root / "deals" / f"{deal_id}.md").write_text("\n".join(lines) + "\n" + _body(rng, today, rng.randint(1, 4)),
                                                      encoding="utf-8")
    return Generated(root, len(client_ids), deals, projects)


def _write_project(root: Path, rng: random.Random, deal_id: str, client: str, kickoff: dt.date,
                   active: tuple[str, ...]) -> None:
    names = ("discovery", "wireframes", "design", "build", "content", "qa", "launch")
    tasks = []
    for position, task in enumerate(names):
        entry = [f"  - id: {task}", f"    title: {task.title()}", f"    owner: {rng.choice(active)}",
                 f"    duration: {0 if task == 'launch' else rng.randint(2, 12)}",
                 f"    status: {'done' if position < 2 else 'todo'}"]
        if position:
            entry.append(f"    depends_on: [{names[position - 1]}]")
        if task == "launch":
            entry.append("    milestone: true")
        tasks.extend(entry)
    text = "\n".join(["---", f"title: Delivery of {deal_id}", f"client: {client}", f"deal: {deal_id}",
                      f"owner: {rng.choice(active)}", "status: active", f"start: {kickoff}",
                      f"due: {kickoff + dt.timedelta(days=120)}", "tasks:", *tasks, "---",
                      "Goals, scope and people.", "", "## Kickoff checklist", "- [x] Kickoff booked",
                      "- [ ] Access to analytics", ""])
    (root / "projects" / f"{deal_id}.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generated = generate_workspace(args.directory, args.deals, args.seed)
    print(f"{generated.root}: {generated.clients} clients, {generated.deals} deals, {generated.projects} projects")


if __name__ == "__main__":
    main()
