"""Writes stay in the workspace: no edit follows a symlink, takes a path for an id, or leaves a traceback.

Each test runs the real CLI on a copy of workspace-example placed at <tmp>/a/b/ws, with files and
folders outside it that a hostile link could point at, and checks the whole <tmp> tree afterwards:
a refused command changes nothing anywhere (byte for byte, links and modes included).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.editing.atomic import EditError, read_text, write_atomic
from plaintext_crm.editing.edit import apply_changes, new_file, plan_edit
from tests.support import EXAMPLE, EXAMPLE_TODAY

OPEN_DEAL = "tidewater-bikes-app"  # stage lead, no next action
WON_DEAL = "pinecrest-hotels-microsite"  # won, complete hand-off, no project yet
EXE = Path(sys.executable).with_name("plaintext-crm")

# The command line of each editing command on a deal given as DEAL.
DEAL_COMMANDS = {
    "next": (OPEN_DEAL, ["next", "DEAL", "Call Ben", "--due", "+3d"]),
    "move": (OPEN_DEAL, ["move", "DEAL", "qualified"]),
    "handoff": (WON_DEAL, ["handoff", "DEAL"]),
}
NEW_DEAL = ["new", "deal", "fresh", "--title", "Fresh", "--client", "tidewater-bikes", "--owner", "leo",
            "--next", "Call", "--due", "+3d"]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """workspace-example at <tmp>/a/b/ws, and <tmp>/elsewhere holding a file links can aim at."""
    root = tmp_path / "a" / "b" / "ws"
    shutil.copytree(EXAMPLE, root)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "victim.md").write_text("root:x:0:0:root:/root:/bin/bash\n")
    return root


def tree(folder: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under `folder`: links as their target, files as bytes and mode; never followed."""
    found: dict[str, tuple[object, ...]] = {}
    for top, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(top) / name
            info = path.lstat()
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir", info.st_mode)
            else:
                found[rel] = ("file", path.read_bytes(), info.st_mode)
    return found


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})


