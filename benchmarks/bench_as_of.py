"""Benchmark `--as-of`: a report of a past commit (read from blobs) against the same report of the working tree.

    python benchmarks/bench_as_of.py [--commits 10000] [--deals 2000] [--back 2000] [--runs 3]

Uses bench_history's synthetic repository (made once with git fast-import, reused while its sizes match).
Prints whole-process median wall and CPU times and the ratio to the working-tree report measured in the
same run: an as-of report with a cold blob cache (every record of that commit parsed), with a warm one,
and of a nearby commit whose records are mostly in the cache already.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_history import CPU_TIMES, make_repository, timed

from plaintext_crm.records.cache_store import cache_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=2_000)
    parser.add_argument("--back", type=int, default=2_000, help="how many mainline commits before HEAD to report on")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "history")
    args = parser.parse_args()
    folder = args.out.resolve()
    made = make_repository(folder, args.commits, args.deals)
    print(f"synthetic repository: {args.commits} commits over {args.deals} deals (made in {made:.2f} s)")
    report = [sys.executable, "-m", "plaintext_crm", "report", "pipeline", "--today", "2026-11-26"]
    timed(report, folder, 1)  # warm the record cache and the history cache
    now = timed(report, folder, args.runs)
    blob_cache = cache_folder(folder) / "blob-records.cache"
    past = [*report, "--as-of", f"HEAD~{args.back}"]
    cold = []
    for _ in range(args.runs):
        blob_cache.unlink(missing_ok=True)
        cold.append(timed(past, folder, 1))
    cold_cpu = statistics.median(CPU_TIMES[-args.runs:])
    warm = timed(past, folder, args.runs)
    near = timed([*report, "--as-of", f"HEAD~{args.back - 10}"], folder, args.runs)
    cpu_now, cpu_warm, cpu_near = CPU_TIMES[1], CPU_TIMES[-2], CPU_TIMES[-1]
    cold_wall = statistics.median(cold)
    print("whole process, median wall time (CPU time user+sys)")
    print(f"report pipeline, working tree        {now:6.3f} s  (cpu {cpu_now:.3f} s)")
    print(f"--as-of HEAD~{args.back}, blob cache cold  {cold_wall:6.3f} s  (cpu {cold_cpu:.3f} s)   {cold_wall / now:4.1f}x")
    print(f"--as-of HEAD~{args.back}, blob cache warm  {warm:6.3f} s  (cpu {cpu_warm:.3f} s)   {warm / now:4.1f}x")
    print(f"--as-of HEAD~{args.back - 10} (10 commits on)    {near:6.3f} s  (cpu {cpu_near:.3f} s)   {near / now:4.1f}x")


if __name__ == "__main__":
    main()
