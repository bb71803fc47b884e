"""The site's output folder: only a folder this tool wrote is replaced, one build at a time, built beside it and swapped in.

    check (marker, no foreign files, no symlink) -> lock (one build per folder) -> remove stale temporary
    folders of dead builds -> build into a staging folder -> final marker -> check again and swap in
    -> remove the files of the old site that its marker lists (nothing else)

Every folder this tool writes carries MARKER, a JSON file: the site's own marker lists every file of
the site; a staging or retired folder's marker also names the process that owns it, so that a later
build can tell a folder left by a killed build (removed) from one in use (left alone).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.records.cache_store import LEGACY_FOLDER
from plaintext_crm.site.fs_failure import failure
from plaintext_crm.site.marker import MARKER, Marker, MarkerError, marker_data, read_marker, write_marker
from plaintext_crm.site.process_owner import current_owner, owner_gone, this_boot

try:  # POSIX; elsewhere builds into one folder are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

# Workspace folders a site must never replace or be written into.
PROTECTED_FOLDERS = frozenset({"clients", "deals", "projects", "templates", "site-templates", ".git",
                               LEGACY_FOLDER})
STAGING_PREFIX = ".site-building-"
RETIRED_PREFIX = ".site-old-"
LOCK_PREFIX = ".plaintext-crm-lock-"
LOCK_TIMEOUT_SECONDS = 600.0  # a second build waits this long for the first, then gives up
LOCK_POLL_SECONDS = 0.05
SHOWN = 5  # foreign files named in a refusal
# The last check of each output folder in this process: its files and folder stamps. The check just
# before the swap only lists the folders again when one of them changed since the check before the build.
_CHECKED: dict[str, tuple[frozenset[str], dict[str, tuple[int, int]]]] = {}


# --- checking the output folder ------------------------------------------------------------------

def check_output_folder(out: Path, workspace: Path) -> Path:
    """The absolute output folder; refuses one that is or contains the workspace, is a symbolic link, or
    holds anything this tool did not write."""
    given = Path(os.path.abspath(out.expanduser()))
    if os.path.islink(given):
        raise ToolError(f"refusing to build into {out}: it is a symbolic link (to {os.readlink(given)}); "
                        "give the real folder with -o")
    resolved_out = given.parent.resolve() / given.name if given.name else given.resolve()
    resolved_ws = workspace.resolve()
    if resolved_out == resolved_ws or resolved_out in resolved_ws.parents:
        raise ToolError(f"refusing to build into {out}: it is or contains the workspace {workspace}; "
                        "choose a folder such as <workspace>/site")
    if resolved_ws in resolved_out.parents:
        top = resolved_out.relative_to(resolved_ws).parts[0]
        if top in PROTECTED_FOLDERS:
            raise ToolError(f"refusing to build into {out}: {top}/ belongs to the workspace; "
                            "choose a folder such as <workspace>/site")
    if os.path.lexists(resolved_out) and not resolved_out.is_dir():
        raise ToolError(f"cannot build into {out}: it exists and is not a folder; choose another folder with -o")
    blocking = next((folder for folder in resolved_out.parents if os.path.lexists(folder)), None)
    if blocking is not None and not blocking.is_dir():
        raise ToolError(f"cannot build into {out}: {blocking} is a file, not a folder; move it away or choose "
                        "another folder with -o")
    check_replaceable(resolved_out)
    return resolved_out


def check_replaceable(out: Path) -> frozenset[str]:
    """The files the tool wrote in `out` (empty when it is empty or missing); refuses a folder that holds
    anything else, so that replacing it can never lose a file of the user's."""
    try:
        with os.scandir(out) as entries:
            if not any(True for _entry in entries):
                return frozenset()
    except FileNotFoundError:
        return frozenset()
    except OSError as exc:
        raise failure(exc, f"read the output folder {out}") from None
    try:
        marker = read_marker(out)
    except MarkerError as exc:
        raise ToolError(f"refusing to replace {out}: its {MARKER} marker cannot be trusted ({exc}); "
                        f"move your files out of {out}, then delete or rename it (or choose another "
                        "folder with -o) and build again") from None
    if marker is None:
        raise ToolError(f"refusing to replace {out}: it holds files that plaintext-crm did not write (it has "
                        f"no {MARKER} marker). Choose an empty or new folder with -o. If it is a site built by "
                        "an older plaintext-crm, delete or rename it once: builds replace it from then on.")
    if marker.owner is not None:
        raise ToolError(f"refusing to replace {out}: it is a temporary folder of a build, not a site; "
                        "choose another folder with -o")
    checked = _CHECKED.pop(os.fspath(out), None)
    if checked is not None and checked[0] == marker.files and _unchanged(out, checked[1]):
        return marker.files  # checked before the build and nothing was added or removed since
    try:
        foreign, stamps = _scan(out, marker.files)
    except OSError as exc:
        raise failure(exc, f"read the output folder {out}") from None
    _CHECKED[os.fspath(out)] = (marker.files, stamps)
    if foreign:
        shown = _names(foreign)
        raise ToolError(f"refusing to replace {out}: it holds files that plaintext-crm did not write: {shown}. "
                        f"Move them out of {out} (or delete them) and build again; a build replaces only "
                        "the files it wrote.")
    return marker.files


