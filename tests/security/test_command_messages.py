"""Editing commands print names and values from the workspace escaped for the terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from tests.support import ACME_CLIENT, EXAMPLE_TODAY, LEAD_DEAL

ESCAPE = "\x1b]0;owned\x07\x1b[2J"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})


def raw_controls(text: str) -> list[str]:
    return [char for char in text if (ord(char) < 32 and char != "\n") or 0x7f <= ord(char) < 0xa0]


def test_dry_run_diff_shows_control_characters_escaped(make_workspace: Callable[..., Path]) -> None:
    # YAML refuses raw control characters, but the Markdown body (in the diff's context) may hold them.
    root = make_workspace({"clients/acme.md": ACME_CLIENT,
                           "deals/site.md": LEAD_DEAL.format(title="Site", next_action="Call Bob") + f"Notes {ESCAPE}\n"})
    result = run("next", "site", "Send the quote", str(root), "--due", "2026-12-01", "--dry-run")
    assert result.exit_code == 0, result.output
    assert " Notes \\x1b]0;owned\\x07\\x1b[2J" in result.output
    assert raw_controls(result.output) == []


def test_written_edit_summary_shows_control_characters_escaped(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": LEAD_DEAL.format(title="Site", next_action="Call x")})
    result = run("next", "site", f"Send {ESCAPE}", str(root), "--due", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert raw_controls(result.output) == []
    front = (root / "deals/site.md").read_text(encoding="utf-8").split("---\n")[1]
    assert yaml.safe_load(front)["next_action"] == f"Send {ESCAPE}"
