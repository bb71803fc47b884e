"""Checked, atomic record writes: inside the workspace, never through a link, never over a file changed meanwhile.

Every read for an edit and every write of a record goes through this module. A path is a plain
workspace-relative one (`deals/acme-site.md`); each folder on the way is opened from the workspace's
real path with O_NOFOLLOW, so a symbolic link anywhere (a record file, `deals/` itself) is refused, even
one swapped in between the checks and the write; the temporary file is created with O_EXCL|O_NOFOLLOW
in the checked folder and renamed within it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.errors import ToolError
from plaintext_crm.records.reading import ParseProblem, decode

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO named like a record must not hang the command
# Where folders cannot be opened as descriptors (Windows), the same checks run on paths instead.
_BY_DESCRIPTOR = bool(_NOFOLLOW) and {os.open, os.stat, os.mkdir, os.rmdir, os.unlink, os.link, os.rename,
                                       os.readlink} <= os.supports_dir_fd


class EditError(ToolError):
    """An edit that cannot be made safely; nothing was written."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What a file looked like when read: size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class _Folder:
    """A checked folder of the workspace: an open descriptor (or, without descriptors, its real path)."""

    fd: int | None
    path: Path  # the real path, for messages and the path-based fallback
    rel: str  # workspace-relative, "" for the workspace itself

    def at(self, name: str) -> str:
        """`name` as the os functions want it next to `dir_fd=self.fd`."""
        return name if self.fd is not None else str(self.path / name)

    def shown(self, name: str) -> str:
        return f"{self.rel}/{name}" if self.rel else name


def _parts(rel: str, where: str) -> list[str]:
    parts = rel.split("/")
    if not rel or any(part in ("", ".", "..") or "\0" in part or "\\" in part for part in parts):
        raise EditError(f"{where}: not a plain path inside the workspace (like deals/acme-site.md); "
                        "nothing was written")
    return parts


def _link_text(folder: _Folder, name: str, root: Path) -> str:
    """Where the link `name` points, and whether that is inside the workspace."""
    try:
        target = os.readlink(folder.at(name), dir_fd=folder.fd)
    except OSError:
        return "(unreadable)"
    real = Path(os.path.realpath(folder.path / target))
    try:
        return f"{target}, which is {real.relative_to(root).as_posix()} in the workspace"
    except ValueError:
        return f"{target}, outside the workspace"


def _refuse_link(folder: _Folder, name: str, root: Path, where: str, *, is_folder: bool = False) -> EditError:
    target = _link_text(folder, name, root)
    if is_folder:
        return EditError(f"{where}: the folder {folder.shown(name)} is a symbolic link (to {target}); plaintext-crm "
                         "writes only into real folders of the workspace (replace the link by the folder itself); "
                         "nothing was written")
    return EditError(f"{where} is a symbolic link (to {target}); plaintext-crm does not read or write records "
                     "through links (edit the file it points to, or replace the link by the file itself); "
                     "nothing was written")


def _os_error(exc: OSError, where: str, doing: str) -> EditError:
    advice = {errno.ENOSPC: "free some disk space and run the command again",
              errno.EDQUOT: "free some space within your quota and run the command again",
              errno.EFBIG: "the file is larger than this process may write (ulimit -f); raise the limit",
              errno.EROFS: "the file system is mounted read-only",
              errno.EACCES: "check the permissions of the file and its folder",
              errno.EPERM: "check the permissions of the file and its folder"}.get(exc.errno or 0)
    return EditError(f"{where}: cannot {doing}: {exc.strerror or exc}{'; ' + advice if advice else ''}; "
                     "nothing was written")


def _close(folder: _Folder) -> None:
    if folder.fd is not None:
        os.close(folder.fd)


