"""Constants and helpers shared by tests (the example workspace, a fixed today, waiting for events, a static
http server, a pre-commit hook source). Tests import them from here, never from conftest or another test."""

from __future__ import annotations

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

REPO = Path(__file__).resolve().parent.parent


EXAMPLE = REPO / "workspace-example"


EXAMPLE_TODAY = "2026-11-26"


def copy_example_with_history(target: Path) -> Path:
    """A copy of workspace-example at `target` that reads its git history: the example's crm.yaml turns it off
    (its commits are this repository's development), a test committing its own story turns it back on."""
    shutil.copytree(EXAMPLE, target, dirs_exist_ok=True)
    config = target / "crm.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\ngit_history: false\n" in text
    config.write_text(text.replace("\ngit_history: false\n", "\n"), encoding="utf-8")
    return target


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
