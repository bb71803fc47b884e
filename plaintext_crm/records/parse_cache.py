"""Persistent cache of built records (16 checksummed, atomically replaced shards in the user's cache folder)
and parallel parsing of cold files."""

from __future__ import annotations

import gc
import io
import os
import pickle
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from plaintext_crm import __version__
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records import (
    cache_store,
    dated_notes,
    frontmatter,
    loader,
    model,
    plan_values,
    reading,
    yaml_aliases,
)
from plaintext_crm.records.frontmatter import InvalidDate, YamlTrap
from plaintext_crm.records.loader import LoadedFile, build_record, load_workspace, read_file
from plaintext_crm.records.model import (
    Approval,
    Client,
    Contact,
    DatedNote,
    Deal,
    Dependency,
    Invoice,
    Project,
    Task,
    Workspace,
)

# Bump when the packed layout changes; the parser's and model's code are part of the signature anyway.
CACHE_FORMAT = 7
CACHE_KIND = "records"  # the kind of cache_store entry a shard is
# Entries are spread over this many files, so a run that re-parses a few files rewrites only their shards.
SHARDS = 16
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 300

# --- Pickling records: pickle calls each class with its field values, straight from C. ------------------

def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(cls))


_NAMES = {cls: _field_names(cls) for cls in
          (Client, Deal, Project, Task, Dependency, Approval, Invoice, Contact, DatedNote, YamlTrap, Finding)}


class _RecordPickler(pickle.Pickler):
    """Pickles the model's frozen dataclasses as `Class(*field values)`.

    The default for slotted dataclasses restores each object through a Python-level __setstate__;
    this way pickle calls the class from C, which makes loading a cached workspace about a third faster.
    History entries are stored whole although their text repeats part of the body: the cache grows by
    a quarter, but rebuilding them from slices of the body cost a warm 10,000-deal run about 35 ms.
    """

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        names = _NAMES.get(cls)
        if names is None:
            return NotImplemented
        return cls, tuple([getattr(obj, name) for name in names])


def dumps(value: Any) -> bytes:
    """Pickle records, findings and containers of them for the cache or a worker's reply."""
    buffer = io.BytesIO()
    _RecordPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


# What a record shard may construct besides builtin values, dates and decimals: the record classes pickled
# above and the values inside them. Anything else in a shard (a function, a class of another module) is
# refused and the shard rebuilt, so a cache can make records but never run code.
RECORD_CLASSES = cache_store.allow_list((*_NAMES, Severity, InvalidDate))


def loads(data: bytes) -> Any:
    """Unpickle what `dumps` wrote, allowing only the record classes (see RECORD_CLASSES)."""
    return cache_store.DataUnpickler(io.BytesIO(data), RECORD_CLASSES).load()


# --- Parsing cold files, in parallel when there are many. -----------------------------------------------

def _load_chunk(args: tuple[str, list[str]]) -> bytes:
    """In a worker: read, parse and build files; the reply is pickled here, the fast way."""
    root = Path(args[0])
    return dumps([(rel, build_record(read_file(root, rel))) for rel in args[1]])


