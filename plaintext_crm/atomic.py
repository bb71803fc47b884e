"""Atomic file writes: temporary file beside the target, fsync, rename; never over a file changed meanwhile."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.errors import ToolError
from plaintext_crm.frontmatter import ParseProblem, decode


class EditError(ToolError):
    """An edit that cannot be made safely; nothing was written."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What a file looked like when read: size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str


def stamp_of(path: Path, data: bytes) -> FileStamp:
    """The stamp of `path` whose content is `data`."""
    info = path.stat()
    return FileStamp(info.st_size, info.st_mtime_ns, hashlib.sha256(data).hexdigest())


def read_text(path: Path, where: str) -> tuple[str, FileStamp]:
    """The file's text (exact, line endings kept) and its stamp."""
    try:
        data = path.read_bytes()
        stamp = stamp_of(path, data)
    except OSError as exc:
        raise EditError(f"{where}: cannot read the file: {exc.strerror}") from None
    text = decode(data)
    if isinstance(text, ParseProblem):
        raise EditError(f"{where}:{text.line}: {text.message}")
    return text, stamp


def _unchanged(path: Path, expected: FileStamp) -> bool:
    # Always hash: a same-size rewrite within the file system's mtime granularity keeps size and mtime.
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == expected.sha256
    except OSError:
        return False


def _temp_beside(target: Path, mode: int | None) -> tuple[Path, int]:
    for _attempt in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
        except FileExistsError:
            continue
        if mode is not None:
            os.fchmod(handle, mode)
        return temp, handle
    raise EditError(f"cannot create a temporary file beside {target}")  # pragma: no cover


def _fsync_dir(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - some systems cannot open folders
        return
    try:
        os.fsync(handle)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(handle)


def write_atomic(path: Path, data: bytes, expected: FileStamp | None, where: str) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, then rename.

    `expected` None: the file must not exist (it is created, never overwritten). Otherwise the file must
    still match `expected` just before the rename, and keeps its permission bits.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = None if expected is None else target.stat().st_mode & 0o7777
    except OSError as exc:
        raise EditError(f"{where}: cannot read the file: {exc.strerror}") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp, handle = _temp_beside(target, mode)
    except OSError as exc:
        raise EditError(f"{where}: cannot write in {target.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if expected is None:
            try:
                os.link(temp, target)  # fails if the target appeared meanwhile: never overwrite
            except FileExistsError:
                raise EditError(f"{where} was created by someone else meanwhile; nothing was written") from None
        else:
            if not _unchanged(target, expected):
                raise EditError(f"{where} changed on disk since it was read; nothing was written. "
                                "Check the file and run the command again.")
            os.replace(temp, target)
    except OSError as exc:
        raise EditError(f"{where}: cannot write the file: {exc.strerror}") from None
    finally:
        if temp.exists():
            temp.unlink()
    _fsync_dir(target.parent)
