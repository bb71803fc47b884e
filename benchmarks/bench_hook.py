"""Time the plain git hook (`install-hook`, which runs `lint --staged`) on a synthetic workspace in git.

Usage: python benchmarks/bench_hook.py [--deals 1000] [--runs 7]

Cases, alternated run by run so that a busy machine slows them alike:
  nothing staged     the hook's `git diff --cached --quiet` returns at once
  in place           one deal edited and staged, the working tree equal to the index (the cached fast path)
  snapshot           the same, plus an unstaged edit in another deal: the staged files go to a temporary folder
  snapshot + HEAD    a staged deletion of a client that deals name: errors elsewhere, compared with HEAD's lint
  lint FILE          what the previous hook ran: `lint deals/x.md` on the working tree (for comparison)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_workspace import generate_workspace

ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "Bench",
       "GIT_COMMITTER_EMAIL": "b@example.com", "PLAINTEXT_CRM_TODAY": "2026-11-26"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=ENV).stdout


def timed(repo: Path, command: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, capture_output=True, env=ENV, check=False)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "ws"
        generate_workspace(repo, args.deals, 1)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "start")
        subprocess.run([sys.executable, "-m", "plaintext_crm", "install-hook"], cwd=repo, check=True,
                       capture_output=True, env=ENV)
        deals = sorted((repo / "deals").iterdir())
        staged, unstaged = deals[0], deals[1]
        client = next(line.split(":", 1)[1].strip() for line in staged.read_text(encoding="utf-8").splitlines()
                      if line.startswith("client:"))
        hook = [str(repo / ".git/hooks/pre-commit")]
        original = unstaged.read_text(encoding="utf-8")

        def prepare(case: str) -> None:
            git(repo, "reset", "-q", "--hard")
            if case == "nothing staged":
                (repo / "NOTES.txt").write_text("x", encoding="utf-8")
                git(repo, "add", "NOTES.txt")
                return
            if case == "snapshot + HEAD":
                git(repo, "rm", "-q", "--cached", f"clients/{client}.md")
                return
            staged.write_text(staged.read_text(encoding="utf-8").replace("next_action:", "next_action: Again,", 1),
                              encoding="utf-8")
            git(repo, "add", str(staged.relative_to(repo)))
            if case == "snapshot":
                unstaged.write_text(original + "\nAn unstaged note.\n", encoding="utf-8")

        cases = {"nothing staged": hook, "in place": hook, "snapshot": hook, "snapshot + HEAD": hook,
                 "lint FILE": [sys.executable, "-m", "plaintext_crm", "lint", str(staged.relative_to(repo))]}
        times: dict[str, list[float]] = {case: [] for case in cases}
        codes: dict[str, set[int]] = {case: set() for case in cases}
        for case, command in cases.items():  # warm the caches once
            prepare("in place" if case == "lint FILE" else case)
            timed(repo, command)
        for _run in range(args.runs):
            for case, command in cases.items():
                prepare("in place" if case == "lint FILE" else case)
                seconds, code = timed(repo, command)
                times[case].append(seconds)
                codes[case].add(code)
        print(f"{args.deals} deals, {args.runs} runs each (seconds; exit codes)")
        for case, values in times.items():
            print(f"  {case:16} median {statistics.median(values):.2f}  min {min(values):.2f}  "
                  f"max {max(values):.2f}  exit {sorted(codes[case])}")


if __name__ == "__main__":
    main()
