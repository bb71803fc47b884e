"""Shared fixtures and helpers: throwaway workspaces built from {path: text}, `wait_until`, and the
`slow` marker for every test that starts a real process (the fast tier is `pytest -m "not slow"`).

Shared constants and helpers that tests import live in tests/support.py; no test imports conftest."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, EXAMPLE, EXAMPLE_TODAY, MINIMAL_CONFIG, write_files

# Test modules whose every test starts a real process: the CLI as a subprocess, git, pre-commit,
# Chromium, a server, or a multiprocessing build. Tests elsewhere that do, or that run for seconds (many
# generated examples), are marked `slow` where they stand.
SLOW_MODULES = frozenset({
    "test_browser_site", "test_build_overlap", "test_delivery_browser", "test_hooks", "test_serve_browser",
    "test_caches", "test_external_content", "test_hook_staged", "test_init_gitignore", "test_site_output",
    "test_serve_host", "test_redteam_files",
    # and modules of many end-to-end cases, each a copy of the example and a full command or build: seconds
    "test_write_paths", "test_templates_sandbox", "test_schedule_properties",
    # and modules whose cases build a site into a folder and build it again (cached, in place, incremental,
    # watched) or run many edit commands over a copy of the example: about a second each, 3-4 s a module
    # (test_site_build and test_site_golden stay fast).
    "test_site_data_fragments", "test_site_in_place", "test_incremental", "test_site_fragments", "test_watch",
    "test_watch_odd_files", "test_site_active_content", "test_commands_edit",
})
# Tests in the security modules (which get their marks here, not in the files) that start a process or run
# for seconds.
SLOW_TESTS = {
    "test_hostile_yaml": {"test_alias_bomb_build_writes_a_small_site", "test_alias_bomb_in_a_record_is_refused_fast",
                          "test_alias_bomb_in_crm_yaml_is_refused_fast",
                          "test_alias_bomb_in_git_history_and_working_tree_for_changes",
                          "test_every_command_survives_hostile_numbers_and_dates",
                          "test_recursive_alias_does_not_stop_other_commands"},
    "test_redteam_parsing": {"test_integer_beyond_float_range_is_f002",  # a build each
                             "test_site_data_json_writes_hidden_characters_as_escapes"},
    "test_odd_files": {"test_a_link_out_of_the_workspace_is_never_read_or_published",
                       "test_an_odd_crm_yaml_is_f001_and_the_records_still_load",
                       "test_build_does_not_wait_on_a_pipe_named_crm_yaml",
                       "test_each_odd_entry_is_an_f001_finding_with_its_path", "test_every_command_survives_odd_entries"},
    "test_output_escaping": {"test_changes_markdown_renders_no_markup_and_keeps_its_tables",
                             "test_changes_text_shows_control_characters_visibly",
                             "test_error_messages_show_control_characters_visibly"},
    "test_templates_sandbox": {"test_errors_in_forked_render_workers_are_the_same_clear_error",
                               "test_damaged_compiled_templates_are_compiled_again"},  # seconds each
    "test_write_paths": {"test_a_failed_handoff_removes_the_projects_folder_it_made",
                         "test_a_full_disk_leaves_the_files_as_they_were"},
}
# Markers that mean a real process (Chromium, git) and so imply `slow`.
SLOW_MARKERS = ("browser", "git", "network")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` the tests of SLOW_MODULES and SLOW_TESTS and every test marked browser, git or network."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        module = item.module.__name__.rpartition(".")[2]
        if module in SLOW_MODULES or item.originalname in SLOW_TESTS.get(module, ()) \
                or any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache folder (XDG_CACHE_HOME), inherited by the CLI subprocesses it runs:
    no test reads or writes ~/.cache, and no test sees another's caches."""
    home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("PLAINTEXT_CRM_CACHE_DIR", raising=False)
    return home


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site, built once per session from a copy of workspace-example outside any git repository:
    no git process, and the same pages whatever the state of this checkout's history."""
    from plaintext_crm.site.builder import build_site

    root = tmp_path_factory.mktemp("example") / "ws"
    shutil.copytree(EXAMPLE, root)
    out = root.parent / "site"
    build_site(root, out, dt.date.fromisoformat(EXAMPLE_TODAY), use_cache=False)
    return out


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """A tab of the module's headless Chromium that records console errors and page errors (`page.errors`)."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.errors = errors
    yield tab
    tab.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium through Playwright (the browser tests); skipped when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/test installs it)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Build a workspace from {path: text}; crm.yaml defaults to MINIMAL_CONFIG unless given or None."""

    def make(files: dict[str, str | bytes], config: str | None = MINIMAL_CONFIG, name: str = "ws") -> Path:
        root = tmp_path / name
        root.mkdir()
        if config is not None and "crm.yaml" not in files:
            files = {"crm.yaml": config, **files}
        return write_files(root, files)

    return make


