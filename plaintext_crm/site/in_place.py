"""Publishing a rebuild in place: the pages rendered into a staging folder are moved into the site, the rest stay.

A rebuild after a small change renders a few pages out of thousands. Swapping in a whole new folder
would mean linking every unchanged page into it and deleting the old folder's files one by one
(~0.5 s at 13,700 pages); instead, when the previous build's manifest describes the site in `out`, the
rendered pages are moved into `out` one by one (a rename each, within one file system), and pages
that no longer exist are deleted. The guarantees, with the build's lock held:

- Everything is rendered into the staging folder before `out` is touched: a template error, a full
  disk or a killed build before that point leaves `out` exactly as it was.
- Each page is replaced by a rename, so a reader never sees half a page. Before a page is replaced,
  its old copy is hard-linked into the staging folder; when a move fails, the pages already moved are
  put back, so a failed build still leaves the previous site whole.
- The marker lists a page before it is moved in, and after it is deleted: whenever the build stops,
  every file in `out` is listed, so a later build may still replace the folder.
- Only a build killed during the moves themselves (a few renames) can leave some pages new and others
  old. The caller deletes the page manifest before the moves, so the next build renders every page.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from plaintext_crm.errors import ToolError
from plaintext_crm.site import output
from plaintext_crm.site.fs_failure import failure

BACKUP_FOLDER = ".previous"  # inside the staging folder: the old copies of the pages being replaced


def page_files(out: Path) -> set[str]:
    """The regular files in `out` and its folders ("a/b.html"), links and other entries left out.

    One listing of each folder (the entry types come with it): ~20 times faster than a stat per page.
    """
    found: set[str] = set()

    def walk(path: str, prefix: str) -> None:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, prefix + entry.name + "/")
                elif entry.is_file(follow_symlinks=False):
                    found.add(prefix + entry.name)

    try:
        walk(os.fspath(out), "")
    except OSError:
        return set()  # every page is rendered again
    return found


def is_page_file(path: str) -> bool:
    """True when `path` is a regular file (not a link, not a folder): a page that can stay in place."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def publish(staging: Path, out: Path, moved: Iterable[str], files: Iterable[str]) -> None:
    """Move the files `moved` (rendered in `staging`) into the site `out`, whose files become `files`.

    Call with the lock of `out` held. Files of `out`'s marker that are not in `files` are deleted.
    """
    listed = output.check_replaceable(out)  # again, just before: nothing of the user's may be overwritten
    wanted = frozenset(files)
    moved = sorted(set(moved))
    for rel in moved:
        if not output.is_inside(out, rel):
            raise ToolError(f"refusing to write {out / rel}: a folder on the way is a symbolic link out of {out}")
        if rel not in listed and os.path.lexists(out / rel):
            raise ToolError(f"refusing to replace {out / rel}: plaintext-crm did not write it; move it out of "
                            f"{out} and build again")
    backup = staging / BACKUP_FOLDER
    done: list[tuple[str, bool]] = []  # (page, had an old copy) in the order moved
    try:
        listed = output.add_to_marker(out, listed, moved)
        for rel in moved:
            target = out / rel
            had_old = os.path.isfile(target) and not os.path.islink(target)
            if had_old:
                (backup / rel).parent.mkdir(parents=True, exist_ok=True)
                os.link(target, backup / rel, follow_symlinks=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
            done.append((rel, had_old))
    except OSError as exc:
        _put_back(out, backup, done)
        raise failure(exc, f"move the new pages into {out}", out) from None
    gone = sorted(listed - wanted)
    for rel in gone:
        if not output.is_inside(out, rel) or os.path.isdir(out / rel):
            continue  # never delete through a link out of the site, nor a folder of the user's
        try:
            os.unlink(out / rel)
        except FileNotFoundError:
            pass
        _remove_empty_parents(out, rel)
    output.remove_from_marker(out, listed, gone)


def _put_back(out: Path, backup: Path, done: list[tuple[str, bool]]) -> None:
    """Undo the moves of a failed publish: old pages back in place, new pages that had none removed."""
    for rel, had_old in reversed(done):
        try:
            if had_old:
                os.replace(backup / rel, out / rel)
            else:
                os.unlink(out / rel)
        except OSError:  # pragma: no cover - the file system failed twice; the marker still lists the file
            pass


def _remove_empty_parents(out: Path, rel: str) -> None:
    """Remove the folders of a deleted page that are now empty, up to (not including) `out`."""
    parent = Path(rel).parent
    while parent != Path("."):
        try:
            os.rmdir(out / parent)
        except OSError:
            return
        parent = parent.parent
