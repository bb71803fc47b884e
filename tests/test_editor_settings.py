"""`init` maps crm.yaml to its JSON Schema in .vscode/settings.json, merging with what is there, never clobbering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.commands.schema import schema_of
from plaintext_crm.editing.editor_settings import SCHEMA_FILE, SETTINGS_FILE, NotMerged, merge_settings

OURS = {"./.vscode/crm.schema.json": ["crm.yaml"]}


def merged(data: bytes | None) -> object:
    result = merge_settings(data)
    return None if result is None else json.loads(result)


def test_merge_creates_adds_and_keeps_other_settings() -> None:
    assert merged(None) == {"yaml.schemas": OURS}
    assert merged(b"  \n") == {"yaml.schemas": OURS}
    assert merged(b'{"editor.tabSize": 2, "yaml.schemas": {"other.json": ["*.yml"]}}') == {
        "editor.tabSize": 2, "yaml.schemas": {"other.json": ["*.yml"], **OURS}}
    assert merged(b'{"yaml.schemas": {"./.vscode/crm.schema.json": ["x.yaml"]}}') == {
        "yaml.schemas": {"./.vscode/crm.schema.json": ["x.yaml", "crm.yaml"]}}


def test_merge_does_nothing_when_the_mapping_is_there() -> None:
    assert merge_settings(b'{"yaml.schemas": {"./.vscode/crm.schema.json": "crm.yaml"}}') is None
    assert merge_settings(json.dumps({"yaml.schemas": OURS}).encode()) is None


@pytest.mark.parametrize("data", [b'{\n  // mine\n  "a": 1\n}', b'{"a": 1,}', b"[1]", b'{"yaml.schemas": [1]}',
                                  b"\xff\xfe"])
def test_merge_refuses_what_it_cannot_rewrite_without_loss(data: bytes) -> None:
    with pytest.raises(NotMerged):
        merge_settings(data)


def test_init_writes_the_schema_and_the_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "ws"), "--no-git"])
    assert result.exit_code == 0, result.output
    assert f"  {SCHEMA_FILE}\n  {SETTINGS_FILE}\n" in result.output
    assert json.loads((tmp_path / "ws" / SCHEMA_FILE).read_text(encoding="utf-8")) == schema_of("crm")
    assert json.loads((tmp_path / "ws" / SETTINGS_FILE).read_text(encoding="utf-8")) == {"yaml.schemas": OURS}


def test_init_merges_an_existing_settings_file_and_leaves_jsonc_alone(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / ".vscode").mkdir(parents=True)
    (plain / SETTINGS_FILE).write_text('{"editor.tabSize": 2}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(plain), "--no-git"])
    assert result.exit_code == 0, result.output
    assert f"{SETTINGS_FILE} (added yaml.schemas for crm.yaml)" in result.output
    assert json.loads((plain / SETTINGS_FILE).read_text(encoding="utf-8")) == {"editor.tabSize": 2,
                                                                               "yaml.schemas": OURS}
    commented = tmp_path / "commented"
    (commented / ".vscode").mkdir(parents=True)
    original = b'{\n  // tabs\n  "editor.tabSize": 2,\n}\n'
    (commented / SETTINGS_FILE).write_bytes(original)
    result = CliRunner().invoke(cli, ["init", str(commented), "--no-git"])
    assert result.exit_code == 0, result.output
    assert (commented / SETTINGS_FILE).read_bytes() == original
    assert "left .vscode/settings.json as it is" in result.output
    assert '"yaml.schemas": {"./.vscode/crm.schema.json": ["crm.yaml"]}' in result.output


def test_init_never_writes_through_a_linked_vscode_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".vscode").symlink_to(elsewhere, target_is_directory=True)
    result = CliRunner().invoke(cli, ["init", str(workspace), "--no-git"])
    assert result.exit_code == 0, result.output
    assert "warning: left .vscode as it is" in result.output
    assert list(elsewhere.iterdir()) == []
