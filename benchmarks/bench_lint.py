"""Time `plaintext-crm lint` as a whole process on synthetic workspaces: cold, warm, beside the floor of reading the files.

Usage: python benchmarks/bench_lint.py [--deals 1000 10000] [--repeat 3] [--keep DIR]
Prints, per workspace size, the best and median wall time of each case, its ratio to the floor, and
the median CPU time of the whole process tree (steadier than wall time on a shared machine).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_workspace import generate_workspace

from plaintext_crm.records.cache_store import cache_folder

TARGETS = {1000: {"warm": 0.3}, 10000: {"cold": 3.0, "warm": 0.8}}

READ_FLOOR = """\
import os, sys
root = sys.argv[1]
total = 0
for kind in ("clients", "deals", "projects"):
    folder = os.path.join(root, kind)
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as handle:
            total += len(handle.read())
print(total)
"""


# CPU seconds (user + system) of the timed child processes, per case: on a machine shared with other
# work, wall times wander with the load while CPU time barely does.
CPU: dict[int, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], before: Callable[[], None] | None = None, repeat: int = 3) -> list[float]:
    """Wall times of `command` run `repeat` times, `before` run (untimed) ahead of each; the CPU time
    of each run (worker processes included) is kept in CPU under the id of the returned list."""
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        if before is not None:
            before()
        cpu_start = _children_cpu()
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - cpu_start)
        # lint exits 1 on findings, but so does a crash: only a run that printed its summary counts.
        finished = "lint" not in command or "records checked" in result.stdout
        if result.returncode not in (0, 1) or not finished or "Traceback" in result.stderr:
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    CPU[id(times)] = cpu
    return times


def bench(root: Path, deals: int, repeat: int) -> None:
    lint = [sys.executable, "-m", "plaintext_crm", "lint", str(root), "--today", "2026-11-26"]
    cache = cache_folder(root)
    touched = sorted((root / "deals").iterdir())[len(list((root / "deals").iterdir())) // 2]
    original = touched.read_text(encoding="utf-8")
    counter = iter(range(1_000_000))

    def drop_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def change_one_file() -> None:
        # A real edit: new content (and size), as an editor would save it.
        touched.write_text(original.replace("---\n", f"---\nrevision: {next(counter)}\n", 1), encoding="utf-8")

    cases = {
        "floor: python reads every file": timed([sys.executable, "-c", READ_FLOOR, str(root)], repeat=repeat),
        "cold, --no-cache": timed(lint + ["--no-cache"], repeat=repeat),
        "cold, empty cache (writes it)": timed(lint, before=drop_cache, repeat=repeat),
    }
    subprocess.run(lint, capture_output=True, check=False)
    cases["warm, nothing changed"] = timed(lint, repeat=repeat)
    cases["warm, one file changed"] = timed(lint, before=change_one_file, repeat=repeat)
    touched.write_text(original, encoding="utf-8")
    floor = min(cases["floor: python reads every file"])
    files = sum(1 for kind in ("clients", "deals", "projects") for _ in (root / kind).iterdir())
    print(f"\n{deals:,} deals ({files:,} files), best and median of {repeat} runs:")
    for name, times in cases.items():
        cpu = CPU[id(times)]
        print(f"  {name:<34} best {min(times):6.3f} s  median {statistics.median(times):6.3f} s  "
              f"x{min(times) / floor:5.1f} floor  (CPU median {statistics.median(cpu):6.3f} s)")
    for case, limit in TARGETS.get(deals, {}).items():
        key = "cold, --no-cache" if case == "cold" else "warm, one file changed"
        best = min(cases[key])
        print(f"  target {case} < {limit} s: {'met' if best < limit else 'MISSED'} ({best:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Generate the workspaces here and keep them.")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="plaintext-crm-bench-"))
    try:
        for deals in args.deals:
            root = base / f"workspace-{deals}"
            if not (root / "crm.yaml").exists():
                generate_workspace(root, deals)
            bench(root, deals, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