def _open_child(parent: _Folder, part: str, root: Path, where: str, create: bool) -> tuple[_Folder | None, bool]:
    """The checked subfolder `part` of `parent` (None when it is missing and not to be created), and
    whether it was created now."""
    created = False
    try:
        info = os.stat(parent.at(part), dir_fd=parent.fd, follow_symlinks=False)
    except FileNotFoundError:
        if not create:
            return None, False
        try:
            os.mkdir(parent.at(part), dir_fd=parent.fd)
            created = True
        except FileExistsError:  # made meanwhile: checked like any other below
            pass
        info = os.stat(parent.at(part), dir_fd=parent.fd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse_link(parent, part, root, where, is_folder=True)
    if not stat.S_ISDIR(info.st_mode):
        raise EditError(f"{where}: {parent.shown(part)} is not a folder; move that file away; nothing was written")
    fd = None
    if parent.fd is not None:
        try:
            fd = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # replaced by a link since the check
                raise _refuse_link(parent, part, root, where, is_folder=True) from None
            raise
    return _Folder(fd, parent.path / part, parent.shown(part)), created


@contextmanager
def _folder_of(root: Path, rel: str, where: str, *, create: bool,
               made: list[str] | None = None) -> Iterator[tuple[_Folder | None, str, Path]]:
    """(the checked folder holding `rel` or None when a folder is missing, the file name, the workspace's real
    path). Missing folders are made when `create`, listed in `made`, and removed again if the block fails."""
    parts = _parts(rel, where)
    real_root = Path(os.path.realpath(root))
    opened: list[_Folder] = []
    created: list[tuple[_Folder, str]] = []  # (parent, name) of each folder made here, removed again on failure
    try:
        try:
            fd = os.open(real_root, os.O_RDONLY | _DIRECTORY) if _BY_DESCRIPTOR else None
        except OSError as exc:
            raise _os_error(exc, where, f"open the workspace {real_root}") from None
        opened.append(_Folder(fd, real_root, ""))
        folder: _Folder | None = opened[0]
        for part in parts[:-1]:
            try:
                folder, made_now = _open_child(opened[-1], part, real_root, where, create)
            except OSError as exc:
                raise _os_error(exc, where, f"open the folder {opened[-1].shown(part)}") from None
            if made_now:
                created.append((opened[-1], part))
                if made is not None:
                    made.append(opened[-1].shown(part))
            if folder is None:
                break
            opened.append(folder)
        yield folder, parts[-1], real_root
    except BaseException:
        for parent, part in reversed(created):
            with suppress(OSError):
                os.rmdir(parent.at(part), dir_fd=parent.fd)
        raise
    finally:
        for item in reversed(opened):
            _close(item)


def _lstat(folder: _Folder, name: str) -> os.stat_result | None:
    try:
        return os.stat(folder.at(name), dir_fd=folder.fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _check_file(folder: _Folder, name: str, root: Path, where: str) -> os.stat_result | None:
    """The stat of the regular file `name`, None when there is none; refuses links, folders and the like."""
    try:
        info = _lstat(folder, name)
    except OSError as exc:
        raise _os_error(exc, where, "look at the file") from None
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise _refuse_link(folder, name, root, where)
    if stat.S_ISDIR(info.st_mode):
        raise EditError(f"{where} is a folder, not a file; nothing was written")
    if not stat.S_ISREG(info.st_mode):
        raise EditError(f"{where} is not a regular file; nothing was written")
    return info


def inspect_target(root: Path, rel: str, where: str | None = None) -> os.stat_result | None:
    """Check that `root/rel` could be written: a plain path through real folders to a regular file or to
    nothing yet. Returns the file's stat, or None when it does not exist; raises EditError saying why not."""
    where = where or rel
    with _folder_of(root, rel, where, create=False) as (folder, name, real_root):
        return None if folder is None else _check_file(folder, name, real_root, where)


def _read(folder: _Folder, name: str, root: Path, where: str) -> tuple[bytes, FileStamp]:
    if _check_file(folder, name, root, where) is None:
        raise EditError(f"{where}: cannot read the file: it does not exist; nothing was written")
    try:
        handle = os.open(folder.at(name), os.O_RDONLY | _NOFOLLOW | _NONBLOCK, dir_fd=folder.fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse_link(folder, name, root, where) from None
        raise _os_error(exc, where, "read the file") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise EditError(f"{where} is not a regular file; nothing was written")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read()
    except OSError as exc:
        raise _os_error(exc, where, "read the file") from None
    finally:
        os.close(handle)
    return data, FileStamp(info.st_size, info.st_mtime_ns, hashlib.sha256(data).hexdigest())


def read_bytes(root: Path, rel: str, where: str | None = None) -> tuple[bytes, FileStamp]:
    """The bytes of the record `root/rel` and their stamp, read without following any link."""
    where = where or rel
    with _folder_of(root, rel, where, create=False) as (folder, name, real_root):
        if folder is None:
            raise EditError(f"{where}: cannot read the file: its folder does not exist; nothing was written")
        return _read(folder, name, real_root, where)


def read_text(root: Path, rel: str, where: str | None = None) -> tuple[str, FileStamp]:
    """The record's text (exact, line endings kept) and its stamp, read without following any link."""
    where = where or rel
    data, stamp = read_bytes(root, rel, where)
    text = decode(data)
    if isinstance(text, ParseProblem):
        raise EditError(f"{where}:{text.line}: {text.message}")
    return text, stamp


def _temp_in(folder: _Folder, name: str, mode: int | None) -> tuple[str, int]:
    for _attempt in range(100):
        temp = f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = os.open(folder.at(temp), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666,
                             dir_fd=folder.fd)  # umask applies
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.fchmod(handle, mode)
            except OSError:
                os.close(handle)
                os.unlink(folder.at(temp), dir_fd=folder.fd)
                raise
        return temp, handle
    raise EditError(f"cannot create a temporary file in {folder.path}")  # pragma: no cover


def _fsync_folder(folder: _Folder) -> None:
    try:
        handle = os.open(folder.path, os.O_RDONLY) if folder.fd is None else os.dup(folder.fd)
    except OSError:  # pragma: no cover - some systems cannot open folders
        return
    try:
        os.fsync(handle)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(handle)


def _link_new(folder: _Folder, temp: str, name: str, where: str) -> None:
    """Give the written temporary file its name, failing if the name exists (a file, a link, anything)."""
    try:
        os.link(folder.at(temp), folder.at(name), src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
        return
    except FileExistsError:
        raise EditError(f"{where} was created by someone else meanwhile; nothing was written") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise
    # A file system without hard links: claim the name exclusively (O_EXCL does not follow links), then rename.
    try:
        os.close(os.open(folder.at(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600,
                         dir_fd=folder.fd))
    except FileExistsError:
        raise EditError(f"{where} was created by someone else meanwhile; nothing was written") from None
    try:
        os.replace(folder.at(temp), folder.at(name), src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
    except OSError:
        with suppress(OSError):
            os.unlink(folder.at(name), dir_fd=folder.fd)
        raise


def write_atomic(root: Path, rel: str, data: bytes, expected: FileStamp | None,
                 where: str | None = None) -> list[str]:
    """Write `data` to the record `root/rel` through a temporary file in its folder, fsync, then rename.

    `expected` None: the file must not exist (it is created, never overwritten; missing folders are made).
    Otherwise the file must still match `expected` just before the rename, and keeps its permission bits.
    Refuses (EditError, nothing written) a path through a link or out of the workspace, and says what
    failed on a file-system error, leaving the file as it was and no temporary file behind. Returns the
    folders it made for a new file (workspace-relative, outermost first).
    """
    where = where or rel
    made: list[str] = []
    with _folder_of(root, rel, where, create=expected is None, made=made) as (folder, name, real_root):
        if folder is None:  # only for an edit: a new file's folders are made
            raise EditError(f"{where}: its folder was removed since the file was read; nothing was written")
        info = _check_file(folder, name, real_root, where)
        if expected is None and info is not None:
            raise EditError(f"{where} was created by someone else meanwhile; nothing was written")
        if expected is not None and info is None:
            raise EditError(f"{where} was removed since it was read; nothing was written")
        mode = None if info is None else stat.S_IMODE(info.st_mode)
        try:
            temp, handle = _temp_in(folder, name, mode)
        except OSError as exc:
            raise _os_error(exc, where, f"create a file in {folder.rel or 'the workspace'}/") from None
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            if expected is None:
                _link_new(folder, temp, name, where)
            else:
                # Always hash: a same-size rewrite within the file system's mtime granularity keeps size and mtime.
                current, _stamp = _read(folder, name, real_root, where)
                if hashlib.sha256(current).hexdigest() != expected.sha256:
                    raise EditError(f"{where} changed on disk since it was read; nothing was written. "
                                    "Check the file and run the command again.")
                os.replace(folder.at(temp), folder.at(name), src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
        except OSError as exc:
            raise _os_error(exc, where, "write the file") from None
        finally:
            with suppress(FileNotFoundError):
                os.unlink(folder.at(temp), dir_fd=folder.fd)
        _fsync_folder(folder)
    return made


def remove_created(root: Path, rel: str, data: bytes, folders: Sequence[str] = ()) -> None:
    """Undo creating `root/rel`: remove the file while it still holds exactly `data`, then the `folders`
    made for it while they are empty."""
    with _folder_of(root, rel, rel, create=False) as (folder, name, real_root):
        if folder is None:
            return
        current, _stamp = _read(folder, name, real_root, rel)
        if current != data:
            return
        os.unlink(folder.at(name), dir_fd=folder.fd)
        _fsync_folder(folder)
    for made in reversed(folders):
        with _folder_of(root, made, made, create=False) as (parent, name, _real_root), suppress(OSError):
            if parent is not None:
                os.rmdir(parent.at(name), dir_fd=parent.fd)