def refused(result: Result, *parts: str) -> str:
    """The output of a cleanly refused command (exit 2, no traceback), checked to contain `parts`."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for part in parts:
        assert part in result.output
    return result.output


def deal_command(command: str, reference: str | None = None) -> tuple[str, list[str]]:
    deal, args = DEAL_COMMANDS[command]
    return deal, [reference or deal if arg == "DEAL" else arg for arg in args]


def link(path: Path, target: str | Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)


# --- the repros: symlinked record files -------------------------------------------------------------------

def test_new_does_not_follow_a_dangling_link_out_of_the_workspace(ws: Path, tmp_path: Path) -> None:
    link(ws / "deals" / "fresh.md", "../../escape.md")
    before = tree(tmp_path)
    output = refused(run(*NEW_DEAL, str(ws)), "deals/fresh.md", "symbolic link", "outside the workspace")
    assert "nothing was written" in output
    assert not (tmp_path / "a" / "escape.md").exists() and not (ws.parent / "escape.md").exists()
    assert tree(tmp_path) == before


def test_new_does_not_write_over_a_file_outside_through_a_link(ws: Path, tmp_path: Path) -> None:
    link(ws / "deals" / "fresh.md", tmp_path / "elsewhere" / "victim.md")
    before = tree(tmp_path)
    refused(run(*NEW_DEAL, str(ws)), "deals/fresh.md", "symbolic link")
    assert tree(tmp_path) == before


def test_new_refuses_a_link_even_to_a_place_inside_the_workspace(ws: Path, tmp_path: Path) -> None:
    link(ws / "deals" / "fresh.md", "../projects/fresh.md")
    before = tree(tmp_path)
    refused(run(*NEW_DEAL, str(ws)), "deals/fresh.md", "symbolic link", "projects/fresh.md")
    assert tree(tmp_path) == before


def test_handoff_does_not_follow_the_project_link_out_of_the_workspace(ws: Path, tmp_path: Path) -> None:
    link(ws / "projects" / f"{WON_DEAL}.md", "../../escape.md")
    before = tree(tmp_path)
    refused(run("handoff", WON_DEAL, str(ws)), f"projects/{WON_DEAL}.md", "symbolic link")
    assert not (ws.parent / "escape.md").exists()
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", DEAL_COMMANDS)
@pytest.mark.parametrize("target", ["outside", "passwd", "inside", "dangling"])
def test_an_edited_deal_that_is_a_link_is_refused(ws: Path, tmp_path: Path, command: str, target: str) -> None:
    deal, args = deal_command(command)
    record = ws / "deals" / f"{deal}.md"
    if target == "outside":  # a valid deal living outside: the edit would write there
        shutil.copy(record, tmp_path / "elsewhere" / f"{deal}.md")
        link(record, tmp_path / "elsewhere" / f"{deal}.md")
    elif target == "passwd":
        link(record, tmp_path / "elsewhere" / "victim.md")
    elif target == "inside":  # a second name for a file of the workspace
        shutil.copy(record, ws / "deals" / "real.md")
        link(record, "real.md")
    else:
        link(record, "../../gone.md")
    before = tree(tmp_path)
    output = refused(run(*args, str(ws)), f"deals/{deal}.md", "symbolic link")
    if target == "inside":
        assert "deals/real.md" in output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("folder", ["deals", "projects"])
@pytest.mark.parametrize("where", ["outside", "inside"])
def test_a_linked_folder_is_not_written_into(ws: Path, tmp_path: Path, folder: str, where: str) -> None:
    real = tmp_path / "elsewhere" / folder if where == "outside" else ws / "archive" / folder
    shutil.move(ws / folder, real)
    link(ws / folder, real)
    before = tree(tmp_path)
    if folder == "deals":
        for command in DEAL_COMMANDS:
            refused(run(*deal_command(command)[1], str(ws)), "deals", "symbolic link")
        refused(run(*NEW_DEAL, str(ws)), "deals", "symbolic link")
    else:
        refused(run("handoff", WON_DEAL, str(ws)), "projects", "symbolic link")
        refused(run("new", "project", "fresh", "--title", "F", "--client", "tidewater-bikes", "--owner", "leo",
                    str(ws)), "projects", "symbolic link")
    assert tree(tmp_path) == before


# --- the repros: path arguments are paths, ids are ids -----------------------------------------------------

@pytest.mark.parametrize("command", DEAL_COMMANDS)
@pytest.mark.parametrize("with_workspace", [True, False])
def test_a_path_that_does_not_exist_is_not_taken_for_the_deal_of_that_name(
        ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, with_workspace: bool) -> None:
    (tmp_path / "a" / "etc").mkdir()
    monkeypatch.chdir(ws)
    before = tree(tmp_path)
    for reference in ("../../etc/{}.md", "/nonexistent/{}.md", "elsewhere/{}.md", "{}.md", "notes/{}.md"):
        deal, args = deal_command(command, reference.format(DEAL_COMMANDS[command][0]))
        output = refused(run(*args, *([str(ws)] if with_workspace else [])), reference.format(deal), "no such file")
        assert "nothing was written" in output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", DEAL_COMMANDS)
def test_a_deal_file_outside_the_workspace_is_refused(ws: Path, tmp_path: Path, command: str) -> None:
    deal, _ = DEAL_COMMANDS[command]
    copy = tmp_path / "elsewhere" / f"{deal}.md"
    shutil.copy(ws / "deals" / f"{deal}.md", copy)
    client = ws / "clients" / "tidewater-bikes.md"
    before = tree(tmp_path)
    refused(run(*deal_command(command, str(copy))[1], str(ws)), str(copy), "not in the deals folder")
    refused(run(*deal_command(command, str(client))[1], str(ws)), str(client), "not in the deals folder")
    refused(run(*deal_command(command, str(copy))[1]), str(copy))  # no workspace around it
    assert tree(tmp_path) == before


def test_real_paths_still_work_from_anywhere(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = ws / "deals" / f"{OPEN_DEAL}.md"
    assert run("next", str(record), "One", "--due", "+1d").exit_code == 0  # absolute, workspace found from it
    monkeypatch.chdir(ws / "deals")
    assert run("next", f"{OPEN_DEAL}.md", "Two", "--due", "+1d").exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = run("next", f"deals/{OPEN_DEAL}.md", "Three", "--due", "+1d", str(ws))  # relative to the workspace
    assert result.exit_code == 0, result.output
    result = run("next", f"a/b/ws/deals/{OPEN_DEAL}.md", "Four", "--due", "+1d", str(ws))  # relative to here
    assert result.exit_code == 0, result.output
    assert "next_action: Four\n" in record.read_text()


@pytest.mark.parametrize("command", DEAL_COMMANDS)
@pytest.mark.parametrize("reference, message", [("..", "is not a deal id"), (".", "is not a deal id"),
                                                ("x\ny", "is not a deal id"), ("\u202eevil", "is not a deal id"),
                                                ("../deals", "no such file"), ("deals/", "a folder, not a deal file")])
def test_odd_deal_ids_are_refused_cleanly(ws: Path, tmp_path: Path, command: str, reference: str,
                                          message: str) -> None:
    before = tree(tmp_path)
    refused(run(*deal_command(command, reference)[1], str(ws)), message, "nothing was written")
    assert tree(tmp_path) == before


def test_handoff_does_not_name_a_project_after_an_unsafe_deal_file_name(ws: Path, tmp_path: Path) -> None:
    evil = "pinecrest\u202edm.exe"
    (ws / "deals" / f"{WON_DEAL}.md").rename(ws / "deals" / f"{evil}.md")
    before = tree(tmp_path)
    refused(run("handoff", evil, str(ws)), "cannot name its project", "bidi")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("record_id", ["../escape", "..", ".hidden", "a/b", "/tmp/abs", "x\\y", "x\ny", "x\x00y",
                                       "x\u202eevil", "x\u200by", "x\u00a0y", "x y", "fresh.md", "-rf", " fresh",
                                       "con", "a:b"])
@pytest.mark.parametrize("kind", ["deal", "client", "project"])
def test_new_refuses_ids_that_are_not_safe_file_names(ws: Path, tmp_path: Path, kind: str, record_id: str) -> None:
    before = tree(tmp_path)
    options = ["--owner", "leo"] if kind == "client" else \
        ["--title", "T", "--client", "tidewater-bikes", "--owner", "leo", "--next", "x", "--due", "+3d"]
    output = refused(run("new", *options, "--", kind, record_id, str(ws)), "cannot use", "as an id")
    assert "kebab-case" in output or "letters" in output
    assert tree(tmp_path) == before


# --- the write layer itself: races and direct calls ------------------------------------------------------

def test_a_link_swapped_in_after_planning_is_not_written_through(ws: Path, tmp_path: Path) -> None:
    change = plan_edit(ws, f"deals/{OPEN_DEAL}.md", {"next_action": "Call"})
    victim = tmp_path / "elsewhere" / "victim.md"
    shutil.copy(ws / "deals" / f"{OPEN_DEAL}.md", victim)
    link(ws / "deals" / f"{OPEN_DEAL}.md", victim)
    before = tree(tmp_path)
    with pytest.raises(EditError, match="symbolic link"):
        apply_changes([change])
    assert tree(tmp_path) == before


def test_a_folder_swapped_for_a_link_after_planning_is_not_written_into(ws: Path, tmp_path: Path) -> None:
    created = new_file(ws, "projects/fresh.md", "---\ntitle: F\n---\n")
    shutil.move(ws / "projects", tmp_path / "elsewhere" / "projects")
    link(ws / "projects", tmp_path / "elsewhere" / "projects")
    before = tree(tmp_path)
    with pytest.raises(EditError, match="symbolic link"):
        apply_changes([created])
    assert tree(tmp_path) == before


@pytest.mark.parametrize("rel", ["../escape.md", "/tmp/escape.md", "deals/../../escape.md", "deals//x.md", "",
                                 "deals/./x.md"])
def test_the_write_layer_takes_only_plain_relative_paths(ws: Path, tmp_path: Path, rel: str) -> None:
    before = tree(tmp_path)
    with pytest.raises(EditError, match="not a plain path inside the workspace"):
        write_atomic(ws, rel, b"x", None)
    with pytest.raises(EditError, match="not a plain path inside the workspace"):
        read_text(ws, rel)
    assert tree(tmp_path) == before


# --- file-system failures: a message and exit 2, the file as it was, no temporary file --------------------

def test_a_file_where_a_folder_should_be(ws: Path, tmp_path: Path) -> None:
    shutil.rmtree(ws / "projects")
    (ws / "projects").write_text("not a folder\n")
    before = tree(tmp_path)
    refused(run("handoff", WON_DEAL, str(ws)), "projects", "not a folder")
    assert tree(tmp_path) == before
    shutil.rmtree(ws / "deals")
    (ws / "deals").write_text("not a folder\n")
    before = tree(tmp_path)
    refused(run(*NEW_DEAL, str(ws)), "deals", "not a folder")
    assert tree(tmp_path) == before


def test_a_folder_where_a_file_should_be(ws: Path, tmp_path: Path) -> None:
    (ws / "deals" / "fresh.md").mkdir()
    (ws / "projects" / f"{WON_DEAL}.md").mkdir()
    (ws / "deals" / "gone.md").mkdir()
    before = tree(tmp_path)
    refused(run(*NEW_DEAL, str(ws)), "deals/fresh.md", "is a folder")
    refused(run("handoff", WON_DEAL, str(ws)), f"projects/{WON_DEAL}.md", "is a folder")
    refused(run("next", "gone", "Call", "--due", "+1d", str(ws)), "deals/gone.md", "is a folder")
    assert tree(tmp_path) == before


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _run_limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], check=False, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: _limited(limit), env={**os.environ, "PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})


@pytest.mark.parametrize("command", DEAL_COMMANDS)
def test_a_full_disk_leaves_the_files_as_they_were(ws: Path, tmp_path: Path, command: str) -> None:
    deal, args = deal_command(command)
    record = ws / "deals" / f"{deal}.md"
    record.write_bytes(record.read_bytes() + b"\n" + b"A long history of calls.\n" * 4000)  # ~100 kB
    before = tree(tmp_path)
    result = _run_limited(50_000, *args, str(ws))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"deals/{deal}.md" in result.stderr and "File too large" in result.stderr
    assert tree(tmp_path) == before  # no temporary file, no half project


def test_a_failed_handoff_removes_the_projects_folder_it_made(ws: Path, tmp_path: Path) -> None:
    shutil.rmtree(ws / "projects")
    record = ws / "deals" / f"{WON_DEAL}.md"
    record.write_bytes(record.read_bytes() + b"\n" + b"A long history of calls.\n" * 4000)
    before = tree(tmp_path)
    result = _run_limited(50_000, "handoff", WON_DEAL, str(ws))
    assert result.returncode == 2 and "File too large" in result.stderr, result.stderr
    assert tree(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not stop root")
def test_a_read_only_folder(ws: Path, tmp_path: Path) -> None:
    os.chmod(ws / "deals", 0o555)
    try:
        before = tree(tmp_path)
        refused(run("next", OPEN_DEAL, "Call", "--due", "+1d", str(ws)), f"deals/{OPEN_DEAL}.md", "ermission")
        refused(run(*NEW_DEAL, str(ws)), "deals/fresh.md", "ermission")
        assert tree(tmp_path) == before
    finally:
        os.chmod(ws / "deals", 0o755)


@pytest.mark.parametrize("code, advice", [(errno.EACCES, "check the permissions"), (errno.EROFS, "read-only"),
                                         (errno.ENOSPC, "free some disk space"), (errno.EIO, "Input/output")])
def test_a_failing_rename_leaves_the_files_as_they_were(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        code: int, advice: str) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    before = tree(tmp_path)
    monkeypatch.setattr(os, "replace", fail)  # what a read-only or full file system does to the last step
    refused(run("next", OPEN_DEAL, "Call", "--due", "+1d", str(ws)), f"deals/{OPEN_DEAL}.md", os.strerror(code),
            advice, "nothing was written")
    monkeypatch.setattr(os, "link", fail)
    refused(run("handoff", WON_DEAL, str(ws)), f"projects/{WON_DEAL}.md", os.strerror(code), advice)
    assert tree(tmp_path) == before


def test_a_successful_edit_still_keeps_mode_and_leaves_nothing_behind(ws: Path) -> None:
    record = ws / "deals" / f"{OPEN_DEAL}.md"
    record.chmod(0o640)
    result = run("next", OPEN_DEAL, "Call", "--due", "2026-12-01", str(ws))
    assert result.exit_code == 0, result.output
    assert oct(record.stat().st_mode & 0o777) == oct(0o640)
    assert not [p for p in (ws / "deals").iterdir() if p.name.startswith(".")]
    assert f"next_action_due: {dt.date(2026, 12, 1)}" in record.read_text()
