"""Persistent parse cache (one pickle per workspace) and parallel parsing of cold files, behind load_workspace's parse seam."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plaintext_crm import __version__
from plaintext_crm import frontmatter
from plaintext_crm.findings import Finding
from plaintext_crm.frontmatter import ParsedFile
from plaintext_crm.loader import load_workspace, parse_files
from plaintext_crm.model import Workspace

CACHE_DIR = Path(".plaintext-crm") / "cache"
CACHE_FILE = "parsed.pickle"
# Bump when ParsedFile or the parser's output changes shape.
CACHE_FORMAT = 1
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 300
# A file modified this close to the moment it was cached may change again within the file system's
# timestamp resolution without its size or mtime changing ("racily clean", as git calls it); such
# entries also keep a content digest that is checked on the next run.
RACY_WINDOW_NS = 2_000_000_000

Stamp = tuple[int, int]  # (size, mtime_ns)


@dataclass(slots=True)
class CacheEntry:
    """A parsed file and what it looked like on disk when parsed."""

    size: int
    mtime_ns: int
    digest: bytes | None  # set for racily-clean entries only
    parsed: ParsedFile


@dataclass(slots=True)
class CacheStats:
    """What the last parse did: how many files came from the cache and how many were parsed."""

    reused: int = 0
    parsed: int = 0
    workers: int = 1
    written: bool = False
    problems: list[str] = field(default_factory=list)


def _digest(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


def _parser_signature() -> tuple[Any, ...]:
    """What the cached results depend on besides the files: formats, versions and the parser's code."""
    try:
        parser_mtime = os.stat(frontmatter.__file__).st_mtime_ns
    except OSError:
        parser_mtime = 0
    return (CACHE_FORMAT, __version__, sys.version_info[:2], frontmatter.HAVE_LIBYAML, parser_mtime)


def _parse_chunk(args: tuple[str, list[str]]) -> list[ParsedFile]:
    root, paths = args
    return parse_files(Path(root), paths)


def parse_in_parallel(root: Path, paths: Sequence[str], workers: int | None = None) -> tuple[list[ParsedFile], int]:
    """Parse files across processes when there are enough of them; return the results in order and
    the number of processes used."""
    paths = list(paths)
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 2 or len(paths) < PARALLEL_MIN_FILES:
        return parse_files(root, paths), 1
    # Interleaved chunks balance the work; a few chunks per worker keeps the pipes busy.
    chunk_count = workers * 4
    chunks = [paths[index::chunk_count] for index in range(chunk_count)]
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        context = multiprocessing.get_context()
    results: dict[str, ParsedFile] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for parsed_chunk in pool.map(_parse_chunk, [(str(root), chunk) for chunk in chunks]):
            for parsed in parsed_chunk:
                results[parsed.path] = parsed
    return [results[path] for path in paths], workers


class ParseCache:
    """The parse cache of one workspace: `parse(root, paths)` fits load_workspace's `parse=` seam."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.folder = root / CACHE_DIR
        self.path = self.folder / CACHE_FILE
        self.stats = CacheStats()

    def _read(self) -> dict[str, CacheEntry]:
        """The stored entries, or nothing when the cache is missing, stale or damaged."""
        try:
            with open(self.path, "rb") as handle:
                stored = pickle.load(handle)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: BLE001 - any damage means: rebuild
            self.stats.problems.append(f"ignored a damaged parse cache ({type(exc).__name__})")
            return {}
        if (not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != _parser_signature()
                or not isinstance(stored[1], dict)):
            return {}
        return stored[1]

    def _write(self, entries: dict[str, CacheEntry]) -> None:
        """Replace the cache file atomically, so concurrent runs only ever see a whole file."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".parsed-", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(handle, "wb") as output:
                    pickle.dump((_parser_signature(), entries), output, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
            self.stats.written = True
        except OSError as exc:  # a read-only workspace still lints
            self.stats.problems.append(f"could not write the parse cache: {exc.strerror or exc}")

    def parse(self, root: Path, paths: list[str]) -> list[ParsedFile]:
        """Parse `paths`, reusing cached results for files whose size and mtime did not change."""
        stamps: dict[str, Stamp | None] = {}
        for rel in paths:
            try:
                status = os.stat(root / rel)
                stamps[rel] = (status.st_size, status.st_mtime_ns)
            except OSError:
                stamps[rel] = None
        stored = self._read() if self.enabled else {}
        results: dict[str, ParsedFile] = {}
        cold: list[str] = []
        for rel in paths:
            entry = stored.get(rel)
            stamp = stamps[rel]
            if entry is not None and stamp == (entry.size, entry.mtime_ns) and self._still_same(rel, entry):
                results[rel] = entry.parsed
            else:
                cold.append(rel)
        parsed, self.stats.workers = parse_in_parallel(root, cold)
        for item in parsed:
            results[item.path] = item
        self.stats.reused, self.stats.parsed = len(paths) - len(cold), len(cold)
        if self.enabled and (cold or len(stored) != len(paths)):
            self._write(self._entries(paths, stamps, results, stored))
        return [results[rel] for rel in paths]

    def _still_same(self, rel: str, entry: CacheEntry) -> bool:
        if entry.digest is None:
            return True
        try:
            return _digest((self.root / rel).read_bytes()) == entry.digest
        except OSError:
            return False

    def _entries(self, paths: list[str], stamps: dict[str, Stamp | None], results: dict[str, ParsedFile],
                 stored: dict[str, CacheEntry]) -> dict[str, CacheEntry]:
        racy_after = time.time_ns() - RACY_WINDOW_NS
        entries: dict[str, CacheEntry] = {}
        for rel in paths:
            stamp = stamps[rel]
            if stamp is None:
                continue
            old = stored.get(rel)
            if old is not None and old.parsed is results[rel] and old.mtime_ns < racy_after:
                entries[rel] = CacheEntry(old.size, old.mtime_ns, None, old.parsed)
                continue
            digest = None
            if stamp[1] >= racy_after:
                try:
                    digest = _digest((self.root / rel).read_bytes())
                except OSError:
                    continue
            entries[rel] = CacheEntry(stamp[0], stamp[1], digest, results[rel])
        return entries


def load_workspace_cached(root: Path, *, use_cache: bool = True) -> tuple[Workspace, list[Finding]]:
    """load_workspace through the persistent parse cache (parallel parse of cold files); with
    use_cache False, nothing is read from or written to the cache."""
    workspace, findings, _stats = load_workspace_with_stats(root, use_cache=use_cache)
    return workspace, findings


def load_workspace_with_stats(root: Path, *, use_cache: bool = True
                              ) -> tuple[Workspace, list[Finding], CacheStats]:
    """load_workspace_cached, also saying how many files were reused and parsed."""
    cache = ParseCache(root, enabled=use_cache)
    workspace, findings = load_workspace(root, parse=cache.parse)
    return workspace, findings, cache.stats
