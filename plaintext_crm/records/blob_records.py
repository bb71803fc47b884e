"""Records built from git blobs (a workspace as it stood at a commit), cached by path and blob id.

A blob never changes, so a record built from it once is good for every later run: the cache is one
checksummed file in the workspace's cache folder (cache_store), written by the parse cache's pickler
and read back with its allow-list, and dropped when the loader's code changes (its signature).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path

from plaintext_crm.records import cache_store
from plaintext_crm.records.frontmatter import ParsedFile, parse_record
from plaintext_crm.records.loader import LoadedFile, build_record
from plaintext_crm.records.parse_cache import RECORD_CLASSES, cache_signature, dumps
from plaintext_crm.records.reading import MAX_FILE_BYTES, ParseProblem, too_large

CACHE_FILE = "blob-records.cache"
CACHE_KIND = "blob-records"
MAX_ENTRIES = 50_000  # beyond this the oldest entries are dropped: the cache stays a few megabytes

ReadBlobs = Callable[[list[str]], dict[str, bytes]]


class BlobRecords:
    """Built records of (path, blob id) pairs: from the cache, else read through `read` and parsed."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / CACHE_FILE if folder is not None else None
        self.signature = cache_signature()
        self.reused = 0
        self.parsed = 0

    def _read(self) -> dict[tuple[str, str], LoadedFile]:
        if self.path is None:
            return {}
        payload = cache_store.read_entry(self.path, CACHE_KIND)
        if payload is None:
            return {}
        try:
            stream = io.BytesIO(payload)
            if cache_store.DataUnpickler(stream, RECORD_CLASSES).load() != self.signature:
                return {}
            stored = cache_store.DataUnpickler(stream, RECORD_CLASSES).load()
        except Exception:  # noqa: BLE001 - a checked file that still does not load is rebuilt
            return {}
        return stored if isinstance(stored, dict) else {}

    def load(self, entries: Mapping[str, str], read: ReadBlobs) -> dict[str, LoadedFile]:
        """The built record of each path -> blob id of `entries`."""
        stored = self._read()
        wanted = {(path, blob) for path, blob in entries.items()}
        cold = sorted(wanted - stored.keys())
        contents = read(sorted({blob for _path, blob in cold})) if cold else {}
        fresh: dict[tuple[str, str], LoadedFile] = {}
        for path, blob in cold:
            raw = contents.get(blob)
            if raw is None:
                item = ParsedFile(path, problem=ParseProblem(1, "not read: its content is missing from this clone"))
            elif len(raw) > MAX_FILE_BYTES:
                item = ParsedFile(path, problem=too_large(len(raw)))
            else:
                item = parse_record(path, raw)
            fresh[(path, blob)] = build_record(item)
        self.reused, self.parsed = len(wanted) - len(cold), len(cold)
        if fresh and self.path is not None:
            kept = {**stored, **fresh}
            if len(kept) > MAX_ENTRIES:
                kept = dict(list(kept.items())[-MAX_ENTRIES:])
            payload = pickle.dumps(self.signature, protocol=pickle.HIGHEST_PROTOCOL) + dumps(kept)
            cache_store.write_entry(self.path, CACHE_KIND, payload)
        return {path: fresh.get((path, blob)) or stored[(path, blob)] for path, blob in entries.items()}