def _names(found: list[str]) -> str:
    """Some of `found` for a message, hidden characters of file names shown as escapes."""
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return ", ".join(terminal(name) for name in found[:SHOWN]) + more




def _scan(folder: Path, files: frozenset[str]) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Entries of `folder` the tool did not write (files not in `files`, folders holding none of them,
    every symbolic link), and the identity and modification time of each folder of the site (taken before
    it is listed: an entry added or removed later changes it)."""
    folders = _folders_of(files)
    found: list[str] = []
    stamps: dict[str, tuple[int, int]] = {}

    def walk(path: str, prefix: str) -> None:
        info = os.stat(path, follow_symlinks=False)
        stamps[prefix] = (info.st_ino, info.st_mtime_ns)
        with os.scandir(path) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if not prefix and _ours_at_top(entry.name) and entry.is_file(follow_symlinks=False):
                    continue
                if entry.is_symlink():
                    found.append(rel)
                elif entry.is_dir(follow_symlinks=False):
                    if rel in folders:
                        walk(entry.path, rel + "/")
                    else:
                        found.append(rel + "/")
                elif rel not in files or not entry.is_file(follow_symlinks=False):
                    found.append(rel)

    walk(os.fspath(folder), "")
    return sorted(found), stamps


def _folders_of(files: frozenset[str]) -> set[str]:
    """Every folder that holds one of `files` ("a", "a/b" for "a/b/c.html")."""
    folders = {rel.rsplit("/", 1)[0] for rel in files if "/" in rel}
    return folders | {rel.rsplit("/", i)[0] for rel in folders for i in range(1, rel.count("/") + 1)}


def _unchanged(folder: Path, stamps: dict[str, tuple[int, int]]) -> bool:
    """True when no folder of a site checked by `_scan` has gained, lost or renamed an entry since."""
    for prefix, stamp in stamps.items():
        try:
            info = os.stat(os.path.join(folder, prefix), follow_symlinks=False)
        except OSError:
            return False
        if (info.st_ino, info.st_mtime_ns) != stamp:
            return False
    return True


def _ours_at_top(name: str) -> bool:
    """The marker, and a temporary marker a killed build may have left beside it."""
    return name == MARKER or (name.startswith(MARKER + ".") and name.endswith(".tmp"))


# --- the lock: one build at a time per output folder ---------------------------------------------

def lock_path(out: Path) -> Path:
    """The lock file of output folder `out`: beside it, as the folder itself is replaced by each build."""
    return out.parent / (LOCK_PREFIX + out.name)


@contextmanager
def output_lock(out: Path, on_wait: Callable[[str], object] | None = None) -> Iterator[None]:
    """Hold the lock of `out`; when another build holds it, say so and wait (up to LOCK_TIMEOUT_SECONDS)."""
    make_parent(out)
    path = lock_path(out)
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                         0o666)
    except OSError as exc:
        raise failure(exc, f"create the lock file {path}", out) from None
    try:
        if fcntl is not None:
            _acquire(handle, out, on_wait or (lambda text: click.echo(text, err=True)))
            try:
                os.ftruncate(handle, 0)
                os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
            except OSError:
                pass  # the pid is only for the message of a waiting build
        yield
    finally:
        os.close(handle)  # releases the lock


def _acquire(handle: int, out: Path, on_wait: Callable[[str], object]) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    try:
        holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        holder = ""
    who = f" (process {holder})" if holder.isdigit() else ""
    on_wait(f"waiting for another plaintext-crm build into {out}{who} to finish...")
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise ToolError(f"another plaintext-crm build into {out}{who} is still running after "
                                f"{LOCK_TIMEOUT_SECONDS:g} s; wait for it to finish (or stop it) and build "
                                "again") from None
            time.sleep(LOCK_POLL_SECONDS)


def make_parent(out: Path) -> None:
    """Create the folder that will hold `out` (and its temporary folders), or say why not."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise failure(exc, f"create the folder {out.parent}") from None


