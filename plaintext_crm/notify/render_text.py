"""A digest as plain text: the terminal's `digest` output and the text part of the email."""

from __future__ import annotations

from collections.abc import Iterable

from plaintext_crm.escape import terminal
from plaintext_crm.notify.digest import Digest


def heading(digest: Digest) -> str:
    """`Daily digest for Ana Ruiz (ana) - Thu 2026-11-26 - Brightline Studio` (not escaped)."""
    inactive = "" if digest.active or not digest.member else ", inactive"
    return (f"Daily digest for {digest.name} ({digest.owner}{inactive}) - {digest.today:%a %Y-%m-%d} - "
            f"{digest.workspace}")


def summary(digest: Digest) -> str:
    """`2 overdue, 1 due today, 3 more` for subjects and chat previews (not escaped)."""
    parts = [f"{digest.count(key)} {label}" for key, label in (("overdue", "overdue"), ("due_today", "due today"))
             if digest.count(key)]
    rest = sum(len(section.items) for section in digest.sections) - digest.count("overdue") - digest.count("due_today")
    if rest:
        parts.append(f"{rest} {'more' if parts else 'to look at'}")
    return ", ".join(parts) or "nothing due"


def render_text(digest: Digest) -> str:
    """One owner's digest: a heading, then each section with one item a line (and its link on the next).

    Every value shows its control and bidi characters as escapes, so each item is exactly its lines.
    """
    lines = [terminal(heading(digest)), ""]
    if digest.empty:
        lines.append("Nothing due.")
    for section in digest.sections:
        lines.append(f"{section.title} ({len(section.items)})")
        for item in section.items:
            lines.append(f"  - {terminal(item.title)}: {terminal(item.detail)}")
            lines.append(f"    {terminal(item.url or item.path)}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_texts(digests: Iterable[Digest]) -> str:
    """Several digests, one after the other; `No digest: nothing is due.` when none has anything."""
    shown = [render_text(digest) for digest in digests if not digest.empty]
    return "\n".join(shown) if shown else "No digest: nothing is due.\n"
