"""Shared fixtures and helpers: throwaway workspaces built from {path: text}, `wait_until`, and the
`slow` marker for every test that starts a real process (the fast tier is `pytest -m "not slow"`).

Tests import shared things from here as `from tests.conftest import ...`, never from another test module."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import shutil
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "workspace-example"
EXAMPLE_TODAY = "2026-11-26"
ARTIFACTS = REPO / "test-artifacts"  # screenshots the browser tests keep
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

MINIMAL_CONFIG = """\
name: Test Studio
currency: EUR
team:
  ana: {name: Ana Ruiz, email: ana@example.com}
  ben: {name: Ben Okafor}
  old: {name: Old Timer, active: false}
lost_reasons: [price, timing]
"""

# Test modules whose every test starts a real process: the CLI as a subprocess, git, pre-commit,
# Chromium, a server, or a multiprocessing build. Tests elsewhere that do, or that run for seconds (many
# generated examples), are marked `slow` where they stand.
SLOW_MODULES = frozenset({
    "test_browser_site", "test_build_overlap", "test_delivery_browser", "test_hooks", "test_serve_browser",
    "test_caches", "test_external_content", "test_hook_staged", "test_init_gitignore", "test_site_output",
    "test_serve_host", "test_redteam_files",
    # and modules of many end-to-end cases, each a copy of the example and a full command or build: seconds
    "test_write_paths", "test_templates_sandbox", "test_schedule_properties",
})
# Tests in the security modules (which get their marks here, not in the files) that start a process or run
# for seconds.
SLOW_TESTS = {
    "test_hostile_yaml": {"test_alias_bomb_build_writes_a_small_site", "test_alias_bomb_in_a_record_is_refused_fast",
                          "test_alias_bomb_in_crm_yaml_is_refused_fast",
                          "test_alias_bomb_in_git_history_and_working_tree_for_changes",
                          "test_every_command_survives_hostile_numbers_and_dates"},
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


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "the condition",
               every: float = 0.02) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds. For tests that wait for
    an event (a file, a server, a rebuild): never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(every)


@pytest.fixture(autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache folder (XDG_CACHE_HOME), inherited by the CLI subprocesses it runs:
    no test reads or writes ~/.cache, and no test sees another's caches."""
    home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("PLAINTEXT_CRM_CACHE_DIR", raising=False)
    return home


ACME_CLIENT = "---\nname: Acme\nowner: ana\n---\n"
# An open deal of ana's for Acme (with MINIMAL_CONFIG); values are YAML double-quoted, so "\\e" is ESC.
LEAD_DEAL = """\
---
title: "{title}"
client: acme
owner: ana
stage: lead
value: 1000
next_action: "{next_action}"
next_action_due: 2026-11-30
---
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root; text is dedented."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content), encoding="utf-8", newline="")
    return root


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """`folder` served over http by a thread on 127.0.0.1 (a static host for the browser tests); its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def pre_commit_hook_source(folder: Path) -> Path:
    """A git repository holding this repository's .pre-commit-hooks.yaml, as pre-commit needs a repo."""
    source = folder / "hook-source"
    source.mkdir()
    shutil.copy(REPO / ".pre-commit-hooks.yaml", source / ".pre-commit-hooks.yaml")
    env = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": os.environ.get("PATH", "")}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "hooks"]):
        subprocess.run(["git", *args], cwd=source, check=True, capture_output=True, env=env)
    return source
