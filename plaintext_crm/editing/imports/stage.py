"""Writing an import all at once: every file staged in the workspace, synced once, then moved in.

atomic.write_atomic syncs each file and its folder, which costs milliseconds a file: fine for an edit,
minutes for 100,000 imported records. Here every new text is written into one staging folder inside
the workspace, the disk is synced once, and only then is each file moved to its place (a hard link
for a new file, which fails rather than overwrite; a rename over an edited one, after checking it did not
change since it was read). Folders are opened without following links, like atomic.py does; if any
move fails, the ones done are undone and the staging folder removed: a failed import writes nothing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from plaintext_crm.editing.atomic import EditError
from plaintext_crm.editing.edit import FileChange

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
SUPPORTED = bool(_NOFOLLOW) and {os.open, os.stat, os.mkdir, os.link, os.rename, os.unlink} <= os.supports_dir_fd


class _Folders:
    """Open descriptors of the workspace's folders, each opened from its parent without following links."""

    def __init__(self, root: Path) -> None:
        self.root = os.open(os.path.realpath(root), os.O_RDONLY | _DIRECTORY)
        self.fds: dict[str, int] = {"": self.root}
        self.made: list[str] = []

    def folder(self, rel_folder: str) -> int:
        if rel_folder in self.fds:
            return self.fds[rel_folder]
        parent, _, name = rel_folder.rpartition("/")
        parent_fd = self.folder(parent)
        try:
            os.mkdir(name, dir_fd=parent_fd)
            self.made.append(rel_folder)
        except FileExistsError:
            pass
        try:
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise EditError(f"{rel_folder} is a symbolic link or not a folder; plaintext-crm writes only into "
                                "real folders of the workspace; nothing was written") from None
            raise
        self.fds[rel_folder] = fd
        return fd

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)


def _sha(fd: int, name: str) -> str:
    handle = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
    try:
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    finally:
        os.close(handle)


def write_staged(root: Path, changes: Sequence[FileChange]) -> None:
    """Write every change, or (raising EditError) none of them."""
    changes = [change for change in changes if change.changed]
    if not changes:
        return
    folders = _Folders(root)
    stage_name = f".plaintext-crm-import-{secrets.token_hex(4)}"
    done: list[tuple[FileChange, int, str, str | None]] = []  # (change, folder fd, name, staged original)
    try:
        os.mkdir(stage_name, 0o700, dir_fd=folders.root)
        stage = os.open(stage_name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folders.root)
        try:
            for index, change in enumerate(changes):
                handle = os.open(str(index), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666, dir_fd=stage)
                with os.fdopen(handle, "wb") as stream:
                    stream.write(change.after.encode("utf-8"))
            os.sync()  # one sync for every staged file, before any of them takes a real name
            for index, change in enumerate(changes):
                folder, _, name = change.rel.rpartition("/")
                fd = folders.folder(folder)
                if change.before is None:
                    try:
                        os.link(str(index), name, src_dir_fd=stage, dst_dir_fd=fd, follow_symlinks=False)
                    except FileExistsError:
                        raise EditError(f"{change.rel} was created by someone else meanwhile; nothing was "
                                        "written") from None
                    done.append((change, fd, name, None))
                    continue
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or change.stamp is None or _sha(fd, name) != change.stamp.sha256:
                    raise EditError(f"{change.rel} changed on disk since it was read; nothing was written. Run the "
                                    "import again.")
                os.chmod(str(index), stat.S_IMODE(info.st_mode), dir_fd=stage)
                kept = f"{index}.before"
                os.link(name, kept, src_dir_fd=fd, dst_dir_fd=stage, follow_symlinks=False)
                os.rename(str(index), name, src_dir_fd=stage, dst_dir_fd=fd)
                done.append((change, fd, name, kept))
            for fd in set(folders.fds.values()):
                with suppress(OSError):
                    os.fsync(fd)
        except BaseException:
            for _change, folder_fd, written, before in reversed(done):
                with suppress(OSError):
                    if before is None:
                        os.unlink(written, dir_fd=folder_fd)
                    else:
                        os.rename(before, written, src_dir_fd=stage, dst_dir_fd=folder_fd)
            for made in reversed(folders.made):
                parent, _, child = made.rpartition("/")
                with suppress(OSError, KeyError):
                    os.rmdir(child, dir_fd=folders.fds[parent])
            raise
        finally:
            for entry in os.listdir(stage):
                with suppress(OSError):
                    os.unlink(entry, dir_fd=stage)
            os.close(stage)
            with suppress(OSError):
                os.rmdir(stage_name, dir_fd=folders.root)
    except OSError as exc:
        raise EditError(f"cannot write the import: {exc.strerror or exc}"
                        f"{' (' + str(exc.filename) + ')' if exc.filename else ''}; nothing was written") from None
    finally:
        folders.close()
