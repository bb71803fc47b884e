"""Time `plaintext-crm build` as a whole process on synthetic workspaces, beside Hugo rendering the same files.

Usage: python benchmarks/bench_build.py [--deals 1000 10000] [--repeat 2] [--keep DIR]
                                       [--engines fast py] [--baseline OTHER-PLAINTEXT-CRM]

For each size it prints, best of --repeat runs: a cold build (no caches, no previous site), a
rebuild after a line was added to one deal's notes ("one change"), and a rebuild after one deal moved
to another stage ("one stage"), each with markdown-it-pyrs (the `fast` extra) and with markdown-it-py
only, and Hugo (Debian's `hugo`) building the same Markdown files as plain pages; with the peak
memory (max RSS of the largest process), the CPU time of all its processes (user + system: less
sensitive than wall time to other load on the machine), and the ratios to Hugo's in the same run.
With --baseline (the `plaintext-crm` of another checkout, e.g. an older commit's venv), the same cases
are timed with it too, alternating with this one, into its own output and cache folders.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_workspace import generate_workspace

from plaintext_crm.records.cache_store import cache_folder as workspace_cache_folder

TODAY = "2026-11-26"
TARGETS = {"cold_vs_hugo": 0.8, "one_change_s": 1.0, "peak_mib": 1024}

# Runs a command and reports its wall time and the peak RSS of the largest process it waited for.
MEASURE = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024,
                  "code": result.returncode,
                  "stderr": result.stderr[-2000:]}))
"""

HUGO_CONFIG = """\
baseURL = "http://example.invalid/"
title = "bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.goldmark.renderer]
unsafe = false
"""
HUGO_SINGLE = """<!doctype html><html><head><title>{{ .Title }}</title></head>
<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>
"""
HUGO_LIST = """<!doctype html><html><head><title>{{ .Title }}</title></head>
<body><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>
"""


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall seconds and peak MiB of one run of `command`."""
    output = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True,
                            env=env, check=True)
    data = json.loads(output.stdout)
    if data["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed ({data['code']}):\n{data['stderr']}")
    return data


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {"seconds": min(run["seconds"] for run in runs), "cpu": min(run["cpu"] for run in runs),
            "peak_mib": max(run["peak_mib"] for run in runs)}


def hugo_site(workspace: Path, folder: Path) -> Path:
    """A Hugo site whose content is the workspace's record files, unchanged."""
    for sub in ("content", "layouts/_default"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "hugo.toml").write_text(HUGO_CONFIG)
    (folder / "layouts/_default/single.html").write_text(HUGO_SINGLE)
    (folder / "layouts/_default/list.html").write_text(HUGO_LIST)
    (folder / "layouts/index.html").write_text(HUGO_LIST)
    for kind in ("clients", "deals", "projects"):
        shutil.copytree(workspace / kind, folder / "content" / kind, dirs_exist_ok=True)
    return folder


