"""data.json assembled from per-record JSON fragments, cached by record file so a rebuild encodes only what changed.

The records are about three quarters of data.json (44 of 62 MB on 10,000 deals) and most of its encoding
time. Each record's JSON text (`record_data`, encoded as data.json encodes it) is kept in the workspace's
cache folder (site-data-records.cache, checksummed) under its file's size and mtime; the rest of data.json
(figures, findings, history, schedules) is encoded on every build. The result is byte for byte what
`json.dumps(site_data(site))` gives (tests/test_site_build.py compares them).

A deal's data merges git-history fields into its record (`{**record, **history}`), and `stage_since`
is in both: the cached text is kept in pieces cut where such keys' values go, filled in per build.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from plaintext_crm.records import cache_store
from plaintext_crm.records.model import Record
from plaintext_crm.records.parse_cache import cache_signature

FRAGMENTS_FILE = "site-data-records.cache"
FRAGMENTS_FORMAT = 2
FIGURES_FILE = "site-data-figures.cache"
FIGURES_FORMAT = 1

# entry: (file signature, keys whose value is filled in per build, the text pieces around those values)
Fragment = tuple[tuple[int, int], tuple[str, ...], tuple[str, ...]]


class FragmentError(ValueError):
    """A record whose JSON text cannot be cut into pieces (a value that looks like the cut marks)."""


def _mark(index: int) -> str:
    return f"\x00{index}\x00"


class RecordFragments:
    """The cached JSON texts of one workspace's records; `text(record, extra)` gives a record's data.json object."""

    def __init__(self, root: Path, cache_dir: Path | None, encode: Callable[[Any], str],
                 record_data: Callable[[Record], dict[str, Any]], code_files: Sequence[str | None] = ()) -> None:
        """`code_files`: the modules that write records into data.json; a change of one drops the cached texts."""
        self.root = str(root)
        self.cache_dir = cache_dir
        self.encode = encode
        self.record_data = record_data
        self.signature = (FRAGMENTS_FORMAT, cache_signature(), *(_code_stamp(code_file) for code_file in code_files))
        self.stored = self._load()
        self.fresh: dict[str, Fragment] = {}
        self.changed = False
        self.keys: dict[type, frozenset[str]] = {}  # record class -> the keys of its record_data

    def text(self, record: Record, extra: Mapping[str, Any]) -> str:
        """The JSON text of `{**record_data(record), **extra}`, from the cache when the file is unchanged."""
        stamp = self._stamp(record.path)
        keys = tuple(key for key in extra if key in self._keys(record))
        entry = self.stored.get(record.path)
        if type(entry) is not tuple or len(entry) != 3 or entry[0] != stamp or entry[1] != keys:
            entry = (stamp, keys, self._pieces(record, keys))
            self.changed = True
        self.fresh[record.path] = entry
        pieces = entry[2]
        parts = [pieces[0]]
        for key, piece in zip(keys, pieces[1:]):
            parts.append(self.encode(extra[key]))
            parts.append(piece)
        text = "".join(parts)
        rest = {key: value for key, value in extra.items() if key not in keys}
        if rest:
            text = text[:-1] + "," + self.encode(rest)[1:]
        return text

    def save(self) -> None:
        """Keep the fragments of the current records (not those of files changed in the last seconds)."""
        if self.cache_dir is None or not (self.changed or len(self.fresh) != len(self.stored)):
            return
        settled = time.time_ns() - cache_store.RACY_WINDOW_NS
        entries = {path: entry for path, entry in self.fresh.items() if entry[0][1] < settled}
        if self.stored.keys() <= self.fresh.keys() and all(self.stored.get(path) is entry for path, entry in
                                                           entries.items()):
            # Nothing to add (a file changed a moment ago is not kept; its old entry no longer matches its
            # stamp) and nothing to drop: rewriting ~45 MB at 10,000 deals would only cost time.
            return
        # Atomic; a cache folder that cannot be written, or a full disk, only means no cache next time.
        cache_store.write_entry(self.cache_dir / FRAGMENTS_FILE, FRAGMENTS_FILE,
                                pickle.dumps((self.signature, entries), protocol=pickle.HIGHEST_PROTOCOL))

    # --- helpers -------------------------------------------------------------------------------

    def _keys(self, record: Record) -> frozenset[str]:
        keys = self.keys.get(type(record))
        if keys is None:
            keys = self.keys[type(record)] = frozenset(self.record_data(record))
        return keys

    def _stamp(self, rel: str) -> tuple[int, int]:
        try:
            status = os.stat(self.root + os.sep + rel)
        except OSError:
            return (-1, -1)
        return (status.st_size, status.st_mtime_ns)

    def _pieces(self, record: Record, keys: tuple[str, ...]) -> tuple[str, ...]:
        """The record's JSON text cut where the values of `keys` go (each key's `"key":` stays before the cut)."""
        data = self.record_data(record)
        for index, key in enumerate(keys):
            data[key] = _mark(index)
        text = self.encode(data)
        pieces = []
        for index in range(len(keys)):
            mark = self.encode(_mark(index))
            if text.count(mark) != 1:
                raise FragmentError(f"{record.path}: cannot cut its data.json text")
            before, text = text.split(mark)
            pieces.append(before)
        pieces.append(text)
        return tuple(pieces)

    def _load(self) -> dict[str, Fragment]:
        """The stored fragments: checked, and plain data (no class may load); {} when missing or damaged."""
        if self.cache_dir is None:
            return {}
        payload = cache_store.read_entry(self.cache_dir / FRAGMENTS_FILE, FRAGMENTS_FILE)
        if payload is None:
            return {}
        try:
            stored = cache_store.loads_data(payload)
        except Exception:  # noqa: BLE001 - whatever stops it loading: encode every record again
            return {}
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == self.signature
                and isinstance(stored[1], dict)):
            return {}
        return stored[1]


class FigureTexts:
    """The JSON texts of values (a deal's figures) by a digest of their `repr`, kept between builds.

    A deal's figures are a frozen dataclass of plain values whose repr names every field, so the same
    repr means the same JSON text (for the same code: `code_files`' mtimes and the tool version are part
    of the stored file's signature). Stored as JSON text in a checked entry; damaged or foreign: ignored.
    """

    def __init__(self, cache_dir: Path | None, encode: Callable[[Any], str], convert: Callable[[Any], Any],
                 code_files: Sequence[str | None] = ()) -> None:
        self.cache_dir = cache_dir
        self.encode = encode
        self.convert = convert
        signature = [FIGURES_FORMAT, cache_signature()[1:3], *(_code_stamp(code_file) for code_file in code_files)]
        self.signature = json.loads(json.dumps(signature))  # as it reads back from the store
        self.stored = self._load()
        self.used: dict[str, str] = {}

    def text(self, value: Any) -> str:
        """`encode(convert(value))`, from the store when a value with the same repr was encoded before."""
        key = hashlib.blake2b(repr(value).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        text = self.used.get(key) or self.stored.get(key)
        if text is None:
            text = self.encode(self.convert(value))
        self.used[key] = text
        return text

    def save(self) -> None:
        """Keep the texts used by this build, when they differ from the stored ones."""
        if self.cache_dir is None or self.used.keys() == self.stored.keys():
            return
        payload = json.dumps({"signature": self.signature, "texts": self.used}, ensure_ascii=False)
        cache_store.write_entry(self.cache_dir / FIGURES_FILE, FIGURES_FILE, payload.encode("utf-8", "surrogatepass"))

    def _load(self) -> dict[str, str]:
        if self.cache_dir is None:
            return {}
        payload = cache_store.read_entry(self.cache_dir / FIGURES_FILE, FIGURES_FILE)
        if payload is None:
            return {}
        try:
            data = json.loads(payload.decode("utf-8", "surrogatepass"))
        except ValueError:
            return {}
        if not (isinstance(data, dict) and data.get("signature") == self.signature
                and isinstance(data.get("texts"), dict)):
            return {}
        texts = data["texts"]
        return texts if all(isinstance(text, str) for text in texts.values()) else {}


def _code_stamp(code_file: str | None) -> int:
    """The mtime of a module that writes records into data.json (0 when unknown)."""
    if code_file is None:
        return 0
    try:
        return os.stat(code_file).st_mtime_ns
    except OSError:
        return 0
