"""import-mapping.yaml: vendor stages, owners and statuses (and a spreadsheet's columns) -> this workspace's ids."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from plaintext_crm.editing.edit import render_inline
from plaintext_crm.editing.imports.csvread import ImportFailed, header_key
from plaintext_crm.editing.imports.values import slug, snake_case
from plaintext_crm.editing.imports.vendors import HUBSPOT_STAGE_IDS
from plaintext_crm.records.config import Config

MAPPING_FILE = "import-mapping.yaml"
SECTIONS = ("columns", "stages", "status", "owners")


@dataclass(frozen=True)
class ImportMapping:
    """What each vendor value becomes here; None: not mapped (kept as written, and reported)."""

    source: str
    columns: Mapping[str, str | None] = field(default_factory=dict)  # csv: header -> front matter key
    stages: Mapping[str, str | None] = field(default_factory=dict)
    status: Mapping[str, str | None] = field(default_factory=dict)  # won / lost -> a closed stage
    owners: Mapping[str, str | None] = field(default_factory=dict)  # owner name or email -> team id

    def unmapped(self) -> list[str]:
        """`stage 'X'`, `owner 'Y'` for every value the mapping leaves without a target."""
        return [f"{section.rstrip('s')} '{value}'" for section in ("stages", "status", "owners")
                for value, target in getattr(self, section).items() if target is None]


def load_mapping(path: Path, shown: str) -> ImportMapping:
    """Read a mapping file; a malformed one stops the import, naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{shown}: cannot read the mapping: {exc}; nothing was written") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ImportFailed(f"{shown}:{line}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                           "nothing was written") from None
    if not isinstance(data, dict):
        raise ImportFailed(f"{shown}:1: the mapping must be a YAML mapping of {', '.join(SECTIONS)}")
    sections: dict[str, dict[str, str | None]] = {}
    for section in SECTIONS:
        raw = data.get(section) or {}
        if not isinstance(raw, dict):
            raise ImportFailed(f"{shown}: '{section}' must map values to ids (value: id); nothing was written")
        sections[section] = {str(key): None if target is None or target == "" else str(target)
                             for key, target in raw.items()}
    return ImportMapping(str(data.get("source") or ""), **sections)


def check_mapping(mapping: ImportMapping, config: Config, shown: str, source: str) -> None:
    """The mapping is for this source; a target must exist: a pipeline stage, a closed stage for won/lost, a
    team member."""
    if mapping.source and mapping.source != source:
        raise ImportFailed(f"{shown}: this mapping is for a {mapping.source} import, not {source}; give another "
                           "file with --map (or move this one away to have one proposed); nothing was written")
    for value, key in mapping.columns.items():
        if key is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ImportFailed(f"{shown}: column '{value}' maps to '{key}', which is not a front matter key name "
                               "(letters, digits and _); nothing was written")
    stages = {stage.id for stage in config.stages}
    for value, target in mapping.stages.items():
        if target is not None and target not in stages:
            raise ImportFailed(f"{shown}: stage '{value}' maps to '{target}', which crm.yaml's pipeline does not "
                               f"have ({', '.join(sorted(stages))}); nothing was written")
    for value, target in mapping.status.items():
        stage = config.stage(target)
        if target is not None and (stage is None or stage.closed != value):
            raise ImportFailed(f"{shown}: status '{value}' must map to a stage with 'closed: {value}'; "
                               f"'{target}' is not one; nothing was written")
    for value, target in mapping.owners.items():
        if target is not None and config.team and target not in config.team:
            raise ImportFailed(f"{shown}: owner '{value}' maps to '{target}', who is not in crm.yaml's team "
                               f"({', '.join(config.team)}); nothing was written")


def guess_stage(value: str, config: Config) -> str | None:
    """A pipeline stage for a vendor stage: the same name, HubSpot's internal ids, Closed Won/Lost, or a
    close spelling; None when nothing fits."""
    ids = [stage.id for stage in config.stages]
    compact = slug(value).replace("-", "")
    for stage_id in ids:
        if slug(stage_id).replace("-", "") == compact:
            return stage_id
    closed_won = next((stage.id for stage in config.stages if stage.is_won), None)
    closed_lost = next((stage.id for stage in config.stages if stage.is_lost), None)
    if compact in ("closedwon", "won"):
        return closed_won
    if compact in ("closedlost", "lost"):
        return closed_lost
    known = HUBSPOT_STAGE_IDS.get(compact)
    if known == "won":
        return closed_won
    if known == "lost":
        return closed_lost
    if known in ids:
        return known
    close = difflib.get_close_matches(compact, [slug(stage_id).replace("-", "") for stage_id in ids], 1, 0.8)
    return ids[[slug(stage_id).replace("-", "") for stage_id in ids].index(close[0])] if close else None


