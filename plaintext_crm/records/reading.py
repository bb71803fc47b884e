"""Reading record files and crm.yaml safely: only regular files inside the workspace, bounded in size, UTF-8.

A workspace is untrusted: a symbolic link out of it, a named pipe swapped in, a device or a huge file
is a problem with a message, never a hang or a read outside the workspace.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024  # a record or crm.yaml larger than this is not read


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Why a file could not be turned into a front matter mapping."""

    line: int
    message: str


def decode(raw: bytes) -> str | ParseProblem:
    """Decode UTF-8 bytes, or say on which line the first bad byte is."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ParseProblem(line, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; "
                                  "save the file as UTF-8")


# Not following a symlink in the last step, and not waiting for a writer should a named pipe be
# swapped in after the folder was listed: the opened entry is checked before anything is read.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_KIND_WORDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def kind_of(mode: int) -> str:
    """What a non-regular entry is, in words."""
    return next((word for test, word in _KIND_WORDS if test(mode)), "not a regular file")


def link_problem(root: str, path: str) -> ParseProblem | None:
    """Why the symbolic link `path` is not read, or None when it leads to a regular file inside `root`
    (a real path): links that loop, dangle, leave the workspace or lead to something else are refused."""
    try:
        shown = os.readlink(path)
    except OSError:
        shown = "?"
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ParseProblem(1, f"not read: a symbolic link to '{shown}' that loops back on itself")
        return ParseProblem(1, f"not read: a symbolic link to '{shown}', which does not exist")
    if os.path.commonpath((root, target)) != root:
        return ParseProblem(1, f"not read: a symbolic link to '{shown}', outside the workspace (records and "
                               "crm.yaml are read only from inside it)")
    try:
        mode = os.stat(target).st_mode
    except OSError as exc:
        return ParseProblem(1, f"not read: a symbolic link to '{shown}' ({exc.strerror})")
    if not stat.S_ISREG(mode):
        return ParseProblem(1, f"not read: a symbolic link to {kind_of(mode)}")
    return None


def read_inside(root: Path, rel: str) -> bytes | ParseProblem:
    """The bytes of the regular file root/rel: never through a symbolic link that leaves the workspace
    or loops, never blocking on a named pipe or a device, never past MAX_FILE_BYTES."""
    path = os.path.join(root, rel)
    try:
        try:
            handle = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.EMLINK) or not os.path.islink(path):
                raise
            # A symbolic link (O_NOFOLLOW refused it): read it only if it stays in the workspace.
            problem = link_problem(os.path.realpath(root), path)
            if problem is not None:
                return problem
            handle = os.open(os.path.realpath(path), _OPEN_FLAGS)
        with open(handle, "rb", buffering=0) as file:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode):
                return ParseProblem(1, f"not read: this is {kind_of(status.st_mode)}, not a file")
            if status.st_size > MAX_FILE_BYTES:
                return too_large(status.st_size)
            raw = file.readall()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return ParseProblem(1, "cannot read the file: it was removed while being read")
        return ParseProblem(1, f"cannot read the file: {exc.strerror or exc}")
    return raw if len(raw) <= MAX_FILE_BYTES else too_large(len(raw))


def too_large(size: int) -> ParseProblem:
    """The problem of a file past MAX_FILE_BYTES."""
    return ParseProblem(1, f"the file is {size / 1024 / 1024:.1f} MB, more than the {MAX_FILE_BYTES // 1024 // 1024} MB "
                           "a record may hold; it is not read (keep large notes and attachments elsewhere)")
