"""data.json from cached per-record fragments: byte for byte the plain encoding, before and after edits."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from plaintext_crm.json_data import json_default
from plaintext_crm.records.cache_store import cache_folder, loads_data, read_entry
from plaintext_crm.site.builder import MANIFEST, build_site
from plaintext_crm.site.data import data_json, site_data
from plaintext_crm.site.data_fragments import FRAGMENTS_FILE, RecordFragments
from plaintext_crm.site.pages import SiteData
from tests.support import EXAMPLE, EXAMPLE_TODAY

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)


def _age(path: Path, seconds: int) -> None:
    """Date a file's mtime back, as an edit made a while ago (recent files are not cached: racy)."""
    stamp = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    for path in root.rglob("*.md"):
        _age(path, 120)
    return root


def _plain_text(site: SiteData) -> str:
    return json.dumps(site_data(site), ensure_ascii=False, separators=(",", ":"), default=json_default) + "\n"


def _stored(root: Path) -> dict[str, object]:
    payload = read_entry(cache_folder(root) / FRAGMENTS_FILE, FRAGMENTS_FILE)
    assert payload is not None
    return loads_data(payload)[1]


def test_data_json_from_fragments_equals_the_plain_encoding_after_edits(workspace: Path, tmp_path: Path) -> None:
    build_site(workspace, workspace / "site", TODAY)
    stored = _stored(workspace)
    assert len(stored) == len(list((workspace / "deals").glob("*.md"))) + len(
        list((workspace / "clients").glob("*.md"))) + len(list((workspace / "projects").glob("*.md")))

    deal = min((workspace / "deals").glob("*.md"))
    text = deal.read_text(encoding="utf-8")
    assert "\nstage_since:" in text or "\nstage:" in text
    deal.write_text(text + "\n## 2026-11-20 Call\nA note about the \"quote\" and the price in €.\n",
                    encoding="utf-8")
    _age(deal, 60)
    project = min((workspace / "projects").glob("*.md"))
    project.write_text(project.read_text(encoding="utf-8") + "\nMore notes.\n", encoding="utf-8")
    _age(project, 60)
    build_site(workspace, workspace / "site", TODAY)
    full = build_site(workspace, tmp_path / "full", TODAY, use_cache=False)
    assert (workspace / "site" / "data.json").read_bytes() == (full.out / "data.json").read_bytes()
    assert "A note about the \\\"quote\\\" and the price in €." in (full.out / "data.json").read_text("utf-8")


def test_a_recently_changed_file_is_not_cached(workspace: Path) -> None:
    """A file saved in the last seconds may change again keeping its size and mtime: it is encoded again."""
    deal = min((workspace / "deals").glob("*.md"))
    deal.write_text(deal.read_text(encoding="utf-8") + "\nJust now.\n", encoding="utf-8")
    build_site(workspace, workspace / "site", TODAY)
    stored = _stored(workspace)
    recent, settled = deal.relative_to(workspace).as_posix(), sorted(workspace.glob("deals/*.md"))[1]
    assert recent not in stored
    assert settled.relative_to(workspace).as_posix() in stored
    digests = json.loads(read_entry(cache_folder(workspace) / MANIFEST, MANIFEST) or b"")["records"]
    assert recent not in digests  # nor its digest for page reuse (site-manifest.json)
    assert settled.relative_to(workspace).as_posix() in digests


def test_stage_since_from_history_replaces_the_front_matter_value_in_place(make_workspace) -> None:
    """A deal's history fields override its own keys (stage_since) where they stand, as `{**record, **history}`."""
    root = make_workspace({"deals/a.md": "---\ntitle: A\nstage: lead\nstage_since: 2026-01-05\n---\nNotes.\n"})
    from plaintext_crm.site.pages import gather_site_data

    site = gather_site_data(root, TODAY)
    site.cache_dir = cache_folder(root)
    first = data_json(site)
    assert first == _plain_text(site)
    again = data_json(site)  # the file is recent, so nothing was stored; the same text either way
    assert again == first
    fragments = RecordFragments(root, None, lambda value: json.dumps(value, separators=(",", ":"),
                                                                       default=json_default), lambda r: {"a": 1, "b": 2})
    assert fragments.text(site.workspace.deals["a"], {"b": 3, "c": 4}) == '{"a":1,"b":3,"c":4}'


def test_deal_figures_texts_are_reused_by_repr_and_ignored_when_damaged(tmp_path: Path) -> None:
    """figures.deals in data.json: a value with the same repr reuses its stored text; a damaged store is ignored."""
    from dataclasses import dataclass

    from plaintext_crm.site.data_fragments import FIGURES_FILE, FigureTexts

    @dataclass(frozen=True)
    class Value:
        amount: int

    converted: list[object] = []

    def convert(value: Value) -> dict[str, int]:
        converted.append(value)
        return {"amount": value.amount}

    first = FigureTexts(tmp_path, json.dumps, convert)
    assert first.text(Value(1)) == '{"amount": 1}'
    first.save()
    second = FigureTexts(tmp_path, json.dumps, convert)
    assert second.text(Value(1)) == '{"amount": 1}' and second.text(Value(2)) == '{"amount": 2}'
    assert converted == [Value(1), Value(2)]
    assert FigureTexts(tmp_path, json.dumps, convert, [__file__]).stored == {}  # other code: other texts
    data = bytearray((tmp_path / FIGURES_FILE).read_bytes())
    data[-2] ^= 1
    (tmp_path / FIGURES_FILE).write_bytes(bytes(data))
    assert FigureTexts(tmp_path, json.dumps, convert).text(Value(1)) == '{"amount": 1}'
    assert len(converted) == 3


def test_data_json_with_stored_figures_equals_the_plain_encoding_after_a_stage_change(workspace: Path) -> None:
    out = workspace.parent / "site"
    build_site(workspace, out, TODAY, jobs=1)
    deal = next(iter(sorted((workspace / "deals").glob("*.md"))))
    text = deal.read_text(encoding="utf-8")
    deal.write_text(text.replace("value:", "value: 1\nold_value:", 1), encoding="utf-8")
    _age(deal, 60)
    build_site(workspace, out, TODAY, jobs=1)
    fresh = build_site(workspace, workspace.parent / "fresh", TODAY, use_cache=False, jobs=1)
    assert (out / "data.json").read_bytes() == (fresh.out / "data.json").read_bytes()


def test_the_record_texts_are_not_written_again_when_nothing_new_is_kept(workspace: Path) -> None:
    out = workspace.parent / "site"
    build_site(workspace, out, TODAY, jobs=1)
    stored = cache_folder(workspace) / FRAGMENTS_FILE
    first = stored.stat().st_ino
    deal = next(iter(sorted((workspace / "deals").glob("*.md"))))
    with deal.open("a", encoding="utf-8") as handle:
        handle.write("\nA line just now.\n")  # changed a moment ago: its text is not kept yet
    build_site(workspace, out, TODAY, jobs=1)
    assert stored.stat().st_ino == first  # atomic writes replace the file: the same inode means no write
    _age(deal, 60)
    build_site(workspace, out, TODAY, jobs=1)
    assert stored.stat().st_ino != first  # now settled: its new text is kept
