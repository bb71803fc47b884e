"""Adding the owners an export names to crm.yaml's team, as inactive members, keeping every other byte."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from plaintext_crm.editing.atomic import EditError, inspect_target, read_text
from plaintext_crm.editing.edit import FileChange, render_inline
from plaintext_crm.editing.imports.values import slug
from plaintext_crm.records.config import CONFIG_FILE, Config, Member

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def member_for(owner: str, taken: set[str]) -> Member:
    """An inactive member for an owner text (a name or an email), with an id not taken yet."""
    text = owner.strip()
    email = text if _EMAIL.match(text) else None
    name = text.split("@")[0].replace(".", " ").title() if email else text
    base = slug(text.split("@")[0] if email else text).replace("-", "_") or "member"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    taken.add(candidate)
    return Member(candidate, name, email, active=False)


def _entry(member: Member) -> str:
    parts = [f"name: {render_inline(member.name)}"]
    if member.email:
        parts.append(f"email: {render_inline(member.email)}")
    parts.append("active: false")
    return f"{member.id}: {{{', '.join(parts)}}}"


def _content_end(node: yaml.Node) -> int:
    """Where a value's last character is (a block collection's end mark lies past the comments after it)."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return int(node.end_mark.index)


def add_members(root: Path, config: Config, members: Sequence[Member]) -> FileChange:
    """The change of crm.yaml adding `members` at the end of its `team` block (or a new `team:`)."""
    exists = inspect_target(root, CONFIG_FILE) is not None
    text, stamp = read_text(root, CONFIG_FILE) if exists else ("", None)
    newline = "\r\n" if "\r\n" in text else "\n"
    node = yaml.compose(text) if text.strip() else None
    team = None
    if isinstance(node, yaml.MappingNode):
        team = next((value for key, value in node.value if key.value == "team"), None)
    entries = [_entry(member) for member in members]
    if team is None:
        prefix = "" if not text or text.endswith(("\n", "\r")) else newline
        after = text + prefix + "team:" + newline + "".join(f"  {entry}{newline}" for entry in entries)
    elif isinstance(team, yaml.MappingNode) and not team.flow_style and team.value:
        first_key = team.value[0][0]
        indent = " " * first_key.start_mark.column
        end = _content_end(team.value[-1][1])
        line_end = end if text[end - 1:end] == "\n" else text.find("\n", end) + 1
        insert = line_end or len(text)
        block = "".join(f"{indent}{entry}{newline}" for entry in entries)
        if not line_end and not text.endswith(("\n", "\r")):
            block = newline + block
        after = text[:insert] + block + text[insert:]
    else:
        raise EditError(f"{CONFIG_FILE}: 'team' is not written as a block of members; add "
                        f"{', '.join(member.id for member in members)} by hand (nothing was written)")
    before_data = yaml.safe_load(text) or {} if text.strip() else {}
    after_data = yaml.safe_load(after)
    expected_team = dict(before_data.get("team") or {})
    for member in members:
        expected_team[member.id] = {"name": member.name, **({"email": member.email} if member.email else {}),
                                    "active": False}
    if after_data.get("team") != expected_team or {k: v for k, v in after_data.items() if k != "team"} != \
            {k: v for k, v in before_data.items() if k != "team"}:
        raise EditError(f"{CONFIG_FILE}: adding the members would change other settings; add "
                        f"{', '.join(member.id for member in members)} by hand (nothing was written)")
    return FileChange(root, CONFIG_FILE, text if exists else None, after, stamp,
                      tuple(f"team: added {member.id} ({member.name}, inactive)" for member in members))