def run_size(deals: int, base: Path, repeat: int, engine_names: list[str], baseline: str | None
             ) -> dict[str, dict[str, float]]:
    workspace = base / f"ws-{deals}"
    if not (workspace / "crm.yaml").exists():
        generate_workspace(workspace, deals)
    hugo = hugo_site(workspace, base / f"hugo-{deals}")
    commands = {"": "plaintext-crm", **({"old ": baseline} if baseline else {})}
    engines = {"fast": "pyrs", "py": "py"}
    deal_files = sorted((workspace / "deals").iterdir())
    changed = deal_files[0]
    moved = next(path for path in deal_files if "\nstage: proposal\n" in path.read_text(encoding="utf-8"))
    results: dict[str, dict[str, float]] = {}
    runs: dict[str, list[dict[str, float]]] = {}

    for name in engine_names:
        for attempt in range(repeat):
            for label, command in (commands.items() if attempt % 2 == 0 else reversed(commands.items())):
                out = base / f"site-{deals}-{label.strip() or 'new'}"
                # each command its own cache folder: a baseline's caches never meet this version's
                env = dict(os.environ, PLAINTEXT_CRM_MARKDOWN=engines[name],
                           PLAINTEXT_CRM_CACHE_DIR=str(base / f"cache-{label.strip() or 'new'}"))
                build = [command, "build", str(workspace), "-o", str(out), "--today", TODAY, "-q"]
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(cache_folder(workspace, env), ignore_errors=True)
                runs.setdefault(f"{label}cold {name}", []).append(measure(build, env))
                with changed.open("a", encoding="utf-8") as handle:
                    handle.write(f"\nOne more line, edit {attempt}.\n")
                runs.setdefault(f"{label}one change {name}", []).append(measure(build, env))
                text = moved.read_text(encoding="utf-8")
                moved.write_text(text.replace("\nstage: proposal\n", "\nstage: negotiation\n"), encoding="utf-8")
                runs.setdefault(f"{label}one stage {name}", []).append(measure(build, env))
                moved.write_text(text, encoding="utf-8")
    for case in sorted(runs, key=lambda case: (case.startswith("old "), case.split()[-1] != "fast")):
        results[case] = best(runs[case])
    results["hugo"] = time_hugo(hugo, repeat)
    return results


def cache_folder(workspace: Path, env: dict[str, str]) -> Path:
    """The workspace's cache folder under the cache root `env` names."""
    previous = os.environ.get("PLAINTEXT_CRM_CACHE_DIR")
    os.environ["PLAINTEXT_CRM_CACHE_DIR"] = env["PLAINTEXT_CRM_CACHE_DIR"]
    try:
        return workspace_cache_folder(workspace)
    finally:
        if previous is None:
            del os.environ["PLAINTEXT_CRM_CACHE_DIR"]
        else:
            os.environ["PLAINTEXT_CRM_CACHE_DIR"] = previous


def time_hugo(hugo: Path, repeat: int) -> dict[str, float]:
    """Hugo's full build of a hugo_site() folder from an empty output, best of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(hugo / "public", ignore_errors=True)
        shutil.rmtree(hugo / "resources", ignore_errors=True)
        runs.append(measure(["hugo", "--quiet", "-s", str(hugo), "-d", str(hugo / "public")]))
    return best(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Keep the generated workspaces and sites in this folder.")
    parser.add_argument("--engines", nargs="+", choices=["fast", "py"], default=["fast", "py"])
    parser.add_argument("--baseline", help="Another plaintext-crm executable to time in the same run.")
    args = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo is not installed (apt-get install hugo)")
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-build-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        for deals in args.deals:
            results = run_size(deals, base, args.repeat, args.engines, args.baseline)
            hugo = results["hugo"]["seconds"]
            print(f"\n{deals} deals (best of {args.repeat}; peak = max RSS of the largest process)")
            hugo_cpu = results["hugo"]["cpu"]
            print(f"  {'case':<24} {'seconds':>8} {'x Hugo':>7} {'CPU s':>7} {'x Hugo':>7} {'peak MiB':>9} {'x old':>6}")
            for case, figures in results.items():
                old = results.get(f"old {case}")
                versus = f"{figures['seconds'] / old['seconds']:>6.2f}" if old else ""
                print(f"  {case:<24} {figures['seconds']:>8.2f} {figures['seconds'] / hugo:>7.2f} "
                      f"{figures['cpu']:>7.2f} {figures['cpu'] / hugo_cpu:>7.2f} {figures['peak_mib']:>9.0f} {versus}")
            if deals == 10000 and "cold fast" in results:
                fast = results["cold fast"]["seconds"] / hugo
                print(f"  targets: cold fast {fast:.2f}x Hugo (<= {TARGETS['cold_vs_hugo']}), one change fast "
                      f"{results['one change fast']['seconds']:.2f} s (< {TARGETS['one_change_s']}), peak "
                      f"{max(r['peak_mib'] for k, r in results.items() if k != 'hugo' and not k.startswith('old ')):.0f}"
                      f" MiB (< {TARGETS['peak_mib']})")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
