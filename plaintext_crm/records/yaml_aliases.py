"""YAML aliases that must not be expanded: a value that contains itself, or a "billion laughs" bomb.

Checked on PyYAML's events before anything is built, so a hostile record costs a walk of its text.
"""

from __future__ import annotations

from typing import Any

import yaml

# Aliases may reuse an anchor, but the expanded document may hold at most this many nodes, or this
# many times the nodes written, whichever is larger: a "billion laughs" bomb stops at its first level
# past the bound, before anything is built.
MAX_EXPANDED_NODES = 10_000
MAX_EXPANSION_RATIO = 10


class RefusedYaml(Exception):
    """Front matter that is not built: nested too deep, or aliases that recurse or multiply."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line  # 0-based, in the YAML text
        self.message = message


_COLLECTION_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def expansion_problem(yaml_text: str, loader: Any) -> RefusedYaml | None:
    """Why the aliases of yaml_text must not be expanded, or None when they are harmless.

    Walks PyYAML's events (no values are built): an alias met inside the collection its anchor opens
    would make a value contain itself; otherwise every anchor's expanded node count is known when its
    alias comes, so the whole document's expanded size is counted without expanding anything."""
    sizes: dict[str, int] = {}  # anchor -> nodes its value expands to
    inside: set[str] = set()  # anchors of the collections still open
    frames: list[list[Any]] = [[None, 0]]  # per open collection: [anchor, expanded nodes so far]
    written = expanded = 0
    aliases: list[tuple[int, int, str]] = []  # (expanded nodes after the alias, its line, its anchor)
    events: Any = yaml.parse(yaml_text, Loader=loader)  # typed as plain Events; these have anchors
    try:
        for event in events:
            kind = type(event)
            if kind is yaml.AliasEvent:
                anchor = event.anchor
                if anchor in inside:
                    return RefusedYaml(event.start_mark.line, f"alias *{anchor} is inside the value of its own anchor "
                                    f"&{anchor}: a value cannot contain itself")
                size = sizes.get(anchor)
                if size is None:
                    return None  # an undefined alias: composing says so, with its line
                written += 1
                expanded += size
                frames[-1][1] += size
                aliases.append((expanded, event.start_mark.line, anchor))
            elif kind is yaml.ScalarEvent:
                written += 1
                expanded += 1
                frames[-1][1] += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, _COLLECTION_STARTS):
                written += 1
                expanded += 1
                frames.append([event.anchor, 1])
                if event.anchor is not None:
                    inside.add(event.anchor)
            elif isinstance(event, _COLLECTION_ENDS):
                anchor, size = frames.pop()
                frames[-1][1] += size
                if anchor is not None:
                    sizes[anchor] = size
                    inside.discard(anchor)
    except yaml.YAMLError:
        return None  # composing reports the same error with its line
    limit = max(MAX_EXPANDED_NODES, MAX_EXPANSION_RATIO * written)
    if expanded <= limit:
        return None
    crossing = next((alias for alias in aliases if alias[0] > limit), aliases[-1])
    return RefusedYaml(crossing[1], f"aliases expand the front matter to {expanded:,} values from {written:,} written "
                                 f"(at most {limit:,}); alias *{crossing[2]} here goes past that: reuse an anchor "
                                 "a few times, do not nest repeated aliases")
