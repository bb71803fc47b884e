"""File-system failures of a build as messages: what was tried, where, why, what to do."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from plaintext_crm.errors import ToolError

ADVICE = {
    errno.ENOSPC: "The disk is full: free some space and build again.",
    errno.EDQUOT: "The disk quota is used up: free some space and build again.",
    errno.EFBIG: "A file grew past the size this system allows (the disk is full, or a limit such as "
                 "`ulimit -f` was reached): free some space or raise the limit, and build again.",
    errno.EACCES: "No permission for that path: check its permissions (and its folder's), or choose another "
                  "output folder with -o, and build again.",
    errno.EPERM: "No permission for that path: check its permissions (and its folder's), or choose another "
                 "output folder with -o, and build again.",
    errno.EROFS: "The file system is read-only: choose another output folder with -o and build again.",
    errno.ENOTDIR: "A file stands where a folder is needed: move that file away or choose another output "
                   "folder with -o, and build again.",
    errno.EEXIST: "A file stands where a folder is needed: move that file away or choose another output "
                  "folder with -o, and build again.",
    errno.EISDIR: "A folder stands where a file is needed: move it away and build again.",
    errno.ENAMETOOLONG: "A path is too long for this file system: choose a shorter output folder with -o.",
}


def failure(exc: OSError, doing: str, out: Path | None = None) -> ToolError:
    """A build that failed on the file system, as a message: what it tried, where, why, what to do, and
    that the previous site in `out` (if any) is as it was."""
    where = os.fsdecode(exc.filename) if exc.filename is not None else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    detail = f" ({where}: {reason})" if where and where not in doing else f" ({reason})"
    advice = ADVICE.get(exc.errno or 0, "Check that path and build again.")
    kept = f" The previous site in {out} was left as it was." if out is not None and os.path.isdir(out) else ""
    return ToolError(f"could not {doing}{detail}. {advice}{kept}")
