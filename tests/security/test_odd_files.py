"""Odd entries where records are expected (issue #11, item 6): symbolic links that loop, dangle, lead out
of the workspace or to a folder, folders, named pipes and sockets named *.md, huge files, bytes YAML
refuses, files that vanish while being read. Each is an F001 finding with its path; nothing is read
through a link out of the workspace, no pipe is opened, the rest loads, and no command hangs."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.records import frontmatter, reading
from plaintext_crm.records.loader import load_workspace, parse_files
from tests.support import EXAMPLE, EXAMPLE_TODAY

SECRET = "Secret outside the workspace"
OUTSIDE_DEAL = f"---\ntitle: {SECRET}\nclient: fjord-foods\nowner: ana\nstage: lead\n---\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    shutil.copytree(EXAMPLE, workspace)
    return workspace


@pytest.fixture
def unix_socket(root: Path) -> Iterator[Path]:
    path = root / "deals" / "socket.md"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
    except OSError as exc:  # a path too long for AF_UNIX in a deep temporary folder
        pytest.skip(f"cannot bind a unix socket here: {exc}")
    yield path
    server.close()


def add_odd_entries(root: Path, tmp_path: Path) -> dict[str, str]:
    """Every kind of odd entry; relative path -> a word its finding's message must hold."""
    deals = root / "deals"
    (deals / "loop.md").symlink_to("loop.md")
    (deals / "ping.md").symlink_to("pong.md")
    (deals / "pong.md").symlink_to("ping.md")
    (deals / "folder.md").mkdir()
    os.mkfifo(deals / "pipe.md")
    (deals / "dangling.md").symlink_to("no-such-deal.md")
    (tmp_path / "outside.md").write_text(OUTSIDE_DEAL, encoding="utf-8")
    (deals / "outside.md").symlink_to(tmp_path / "outside.md")
    (deals / "relative-outside.md").symlink_to(Path("..", "..", "outside.md"))
    (deals / "to-folder.md").symlink_to(root / "clients")
    (root / "clients" / "pipe-link.md").symlink_to(deals / "pipe.md")
    return {"deals/loop.md": "loops", "deals/ping.md": "loops", "deals/pong.md": "loops",
            "deals/folder.md": "folder", "deals/pipe.md": "named pipe", "deals/dangling.md": "does not exist",
            "deals/outside.md": "outside the workspace", "deals/relative-outside.md": "outside the workspace",
            "deals/to-folder.md": "folder", "clients/pipe-link.md": "named pipe"}


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process, so that a hang fails the test instead of stalling it."""
    env = {**os.environ, "PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
    done = subprocess.run([sys.executable, "-m", "plaintext_crm", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def lint_json(root: Path) -> tuple[int, list[dict[str, object]]]:
    done = run_cli("lint", "--format", "json", str(root))
    findings = json.loads(done.stdout)["findings"]
    for item in findings:  # paths are shown relative to the current folder
        item["path"] = str(item["path"]).rsplit("/ws/", 1)[-1]
    return done.returncode, findings


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_each_odd_entry_is_an_f001_finding_with_its_path(root: Path, tmp_path: Path, unix_socket: Path) -> None:
    expected = add_odd_entries(root, tmp_path) | {"deals/socket.md": "socket"}
    status, findings = lint_json(root)
    assert status == 1
    by_path = {str(item["path"]): item for item in findings if item["code"] == "F001"}
    for rel, word in expected.items():
        assert rel in by_path, rel
        assert word in str(by_path[rel]["message"]) and by_path[rel]["line"] == 1, by_path[rel]
    assert ("deals/tidewater-bikes-app.md", "D002") in {(item["path"], item["code"]) for item in findings}


def test_the_loader_never_lists_odd_entries_as_records(root: Path, tmp_path: Path) -> None:
    add_odd_entries(root, tmp_path)
    read: list[str] = []

    def parse(at: Path, paths: list[str]) -> list[frontmatter.ParsedFile]:
        read.extend(paths)
        return parse_files(at, paths)

    workspace, findings = load_workspace(root, parse=parse)
    assert not {"deals/pipe.md", "deals/loop.md", "deals/outside.md", "deals/folder.md"} & set(read)
    assert not {"pipe", "loop", "outside", "folder", "to-folder"} & set(workspace.deals)
    assert len(workspace.deals) == len(list((EXAMPLE / "deals").glob("*.md")))
    assert SECRET not in repr(findings)


def test_a_link_out_of_the_workspace_is_never_read_or_published(root: Path, tmp_path: Path) -> None:
    add_odd_entries(root, tmp_path)
    done = run_cli("build", str(root), "-o", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    for page in (tmp_path / "site").rglob("*"):
        if page.is_file():
            assert SECRET.encode() not in page.read_bytes(), page


def test_a_record_folder_linked_out_of_the_workspace_is_not_read(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.md").write_text(OUTSIDE_DEAL, encoding="utf-8")
    shutil.rmtree(root / "projects")
    (root / "projects").symlink_to(elsewhere)
    workspace, findings = load_workspace(root)
    assert "secret" not in workspace.projects
    assert [(finding.path, finding.code) for finding in findings if finding.path.startswith("projects/")] == [
        ("projects/secret.md", "F001")]


def test_a_link_to_a_record_inside_the_workspace_is_read(root: Path) -> None:
    (root / "deals" / "alias.md").symlink_to("fjord-foods-website.md")
    workspace, findings = load_workspace(root)
    assert workspace.deals["alias"].title == workspace.deals["fjord-foods-website"].title
    assert not [finding for finding in findings if finding.path == "deals/alias.md"]


@pytest.mark.parametrize("make", ["loop", "pipe", "folder", "outside", "dangling"])
def test_an_odd_crm_yaml_is_f001_and_the_records_still_load(root: Path, tmp_path: Path, make: str) -> None:
    config = root / "crm.yaml"
    config.unlink()
    if make == "loop":
        config.symlink_to("crm.yaml")
    elif make == "pipe":
        os.mkfifo(config)
    elif make == "folder":
        config.mkdir()
    elif make == "outside":
        (tmp_path / "crm.yaml").write_text("name: Elsewhere\n", encoding="utf-8")
        config.symlink_to(tmp_path / "crm.yaml")
    else:
        config.symlink_to("gone.yaml")
    status, findings = lint_json(root)
    assert status == 1
    assert [(item["path"], item["code"]) for item in findings if item["path"] == "crm.yaml"] == [("crm.yaml", "F001")]
    assert ("deals/tidewater-bikes-app.md", "D002") in {(item["path"], item["code"]) for item in findings}


@pytest.mark.parametrize("name", ["loop.md", "outside.md", "dangling.md", "pipe.md"])
def test_lint_given_an_odd_entry_reports_it(root: Path, tmp_path: Path, name: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    add_odd_entries(root, tmp_path)
    monkeypatch.chdir(root)
    result = invoke("lint", "--format", "json", "--today", EXAMPLE_TODAY, f"deals/{name}")
    assert result.exit_code == 1, result.output
    assert [(item["path"], item["code"]) for item in json.loads(result.stdout)["findings"]] == [
        (f"deals/{name}", "F001")]


def test_build_does_not_wait_on_a_pipe_named_crm_yaml(root: Path, tmp_path: Path) -> None:
    (root / "crm.yaml").unlink()
    os.mkfifo(root / "crm.yaml")
    done = run_cli("build", str(root), "-o", str(tmp_path / "site"), timeout=30)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_file_past_the_size_limit_is_not_read(root: Path) -> None:
    big = root / "deals" / "big.md"
    with open(big, "wb") as handle:
        handle.write(b"---\ntitle: Big\nclient: fjord-foods\nowner: ana\nstage: lead\n---\n")
        handle.write(b"Notes.\n" * (reading.MAX_FILE_BYTES // 7 + 10))
    workspace, findings = load_workspace(root)
    assert "big" not in workspace.deals
    assert [(finding.path, finding.line, finding.code) for finding in findings if finding.path == "deals/big.md"] == [
        ("deals/big.md", 1, "F001")]
    assert "MB" in next(finding.message for finding in findings if finding.path == "deals/big.md")


@pytest.mark.parametrize(("raw", "line"), [
    (b"---\ntitle: Nul\nclient: fjord-foods\nowner: a\x00na\nstage: lead\n---\n", 4),
    (b"---\ntitle: Bell\nclient: fjord-foods\nowner: ana\nstage: lead\nnote: ring \x07\n---\n", 6),
    (b"---\ntitle: Not a character\nclient: fjord-foods\nnote: \xef\xbf\xbe\n---\n", 4),
])
def test_bytes_yaml_refuses_are_f001_on_their_line(root: Path, raw: bytes, line: int) -> None:
    (root / "deals" / "odd.md").write_bytes(raw)
    _workspace, findings = load_workspace(root)
    assert [(finding.line, finding.code) for finding in findings if finding.path == "deals/odd.md"] == [(line, "F001")]


def test_a_file_that_vanishes_before_it_is_read_is_a_finding(root: Path) -> None:
    def parse(at: Path, paths: list[str]) -> list[frontmatter.ParsedFile]:
        (at / "deals" / "fjord-foods-website.md").unlink()  # after the folder was listed
        return parse_files(at, paths)

    workspace, findings = load_workspace(root, parse=parse)
    assert "fjord-foods-website" not in workspace.deals
    vanished = [finding for finding in findings if finding.path == "deals/fjord-foods-website.md"]
    assert [(finding.line, finding.code) for finding in vanished] == [(1, "F001")]
    assert "removed" in vanished[0].message


@contextlib.contextmanager
def unsticking(pipe: Path, after: float = 10) -> Iterator[None]:
    """Should a regression open `pipe` for reading and wait, a writer comes after `after` seconds and
    closes at once: the reader gets an empty file and the test fails instead of hanging."""
    done = threading.Event()

    def writer() -> None:
        if done.wait(after):
            return
        while not done.is_set():
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))  # fails (ENXIO) until a reader waits
                return
            except OSError:
                done.wait(0.1)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_a_pipe_swapped_in_after_listing_is_not_waited_for(root: Path) -> None:
    target = root / "deals" / "fjord-foods-website.md"

    def parse(at: Path, paths: list[str]) -> list[frontmatter.ParsedFile]:
        target.unlink()
        os.mkfifo(target)  # opening it for reading would wait for a writer forever
        return parse_files(at, paths)

    with unsticking(target):
        _workspace, findings = load_workspace(root, parse=parse)
    assert [(finding.code, "named pipe" in finding.message) for finding in findings
            if finding.path == "deals/fjord-foods-website.md"] == [("F001", True)]


def test_an_unreadable_file_is_a_finding(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refusing_open(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("fjord-foods-website.md"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)  # chmod 000 does not stop root, who runs CI
    _workspace, findings = load_workspace(root)
    assert [(finding.line, finding.code, finding.message) for finding in findings
            if finding.path == "deals/fjord-foods-website.md"] == [
        (1, "F001", "cannot read the file: Permission denied")]


COMMANDS = [
    ["lint"], ["lint", "--no-cache"], ["followups"], ["schedule"], ["changes", "--since", "HEAD"],
    ["changes", "--since", "HEAD", "--until", "HEAD"], ["build", "-o", "{site}"],
    ["new", "deal", "fresh-deal", "--title", "Fresh", "--client", "fjord-foods", "--owner", "ana", "--next",
     "Call", "--due", "2026-12-01"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:3]))
def test_every_command_survives_odd_entries(root: Path, tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    add_odd_entries(root, tmp_path)
    (root / "deals" / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    # git keeps the links (as blobs naming their targets) and skips the pipe and the empty folder.
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "odd"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    args = [part.format(site=tmp_path / "site") for part in command]
    done = run_cli(*args[:3], str(root), *args[3:]) if command[0] in ("new",) else run_cli(args[0], str(root), *args[1:])
    assert done.returncode in (0, 1), done.stdout + done.stderr
    if command[0] == "new":
        assert (root / "deals" / "fresh-deal.md").is_file()