# --- temporary folders: owned by a process, removed by a later build once it is gone -------------


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `out`, marked with its owner; removed again unless swapped in."""
    make_parent(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + out.name + "-", dir=out.parent))
    except OSError as exc:
        raise failure(exc, f"create a temporary folder in {out.parent}", out) from None
    try:
        try:
            write_marker(staging, marker_data([], building=current_owner()))
        except OSError as exc:
            raise failure(exc, f"write into the temporary folder {staging}", out) from None
        yield staging
    finally:
        if os.path.lexists(staging):
            shutil.rmtree(staging, ignore_errors=True)


def finish(staging: Path, files: Iterable[str]) -> None:
    """Give the completed staging folder its final marker: the site's files, no owner (same bytes each time)."""
    write_marker(staging, marker_data(files))


def clean_stale(out: Path) -> None:
    """Remove temporary folders beside `out` left by builds that were killed; call with the lock held.

    Only folders with the tool's marker naming a process that is gone are touched. An old site retired
    by a build killed in the middle of its swap is put back first when `out` is missing.
    """
    try:
        names = [name for name in os.listdir(out.parent) if name.startswith((STAGING_PREFIX, RETIRED_PREFIX))]
    except OSError:
        return
    for name in sorted(names):
        folder = out.parent / name
        try:
            if not folder.is_dir() or folder.is_symlink():
                continue
            marker = read_marker(folder)
        except (OSError, MarkerError):
            continue
        if marker is None or marker.owner is None or not owner_gone(marker.owner):
            continue
        if not this_boot(marker.owner):
            # A marker anyone could have written (a committed folder, a build from before a restart):
            # nothing proves the tool made this folder, so it is left for a person to delete.
            click.echo(f"warning: left {terminal(str(folder))} alone: a temporary folder of a build this "
                       "machine did not run since it started; delete it if you do not need it", err=True)
            continue
        if name.startswith(STAGING_PREFIX):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            _put_back_or_remove(folder, marker)


def _put_back_or_remove(retired: Path, marker: Marker) -> None:
    original = Path(marker.retired) if marker.retired else None
    with os.scandir(retired) as scan:
        entries = [entry for entry in scan if entry.name != MARKER and entry.is_dir(follow_symlinks=False)]
    for entry in entries:
        old = Path(entry.path)
        if original is not None and original.name == entry.name and original.parent == retired.parent \
                and not os.path.lexists(original):
            try:
                os.replace(old, original)
                continue
            except OSError:
                pass
        _remove_site(old)
    _remove_if_only_marker(retired)


