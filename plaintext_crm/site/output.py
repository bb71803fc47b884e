"""The site's output folder: build into a temporary folder beside it, then swap it in atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plaintext_crm.errors import ToolError

# Workspace folders a site must never replace or be written into.
PROTECTED_FOLDERS = frozenset({"clients", "deals", "projects", "templates", "site-templates", ".git",
                               ".plaintext-crm"})
STAGING_PREFIX = ".site-building-"
RETIRED_PREFIX = ".site-old-"


def check_output_folder(out: Path, workspace: Path) -> Path:
    """The resolved output folder; refuses one that is, or contains, the workspace (or any parent of it)."""
    resolved_out = out.expanduser().resolve()
    resolved_ws = workspace.resolve()
    if resolved_out == resolved_ws or resolved_out in resolved_ws.parents:
        raise ToolError(f"refusing to build into {out}: it is or contains the workspace {workspace}; "
                        "choose a folder such as <workspace>/site")
    if resolved_ws in resolved_out.parents:
        top = resolved_out.relative_to(resolved_ws).parts[0]
        if top in PROTECTED_FOLDERS:
            raise ToolError(f"refusing to build into {out}: {top}/ belongs to the workspace; "
                            "choose a folder such as <workspace>/site")
    if resolved_out.exists() and not resolved_out.is_dir():
        raise ToolError(f"cannot build into {out}: it exists and is not a folder")
    if resolved_out.is_dir() and any(resolved_out.iterdir()) and not _looks_like_a_site(resolved_out):
        raise ToolError(f"refusing to replace {out}: it holds files but no previous build (no index.html); "
                        "choose an empty or new folder")
    return resolved_out


def _looks_like_a_site(folder: Path) -> bool:
    return (folder / "index.html").is_file()


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `out`; removed again if the build fails before `swap_in`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + out.name + "-", dir=out.parent))
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, out: Path) -> None:
    """Replace `out` by the completed `staging` folder; the old site stays whole until the last step."""
    os.chmod(staging, 0o755)  # mkdtemp makes it 0700; a site folder is meant to be served
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=RETIRED_PREFIX + out.name + "-", dir=out.parent))
    old = retired / out.name
    os.replace(out, old)  # two renames within one folder: the gap without a site is microseconds
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(old, out)
        raise
    finally:
        if not out.exists() and old.exists():  # pragma: no cover - only if the rollback itself failed
            os.replace(old, out)
    shutil.rmtree(retired, ignore_errors=True)


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """Reuse an unchanged file of the previous build: a hard link when possible, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
