"""Where a build's time goes, phase by phase, in one process: imports, load, each analysis part, pages.

Usage: python benchmarks/bench_phases.py WORKSPACE [--today 2026-11-26]

Prints the seconds of: imports, loading through the parse cache, each part of the analysis, the rendered
Markdown bodies, planning the pages, and rendering each whole-workspace page twice: once without
cached items and data.json texts (as a cold build or `--no-cache`), once with the caches a previous
build left (as a rebuild after a front-matter change). Run a build first to fill the caches.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # imports are the first phase timed
import datetime as dt
from pathlib import Path

from plaintext_crm.analysis import load_analysis
from plaintext_crm.records import cache_store
from plaintext_crm.site.bodies import render_bodies
from plaintext_crm.site.builder import _global_key
from plaintext_crm.site.pages import all_page_types, site_data_of
from plaintext_crm.site.templates import make_environment

PARTS = ("stage_dates", "plan", "findings", "crm", "owner_boards", "delivery", "history")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    args = parser.parse_args()
    print(f"imports {time.perf_counter() - STARTED:.3f}")
    mark = time.perf_counter()
    analysis = load_analysis(args.workspace, args.today, whole_history=True)
    print(f"load {time.perf_counter() - mark:.3f}")
    for part in PARTS:
        mark = time.perf_counter()
        getattr(analysis, part)
        print(f"  {part} {time.perf_counter() - mark:.3f}")
    site = site_data_of(analysis)
    cache = cache_store.cache_folder(args.workspace)
    mark = time.perf_counter()
    site.bodies, _engine = render_bodies(analysis.workspace, cache, jobs=1)
    print(f"bodies {time.perf_counter() - mark:.3f}")
    env = make_environment(args.workspace, cache)
    mark = time.perf_counter()
    pages = [page for page_type in all_page_types() for page in page_type(site)]
    site.set_pages(pages)
    print(f"plan {time.perf_counter() - mark:.3f} ({len(pages)} pages)")
    whole = [page for page in pages if page.sources is None]
    key = _global_key(args.workspace, args.today, env)
    for label, cache_dir, build_key in (("no caches", None, None), ("caches", cache, key)):
        site.cache_dir, site.build_key = cache_dir, build_key
        times = []
        for page in whole:
            mark = time.perf_counter()
            page.render(site, env)
            times.append((time.perf_counter() - mark, page.output))
        print(f"whole-workspace pages, {label}: {sum(seconds for seconds, _ in times):.3f} over {len(whole)}")
        for seconds, output in sorted(times, reverse=True)[:10]:
            print(f"  {output} {seconds:.3f}")
    records = [page for page in pages if page.sources is not None][:200]
    mark = time.perf_counter()
    for page in records:
        page.render(site, env)
    print(f"record page average {(time.perf_counter() - mark) / max(1, len(records)) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
