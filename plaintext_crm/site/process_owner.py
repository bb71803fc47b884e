"""Which process owns a temporary folder (pid, start time, boot id, host), and whether it is certainly gone."""

from __future__ import annotations

import os
from pathlib import Path


def current_owner() -> dict[str, object]:
    return {"pid": os.getpid(), "start": _start_token(os.getpid()), "host": _host()}


def _host() -> str:
    return os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")


def _start_token(pid: int) -> str | None:
    """When process `pid` started (boot id and start time, Linux), so that a reused pid is not taken for it."""
    try:
        line = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return None
    fields = line.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces and ")"
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def this_boot(owner: dict[str, object]) -> bool:
    """Whether the owner's start token carries this machine's current boot id (random at each start,
    never in a repository), so that a folder a commit planted is never taken for one a build left."""
    token = owner.get("start")
    own = _start_token(os.getpid())
    return isinstance(token, str) and own is not None and token.split(":", 1)[0] == own.split(":", 1)[0]


def owner_gone(owner: dict[str, object]) -> bool:
    """True only when the owning process is certainly gone (same host; no such process, or another one)."""
    pid, host = owner.get("pid"), owner.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or host != _host():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, owned by someone else
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[-1].split()
    except OSError:
        return False
    if state and state[0] in ("Z", "X"):  # killed, not yet reaped
        return True
    current, token = _start_token(pid), owner.get("start")
    return current is not None and token is not None and current != token
