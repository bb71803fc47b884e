"""Shared fixtures: throwaway workspaces built from {path: text}."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "workspace-example"
EXAMPLE_TODAY = "2026-11-26"

MINIMAL_CONFIG = """\
name: Test Studio
currency: EUR
team:
  ana: {name: Ana Ruiz, email: ana@example.com}
  ben: {name: Ben Okafor}
  old: {name: Old Timer, active: false}
lost_reasons: [price, timing]
"""


@pytest.fixture(autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache folder (XDG_CACHE_HOME), inherited by the CLI subprocesses it runs:
    no test reads or writes ~/.cache, and no test sees another's caches."""
    home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("PLAINTEXT_CRM_CACHE_DIR", raising=False)
    return home


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
