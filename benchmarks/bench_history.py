"""Benchmark reading git history: a synthetic repository of N commits over M deals, read cold and cached.

    python benchmarks/bench_history.py [--commits 10000] [--deals 2000] [--out benchmarks/out/history]

Prints whole-process times (a fresh Python each run) beside two baselines measured in the same run:
`python -c pass` with the same imports (start-up) and the bare `git log` the reader runs (the floor).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from plaintext_crm.records.cache_store import cache_folder

AUTHORS = [("Ana Ruiz", "ana@example.com"), ("Ben Okafor", "ben@example.com"), ("Maya Chen", "maya@example.com"),
           ("Leo Park", "leo@example.com"), ("Priya Das", "priya@example.com")]
OWNERS = ["ana", "ben", "maya", "leo", "priya"]
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
START = dt.datetime(2023, 1, 2, 9, 0, tzinfo=dt.UTC)


def deal_text(deal: dict, notes: list[str]) -> str:
    """A realistic deal file: front matter plus dated notes."""
    lines = ["---", f"title: {deal['title']}", f"client: {deal['client']}", f"owner: {deal['owner']}",
             f"stage: {deal['stage']}", f"value: {deal['value']}", "source: referral",
             f"created: {deal['created']}", f"expected_close: {deal['expected_close']}",
             f"next_action: {deal['next_action']}", f"next_action_due: {deal['next_action_due']}",
             "budget_holder: Jane Doe", "---", "Context about the client and what they want.", ""]
    return "\n".join(lines + notes) + "\n"


def fast_import_stream(commits: int, deals: int, seed: int = 7) -> bytes:
    """A `git fast-import` stream: first each deal is created, then random edits (stage moves,
    owner and value changes, pushed close dates, notes, a few renames)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    state: dict[int, dict] = {}
    names: dict[int, str] = {}
    notes: dict[int, list[str]] = {}
    when = START

    def emit(message: str, author: tuple[str, str], files: list[tuple[str, str | None, str | None]]) -> None:
        stamp = int(when.timestamp())
        ident = f"{author[0]} <{author[1]}> {stamp} +0000".encode()
        body = message.encode()
        out.append(b"commit refs/heads/main\nauthor " + ident + b"\ncommitter " + ident
                   + b"\ndata %d\n" % len(body) + body + b"\n")
        for op, path, extra in files:
            if op == "M":
                data = (extra or "").encode()
                out.append(b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(data) + data + b"\n")
            else:  # rename
                out.append(b"R " + path.encode() + b" " + (extra or "").encode() + b"\n")
        out.append(b"\n")

    config = "name: Bench\npipeline: [lead, qualified, proposal, negotiation, {stage: won, closed: won}, " \
             "{stage: lost, closed: lost}]\n"
    emit("Workspace", AUTHORS[0], [("M", "crm.yaml", config)])
    for number in range(commits):
        when += dt.timedelta(minutes=rng.randint(20, 180))
        author = rng.choice(AUTHORS)
        if number < deals:
            day = when.date()
            state[number] = {"title": f"Deal number {number}", "client": f"client-{number % 400}",
                             "owner": rng.choice(OWNERS), "stage": "lead", "value": rng.randrange(2, 200) * 1000,
                             "created": day.isoformat(), "expected_close": (day + dt.timedelta(days=90)).isoformat(),
                             "next_action": "Call back", "next_action_due": (day + dt.timedelta(days=7)).isoformat()}
            names[number] = f"deals/deal-{number:05d}.md"
            notes[number] = []
            emit(f"New deal {number}", author, [("M", names[number], deal_text(state[number], notes[number]))])
            continue
        key = rng.randrange(deals)
        deal = state[key]
        roll = rng.random()
        if roll < 0.01:
            new_name = names[key].replace(".md", "-renamed.md")
            emit(f"Rename deal {key}", author, [("R", names[key], new_name)])
            names[key] = new_name
            continue
        if roll < 0.40 and deal["stage"] not in ("won", "lost"):
            index = STAGES.index(deal["stage"])
            deal["stage"] = rng.choice(["won", "lost"]) if index == 3 else STAGES[index + 1]
            message = f"Deal {key} to {deal['stage']}"
        elif roll < 0.55:
            deal["owner"] = rng.choice(OWNERS)
            message = f"Reassign deal {key}"
        elif roll < 0.70:
            deal["value"] = rng.randrange(2, 200) * 1000
            message = f"New value for deal {key}"
        elif roll < 0.80:
            close = dt.date.fromisoformat(deal["expected_close"]) + dt.timedelta(days=rng.randint(7, 60))
            deal["expected_close"] = close.isoformat()
            message = f"Push close of deal {key}"
        else:
            notes[key].append(f"## {when.date()} Call\nTalked about scope and budget; next step agreed.\n")
            message = f"Notes on deal {key}"
        emit(message, author, [("M", names[key], deal_text(deal, notes[key]))])
    return b"".join(out)


def make_repository(folder: Path, commits: int, deals: int) -> float:
    """Create the synthetic repository (or reuse the one made last time with the same sizes); return seconds."""
    started = time.perf_counter()
    marker = folder / ".git" / "bench-history-sizes"
    if marker.is_file() and marker.read_text() == f"{commits} {deals}":
        return 0.0
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=folder, input=fast_import_stream(commits, deals), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=folder, check=True)
    marker.write_text(f"{commits} {deals}")
    return time.perf_counter() - started