def _remove_site(site: Path) -> list[str]:
    """Delete the files of a site that its marker lists, and their folders once empty; return what is left.

    Nothing else is removed and no link is followed: a file a user put there meanwhile stays.
    """
    try:
        marker = read_marker(site)
    except MarkerError:
        return ["./"]
    listed = marker.files if marker is not None else frozenset()
    folders = _folders_of(listed)
    left: list[str] = []

    def clear(path: str, prefix: str) -> None:
        with os.scandir(path) as scan:
            entries = list(scan)
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False) and rel in folders:
                clear(entry.path, rel + "/")
                try:
                    os.rmdir(entry.path)
                except OSError:
                    pass  # what is left in it is in `left`
                continue
            ours = rel in listed or (not prefix and _ours_at_top(entry.name) and entry.name != MARKER)
            if ours and not entry.is_symlink() and not entry.is_dir(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    continue
                except OSError:
                    pass
            if rel != MARKER:
                left.append(rel + ("/" if entry.is_dir(follow_symlinks=False) else ""))

    clear(os.fspath(site), "")
    if not left:
        try:
            os.unlink(site / MARKER)
        except FileNotFoundError:
            pass
        except OSError:
            return [MARKER]
        try:
            os.rmdir(site)
        except OSError:
            return ["./"]
    return sorted(left)


def _remove_if_only_marker(folder: Path) -> bool:
    try:
        if set(os.listdir(folder)) <= {MARKER}:
            try:
                os.unlink(folder / MARKER)
            except FileNotFoundError:
                pass
            os.rmdir(folder)
            return True
    except OSError:
        pass
    return False


# --- the swap ------------------------------------------------------------------------------------

def swap_in(staging: Path, out: Path) -> None:
    """Replace `out` by the completed `staging` folder; the old site stays whole until the last step, and
    only the files it lists are deleted afterwards."""
    mode = 0o777 & ~_umask()
    os.chmod(staging, mode | 0o700)  # mkdtemp makes it 0700; a site folder is meant to be served
    if not os.path.lexists(out):
        try:
            os.rename(staging, out)
        except OSError as exc:
            raise failure(exc, f"move the new site into {out}", out) from None
        return
    check_replaceable(out)  # again, just before: a file saved there during the build must not be lost
    try:
        retired = Path(tempfile.mkdtemp(prefix=RETIRED_PREFIX + out.name + "-", dir=out.parent))
    except OSError as exc:
        raise failure(exc, f"create a temporary folder in {out.parent}", out) from None
    old = retired / out.name
    try:
        write_marker(retired, marker_data([], building=current_owner(), retired=str(out)))
        os.replace(out, old)
    except OSError as exc:
        shutil.rmtree(retired, ignore_errors=True)
        raise failure(exc, f"move the old site {out} aside", out) from None
    try:
        os.replace(staging, out)  # two renames within one folder: the gap without a site is microseconds
    except OSError as exc:
        try:
            os.replace(old, out)
        except OSError:  # pragma: no cover - the rollback itself failed: say where the old site is
            raise ToolError(f"could not move the new site into {out} ({exc.strerror}), nor the old one back; "
                            f"the old site is in {old}: rename it to {out}") from None
        _remove_if_only_marker(retired)
        raise failure(exc, f"move the new site into {out}", out) from None
    left = _remove_site(old)
    if left:
        for marker in (old / MARKER, retired / MARKER):  # no longer the tool's to remove: the user's files
            try:
                os.unlink(marker)
            except OSError:
                pass
        click.echo(f"Warning: kept files that plaintext-crm did not write, saved in {out} during the build, "
                   f"in {old}: {_names(left)}", err=True)
    else:
        _remove_if_only_marker(retired)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


# --- the site kept up to date in place (watch, serve) ---------------------------------------------

def listed_files(out: Path) -> frozenset[str]:
    """The files the marker of the site `out` lists (none for a missing or empty folder); refuses a
    folder that is not a site this tool wrote."""
    try:
        marker = read_marker(out)
    except MarkerError as exc:
        raise ToolError(f"refusing to write into {out}: its {MARKER} marker cannot be trusted ({exc}); "
                        "stop, then delete or rename it and build again") from None
    if marker is not None and marker.owner is None:
        return marker.files
    try:
        empty = not os.listdir(out)
    except FileNotFoundError:
        empty = True
    except OSError as exc:
        raise failure(exc, f"read the output folder {out}") from None
    if not empty:
        raise ToolError(f"refusing to write into {out}: it is no longer a site written by plaintext-crm "
                        f"(no {MARKER} marker); stop, then choose another folder with -o")
    return frozenset()


def add_to_marker(out: Path, files: frozenset[str], added: Iterable[str]) -> frozenset[str]:
    """Before files are moved into `out`: list them in its marker (a killed update leaves no unlisted file)."""
    new = files | set(added)
    if new != files or not os.path.lexists(out / MARKER):
        out.mkdir(parents=True, exist_ok=True)
        write_marker(out, marker_data(new))
    return new


def remove_from_marker(out: Path, files: frozenset[str], removed: Iterable[str]) -> frozenset[str]:
    """After files were deleted from `out`: take them off its marker."""
    new = files - set(removed)
    if new != files:
        write_marker(out, marker_data(new))
    return new


def is_inside(out: Path, rel: str) -> bool:
    """True when `out/rel`'s folder is a real folder inside `out` (no link on the way out of it)."""
    parent = os.path.dirname(os.path.join(out, rel))
    return os.path.realpath(parent) == os.path.join(os.path.realpath(out), os.path.dirname(rel)).rstrip("/")


# --- failures of the file system ------------------------------------------------------------------


