"""The marker of a folder the tool wrote (`.plaintext-crm-site`): the files it wrote there, and for a
temporary folder the process that owns it. Only a folder with a trusted marker is ever replaced."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MARKER = ".plaintext-crm-site"
MARKER_FORMAT = 1
MAX_MARKER_BYTES = 64 << 20
# With every path between two \0: an empty, "." or ".." part, or a leading or trailing "/".
_NOT_PLAIN = ("\0\0", "\0/", "/\0", "//", "/./", "/../", "\0./", "\0../", "/.\0", "/..\0", "\0.\0", "\0..\0")


@dataclass(frozen=True)
class Marker:
    """What a folder's marker says: the files the tool wrote there, and for a temporary folder its owner."""

    files: frozenset[str]
    owner: dict[str, object] | None = None  # a staging or retired folder: the process that made it
    retired: str | None = None  # a retired folder: the output folder its old site came from


class MarkerError(Exception):
    """A marker that cannot be trusted: unreadable, not ours, or naming paths outside its folder."""


def read_marker(folder: Path) -> Marker | None:
    """The marker of `folder`; None when it has none. A marker that is a link, too big, not our JSON or
    naming a path that is not plainly inside the folder raises MarkerError."""
    try:
        handle = os.open(folder / MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MarkerError("it is a link" if exc.errno == errno.ELOOP else exc.strerror or str(exc)) from None
    try:
        with os.fdopen(handle, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise MarkerError("it is not a file")
            if info.st_size > MAX_MARKER_BYTES:
                raise MarkerError("it is too big")
            data = json.loads(stream.read())
    except (OSError, ValueError) as exc:
        raise MarkerError(f"not readable as JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("plaintext-crm") != "site" or data.get("format") != MARKER_FORMAT:
        raise MarkerError("not a plaintext-crm site marker")
    files, owner, retired = data.get("files"), data.get("building"), data.get("retired")
    if not isinstance(files, list) or not all(isinstance(rel, str) for rel in files) or not _plain_relative(files):
        raise MarkerError("its file list names paths that are not plainly inside the folder")
    if (owner is not None and not isinstance(owner, dict)) or (retired is not None and not isinstance(retired, str)):
        raise MarkerError("not a plaintext-crm site marker")
    return Marker(frozenset(files), owner, retired)


def _plain_relative(files: list[str]) -> bool:
    """True when every path is like "a/b.html": relative, "/" separated, no empty, "." or ".." part (so
    never outside the folder); checked with a few substring searches (a marker may list 100,000)."""
    if not files:
        return True
    joined = "\0" + "\0".join(files) + "\0"
    return joined.count("\0") == len(files) + 1 and not any(bad in joined for bad in _NOT_PLAIN)


def write_marker(folder: Path, marker: dict[str, object]) -> None:
    """Replace the marker of `folder` atomically (a unique temporary name beside it)."""
    handle, temporary = tempfile.mkstemp(prefix=MARKER + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(marker, stream, indent=0, sort_keys=True)
            stream.write("\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / MARKER)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def marker_data(files: Iterable[str], **extra: object) -> dict[str, object]:
    return {"plaintext-crm": "site", "format": MARKER_FORMAT, "files": sorted(set(files)), **extra}