def load_files(root: Path, paths: Sequence[str], workers: int | None = None
               ) -> tuple[dict[str, LoadedFile], int]:
    """Read, parse and build `paths` (across processes when there are enough); and the process count."""
    paths = list(paths)
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_MIN_FILES:
        return {rel: build_record(read_file(root, rel)) for rel in paths}, 1
    # Imported here: a warm run never needs them, and they cost a hook ~25 ms of start-up.
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # This process parses every workers-th file itself while workers - 1 helpers parse the rest: only
    # the helpers' records cross a pipe (pickled there, unpickled here), and one process fewer is
    # started. Each helper gets one chunk, so it replies once, when this process has finished its own
    # share: a reply sent meanwhile would stall the helper, since this process's pool thread reads the
    # pipe only when the busy main thread hands it the GIL.
    own = paths[::workers]
    chunks = [(str(root), paths[index::workers]) for index in range(1, workers)]
    # fork starts workers at once with everything imported, but forking a process that runs other
    # threads (a watching server) can deadlock the child: then forkserver, else the platform's default.
    methods = multiprocessing.get_all_start_methods()
    single_threaded = threading.active_count() == 1
    method = ("fork" if "fork" in methods and single_threaded
              else "forkserver" if "forkserver" in methods else None)
    context = multiprocessing.get_context(method)
    parent = os.getpid() if method == "fork" else None  # a forkserver's children have the server as parent
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context, initializer=die_with_parent,
                             initargs=(parent,)) as pool:
        replies = [pool.submit(_load_chunk, chunk) for chunk in chunks]  # the helpers start here
        results = {rel: build_record(read_file(root, rel)) for rel in own}
        for reply in replies:
            results.update(loads(reply.result()))
    return results, workers


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: end with the parent, quietly, however the parent ends (even `kill -9`).

    `parent` is the pid that forked this worker (None: whatever the parent is now); a worker whose
    parent is already gone ends at once. Without this, helpers of a killed run go on parsing and then
    print BrokenPipeError as they reply.
    """
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a reply to a parent that is gone ends the helper silently
    if parent is None:
        parent = os.getppid()
    if os.getppid() != parent:
        os._exit(1)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG: killed when the parent ends
                if os.getppid() != parent:  # the parent ended before that was set
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading

    def watch() -> None:  # elsewhere: notice being handed to another parent
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


# --- The persistent cache. ------------------------------------------------------------------------------

@dataclass(slots=True)
class CacheStats:
    """What the last load did: files reused from the cache, files parsed, processes, shards written."""

    reused: int = 0
    parsed: int = 0
    workers: int = 1
    problems: list[str] = field(default_factory=list)


def _code_stamp(module: Any) -> int:
    try:
        return os.stat(module.__file__).st_mtime_ns
    except (OSError, TypeError):
        return 0


def cache_signature() -> tuple[Any, ...]:
    """What cached records depend on besides the files: formats, versions and the loader's own code."""
    return (CACHE_FORMAT, __version__, sys.version_info[:2], frontmatter.HAVE_LIBYAML,
            *(_code_stamp(module) for module in (frontmatter, loader, model, plan_values, dated_notes, reading,
                                                     yaml_aliases)))


def shard_of(rel: str) -> int:
    """The shard a workspace-relative path is stored in."""
    return zlib.crc32(rel.encode("utf-8", "surrogateescape")) % SHARDS  # names need not be UTF-8


def _digest(path: Path) -> bytes | None:
    import hashlib  # only racy entries need it

    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return None


# entry: (size, mtime_ns, digest or None, the built record and its findings)
Entry = tuple[int, int, bytes | None, LoadedFile]


