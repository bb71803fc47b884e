"""The record cache: same results as a plain load, re-parses only what changed, survives damage and races."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plaintext_crm.records import parse_cache as cache
from plaintext_crm.records.cache_store import cache_folder
from plaintext_crm.records.frontmatter import parse_record
from plaintext_crm.records.loader import build_record, load_workspace, read_file, record_files
from plaintext_crm.records.parse_cache import RecordCache, dumps, load_files, load_workspace_with_stats, loads
from tests.support import EXAMPLE

DEAL = """\
---
title: Website {n}
client: acme
owner: ana
stage: proposal
value: {n}000
next_action: Call
next_action_due: 2026-12-0{d}
---
## 2026-11-0{d} Call
Notes {n}.
"""


def deals(count: int) -> dict[str, str]:
    return {f"deals/d{n:03d}.md": DEAL.format(n=n, d=1 + n % 9) for n in range(count)}


def same_load(root: Path) -> None:
    """The cached load equals a plain load: every record and every finding."""
    cached, cached_findings, _stats = load_workspace_with_stats(root)
    plain, plain_findings = load_workspace(root)
    assert (cached.clients, cached.deals, cached.projects) == (plain.clients, plain.deals, plain.projects)
    assert cached_findings == plain_findings


def test_pickled_records_round_trip_on_the_example_workspace() -> None:
    loaded = [build_record(read_file(EXAMPLE, rel)) for rel in record_files(EXAMPLE)]
    assert any(record and record.history for record, _findings in loaded)
    assert loads(dumps(loaded)) == loaded
    # With CRLF line ends a history entry's text is not a slice of the body: it is stored as it is.
    crlf = build_record(parse_record("deals/x.md", b"---\r\ntitle: X\r\n---\r\n## 2026-11-01 Call\r\none\r\ntwo\r\n"))
    assert crlf[0] is not None and crlf[0].history[0].text == "one\ntwo"
    assert loads(dumps(crlf)) == crlf


def test_warm_run_reuses_and_changed_files_are_parsed_again(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": "---\nname: Acme\n---\n", **deals(20)})
    _ws, _f, stats = load_workspace_with_stats(root)
    assert (stats.reused, stats.parsed) == (0, 21)
    _ws, _f, stats = load_workspace_with_stats(root)
    assert (stats.reused, stats.parsed) == (21, 0)
    changed = root / "deals/d005.md"
    changed.write_text(changed.read_text().replace("value: 5000", "value: 77"))
    (root / "deals/d006.md").unlink()
    (root / "deals/new.md").write_text(DEAL.format(n=99, d=3))
    workspace, _f, stats = load_workspace_with_stats(root)
    assert stats.parsed == 2 and stats.reused == 19
    assert workspace.deals["d005"].value == 77 and "d006" not in workspace.deals and "new" in workspace.deals
    same_load(root)


def test_findings_of_bad_files_come_back_from_the_cache(make_workspace) -> None:
    root = make_workspace({"deals/bad.md": "---\nvalue: [1\n---\n", "deals/typed.md": "---\nvalue: 12k\n---\n"})
    first = load_workspace_with_stats(root)[1]
    second, stats = load_workspace_with_stats(root)[1:]
    assert stats.reused == 2 and second == first and {f.code for f in first} == {"F001", "F002"}


def test_damaged_cache_is_ignored_and_rebuilt(make_workspace) -> None:
    root = make_workspace(deals(10))
    load_workspace_with_stats(root)
    shards = sorted(cache_folder(root).glob("records-*.cache"))
    assert shards
    for shard in shards:
        shard.write_bytes(b"\x80\x05garbage")
    _ws, _f, stats = load_workspace_with_stats(root)
    assert stats.parsed == 10 and stats.problems and "damaged" in stats.problems[0]
    _ws, _f, stats = load_workspace_with_stats(root)
    assert stats.reused == 10 and not stats.problems
    same_load(root)


def test_same_size_and_mtime_edit_within_the_racy_window_is_caught(make_workspace) -> None:
    root = make_workspace(deals(3))
    target = root / "deals/d001.md"
    load_workspace_with_stats(root)  # the files were just written: entries keep a digest
    before = os.stat(target)
    target.write_text(target.read_text().replace("Website 1", "Webside 1"))  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    workspace, _f, stats = load_workspace_with_stats(root)
    assert workspace.deals["d001"].title == "Webside 1" and stats.parsed == 1


def test_no_cache_neither_reads_nor_writes(make_workspace) -> None:
    root = make_workspace(deals(3))
    _ws, _f, stats = load_workspace_with_stats(root, use_cache=False)
    assert stats.parsed == 3 and not (root / ".plaintext-crm").exists()
    assert not cache_folder(root).exists() or not list(cache_folder(root).iterdir())


def test_signature_change_invalidates(make_workspace, monkeypatch) -> None:
    root = make_workspace(deals(3))
    load_workspace_with_stats(root)
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 100)
    assert load_workspace_with_stats(root)[2].parsed == 3


def test_unwritable_cache_location_still_lints(make_workspace, monkeypatch, tmp_path) -> None:
    root = make_workspace(deals(3))
    (tmp_path / "caches").write_text("a file where the cache folder should be")
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "caches"))
    workspace, _f, stats = load_workspace_with_stats(root)
    assert len(workspace.deals) == 3 and "could not write" in stats.problems[0]


@pytest.mark.slow  # a process pool
def test_parallel_parse_gives_the_serial_result(make_workspace, monkeypatch) -> None:
    root = make_workspace({**deals(40), "deals/bad.md": "---\n- a list\n---\n"})
    paths = record_files(root)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 10)
    parallel, workers = load_files(root, paths, workers=2)
    serial, one = load_files(root, paths, workers=1)
    assert (workers, one) == (2, 1) and parallel == serial and set(parallel) == set(paths)


@pytest.mark.slow  # four CLI processes
def test_concurrent_runs_agree_and_leave_a_valid_cache(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": "---\nname: Acme\nowner: ana\n---\n", **deals(60)})
    command = [sys.executable, "-m", "plaintext_crm", "lint", str(root), "--today", "2026-11-26", "--format", "json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate() for run in runs]
    assert {stdout for stdout, _stderr in outputs} == {outputs[0][0]} and all(not err for _out, err in outputs)
    assert not list(cache_folder(root).glob("*.tmp")) and not (root / ".plaintext-crm").exists()
    cache_stats = RecordCache(root)
    loaded = cache_stats.load(root, record_files(root))
    assert cache_stats.stats.reused == 61 and len(loaded) == 61


@pytest.mark.slow  # a process pool
def test_parallel_parse_from_a_threaded_process_does_not_fork(make_workspace, monkeypatch) -> None:
    import multiprocessing
    import threading

    root = make_workspace(deals(12))
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 4)
    methods: list[str | None] = []
    real_get_context = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: methods.append(method)
                        or real_get_context(method))
    release = threading.Event()
    helper = threading.Thread(target=release.wait)
    helper.start()
    try:
        loaded, workers = load_files(root, record_files(root), workers=2)
    finally:
        release.set()
        helper.join()
    assert workers == 2 and loaded == load_files(root, record_files(root), workers=1)[0]
    assert methods == ["forkserver"]
