"""docs/editor.md's plugin-free Neovim set-up, run as written in a headless Neovim against the real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lsp_support import ACME_CLIENT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim is not installed (scripts/test installs Debian's neovim for CI)")]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "editor.md"
MARKER = "<!-- neovim-plain: tests/test_lsp_neovim.py extracts this block -->"

DEAL = """\
---
title: Website relaunch
client: acme
stage: proposal
value: 12000
next_action: Send the revised proposal
next_action_due: 2026-11-30
---
"""

# Waits for the server's diagnostics, asks for the definition of `acme` on line 3, writes both as JSON.
CHECK = """\
local ok = vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local found = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(found, { line = d.lnum, col = d.col, end_col = d.end_col, message = d.message,
                        code = d.user_data and d.user_data.lsp and d.user_data.lsp.code or d.code })
end
vim.api.nvim_win_set_cursor(0, { 3, 9 })
local answers = vim.lsp.buf_request_sync(0, 'textDocument/definition', vim.lsp.util.make_position_params(), 10000)
local targets = {}
for _, answer in pairs(answers or {}) do
  for _, location in ipairs(answer.result or {}) do table.insert(targets, location.uri or location.targetUri) end
end
local names = {}
for _, client in pairs(vim.lsp.get_active_clients()) do table.insert(names, client.name) end
local out = io.open(vim.env.CHECK_OUT, 'w')
out:write(vim.fn.json_encode({ waited = ok, clients = names, diagnostics = found, definition = targets }))
out:close()
vim.cmd('qa!')
"""


def documented_block() -> str:
    text = DOCS.read_text(encoding="utf-8")
    after = text[text.index(MARKER) + len(MARKER):]
    match = re.match(r"\s*```lua\n(.*?)```", after, re.DOTALL)
    assert match, "the block after the marker in docs/editor.md is not a Lua code block"
    return match.group(1)


def test_the_documented_neovim_setup_shows_findings_and_jumps(make_workspace: Callable[..., Path],
                                                               tmp_path: Path) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": DEAL})
    config = tmp_path / "init.lua"
    config.write_text(documented_block(), encoding="utf-8")
    check = tmp_path / "check.lua"
    check.write_text(CHECK, encoding="utf-8")
    out = tmp_path / "result.json"
    home = tmp_path / "home"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PLAINTEXT_CRM_TODAY": "2026-11-26", "CHECK_OUT": str(out), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_STATE_HOME": str(home / "state")}
    done = subprocess.run(["nvim", "--headless", "-u", str(config), "deals/site.md", "-c", f"luafile {check}"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), f"nvim wrote no result (exit {done.returncode}): {done.stdout} {done.stderr}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["waited"] is True and result["clients"] == ["plaintext-crm"]
    assert [(d["code"], d["line"], d["col"], d["end_col"]) for d in result["diagnostics"]] == [("D001", 0, 0, 3)]
    assert result["definition"] == [(root / "clients" / "acme.md").as_uri()]
