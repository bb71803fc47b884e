"""Red-team payloads against the fixed main (issue #11, re-tested "with other payloads"): each test is an
attack that got through after the first round of fixes, run through the real CLI on a copy of the example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from tests.support import EXAMPLE, EXAMPLE_TODAY

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


HIDDEN_RAW = ("\u2028", "\u2029", "\x85", "\u202e", "\u2066", "\u200b", "\x7f")


def test_site_data_json_writes_hidden_characters_as_escapes(tmp_path: Path) -> None:
    """data.json is a JSON output like `lint --format json`: docs/security.md promises hidden characters
    (line separators, NEL, bidi overrides, DEL) as \\u escapes, but the site wrote them raw, so a `cat` or a
    diff of data.json showed reordered or split text."""
    title = "Safe " + "".join(HIDDEN_RAW) + " end"
    escaped = title.encode("unicode_escape").decode("ascii")  # YAML's double-quoted escapes are Python's
    deal = DEAL.format(value=1000).replace("title: Hostile", f'title: "{escaped}"')
    config_name = 'name: "Studio \\u202e\\u2028"'
    root = example(tmp_path, {"deals/fjord-foods-hidden.md": deal})
    crm = root / "crm.yaml"
    crm.write_text(crm.read_text(encoding="utf-8").replace("name: Brightline Studio", config_name), encoding="utf-8")
    out = tmp_path / "site"
    result = invoke("build", str(root), "-o", str(out))
    no_crash(result)
    assert result.exit_code == 0, result.output
    text = (out / "data.json").read_text(encoding="utf-8")
    assert [char for char in HIDDEN_RAW if char in text] == []
    data = json.loads(text)
    assert data["deals"]["fjord-foods-hidden"]["title"] == title


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.mark.git
@pytest.mark.parametrize("rel", ["crm.yaml", "deals/fjord-foods-sub.md"])
def test_staged_gitlink_is_judged_as_the_folder_a_checkout_makes(tmp_path: Path, rel: str) -> None:
    """A gitlink (mode 160000, a submodule entry) staged as crm.yaml or as a record passed `lint --staged`
    with "0 records checked": a checkout of that commit makes an empty folder there, which plain lint
    refuses (F001). The hook must judge what the commit records."""
    root = example(tmp_path)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "example")
    head = _git(root, "rev-parse", "HEAD").strip()
    _git(root, "update-index", "--add", "--cacheinfo", f"160000,{head},{rel}")
    result = invoke("lint", "--staged", str(root))
    no_crash(result)
    assert result.exit_code == 1, result.output
    assert f"{rel}:1:1: F001" in result.output
