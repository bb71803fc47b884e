"""The site's output folder: only files the tool wrote are ever replaced, one build at a time per folder,
no leftovers from killed builds, workers that die with their parent, and file-system failures as messages.

Each test runs the real CLI (click's CliRunner, or a subprocess when a process must be killed or limited)
and checks the folders afterwards: a refused or failed build changes nothing the user wrote, nor the
previous site.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.errors import ToolError
from plaintext_crm.site import builder, output
from plaintext_crm.site.incremental import IncrementalSite
from tests.support import EXAMPLE, EXAMPLE_TODAY, wait_until

DEAL = """\
---
title: Website
client: acme
owner: ana
stage: proposal
value: 24000
created: 2026-09-01
expected_close: 2026-12-15
next_action: Send proposal
next_action_due: 2026-11-20
---
Notes.
"""
CLIENT = "---\nname: Acme\nowner: ana\n---\n"
MARKER = ".plaintext-crm-site"
TODAY = dt.date(2026, 11, 26)
WAIT = 60.0  # seconds an awaited event may take on a loaded machine before the test fails

# Runs the CLI with `builder._write_page` blocking forever once it is called, after saying so with a file
# named after the process in the folder argv[1]; argv[2] is PARALLEL_MIN_PAGES, the rest the CLI arguments.
BLOCKING_BUILD = """\
import os, sys, threading
from plaintext_crm.site import builder
signals = sys.argv[1]
builder.PARALLEL_MIN_PAGES = int(sys.argv[2])
def blocked(site, env, page, staging):
    with open(os.path.join(signals, str(os.getpid())), "w") as handle:
        handle.write(str(staging))
    threading.Event().wait()
