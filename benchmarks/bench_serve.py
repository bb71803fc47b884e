"""Time `plaintext-crm serve` from saving one deal to its rebuilt page being served, beside full builds and Hugo.

Usage: python benchmarks/bench_serve.py [--deals 10000] [--saves 5] [--repeat 2] [--keep DIR]

On the synthetic workspace (benchmarks/generate_workspace.py) it prints, in one run:
- save -> served: a deal file is saved (a new line in its notes) and the server is polled every 10 ms
  until the deal's page carries the new line; the median and the worst of --saves saves;
- save -> whole site: until the server's terminal line says the update is complete (aggregate pages
  such as the board and data.json included);
- a cold full build (`plaintext-crm build`, no caches) and Hugo's full build of the same files, each best of
  --repeat (run the way benchmarks/bench_build.py runs them).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import TODAY, best, hugo_site, measure, time_hugo
from generate_workspace import generate_workspace

from plaintext_crm.records.cache_store import cache_folder

TARGET_SECONDS = 0.5
POLL_SECONDS = 0.01
UPDATE_LINE = re.compile(r"in (?P<total>[0-9.]+) s; record pages after (?P<first>[0-9.]+) s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


class Server:
    """A `plaintext-crm serve` process whose terminal lines are collected."""

    def __init__(self, workspace: Path, out: Path) -> None:
        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["plaintext-crm", "serve", str(workspace), "-o", str(out), "--port", str(self.port), "--today", TODAY],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        started = time.perf_counter()
        while not any(line.startswith("Watching") for line in self.lines):
            if self.process.poll() is not None:
                raise SystemExit("serve stopped:\n" + "".join(self.lines))
            time.sleep(0.05)
        self.startup = time.perf_counter() - started

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, ""):
            self.lines.append(line)

    def url(self, rel: str) -> str:
        return f"http://127.0.0.1:{self.port}/{rel}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def time_saves(server: Server, workspace: Path, saves: int) -> tuple[list[float], list[float]]:
    """Seconds from each save to the deal page served with the change, and to the whole site updated."""
    deals = sorted((workspace / "deals").iterdir())[::997][:saves]
    to_page: list[float] = []
    to_site: list[float] = []
    for index, path in enumerate(deals):
        marker = f"Bench edit {index} {time.time_ns()}"
        page = server.url(f"deals/{path.stem}.html")
        fetch(page)
        seen = len(server.lines)
        text = path.read_text(encoding="utf-8") + f"\n{marker}\n"
        saved = time.perf_counter()
        path.write_text(text, encoding="utf-8")
        while marker not in fetch(page):
            if time.perf_counter() - saved > 120:
                raise SystemExit(f"{page} did not change within 120 s:\n" + "".join(server.lines[-5:]))
            time.sleep(POLL_SECONDS)
        to_page.append(time.perf_counter() - saved)
        while not any(UPDATE_LINE.search(line) for line in server.lines[seen:]):
            time.sleep(POLL_SECONDS)
        to_site.append(time.perf_counter() - saved)
        time.sleep(0.5)
    return to_page, to_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10000)
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Keep the generated workspace and sites in this folder.")
    args = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo is not installed (apt-get install hugo)")
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-serve-"))
    base.mkdir(parents=True, exist_ok=True)
    workspace = base / f"ws-{args.deals}"
    try:
        if not (workspace / "crm.yaml").exists():
            generate_workspace(workspace, args.deals)
        out = base / f"site-{args.deals}"
        cold = []
        for _ in range(args.repeat):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(cache_folder(workspace), ignore_errors=True)
            cold.append(measure(["plaintext-crm", "build", str(workspace), "-o", str(out), "--today", TODAY, "-q"],
                                dict(os.environ)))
        hugo_s = time_hugo(hugo_site(workspace, base / f"hugo-{args.deals}"), args.repeat)["seconds"]
        server = Server(workspace, out)
        try:
            to_page, to_site = time_saves(server, workspace, args.saves)
        finally:
            server.stop()
        cold_s = best(cold)["seconds"]
        print(f"\n{args.deals} deals; {args.saves} saves of one deal each; builds best of {args.repeat}")
        print(f"  {'case':<34} {'seconds':>8} {'x Hugo':>7}")
        rows = [("save -> deal page served (median)", statistics.median(to_page)),
                ("save -> deal page served (worst)", max(to_page)),
                ("save -> whole site updated (median)", statistics.median(to_site)),
                ("serve start-up (warm caches)", server.startup),
                ("cold full build", cold_s), ("hugo full build", hugo_s)]
        for case, seconds in rows:
            print(f"  {case:<34} {seconds:>8.2f} {seconds / hugo_s:>7.2f}")
        print(f"  target: save -> served < {TARGET_SECONDS} s: median {statistics.median(to_page):.2f} s "
              f"({'met' if statistics.median(to_page) < TARGET_SECONDS else 'NOT met'})")
        print("  server's own figures per save: " + "; ".join(
            f"{match['first']} s / {match['total']} s" for line in server.lines
            if (match := UPDATE_LINE.search(line))))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
