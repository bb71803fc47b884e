"""A digest as Markdown (GitHub-flavoured): for chat services that read Markdown and for pasting."""

from __future__ import annotations

from collections.abc import Iterable

from plaintext_crm.escape import markdown_code, markdown_text
from plaintext_crm.notify.digest import Digest, DigestItem
from plaintext_crm.notify.render_text import heading


def link_target(url: str) -> str:
    """A URL safe inside `[text](...)` and `<...>`: the characters that would end it percent-encoded."""
    return "".join(f"%{ord(char):02X}" if char in " ()<>[]\"'`\\|" or ord(char) < 33 else char for char in url)


def _item(item: DigestItem) -> str:
    title = markdown_text(item.title)
    linked = f"[{title}]({link_target(item.url)})" if item.url else f"{title} ({markdown_code(item.path)})"
    return f"- {linked}: {markdown_text(item.detail)}"


def render_markdown(digest: Digest) -> str:
    """One owner's digest: a level-2 heading, a level-3 heading per section, a list item per record."""
    lines = [f"## {markdown_text(heading(digest))}", ""]
    if digest.empty:
        lines.append("Nothing due.")
    for section in digest.sections:
        lines += [f"### {section.title} ({len(section.items)})", ""]
        lines += [_item(item) for item in section.items]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_markdowns(digests: Iterable[Digest]) -> str:
    shown = [render_markdown(digest) for digest in digests if not digest.empty]
    return "\n".join(shown) if shown else "No digest: nothing is due.\n"