builder._write_page = blocked
from plaintext_crm.cli import cli
cli(sys.argv[3:], prog_name="plaintext-crm")
"""


@pytest.fixture
def ws(make_workspace: Callable[..., Path]) -> Path:
    return make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT})


def build(workspace: Path, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["build", str(workspace), "-o", str(out), "--today", EXAMPLE_TODAY, "-q",
                                    *extra])


def run_build(workspace: Path, out: Path, *extra: str, limit_blocks: int | None = None,
              **kwargs: object) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "plaintext_crm", "build", str(workspace), "-o", str(out),
               "--today", EXAMPLE_TODAY, "-q", *extra]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if limit_blocks is not None:  # a full disk: writes past the limit fail with EFBIG (after SIGXFSZ)
        command = ["bash", "-c", f'ulimit -f {limit_blocks}; exec "$@"', "bash", *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False, **kwargs)


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under `folder` (dot files too): file bytes, link targets, and folders."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_bytes()
    return found


def leftovers(parent: Path) -> list[str]:
    return sorted(entry.name for entry in parent.iterdir()
                  if entry.name.startswith((output.STAGING_PREFIX, output.RETIRED_PREFIX)))


def listed(out: Path) -> set[str]:
    return set(json.loads((out / MARKER).read_text(encoding="utf-8"))["files"])


def site_files(out: Path) -> set[str]:
    return {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()} - {MARKER}


def assert_clean_failure(result: Result | subprocess.CompletedProcess[str], *words: str) -> str:
    text = result.output if isinstance(result, Result) else result.stdout + result.stderr
    code = result.exit_code if isinstance(result, Result) else result.returncode
    assert code == 2, text
    assert "Traceback" not in text and "Error: " in text, text
    if isinstance(result, Result):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for word in words:
        assert word in text, (word, text)
    return text


# --- 1. only a folder the tool wrote is replaced, and only the files it wrote ----------------------

def test_repro_a_folder_with_index_html_and_a_user_file_is_refused(ws: Path, tmp_path: Path) -> None:
    folder = tmp_path / "u"
    folder.mkdir()
    (folder / "index.html").write_text("hi\n")
    (folder / "notes.txt").write_text("keep\n")
    before = snapshot(folder)
    text = assert_clean_failure(build(ws, folder), "refusing to replace", MARKER)
    assert "-o" in text  # says how to proceed
    assert snapshot(folder) == before
    assert leftovers(tmp_path) == []


def test_every_build_writes_a_marker_listing_exactly_the_files_it_wrote(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    assert listed(out) == site_files(out) and "index.html" in listed(out) and "static/site.css" in listed(out)
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert "building" not in marker  # the finished site names no process: same bytes for the same site
    again = build(ws, out)
    assert again.exit_code == 0, again.output
    assert listed(out) == site_files(out)
    assert leftovers(tmp_path) == []


def test_a_site_built_without_a_marker_is_refused_with_how_to_proceed(ws: Path, tmp_path: Path) -> None:
    """A site from an older plaintext-crm (no marker): refused, the message says to delete or rename it once."""
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    (out / MARKER).unlink(missing_ok=True)
    before = snapshot(out)
    text = assert_clean_failure(build(ws, out), "older plaintext-crm")
    assert "delete or rename" in text
    assert snapshot(out) == before


@pytest.mark.parametrize("added", ["notes.txt", "deals/notes.txt", "static/mine.css", "drafts/", "drafts/a/b.txt",
                                   "board.html/inside.txt", "link.html->"])
def test_files_added_to_a_built_site_are_never_deleted(ws: Path, tmp_path: Path, added: str) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    if added.endswith("->"):
        (out / added[:-2]).symlink_to(outside)
        shown = added[:-2]
    elif added.endswith("/"):
        (out / added).mkdir()
        shown = added
    else:
        target = out / added
        if target.parent.is_file():  # a page replaced by a folder of the user's
            target.parent.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("keep\n")
        shown = added
    before = snapshot(out)
    text = assert_clean_failure(build(ws, out), "refusing to replace", "did not write")
    assert shown.split("/")[0] in text
    assert snapshot(out) == before
    assert outside.read_text() == "mine\n"
    assert leftovers(tmp_path) == []


def test_names_of_foreign_files_reach_the_terminal_escaped(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    (out / "evil\x1b]0;owned\x07\nError: fake.txt").write_text("keep\n")
    text = assert_clean_failure(build(ws, out), "did not write", "evil\\x1b]0;owned\\x07\\nError: fake.txt")
    assert "\x1b" not in text and "\x07" not in text


def test_a_live_update_never_replaces_a_file_the_tool_did_not_write(ws: Path, tmp_path: Path) -> None:
    """serve and build --watch update pages in place: a user's file where a new page goes stays."""
    out = tmp_path / "site"
    site = IncrementalSite(ws, out, lambda: TODAY)
    site.build()
    assert listed(out) == site_files(out)
    (out / "deals" / "fresh.html").write_text("mine\n")
    (ws / "deals" / "fresh.md").write_text(DEAL.replace("Website", "Fresh"), encoding="utf-8")
    with pytest.raises(ToolError, match="did not write"):
        site.update(["deals/fresh.md"])
    assert (out / "deals" / "fresh.html").read_text() == "mine\n"
    (out / "deals" / "fresh.html").unlink()
    site.update(["deals/fresh.md"])
    (ws / "deals" / "website.md").unlink()
    site.update(["deals/website.md"])
    assert listed(out) == site_files(out)  # pages added and removed in place are listed, and only they
    assert "deals/fresh.html" in listed(out) and "deals/website.html" not in listed(out)