class RecordCache:
    """The record cache of one workspace; `load(root, paths)` fits load_workspace's `load_files` seam.

    Shards live in the workspace's cache folder (cache_store.cache_folder), outside the repository; the
    workspace's own .plaintext-crm/ folder of earlier versions is never read.
    """

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.folder = cache_store.cache_folder(root) if enabled else None
        self.signature = cache_signature()
        self.stats = CacheStats()
        self.damaged: list[str] = []  # shards that were there but not whole, or refused
        self.write_failed = False

    def shard_path(self, shard: int) -> Path:
        """The file of one shard (only for an enabled cache)."""
        assert self.folder is not None
        return self.folder / f"records-{shard:02d}.cache"

    def _read_shard(self, shard: int) -> dict[str, Entry]:
        """A shard's entries; nothing when it is missing, from another version, damaged or refused.

        A shard's payload is two pickles: the signature, then the entries, so a cache written by another
        version is recognised without unpickling records whose classes may have changed."""
        path = self.shard_path(shard)
        payload = cache_store.read_entry(path, CACHE_KIND)
        if payload is None:
            if os.path.lexists(path):
                self.damaged.append(path.name)
            return {}
        try:
            stream = io.BytesIO(payload)  # one unpickler per pickle: each numbers its memo from 0
            if cache_store.DataUnpickler(stream, RECORD_CLASSES).load() != self.signature:
                return {}
            stored = cache_store.DataUnpickler(stream, RECORD_CLASSES).load()
        except Exception:  # noqa: BLE001 - a checked file that still does not load (refused): rebuild it
            self.damaged.append(path.name)
            return {}
        return stored if isinstance(stored, dict) else {}

    def _write_shard(self, shard: int, entries: dict[str, Entry]) -> None:
        """Replace one shard atomically: concurrent runs only ever see whole files."""
        if self.write_failed:  # one failure says enough (a full disk, an unwritable folder): skip the rest
            return
        payload = pickle.dumps(self.signature, protocol=pickle.HIGHEST_PROTOCOL) + dumps(entries)
        error = cache_store.write_file(self.shard_path(shard), cache_store.encode_entry(CACHE_KIND, payload))
        if error is None:
            return
        self.write_failed = True
        self.stats.problems.append(f"could not write the record cache in {self.folder} ({error.strerror or error}); "
                                   "going on without it")

    def load(self, root: Path, paths: list[str]) -> list[LoadedFile]:
        """Built records for `paths`: from the cache when size and mtime are unchanged, else parsed."""
        by_shard: dict[int, list[str]] = {}
        for rel in paths:
            by_shard.setdefault(shard_of(rel), []).append(rel)
        stored = {shard: self._read_shard(shard) for shard in by_shard} if self.enabled else {}
        if self.damaged:
            self.stats.problems.append(f"ignored {len(self.damaged)} damaged record cache file(s) in {self.folder} "
                                       f"({', '.join(sorted(self.damaged))}); rebuilt from the records")
        loaded: dict[str, LoadedFile] = {}
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
                if (type(entry) is tuple and len(entry) == 4 and stamp == (entry[0], entry[1])
                        and (entry[2] is None or _digest(root / rel) == entry[2])):
                    loaded[rel] = entry[3]
                else:
                    cold.append(rel)
        fresh, self.stats.workers = load_files(root, cold)
        loaded.update(fresh)
        self.stats.reused, self.stats.parsed = len(paths) - len(cold), len(cold)
        if self.enabled:
            self._save(by_shard, stored, stamps, fresh)
        return [loaded[rel] for rel in paths]

    def _save(self, by_shard: dict[int, list[str]], stored: dict[int, dict[str, Entry]],
              stamps: dict[str, tuple[int, int] | None], fresh: dict[str, LoadedFile]) -> None:
        """Rewrite the shards that gained, lost or re-parsed files, or still hold racy entries."""
        racy_after = time.time_ns() - cache_store.RACY_WINDOW_NS
        for shard in range(SHARDS):
            shard_paths = by_shard.get(shard, [])
            old = stored.get(shard, {})
            if not any(rel in fresh for rel in shard_paths) and len(old) == len(shard_paths) and not any(
                    entry[2] is not None for entry in old.values()):
                continue
            if not shard_paths and not self.shard_path(shard).exists():
                continue
            entries: dict[str, Entry] = {}
            for rel in shard_paths:
                stamp = stamps[rel]
                if stamp is None:
                    continue
                digest = _digest(self.root / rel) if stamp[1] >= racy_after else None
                entries[rel] = (stamp[0], stamp[1], digest, fresh[rel] if rel in fresh else old[rel][3])
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
    """load_workspace with built records cached in the workspace's cache folder (files parsed in
    parallel when many are new or changed); use_cache=False neither reads nor writes the cache."""
    workspace, findings, _stats = load_workspace_with_stats(root, use_cache=use_cache)
    return workspace, findings
