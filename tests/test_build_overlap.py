"""Big builds start the always-rendered pages in workers before deciding which other pages to reuse."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from plaintext_crm.site import builder
from plaintext_crm.site.builder import build_site

TODAY = dt.date(2026, 11, 26)
DEAL = """\
---
title: Website {n}
client: acme
stage: proposal
value: {value}
owner: ana
next_action: Send the proposal
next_action_due: 2026-12-01
---
Notes of deal {n}.
"""
CLIENT = "---\nname: Acme\nowner: ana\n---\nA client.\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def test_early_parallel_rebuild_equals_a_fresh_serial_build(make_workspace, tmp_path: Path, monkeypatch) -> None:
    files = {"clients/acme.md": CLIENT}
    files.update({f"deals/deal-{n:02}.md": DEAL.format(n=n, value=1000 + n) for n in range(12)})
    root = make_workspace(files)
    monkeypatch.setattr(builder, "PARALLEL_MIN_RECORDS", 1)  # every build here takes the early, forked path
    first = build_site(root, root / "site", TODAY, jobs=2)
    assert first.reused == 0
    path = root / "deals" / "deal-03.md"
    path.write_text(DEAL.format(n=3, value=5000) + "One more line.\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    again = build_site(root, root / "site", TODAY, jobs=2)
    assert 0 < again.reused < again.pages and again.rendered + again.reused == again.pages
    build_site(root, tmp_path / "fresh", TODAY, use_cache=False, jobs=1)
    assert tree(root / "site") == tree(tmp_path / "fresh")