def timed(command: list[str], cwd: Path, runs: int) -> float:
    """The median wall time of `command` as a whole process; its CPU time goes to CPU_TIMES."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU_TIMES.append(statistics.median(cpu))
    return statistics.median(times)


CPU_TIMES: list[float] = []  # CPU seconds (user + sys, children included) of each timed() call, in order


READ = ("import sys; from pathlib import Path; from plaintext_crm.history.record_history import read_history; "
        "h = read_history(Path('.'), use_cache={cache}); assert h.available and h.records, h.notices")
SUMMARY = ("from pathlib import Path; from plaintext_crm.history.record_history import read_stage_summary; "
           "s, n = read_stage_summary(Path('.')); assert s")
IMPORTS = "from plaintext_crm import history"


def breakdown(folder: Path) -> dict[str, float]:
    """In-process seconds of each step of a cold read, and of the full parser in place of the line scanner."""
    from plaintext_crm.gitrepo import read_blobs
    from plaintext_crm.history.deal_versions import DealFieldReader, read_deal_fields
    from plaintext_crm.history.gitlog import git_log, parse_log
    from plaintext_crm.history.record_history import _is_deal, fold_history

    steps: dict[str, float] = {}
    started = time.perf_counter()
    output = git_log(folder)
    steps["git log"] = time.perf_counter() - started
    started = time.perf_counter()
    commits = parse_log(output)
    steps["parse log"] = time.perf_counter() - started
    started = time.perf_counter()
    blobs = read_blobs(folder, {entry.blob for item in commits for entry in item.entries
                                if entry.status != "D" and _is_deal(entry.new_path or entry.path)})
    steps["git cat-file"] = time.perf_counter() - started
    reader = DealFieldReader()
    started = time.perf_counter()
    scanned = {blob: reader.read(raw) for blob, raw in blobs.items()}
    steps["line scanner"] = time.perf_counter() - started
    started = time.perf_counter()
    fold_history(commits, scanned, frozenset())
    steps["fold"] = time.perf_counter() - started
    started = time.perf_counter()
    parsed = {blob: read_deal_fields(raw) for blob, raw in blobs.items()}
    steps["full parser instead"] = time.perf_counter() - started
    assert scanned == parsed, "the line scanner and the full parser disagree"
    steps["versions"] = len(blobs)
    steps["fallbacks"] = reader.full_parses
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "history")
    args = parser.parse_args()
    folder = args.out.resolve()
    made = make_repository(folder, args.commits, args.deals)
    print(f"synthetic repository: {args.commits} commits over {args.deals} deals, made in {made:.2f} s "
          f"(git fast-import)")
    python = sys.executable
    startup = timed([python, "-c", IMPORTS], folder, args.runs)
    floor = timed(["git", "log", "--reverse", "-M", "--raw", "-z", "--no-abbrev", "--root", "--format=%H", "HEAD"],
                  folder, args.runs)
    cold = timed([python, "-c", READ.format(cache=False)], folder, args.runs)
    shutil.rmtree(cache_folder(folder), ignore_errors=True)
    first = timed([python, "-c", READ.format(cache=True)], folder, 1)
    cached = timed([python, "-c", READ.format(cache=True)], folder, args.runs)
    summary = timed([python, "-c", SUMMARY], folder, args.runs)
    after_commit = []
    for run in range(args.runs):
        deal = folder / "deals" / "deal-00001.md"
        if not deal.exists():
            deal = next((folder / "deals").glob("deal-00001*.md"))
        deal.write_text(deal.read_text() + f"\n## 2026-11-2{run} Bench note\n")
        subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=b@example.com", "commit", "-qam",
                        "one more"], cwd=folder, check=True)
        after_commit.append(timed([python, "-c", READ.format(cache=True)], folder, 1))
    incremental = statistics.median(after_commit)
    (folder / ".git" / "bench-history-sizes").unlink()  # the repository now has extra commits
    steps = breakdown(folder)
    cpu = dict(zip(("startup", "floor", "cold", "first", "cached", "summary"), CPU_TIMES))
    cpu["incremental"] = statistics.median(CPU_TIMES[6:])
    print("whole process, median wall time (CPU time user+sys; wall time suffers when the machine is shared)")
    print(f"python start-up + imports     {startup:6.3f} s  (cpu {cpu['startup']:.3f} s)")
    print(f"bare git log (floor)          {floor:6.3f} s  (cpu {cpu['floor']:.3f} s)")
    print(f"read history, no cache        {cold:6.3f} s  (cpu {cpu['cold']:.3f} s)   "
          f"{cold / floor:4.1f}x git log; target < 5 s")
    print(f"read history, writing cache   {first:6.3f} s  (cpu {cpu['first']:.3f} s)")
    print(f"read history, cached          {cached:6.3f} s  (cpu {cpu['cached']:.3f} s)   "
          f"+{cached - startup:.3f} s over start-up")
    print(f"stage summary (lint), cached  {summary:6.3f} s  (cpu {cpu['summary']:.3f} s)   "
          f"+{summary - startup:.3f} s over start-up")
    print(f"after one new commit          {incremental:6.3f} s  (cpu {cpu['incremental']:.3f} s)   "
          "only the new commit is read and folded")
    print("cold read in-process: " + ", ".join(f"{name} {steps[name]:.3f} s" for name in
                                               ("git log", "parse log", "git cat-file", "line scanner", "fold")))
    print(f"{steps['versions']:.0f} deal versions: line scanner {steps['line scanner']:.3f} s vs full front matter "
          f"parse {steps['full parser instead']:.3f} s ({steps['full parser instead'] / steps['line scanner']:.1f}x); "
          f"{steps['fallbacks']:.0f} fell back to the full parser; results identical")

if __name__ == "__main__":
    main()
