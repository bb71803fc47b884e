"""Red-team payloads against the fixed main (issue #11, re-tested "with other payloads"): each test is an
attack that got through after the first round of fixes, run through the real CLI on a copy of the example."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from tests.conftest import EXAMPLE, EXAMPLE_TODAY

DEAL = """---
title: Hostile
client: fjord-foods
owner: ana
stage: proposal
value: {value}
created: 2026-11-01
expected_close: 2026-12-20
next_action: Call
next_action_due: 2026-12-01
---
"""


def example(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    for rel, text in (files or {}).items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, [*args], env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}, catch_exceptions=True)


def no_crash(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "internal error" not in result.output
    assert result.exit_code in (0, 1, 2), result.output


@pytest.mark.parametrize("value", ["1" + "0" * 400, "-" + "9" * 350, "0x" + "f" * 300])
def test_integer_beyond_float_range_is_f002(tmp_path: Path, value: str) -> None:
    """An integer too large for a float (but short enough for YAML's digit bound) crashed every command in
    the finite check (OverflowError: int too large to convert to float)."""
    root = example(tmp_path, {"deals/fjord-foods-huge.md": DEAL.format(value=value)})
    result = invoke("lint", str(root))
    no_crash(result)
    assert result.exit_code == 1
    assert "deals/fjord-foods-huge.md:6:1: F002" in result.output
    for command in (["followups"], ["schedule"], ["build", "-o", str(tmp_path / "site")]):
        no_crash(invoke(*command, str(root)))
