"""`plaintext-crm lsp` without its optional packages: a message saying what to install, exit 2."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli


def test_lsp_without_pygls_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygls", None)  # as if the `lsp` extra were not installed
    monkeypatch.delitem(sys.modules, "plaintext_crm.lsp.server", raising=False)
    monkeypatch.delitem(sys.modules, "pygls.lsp.server", raising=False)
    result = CliRunner().invoke(cli, ["lsp"])
    assert result.exit_code == 2
    assert "pip install 'plaintext-crm[lsp]'" in result.output
    assert "Traceback" not in result.output


def test_lsp_help_names_the_editor_page() -> None:
    result = CliRunner().invoke(cli, ["lsp", "--help"])
    assert result.exit_code == 0
    assert "docs/editor.md" in result.output
