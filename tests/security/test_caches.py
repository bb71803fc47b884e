"""Caches are data in the user's cache folder, checked before use: never run, never trusted when damaged."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from plaintext_crm import cache_store
from plaintext_crm.cache_store import cache_folder, loads_data, read_entry, write_entry

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
    assert cache_folder(tmp_path).parent == tmp_path / "caches"


def test_cache_folder_that_cannot_be_created_is_still_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "file" / "caches"))
    folder = cache_folder(tmp_path)
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
