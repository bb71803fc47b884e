"""Persistent cache of built records (sharded pickles of plain tuples) and parallel parsing of cold files."""

from __future__ import annotations

import gc
import os
import pickle
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from plaintext_crm import __version__, frontmatter, loader, model
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.frontmatter import YamlTrap
from plaintext_crm.loader import LoadedFile, build_record, load_workspace, read_file
from plaintext_crm.model import (
    Approval,
    Client,
    Contact,
    Deal,
    Dependency,
    HistoryEntry,
    Project,
    Task,
    Workspace,
)

CACHE_DIR = Path(".plaintext-crm") / "cache"
# Bump when the packed layout changes; the parser's and model's code are part of the signature anyway.
CACHE_FORMAT = 2
# Entries are spread over this many files, so a run that re-parses a few files rewrites only their shards.
SHARDS = 16
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 300
# A file modified this close to the moment it is cached may change again within the file system's
# timestamp resolution keeping its size and mtime ("racily clean", as git says); such entries also
# keep a content digest that the next run checks.
RACY_WINDOW_NS = 2_000_000_000

Packed = tuple[Any, ...]


# --- Records as plain tuples: pickle reads those in C, far faster than dataclass state. ---------------

def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(cls))


_KINDS: tuple[type, ...] = (Client, Deal, Project)
_NAMES = {cls: _field_names(cls) for cls in (*_KINDS, Task, Dependency, Approval, Contact, HistoryEntry, YamlTrap)}
_TASK_DEPS = _NAMES[Task].index("depends_on")
_TASK_APPROVAL = _NAMES[Task].index("approval")


def _values(obj: Any) -> list[Any]:
    return [getattr(obj, name) for name in _NAMES[type(obj)]]


def _pack_task(task: Task) -> Packed:
    values = _values(task)
    values[_TASK_DEPS] = tuple(tuple(_values(dependency)) for dependency in task.depends_on)
    values[_TASK_APPROVAL] = tuple(_values(task.approval)) if task.approval else None
    return tuple(values)


def _unpack_task(values: Packed) -> Task:
    items = list(values)
    items[_TASK_DEPS] = tuple(Dependency(*dependency) for dependency in items[_TASK_DEPS])
    items[_TASK_APPROVAL] = Approval(*items[_TASK_APPROVAL]) if items[_TASK_APPROVAL] else None
    return Task(*items)


# Per kind: field name -> (pack, unpack) for fields holding dataclasses.
_NESTED: dict[str, tuple[Any, Any]] = {
    "history": (None, None),  # packed against the body: see _pack_history
    "traps": (lambda traps: tuple(tuple(_values(trap)) for trap in traps),
              lambda traps: tuple(YamlTrap(*trap) for trap in traps)),
    "contacts": (lambda contacts: tuple(tuple(_values(contact)) for contact in contacts),
                 lambda contacts: tuple(Contact(*contact) for contact in contacts)),
    "tasks": (lambda tasks: tuple(_pack_task(task) for task in tasks),
              lambda tasks: tuple(_unpack_task(task) for task in tasks)),
}
_NESTED_AT = {cls: tuple((index, _NESTED[name]) for index, name in enumerate(_NAMES[cls]) if name in _NESTED)
              for cls in _KINDS}


def _pack_history(entries: tuple[HistoryEntry, ...], body: str) -> Packed:
    """History entries with their text as a (start, length) slice of the body when it is one: the text
    is most of the body, so storing it twice would double the cache."""
    packed = []
    for entry in entries:
        start = body.find(entry.text)
        text: Any = (start, len(entry.text)) if start >= 0 else entry.text
        packed.append((entry.date, entry.title, text, entry.line))
    return tuple(packed)


def _unpack_history(packed: Packed, body: str) -> tuple[HistoryEntry, ...]:
    return tuple(HistoryEntry(day, title, text if isinstance(text, str) else body[text[0]:text[0] + text[1]], line)
                 for day, title, text, line in packed)


_HISTORY = _NAMES[Client].index("history")
_BODY = _NAMES[Client].index("body")


