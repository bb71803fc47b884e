"""Time the publishing builds (`build --audience`, `build --encrypt`) beside a plain build of the same workspace.

Usage: python benchmarks/bench_publish.py [--deals 1000] [--repeat 3]

Each figure is the best of --repeat cold builds (no caches) in this process, of a synthetic workspace
(generate_workspace.py) with two audiences added: every client without contacts ("leadership"), and one
client's projects only ("portal"). Ratios are to the plain build measured in the same run. The encrypted
build's extra cost is one PBKDF2 derivation (600,000 rounds) plus AES-GCM over every page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_workspace import generate_workspace

from plaintext_crm.site.builder import build_site

TODAY = dt.date(2026, 11, 26)
PASSPHRASE = "a benchmark passphrase"


def best(root: Path, out: Path, repeat: int, **options: str) -> tuple[float, int]:
    """Best wall seconds of `repeat` cold builds, and the number of pages."""
    times = []
    pages = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = build_site(root, out, TODAY, use_cache=False, jobs=1, **options)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        pages = result.pages
    return min(times), pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        generate_workspace(root, args.deals)
        client = min(path.stem for path in (root / "clients").glob("*.md"))
        with (root / "crm.yaml").open("a", encoding="utf-8") as config:
            config.write(f"audiences:\n  leadership: {{hide: [contacts]}}\n"
                         f"  portal: {{clients: [{client}], sections: [projects], hide: [value, body, contacts]}}\n")
        os.environ.pop("PLAINTEXT_CRM_SITE_PASSWORD", None)
        plain, pages = best(root, Path(folder) / "plain", args.repeat)
        print(f"{args.deals} deals, {pages} pages; best of {args.repeat} cold builds, one process")
        print(f"  {'plain build':32} {plain:6.2f} s")
        for label, options in (("--audience leadership", {"audience": "leadership"}),
                               ("--audience portal", {"audience": "portal"}),
                               ("--encrypt", {"passphrase": PASSPHRASE}),
                               ("--audience leadership --encrypt", {"audience": "leadership", "passphrase": PASSPHRASE})):
            seconds, count = best(root, Path(folder) / label.replace(" ", "_").strip("-"), args.repeat, **options)
            print(f"  {label:32} {seconds:6.2f} s  {seconds / plain:5.2f}x plain  ({count} pages)")


if __name__ == "__main__":
    main()
