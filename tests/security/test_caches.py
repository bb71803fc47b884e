"""Caches are data in the user's cache folder, checked before use: never run, never trusted when damaged."""

from __future__ import annotations

import os
import pickle
import random
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plaintext_crm.records import cache_store
from plaintext_crm.records.cache_store import cache_folder, loads_data, read_entry, write_entry
from plaintext_crm.records.parse_cache import cache_signature
from tests.support import EXAMPLE, EXAMPLE_TODAY, REPO

# --- cache_store -----------------------------------------------------------------------------------------

def test_cache_folder_is_in_the_user_cache_folder_keyed_by_the_real_path(tmp_path: Path,
                                                                         private_cache_home: Path) -> None:
    workspace = tmp_path / "My Work$pace"
    workspace.mkdir()
    link = tmp_path / "link"
    link.symlink_to(workspace)
    folder = cache_folder(workspace)
    assert folder.parent == private_cache_home / "plaintext-crm"
    assert folder.name.startswith("My_Work_pace-") and len(folder.name.rsplit("-", 1)[1]) == 16
    assert folder.is_dir() and (folder.stat().st_mode & 0o777) == 0o700
    assert cache_folder(link) == folder  # the real path decides
    other = tmp_path / "other" / "My Work$pace"
    other.mkdir(parents=True)
    assert cache_folder(other) != folder
    assert not list(workspace.iterdir())


def test_cache_folder_honours_the_explicit_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "caches"))
    (tmp_path / "ws").mkdir()  # beside the workspace: a cache folder inside it is never used
    assert cache_folder(tmp_path / "ws").parent == tmp_path / "caches"


def test_cache_folder_that_cannot_be_created_is_still_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "file" / "caches"))
    (tmp_path / "ws").mkdir()
    folder = cache_folder(tmp_path / "ws")
    write_entry(folder / "x", "kind", b"payload")  # no exception
    assert read_entry(folder / "x", "kind") is None