def guess_owner(value: str, config: Config) -> str | None:
    """The team member whose id, email or name is `value` (ignoring case); None when there is none."""
    wanted = value.strip().casefold()
    for member in config.team.values():
        if wanted in (member.id.casefold(), (member.email or "").casefold(), member.name.casefold()):
            return member.id
    return None


def guess_column(header: str, known: Sequence[str], synonyms: Mapping[str, str]) -> str | None:
    """A spreadsheet column's front matter key: the key itself, or a vendor header that means it."""
    key = header_key(header)
    if key in known:
        return key
    snake = key.replace(" ", "_")
    if snake in known:
        return snake
    return synonyms.get(key)


@dataclass(frozen=True)
class Seen:
    """The values an import holds that a mapping must cover, with how many rows hold each."""

    stages: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    owners: Counter[str] = field(default_factory=Counter)
    columns: tuple[str, ...] = ()


def propose(seen: Seen, config: Config, source: str, known_keys: Sequence[str],
            synonyms: Mapping[str, str]) -> ImportMapping:
    """The mapping a first run proposes."""
    won = next((stage.id for stage in config.stages if stage.is_won), None)
    lost = next((stage.id for stage in config.stages if stage.is_lost), None)
    return ImportMapping(
        source,
        columns={header: guess_column(header, known_keys, synonyms) for header in seen.columns},
        stages={value: guess_stage(value, config) for value in sorted(seen.stages)},
        status={value: {"won": won, "lost": lost}[value] for value in sorted(seen.status) if value in ("won", "lost")},
        owners={value: guess_owner(value, config) for value in sorted(seen.owners)},
    )


def is_identity(mapping: ImportMapping) -> bool:
    """True when every value maps to itself: the data needs no mapping file (our own export, say)."""
    columns_kept = all(target == value or (target is None and snake_case(value) == value)
                       for value, target in mapping.columns.items())
    return columns_kept and all(target == value for section in ("stages", "owners")
                                for value, target in getattr(mapping, section).items()) and not mapping.status


def with_defaults(mapping: ImportMapping, seen: Seen, config: Config) -> ImportMapping:
    """`mapping` plus the values it does not list yet (a stage new since the file was written): those
    map only when they are already this workspace's ids, and are reported otherwise."""
    stage_ids = {stage.id for stage in config.stages}
    stages = {**{value: value if value in stage_ids else None for value in seen.stages}, **mapping.stages}
    owners = {**{value: value if value in config.team else None for value in seen.owners}, **mapping.owners}
    return ImportMapping(mapping.source, mapping.columns, stages, mapping.status, owners)


def render_mapping(mapping: ImportMapping, seen: Seen, config: Config, command: str, today: dt.date) -> str:
    """The proposed mapping as YAML with a comment on every line it could not fill."""
    stage_ids = ", ".join(stage.id for stage in config.stages)
    members = ", ".join(config.team) or "(crm.yaml lists no team)"
    lines = [f"# Proposed by `plaintext-crm {command}` on {today.isoformat()}.",
             "# Check every line, fill the empty ones, then run the same command again.",
             f"source: {render_inline(mapping.source)}"]
    notes = {"columns": ("column", "front matter key (empty: kept as an extra key named after the column)", None),
             "stages": ("stage", f"one of: {stage_ids}", seen.stages),
             "status": ("status", "a closed stage", seen.status),
             "owners": ("owner", f"a team id ({members}); empty: reported, or added inactive with --add-owners",
                        seen.owners)}
    for section in SECTIONS:
        entries = getattr(mapping, section)
        if not entries:
            continue
        what, advice, counts = notes[section]
        lines.append(f"{section}:  # {what} in the export -> {advice}")
        for value, target in entries.items():
            count = f"{counts[value]} row{'s' if counts[value] != 1 else ''}" if counts is not None else ""
            unfilled = ("kept as " + snake_case(value)) if section == "columns" else "could not map"
            comment = "  # " + ", ".join(part for part in (count, unfilled if target is None else "") if part)
            lines.append(f"  {render_inline(value)}: {render_inline(target) if target else ''}"
                         f"{comment if comment.strip() != '#' else ''}".rstrip())
    return "\n".join(lines) + "\n"