def pack_loaded(loaded: LoadedFile) -> Packed:
    """A built record and its findings as nested tuples of plain values."""
    record, findings = loaded
    packed_findings = tuple((f.path, f.line, f.column, f.code, f.rule, int(f.severity), f.message) for f in findings)
    if record is None:
        return None, packed_findings
    cls = type(record)
    values = _values(record)
    for index, (pack, _unpack) in _NESTED_AT[cls]:
        values[index] = pack(values[index]) if pack else _pack_history(values[index], record.body)
    values[_NAMES[cls].index("fields")] = dict(record.fields)
    values[_NAMES[cls].index("key_lines")] = dict(record.key_lines)
    return (_KINDS.index(cls), tuple(values)), packed_findings


def unpack_loaded(packed: Packed) -> LoadedFile:
    """The inverse of pack_loaded."""
    record_part, packed_findings = packed
    findings = [Finding(path, line, column, code, rule, Severity(severity), message)
                for path, line, column, code, rule, severity, message in packed_findings] if packed_findings else []
    if record_part is None:
        return None, findings
    kind, values = record_part
    cls = _KINDS[kind]
    items = list(values)
    for index, (_pack, unpack) in _NESTED_AT[cls]:
        if items[index]:  # most records have no traps (and many no contacts): keep their empty tuple
            items[index] = unpack(items[index]) if unpack else _unpack_history(items[index], items[_BODY])
    return cls(*items), findings


# --- Parsing cold files, in parallel when there are many. -----------------------------------------------

def _load_chunk(args: tuple[str, list[str]]) -> list[tuple[str, Packed]]:
    root = Path(args[0])
    return [(rel, pack_loaded(build_record(read_file(root, rel)))) for rel in args[1]]


def load_files_packed(root: Path, paths: Sequence[str], workers: int | None = None
                      ) -> tuple[dict[str, Packed], int]:
    """Read, parse and build `paths` (across processes when there are enough), packed; and the process count."""
    paths = list(paths)
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_MIN_FILES:
        return dict(_load_chunk((str(root), paths))), 1
    # Imported here: a warm run never needs them, and they cost a hook ~25 ms of start-up.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunk_count = workers * 4  # interleaved chunks balance the work across workers
    chunks = [(str(root), paths[index::chunk_count]) for index in range(chunk_count)]
    # fork: workers start at once with everything imported; elsewhere the platform's default.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    results: dict[str, Packed] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for chunk in pool.map(_load_chunk, chunks):
            results.update(chunk)
    return results, workers


# --- The persistent cache. ------------------------------------------------------------------------------

@dataclass(slots=True)
class CacheStats:
    """What the last load did: files reused from the cache, files parsed, processes, shards written."""

    reused: int = 0
    parsed: int = 0
    workers: int = 1
    shards_written: int = 0
    problems: list[str] = field(default_factory=list)


def _code_stamp(module: Any) -> int:
    try:
        return os.stat(module.__file__).st_mtime_ns
    except (OSError, TypeError):
        return 0


def cache_signature() -> tuple[Any, ...]:
    """What cached records depend on besides the files: formats, versions and the loader's own code."""
    return (CACHE_FORMAT, __version__, sys.version_info[:2], frontmatter.HAVE_LIBYAML,
            *(_code_stamp(module) for module in (frontmatter, loader, model)))


def shard_of(rel: str) -> int:
    """The shard a workspace-relative path is stored in."""
    return zlib.crc32(rel.encode("utf-8")) % SHARDS


def _digest(path: Path) -> bytes | None:
    import hashlib  # only racy entries need it

    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return None


# entry: (size, mtime_ns, digest or None, packed)
Entry = tuple[int, int, bytes | None, Packed]