@pytest.mark.parametrize("added", ["notes.txt", "deals/notes.txt"])
def test_a_file_saved_into_the_site_during_the_build_is_kept(ws: Path, tmp_path: Path, added: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)
    write_page = builder._write_page

    def meanwhile(*args: object) -> None:  # the user saves a file into the site while the build renders
        if not (out / added).exists():
            (out / added).write_text("keep\n")
        write_page(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(builder, "_write_page", meanwhile)
    assert_clean_failure(build(ws, out, "--no-cache"), "did not write", added)
    assert snapshot(out) == {**site, added: b"keep\n"}
    assert leftovers(tmp_path) == []


def test_the_old_site_is_removed_file_by_file_keeping_anything_unlisted(ws: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The last line of defence: even a change both checks missed (a coarse clock) loses no file."""
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    (out / "deals" / "late.txt").write_text("keep\n")
    monkeypatch.setattr(output, "check_replaceable", lambda folder: listed(out))
    with output.staging_folder(out) as staging:
        (staging / "index.html").write_text("new\n")
        output.finish(staging, ["index.html"])
        output.swap_in(staging, out)
    assert site_files(out) == {"index.html"}
    [retired] = leftovers(tmp_path)
    assert snapshot(tmp_path / retired) == {"site": "dir", "site/deals": "dir", "site/deals/late.txt": b"keep\n"}
    assert "late.txt" in capsys.readouterr().err
    assert build(ws, out).exit_code == 0  # the folder holding the user's file is no longer the tool's to remove
    assert (tmp_path / retired / "site" / "deals" / "late.txt").read_text() == "keep\n"


def test_force_is_no_way_to_delete_files_the_tool_did_not_write(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    (out / "notes.txt").write_text("keep\n")
    result = build(ws, out, "--force")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (out / "notes.txt").read_text() == "keep\n"


@pytest.mark.parametrize("target", ["user folder", "built site", "missing"])
def test_an_output_path_that_is_a_symlink_is_refused(ws: Path, tmp_path: Path, target: str) -> None:
    real = tmp_path / "elsewhere" / "real"
    if target == "user folder":
        real.mkdir(parents=True)
        (real / "index.html").write_text("hi\n")
        (real / "notes.txt").write_text("keep\n")
    elif target == "built site":
        assert build(ws, real).exit_code == 0
    else:
        real.parent.mkdir()
    link = tmp_path / "site"
    link.symlink_to(real, target_is_directory=True)
    before = snapshot(tmp_path)
    assert_clean_failure(build(ws, link), "symbolic link")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("entry", ["../victim.txt", "a/../../victim.txt", "ABSOLUTE", "", ".", "deals//x.html"])
def test_a_marker_naming_paths_outside_the_folder_is_refused(ws: Path, tmp_path: Path, entry: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("hi\n")
    (folder / "notes.txt").write_text("keep\n")
    forged = str(victim) if entry == "ABSOLUTE" else entry
    (folder / MARKER).write_text(json.dumps({"plaintext-crm": "site", "format": 1,
                                             "files": ["index.html", forged]}))
    before = snapshot(tmp_path)
    assert_clean_failure(build(ws, folder), "refusing to replace", MARKER)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("damage", ["symlink", "not json", "not a list", "a folder"])
def test_a_damaged_marker_is_refused(ws: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    marker = out / MARKER
    good = marker.read_text(encoding="utf-8")
    marker.unlink()
    if damage == "symlink":
        (tmp_path / "elsewhere.json").write_text(good)
        marker.symlink_to(tmp_path / "elsewhere.json")
    elif damage == "not json":
        marker.write_text(good[: len(good) // 2])
    elif damage == "not a list":
        marker.write_text(json.dumps({"plaintext-crm": "site", "format": 1, "files": "index.html"}))
    else:
        marker.mkdir()
    before = snapshot(tmp_path)
    assert_clean_failure(build(ws, out), "refusing to replace", MARKER)
    assert snapshot(tmp_path) == before


# --- 2. concurrency: a lock per output folder, unique temporary names, no leftovers ---------------

def _hold_lock(out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(output.lock_path(out), os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def test_a_second_build_waits_for_the_first_and_says_so(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    handle = _hold_lock(out)
    process = subprocess.Popen([sys.executable, "-m", "plaintext_crm", "build", str(ws), "-o", str(out),
                                "--today", EXAMPLE_TODAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # awaited: the build says it waits before it starts
        assert "waiting for another plaintext-crm build" in line and str(out) in line, line
        assert not out.exists() and process.poll() is None
    finally:
        os.close(handle)  # releases the lock: the waiting build goes on
    stdout, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 0, stderr
    assert "Built " in stdout and "Traceback" not in stderr
    assert listed(out) == site_files(out)


def test_a_build_that_cannot_get_the_lock_in_time_says_so(ws: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    before = snapshot(out)
    monkeypatch.setattr(output, "LOCK_TIMEOUT_SECONDS", 0.2)
    handle = _hold_lock(out)
    try:
        assert_clean_failure(build(ws, out), "another plaintext-crm build", str(out))
    finally:
        os.close(handle)
    assert snapshot(out) == before


def test_concurrent_builds_into_one_folder_all_succeed(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    command = [sys.executable, "-m", "plaintext_crm", "build", str(ws), "-o", str(out), "--today", EXAMPLE_TODAY,
               "-q"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    results = [(process.wait(timeout=120), process.communicate()[1]) for process in processes]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert leftovers(tmp_path) == []
    assert listed(out) == site_files(out)


@pytest.fixture
def signals(tmp_path: Path) -> Path:
    folder = tmp_path / "signals"
    folder.mkdir()
    return folder


@pytest.fixture
def reaped() -> Iterator[list[int]]:
    """Process ids to SIGKILL at the end of the test whatever happens (workers of an old main outlive it)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _await_files(folder: Path, count: int) -> dict[int, str]:
    def found() -> dict[int, str]:
        return {int(path.name): path.read_text() for path in folder.iterdir() if path.read_text()}

    wait_until(lambda: len(found()) >= count, WAIT, f"{count} files in {folder}")
    return found()


def _blocked_build(ws: Path, out: Path, signals: Path, min_pages: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", BLOCKING_BUILD, str(signals), str(min_pages), "build", str(ws),
                             "-o", str(out), "--today", EXAMPLE_TODAY, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_staging_folders_of_killed_builds_are_removed_by_the_next_build(ws: Path, tmp_path: Path, signals: Path,
                                                                        reaped: list[int]) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)
    for _kill in range(2):
        for path in signals.iterdir():
            path.unlink()
        process = _blocked_build(ws, out, signals, 10**9, "--jobs", "1", "--no-cache")
        reaped.append(process.pid)
        staging = Path(_await_files(signals, 1)[process.pid])  # the build is writing pages into it
        assert staging.is_dir() and staging.name.startswith(output.STAGING_PREFIX)
        process.kill()
        process.communicate(timeout=WAIT)
        assert leftovers(tmp_path) == [staging.name]  # the second build removed the first one's
    assert snapshot(out) == site
    foreign = tmp_path / (output.STAGING_PREFIX + "site-mine")  # not the tool's: no marker inside
    foreign.mkdir()
    (foreign / "data.txt").write_text("keep\n")
    with output.staging_folder(out) as live:  # a build of a process that is still running
        result = build(ws, out)
        assert result.exit_code == 0, result.output
        assert live.is_dir()
    assert leftovers(tmp_path) == [foreign.name]
    assert (foreign / "data.txt").read_text() == "keep\n"


def test_a_stale_retired_site_is_put_back_when_the_site_is_missing(ws: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed between the two renames of the swap: the next build puts the old site back before building."""
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)
    gone = subprocess.Popen(["true"])
    gone.wait()
    retired = tmp_path / (output.RETIRED_PREFIX + "site-x1")
    retired.mkdir()
    os.replace(out, retired / "site")
    owner = {"pid": gone.pid, "start": f"{this_boot()}:0", "host": os.uname().nodename}
    (retired / MARKER).write_text(json.dumps({"plaintext-crm": "site", "format": 1, "files": [],
                                              "building": owner, "retired": str(out)}))

    def full(site: object, env: object, page: object, staging: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "x.html"))

    monkeypatch.setattr(builder, "_write_page", full)  # this build fails after the cleanup
    assert_clean_failure(build(ws, out, "--no-cache"), "disk is full")
    assert snapshot(out) == site
    assert leftovers(tmp_path) == []


def test_workers_die_with_a_killed_parent_and_print_nothing(ws: Path, tmp_path: Path, signals: Path,
                                                            reaped: list[int]) -> None:
    out = tmp_path / "site"
    process = _blocked_build(ws, out, signals, 1, "--jobs", "2", "--no-cache")
    reaped.append(process.pid)
    workers = [pid for pid in _await_files(signals, 2) if pid != process.pid]
    reaped.extend(workers)
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    process.send_signal(signal.SIGKILL)
    # The workers share the parent's stderr: it ends only once every one of them is gone.
    _stdout, stderr = process.communicate(timeout=WAIT)
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr
    wait_until(lambda: not any(_alive(pid) for pid in workers), WAIT, "the workers to be gone")
    again = build(ws, out)
    assert again.exit_code == 0, again.output
    assert leftovers(tmp_path) == []


# --- 3. file-system failures: a message and exit 2, the old site and user files as they were ----

@pytest.mark.parametrize("extra", [(), ("--no-cache",)])
def test_a_full_disk_is_a_message_and_the_old_site_stays(tmp_path: Path, extra: tuple[str, ...]) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("site", ".plaintext-crm"))
    out = tmp_path / "site"
    first = run_build(ws, out)
    assert first.returncode == 0, first.stderr
    site = snapshot(out)
    records = snapshot(ws)
    result = run_build(ws, out, *extra, limit_blocks=200)  # data.json alone is bigger than 200 KiB
    text = assert_clean_failure(result)
    assert "disk" in text and "build again" in text
    assert snapshot(out) == site
    assert {rel: value for rel, value in snapshot(ws).items() if not rel.startswith(".plaintext-crm")} == \
        {rel: value for rel, value in records.items() if not rel.startswith(".plaintext-crm")}
    assert leftovers(tmp_path) == []


def test_an_output_parent_that_is_a_file_is_a_message(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("keep\n")
    assert_clean_failure(build(ws, tmp_path / "file" / "site"), "file")
    assert (tmp_path / "file").read_text() == "keep\n"


def test_a_temporary_folder_that_cannot_be_created_is_a_message(ws: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)

    def no_space(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path))

    monkeypatch.setattr(output.tempfile, "mkdtemp", no_space)
    text = assert_clean_failure(build(ws, out, "--no-cache"), "temporary folder", str(tmp_path))
    assert "disk is full" in text
    assert snapshot(out) == site


@pytest.mark.parametrize("failing", ["retire the old site", "move the new site in"])
def test_a_site_folder_that_cannot_be_renamed_is_a_message(ws: Path, tmp_path: Path, failing: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str], **kwargs: object) -> None:
        moving_old = Path(source) == out
        moving_new = Path(target) == out and Path(source).name.startswith(output.STAGING_PREFIX)
        if (moving_old and failing == "retire the old site") or (moving_new and failing == "move the new site in"):
            raise PermissionError(errno.EACCES, "Permission denied", str(source))
        real_replace(source, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    text = assert_clean_failure(build(ws, out, "--no-cache"), str(out), "permission")
    assert "left as it was" in text
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(out) == site
    assert leftovers(tmp_path) == []


def test_a_write_error_in_a_render_worker_is_a_message(ws: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)

    def full(site: object, env: object, page: object, staging: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "x.html"))

    monkeypatch.setattr(builder, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(builder, "_write_page", full)
    assert_clean_failure(build(ws, out, "--no-cache", "--jobs", "2"), "disk is full", "x.html")
    assert snapshot(out) == site
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_parent_is_a_message(ws: Path, tmp_path: Path) -> None:
    parent = tmp_path / "public"
    out = parent / "site"
    assert build(ws, out).exit_code == 0
    site = snapshot(out)
    parent.chmod(0o555)
    try:
        assert_clean_failure(build(ws, out), str(parent), "permission")
    finally:
        parent.chmod(0o755)
    assert snapshot(out) == site



def this_boot() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()


@pytest.mark.parametrize("prefix", [output.STAGING_PREFIX, output.RETIRED_PREFIX])
def test_a_planted_temporary_folder_is_never_deleted(ws: Path, tmp_path: Path, prefix: str) -> None:
    """A committed `.site-building-*` or `.site-old-*` folder with a made-up marker (a process that is
    gone, this machine's name, another boot) is not the tool's: it stays, with a warning."""
    out = tmp_path / "site"
    gone = subprocess.Popen(["true"])
    gone.wait()
    planted = tmp_path / (prefix + "site-x9")
    (planted / "site").mkdir(parents=True)
    (planted / "notes.txt").write_text("keep\n")
    (planted / "site" / "index.html").write_text("keep\n")
    owner = {"pid": gone.pid, "start": "00000000-0000-0000-0000-000000000000:1", "host": os.uname().nodename}
    (planted / MARKER).write_text(json.dumps({"plaintext-crm": "site", "format": 1, "files": ["notes.txt"],
                                              "building": owner, "retired": str(out)}))
    result = build(ws, out)
    assert result.exit_code == 0, result.output
    assert "left" in result.output and planted.name in result.output
    assert (planted / "notes.txt").read_text() == "keep\n"
    assert (planted / "site" / "index.html").read_text() == "keep\n"