def test_entries_round_trip_and_anything_else_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "entry"
    write_entry(path, "records", b"payload")
    assert read_entry(path, "records") == b"payload"
    assert read_entry(path, "bodies") is None  # another kind
    assert read_entry(tmp_path / "missing", "records") is None
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    assert read_entry(path, "records") is None  # truncated
    path.write_bytes(data + b"x")
    assert read_entry(path, "records") is None  # trailing bytes
    for index in range(len(data)):
        for bit in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[index] ^= bit
            path.write_bytes(bytes(damaged))
            assert read_entry(path, "records") is None, (index, bit)
    path.unlink()
    path.mkdir()
    assert read_entry(path, "records") is None  # a folder in the file's place
    write_entry(path, "records", b"new")  # and writing over it does not raise
    os.mkfifo(tmp_path / "fifo")
    assert read_entry(tmp_path / "fifo", "records") is None  # and does not hang
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_entry_failures_do_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    write_entry(tmp_path / "entry", "kind", b"payload")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_write_entry_into_an_unwritable_folder_does_not_raise(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        write_entry(folder / "entry", "kind", b"payload")
        assert read_entry(folder / "entry", "kind") is None
    finally:
        folder.chmod(0o700)


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_loads_data_refuses_anything_callable() -> None:
    with pytest.raises(pickle.UnpicklingError):
        loads_data(pickle.dumps(_Exploit()))
    with pytest.raises(pickle.UnpicklingError):
        loads_data(pickle.dumps(cache_store.RefusedCache))
    import datetime as dt
    from decimal import Decimal

    value = {"a": [1, 2.5, None, True], "b": (dt.date(2026, 11, 26), Decimal("1.50")), "c": frozenset({"x"})}
    assert loads_data(pickle.dumps(value, protocol=5)) == value


# --- End to end: the real CLI on a committed copy of the example workspace -------------------------------

ENV_TODAY = {"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
CACHE_FILE_NAMES = ("cache/records-00.pickle", "cache/records-07.pickle", "history.pickle",
                    "history-stages.pickle", "site-bodies.pickle", "site-data-records.pickle")


def _run(*args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plaintext_crm", *args], capture_output=True, text=True,
                          env={**os.environ, **ENV_TODAY}, cwd=cwd, check=False, timeout=300, **kwargs)


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    """workspace-example committed to git (files dated two minutes back, so every cache keeps them)."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".plaintext-crm", "site"))
    past = time.time() - 120
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-11-01T10:00:00", "GIT_COMMITTER_DATE": "2026-11-01T10:00:00"}
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "start"]):
        subprocess.run(["git", *command], cwd=root, env=env, check=True, capture_output=True)
    return root


def _lint(root: Path, *extra: str) -> tuple[int, str]:
    result = _run("lint", str(root), "--format", "json", *extra)
    assert "Traceback" not in result.stderr and result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout


def _build(root: Path, out: Path, *extra: str) -> dict[str, bytes]:
    result = _run("build", str(root), "-o", str(out), "-q", *extra)
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and not path.name.startswith(".plaintext-crm")}


def _cache_files(root: Path) -> list[Path]:
    """The workspace's cache files, in its cache folder and (where older versions kept them) in it; but not
    the compiled templates under jinja/ (tests/security/test_templates*.py checks those)."""
    places = [cache_folder(root), root / ".plaintext-crm"]
    return sorted(path for place in places if place.is_dir() for path in place.rglob("*")
                  if path.is_file() and "jinja" not in path.relative_to(place).parts)


def _planted(marker: Path) -> bytes:
    class Exploit:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.mkdir, (str(marker),))

    return pickle.dumps(Exploit(), protocol=pickle.HIGHEST_PROTOCOL)


def test_committed_cache_pickles_never_run(committed: Path, tmp_path: Path) -> None:
    """A pickle committed with `git add -f` under .plaintext-crm/ runs nothing in lint, build or the hook."""
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    marker = tmp_path / "pwned"
    legacy = committed / ".plaintext-crm"
    for name in (*CACHE_FILE_NAMES, *(f"cache/records-{n:02d}.pickle" for n in range(16))):
        (legacy / name).parent.mkdir(parents=True, exist_ok=True)
        (legacy / name).write_bytes(_planted(marker))
    (legacy / "jinja").mkdir()
    subprocess.run(["git", "add", "-f", ".plaintext-crm"], cwd=committed, check=True)
    planted = {path: path.read_bytes() for path in legacy.rglob("*") if path.is_file()}
    assert _lint(committed) == reference_lint
    assert _build(committed, tmp_path / "site") == reference_site
    assert _lint(committed) == reference_lint  # warm
    assert _build(committed, tmp_path / "site") == reference_site
    assert not marker.exists()
    # The old folder is left exactly as it was: never read, never written.
    assert {path: path.read_bytes() for path in legacy.rglob("*") if path.is_file()} == planted


def test_cache_files_that_name_code_are_refused_even_with_a_valid_checksum(committed: Path, tmp_path: Path) -> None:
    """Loading a cache builds data only: a well-formed entry that names a callable is dropped and rebuilt."""
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    _lint(committed)
    _build(committed, tmp_path / "site")
    marker = tmp_path / "pwned"
    files = [path for path in _cache_files(committed) if path.suffix == ".cache"]
    assert any(path.name.startswith("records-") for path in files) and len(files) > 5
    for path in files:
        kind = path.name
        if cache_store.read_entry(path, kind) is None:
            kind = "records"
        assert cache_store.read_entry(path, kind) is not None, path
        if kind == "records":  # the signature first, then the entries: try each position
            signature = pickle.dumps(cache_signature(), protocol=pickle.HIGHEST_PROTOCOL)
            payload = signature + _planted(marker) if path.name.endswith("1.cache") else _planted(marker)
        else:
            payload = _planted(marker)
        cache_store.write_entry(path, kind, payload)
    assert _lint(committed) == reference_lint
    assert _build(committed, tmp_path / "site") == reference_site
    assert not marker.exists()


def _flip(data: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= bit
    return bytes(damaged)


def test_flipped_bits_in_any_cache_are_caught_and_results_equal_no_cache(committed: Path, tmp_path: Path) -> None:
    """Each round damages every cache file at once (random bytes, and bytes inside paths and titles that
    would otherwise silently change a record); lint and build then give exactly the --no-cache results."""
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    out = tmp_path / "site"
    _lint(committed)
    _build(committed, out)
    _build(committed, out)  # a second build stores what the first could not (page reuse, digests)
    pristine = {path: path.read_bytes() for path in _cache_files(committed)}
    assert len(pristine) > 5
    words = [b"deals/", b"clients/", b"title", b"<p>", b"Acme", b"stage"]
    generator = random.Random(20261126)
    for round_number in range(6):
        for path in _cache_files(committed):
            if path not in pristine:
                path.unlink()
        for path, data in pristine.items():
            targets = [data.find(word) + len(word) for word in words if data.find(word) >= 0]
            if round_number % 2 and targets:  # a byte just after a path prefix or inside a text
                position = min(generator.choice(targets), len(data) - 1)
            else:
                position = generator.randrange(len(data))
            path.write_bytes(_flip(data, position, 1 << generator.randrange(8)))
        assert _lint(committed) == reference_lint, round_number
        assert _build(committed, out) == reference_site, round_number


def test_a_folder_in_place_of_each_cache_file_is_skipped(committed: Path, tmp_path: Path) -> None:
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    out = tmp_path / "site"
    _lint(committed)
    _build(committed, out)
    files = _cache_files(committed)
    assert files
    for path in files:
        path.unlink()
        (path / "inside").mkdir(parents=True)
    for _ in range(2):
        assert _lint(committed) == reference_lint
        assert _build(committed, out) == reference_site
    assert all((path / "inside").is_dir() for path in files)


def test_an_unusable_cache_folder_is_skipped(committed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """The cache location is a file, or the workspace's old .plaintext-crm is a file or read-only: no cache,
    same results, no traceback."""
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "blocked" / "caches"))
    (committed / ".plaintext-crm").write_text("a file where the old cache folder was")
    for _ in range(2):
        assert _lint(committed) == reference_lint
        assert _build(committed, tmp_path / "site") == reference_site
    (committed / ".plaintext-crm").unlink()
    (committed / ".plaintext-crm").mkdir(mode=0o500)
    monkeypatch.delenv("PLAINTEXT_CRM_CACHE_DIR")
    assert _lint(committed) == reference_lint
    assert _build(committed, tmp_path / "site") == reference_site


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_is_skipped(committed: Path, tmp_path: Path) -> None:
    reference_lint = _lint(committed, "--no-cache")
    reference_site = _build(committed, tmp_path / "reference", "--no-cache")
    folder = cache_folder(committed)
    folder.chmod(0o500)
    try:
        assert _lint(committed) == reference_lint
        assert _build(committed, tmp_path / "site") == reference_site
    finally:
        folder.chmod(0o700)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def limit_writes() -> None:  # in the child: a "full disk" for files, and EFBIG rather than a signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_writes


def test_lint_on_a_full_disk_still_lints(committed: Path) -> None:
    """`ulimit -f`: every cache write fails part way; lint gives its usual output and leaves no temporary file."""
    reference = _lint(committed, "--no-cache")
    for limit in (0, 700, 5000):
        result = _run("lint", str(committed), "--format", "json", preexec_fn=_file_size_limit(limit))
        assert "Traceback" not in result.stderr and (result.returncode, result.stdout) == reference, result.stderr
        assert not [path for path in _cache_files(committed) if path.name.endswith(".tmp")]
    assert _lint(committed) == reference  # the cache works again with room on the disk


def test_build_on_a_full_disk_for_caches_still_builds(committed: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cache file written into a full disk (ENOSPC from /dev/full): the build succeeds uncached."""
    import tempfile

    from click.testing import CliRunner

    from plaintext_crm.cli import cli

    reference = _build(committed, tmp_path / "reference", "--no-cache")
    real_mkstemp = tempfile.mkstemp
    folder = str(cache_folder(committed))
    full: list[str] = []

    def full_disk(*args: Any, **kwargs: Any) -> tuple[int, str]:
        handle, name = real_mkstemp(*args, **kwargs)
        if str(kwargs.get("dir", "")).startswith(folder):
            os.close(handle)
            full.append(name)
            return os.open("/dev/full", os.O_WRONLY), name
        return handle, name

    monkeypatch.setattr(tempfile, "mkstemp", full_disk)
    monkeypatch.setenv("PLAINTEXT_CRM_TODAY", EXAMPLE_TODAY)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(committed), "-o", str(out), "-q"])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and not path.name.startswith(".plaintext-crm")} == reference
    assert full and not any(os.path.exists(name) for name in full)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or not hasattr(os, "pidfd_open") or (os.cpu_count() or 1) < 2,
                    reason="needs Linux (/proc, pidfd) and two CPUs for parallel parsing")
def test_parse_workers_die_with_a_killed_lint(tmp_path: Path) -> None:
    """kill -9 during a cold lint on a big workspace: the parse workers end too, without BrokenPipeError."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate_workspace import generate_workspace  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    root = tmp_path / "big"
    generate_workspace(root, 1500)
    process = subprocess.Popen([sys.executable, "-m", "plaintext_crm", "lint", str(root), "--no-cache"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **ENV_TODAY})
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while not workers and process.poll() is None and time.monotonic() < deadline:
        workers = _children(process.pid)
    assert workers, "the lint started no worker process"
    handles = [os.pidfd_open(pid) for pid in workers]  # readable once that process has ended
    try:
        process.kill()
        _stdout, stderr = process.communicate(timeout=60)  # EOF once every holder of the pipe is gone
        for handle in handles:
            assert select.select([handle], [], [], 60)[0], "a worker outlived its parent"
    finally:
        for handle in handles:
            os.close(handle)
    assert "BrokenPipeError" not in stderr.decode() and "Traceback" not in stderr.decode()