class RecordCache:
    """The record cache of one workspace; `load(root, paths)` fits load_workspace's `load_files` seam."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.folder = root / CACHE_DIR
        self.signature = cache_signature()
        self.stats = CacheStats()

    def _shard_path(self, shard: int) -> Path:
        return self.folder / f"records-{shard:02d}.pickle"

    def _read_shard(self, shard: int) -> dict[str, Entry]:
        """A shard's entries; nothing when it is missing, from another version, or damaged."""
        try:
            with open(self._shard_path(shard), "rb") as handle:
                stored = pickle.load(handle)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as exc:
            self.stats.problems.append(f"could not read the cache: {exc.strerror or exc}")
            return {}
        except Exception as exc:  # noqa: BLE001 - whatever the damage, the answer is to rebuild
            self.stats.problems.append(f"ignored damaged cache file {self._shard_path(shard).name} "
                                       f"({type(exc).__name__}); it is rebuilt")
            return {}
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == self.signature
                and isinstance(stored[1], dict)):
            return {}
        return stored[1]

    def _write_shard(self, shard: int, entries: dict[str, Entry]) -> None:
        """Replace one shard atomically: concurrent runs only ever see whole files."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # A name no other run uses (tempfile would cost a hook 20 ms of imports for this).
            temporary = self.folder / f".records-{shard:02d}-{os.getpid()}-{time.time_ns()}.tmp"
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                with os.fdopen(handle, "wb") as output:
                    pickle.dump((self.signature, entries), output, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self._shard_path(shard))
            except BaseException:
                os.unlink(temporary)
                raise
            self.stats.shards_written += 1
        except OSError as exc:  # a read-only workspace still lints
            self.stats.problems.append(f"could not write the cache: {exc.strerror or exc}")

    def load(self, root: Path, paths: list[str]) -> list[LoadedFile]:
        """Built records for `paths`: from the cache when size and mtime are unchanged, else parsed."""
        by_shard: dict[int, list[str]] = {}
        for rel in paths:
            by_shard.setdefault(shard_of(rel), []).append(rel)
        stored = {shard: self._read_shard(shard) for shard in by_shard} if self.enabled else {}
        packed: dict[str, Packed] = {}
        stamps: dict[str, tuple[int, int] | None] = {}
        cold: list[str] = []
        base = str(root) + os.sep
        for shard, shard_paths in by_shard.items():
            entries = stored.get(shard, {})
            for rel in shard_paths:
                try:
                    status = os.stat(base + rel)
                    stamp: tuple[int, int] | None = (status.st_size, status.st_mtime_ns)
                except OSError:
                    stamp = None
                stamps[rel] = stamp
                entry = entries.get(rel)
                if (entry is not None and stamp == (entry[0], entry[1])
                        and (entry[2] is None or _digest(root / rel) == entry[2])):
                    packed[rel] = entry[3]
                else:
                    cold.append(rel)
        fresh, self.stats.workers = load_files_packed(root, cold)
        packed.update(fresh)
        self.stats.reused, self.stats.parsed = len(paths) - len(cold), len(cold)
        if self.enabled:
            self._save(by_shard, stored, stamps, fresh)
        return [unpack_loaded(packed[rel]) for rel in paths]

    def _save(self, by_shard: dict[int, list[str]], stored: dict[int, dict[str, Entry]],
              stamps: dict[str, tuple[int, int] | None], fresh: dict[str, Packed]) -> None:
        """Rewrite the shards that gained, lost or re-parsed files, or still hold racy entries."""
        racy_after = time.time_ns() - RACY_WINDOW_NS
        for shard in range(SHARDS):
            shard_paths = by_shard.get(shard, [])
            old = stored.get(shard, {})
            if not any(rel in fresh for rel in shard_paths) and len(old) == len(shard_paths) and not any(
                    entry[2] is not None for entry in old.values()):
                continue
            if not shard_paths and not self._shard_path(shard).exists():
                continue
            entries: dict[str, Entry] = {}
            for rel in shard_paths:
                stamp = stamps[rel]
                if stamp is None:
                    continue
                if rel in fresh:
                    packed = fresh[rel]
                else:
                    packed = old[rel][3]
                digest = _digest(self.root / rel) if stamp[1] >= racy_after else None
                entries[rel] = (stamp[0], stamp[1], digest, packed)
            self._write_shard(shard, entries)


def load_workspace_with_stats(root: Path, *, use_cache: bool = True
                              ) -> tuple[Workspace, list[Finding], CacheStats]:
    """load_workspace through the record cache, also saying how many files were reused and parsed."""
    cache = RecordCache(root, enabled=use_cache)
    # Loading allocates hundreds of thousands of objects and frees none: the cyclic garbage collector
    # would walk them over and over (about a third of the load time) to find nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        workspace, findings = load_workspace(root, load_files=cache.load)
    finally:
        if collecting:
            gc.enable()
    return workspace, findings, cache.stats


def load_workspace_cached(root: Path, *, use_cache: bool = True) -> tuple[Workspace, list[Finding]]:
    """load_workspace with built records cached in <root>/.plaintext-crm/cache/ (files parsed in
    parallel when many are new or changed); use_cache=False neither reads nor writes the cache."""
    workspace, findings, _stats = load_workspace_with_stats(root, use_cache=use_cache)
    return workspace, findings
