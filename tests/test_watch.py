"""The watcher (plaintext_crm.site.watch): which paths count, debouncing bursts, folders not files, failures reported."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from watchdog.events import FileClosedNoWriteEvent, FileModifiedEvent, FileMovedEvent, FileOpenedEvent

from plaintext_crm.site.watch import ChangeCollector, Watcher, describe_failure, is_ignored
from tests.support import wait_until


@pytest.mark.parametrize(("rel", "ignored"), [
    ("deals/a.md", False), ("crm.yaml", False), ("site-templates/base.html", False),
    ("deals/.a.md.swp", True), ("deals/a.md~", True), ("deals/.#a.md", True), ("deals/4913", True),
    ("deals/a.md.tmp", True), ("deals/#a.md#", True), (".git/index", True), (".plaintext-crm/cache/x", True),
    ("site/index.html", True), ("site", True), (".site-building-site-x1/index.html", True),
    (".site-old-site-x/site/a.html", True), ("sites/a.md", False),
])
def test_ignored_paths(rel: str, ignored: bool) -> None:
    assert is_ignored(rel, "site") is ignored


def test_the_callback_records_relative_paths_and_sets_the_flag(tmp_path: Path) -> None:
    collector = ChangeCollector(tmp_path, tmp_path / "site")
    root = str(tmp_path.resolve())
    collector.on_any_event(FileOpenedEvent(f"{root}/deals/a.md"))  # opening changes nothing
    collector.on_any_event(FileClosedNoWriteEvent(f"{root}/deals/a.md"))
    assert not collector.flag.is_set()
    collector.on_any_event(FileModifiedEvent(f"{root}/deals/.a.md.swp"))
    collector.on_any_event(FileModifiedEvent(f"{root}/site/deals/a.html"))
    assert not collector.flag.is_set()
    collector.on_any_event(FileMovedEvent(f"{root}/deals/a.md.tmp", f"{root}/deals/a.md"))  # save by rename
    assert collector.flag.is_set()
    assert collector.take() == {"deals/a.md"}
    assert collector.take() == set()


@pytest.fixture
def watched(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "ws"
    (root / "deals").mkdir(parents=True)
    (root / "crm.yaml").write_text("name: Test\n", encoding="utf-8")
    (root / "deals/a.md").write_text("---\ntitle: A\n---\n", encoding="utf-8")
    watcher = Watcher(root, root / "site")
    watcher.start()
    yield root, watcher
    watcher.stop()


def changes_after(watcher: Watcher, action, seconds: float = 10) -> set[str]:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    deadline = threading.Timer(seconds, stop.set)
    deadline.start()
    action()
    found = watcher.wait(stop)
    deadline.cancel()  # else the interpreter waits out the timer at exit
    return found


def test_a_burst_of_writes_is_one_change(watched) -> None:  # type: ignore[no-untyped-def]
    root, watcher = watched

    def burst() -> None:
        for index in range(5):
            (root / "deals/a.md").write_text(f"---\ntitle: A{index}\n---\n", encoding="utf-8")
            time.sleep(0.01)  # the scenario: writes spread over a moment, not one write

    assert changes_after(watcher, burst) == {"deals/a.md"}
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert watcher.wait(stop) == set()  # nothing left over from the burst


def test_an_editor_save_by_rename_with_swap_and_probe_files(watched) -> None:  # type: ignore[no-untyped-def]
    root, watcher = watched

    def vim_like_save() -> None:
        (root / "deals/4913").write_text("", encoding="utf-8")  # vim's probe file
        (root / "deals/4913").unlink()
        (root / "deals/.a.md.swp").write_bytes(b"swap")
        (root / "deals/a.md~").write_text("backup", encoding="utf-8")
        (root / "deals/.a.md.new").write_text("---\ntitle: Saved\n---\n", encoding="utf-8")
        os.replace(root / "deals/.a.md.new", root / "deals/a.md")

    changed = changes_after(watcher, vim_like_save)
    assert "deals/a.md" in changed
    assert not any(rel.endswith(("4913", ".swp", "~")) for rel in changed)


def test_crm_yaml_templates_and_new_folders_are_watched(watched) -> None:  # type: ignore[no-untyped-def]
    root, watcher = watched
    assert changes_after(watcher, lambda: (root / "crm.yaml").write_text("name: Other\n", encoding="utf-8")) \
        == {"crm.yaml"}

    def new_templates() -> None:
        (root / "site-templates").mkdir()

    assert "site-templates" in changes_after(watcher, new_templates)
    seen_in_new_folder(watcher, lambda: (root / "site-templates/_footer.html").write_text(
        "<footer>x</footer>", encoding="utf-8"), {"site-templates/_footer.html"})
    assert "projects" in changes_after(watcher, lambda: (root / "projects").mkdir())
    seen_in_new_folder(watcher, lambda: (root / "projects/p.md").write_text("---\ntitle: P\n---\n", encoding="utf-8"),
                       {"projects/p.md"})


def seen_in_new_folder(watcher: Watcher, write: Callable[[], object], expected: set[str]) -> None:
    """A folder just created is watched once the watcher's thread has added it: write until the change is seen
    (instead of sleeping and hoping the watch is there)."""
    wait_until(lambda: changes_after(watcher, write, seconds=1) == expected, 10, f"a change to {expected}")


def test_the_output_folder_and_readme_do_not_wake_the_loop(watched) -> None:  # type: ignore[no-untyped-def]
    root, watcher = watched
    (root / "site").mkdir()
    (root / "site/index.html").write_text("x", encoding="utf-8")
    (root / "README.md").write_text("notes", encoding="utf-8")
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    assert watcher.wait(stop) == set()


def test_describe_failure_names_the_template_and_line(tmp_path: Path) -> None:
    from jinja2 import Environment, FileSystemLoader, TemplateSyntaxError

    (tmp_path / "site-templates").mkdir()
    (tmp_path / "site-templates/page.html").write_text("ok\n{% if %}\n", encoding="utf-8")
    env = Environment(loader=FileSystemLoader(str(tmp_path / "site-templates")))
    with pytest.raises(TemplateSyntaxError) as caught:
        env.get_template("page.html")
    problem = describe_failure(caught.value, tmp_path)
    assert problem.where == "site-templates/page.html:2"
    assert problem.message.startswith("TemplateSyntaxError: ")
