"""Where caches live (the user's cache folder, never the repository) and checksummed cache files.

A cache file is a header and a payload:

    MAGIC (8 bytes) | format version (1) | kind length (1) | kind | payload length (8, big-endian)
    | SHA-256 of (kind length, kind, payload) (32) | payload

`read_entry` gives the payload only when all of it checks out, else None: a cache is never trusted,
only reused when it is exactly what this tool wrote. Payloads are data (see `loads_data`), never code.
"""

from __future__ import annotations

import io
import os
import pickle
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from plaintext_crm.gitrepo import locate_repository

MAGIC = b"PTCRMC\r\n"  # the CR LF catches a file mangled by text-mode line-ending conversion
FORMAT_VERSION = 1
APP_FOLDER = "plaintext-crm"
ENV_CACHE_DIR = "PLAINTEXT_CRM_CACHE_DIR"  # an explicit folder for every workspace's cache folder
# A file modified this close to the moment it is cached may change again within the file system's
# timestamp resolution keeping its size and mtime ("racily clean", as git says); such entries also
# keep a content digest that the next run checks.
RACY_WINDOW_NS = 2_000_000_000
LEGACY_FOLDER = ".plaintext-crm"  # where caches were kept inside the workspace: never read any more
_DIGEST_SIZE = 32
_LENGTH_SIZE = 8
_CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                 b"# This folder holds plaintext-crm's caches; deleting it only makes the next run slower.\n")


def _cache_roots() -> list[Path]:
    """Where caches may go, best first: $PLAINTEXT_CRM_CACHE_DIR, $XDG_CACHE_HOME/plaintext-crm, the default."""
    roots = []
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        roots.append(Path(os.path.abspath(os.path.expanduser(explicit))))
    base = os.environ.get("XDG_CACHE_HOME", "")
    if base and os.path.isabs(base):
        roots.append(Path(base) / APP_FOLDER)
    return [*roots, Path(os.path.expanduser("~")) / ".cache" / APP_FOLDER]


def workspace_folder_name(workspace: Path) -> str:
    """`<safe basename>-<16 hex digits of blake2b(real path)>`: readable, and one folder per real path."""
    import hashlib

    real = os.path.realpath(workspace)
    digest = hashlib.blake2b(os.fsencode(real), digest_size=8).hexdigest()
    name = os.path.basename(real.rstrip(os.sep)) or "root"
    safe = "".join(char if char.isascii() and (char.isalnum() or char in "-_.") else "_" for char in name)
    return f"{safe.strip('.')[:40] or 'workspace'}-{digest}"


def cache_folder(workspace: Path) -> Path:
    """The workspace's cache folder, created (mode 0o700) when missing.

    It is outside every repository, so no commit can plant a cache file for a teammate (a configured folder
    inside the workspace or its git work tree is not used, see `_outside_repository`). When it
    cannot be created the path is still returned: reads then find nothing and writes do nothing.
    """
    folder = _outside_repository(workspace) / workspace_folder_name(workspace)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:  # the first cache of all: create the parents, and tag the folder
        try:
            root = folder.parent
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _tag(root)
            os.mkdir(folder, 0o700)
        except OSError:
            pass
    except OSError:
        pass
    return folder


def _outside_repository(workspace: Path) -> Path:
    """The first cache root that is not in the workspace or the git work tree holding it (CI often sets
    XDG_CACHE_HOME=$PWD/.cache): a commit could plant caches there, and compiled templates are code. When
    every one is in the repository, a folder that can never exist: no caches."""
    real = os.path.realpath(workspace)
    repository = locate_repository(Path(real))
    tree = os.path.realpath(repository.top) if repository is not None else real
    for candidate in _cache_roots():
        found = os.path.realpath(candidate)
        if found != tree and not found.startswith(tree.rstrip(os.sep) + os.sep):
            return candidate
    return Path(os.devnull) / APP_FOLDER  # not a folder: reads find nothing, writes fail and are skipped


def _tag(root: Path) -> None:
    """A CACHEDIR.TAG (bford.net/cachedir), so backup tools skip the caches."""
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        write_file(tag, _CACHEDIR_TAG)


def _checksum(kind: bytes, payload: bytes) -> bytes:
    import hashlib

    digest = hashlib.sha256(bytes([len(kind)]))  # SHA-256 runs in hardware on most CPUs: ~0.6 ms per MB
    digest.update(kind)
    digest.update(payload)
    return digest.digest()


def _kind_bytes(kind: str) -> bytes:
    encoded = kind.encode("utf-8")
    if not 0 < len(encoded) < 256:
        raise ValueError(f"a cache kind is 1 to 255 bytes: {kind!r}")
    return encoded


def read_entry(path: Path, kind: str) -> bytes | None:
    """The payload stored at `path` by `write_entry(path, kind, ...)` when it is whole and unchanged; else None.

    None for a missing file, anything but a regular file (a folder, a FIFO, a symlink), an unreadable or
    truncated file, another format, another kind or a checksum that does not match. Never raises.
    """
    try:
        expected = _kind_bytes(kind)
        # O_NONBLOCK: a FIFO put in the file's place must not hang the run (it is refused below).
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        handle = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            header = stream.read(len(MAGIC) + 2 + len(expected) + _LENGTH_SIZE + _DIGEST_SIZE)
            length = _payload_length(header, expected)
            if length is None or length > status.st_size:
                return None
            payload = stream.read(length + 1)  # one byte more than promised: trailing bytes are damage too
    except (OSError, ValueError, MemoryError):
        return None
    finally:
        os.close(handle)
    if len(payload) != length or _checksum(expected, payload) != header[-_DIGEST_SIZE:]:
        return None
    return payload


def _payload_length(header: bytes, kind: bytes) -> int | None:
    """The payload length a header announces, or None when it is not a header of this format and kind."""
    at = len(MAGIC) + 2 + len(kind)
    if (len(header) != at + _LENGTH_SIZE + _DIGEST_SIZE or not header.startswith(MAGIC)
            or header[len(MAGIC)] != FORMAT_VERSION or header[len(MAGIC) + 1] != len(kind)
            or header[len(MAGIC) + 2:at] != kind):
        return None
    return int.from_bytes(header[at:at + _LENGTH_SIZE], "big")


def encode_entry(kind: str, payload: bytes) -> bytes:
    """The bytes `write_entry` stores: header, checksum and payload."""
    encoded = _kind_bytes(kind)
    return b"".join((MAGIC, bytes([FORMAT_VERSION, len(encoded)]), encoded,
                     len(payload).to_bytes(_LENGTH_SIZE, "big"), _checksum(encoded, payload), payload))


def write_entry(path: Path, kind: str, payload: bytes) -> None:
    """Store `payload` at `path` atomically (a unique temporary file, then a rename); never raises OSError.

    A cache is optional: a full disk, a folder in the file's place or an unwritable folder only mean
    that the next run has no cache. Concurrent writers each replace the whole file; readers see an
    old or a new file, never half of one.
    """
    write_file(path, encode_entry(kind, payload))


def write_file(path: Path, data: bytes) -> OSError | None:
    """Replace `path` with `data` atomically; the error that stopped it (no temporary file left), else None."""
    import tempfile  # only writes need it: a warm run that changes nothing never imports it

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        return exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
        return None
    except OSError as exc:
        _unlink(temporary)
        return exc
    except BaseException:
        _unlink(temporary)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- Data-only pickles -------------------------------------------------------------------------------

# Safe constructors any cache may name, besides the ones a caller allows: values, not behaviour.
_ALWAYS_ALLOWED: frozenset[tuple[str, str]] = frozenset({
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"), ("decimal", "Decimal"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "list"), ("builtins", "dict"),
    ("builtins", "tuple"), ("builtins", "bytearray"), ("builtins", "complex"),
})


class RefusedCache(pickle.UnpicklingError):
    """A cache payload that names something outside its allow-list: never loaded."""


class DataUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allowed classes, so loading can construct values but call nothing else.

    Every way a pickle can reach a callable (GLOBAL, STACK_GLOBAL, INST, OBJ, the extension registry)
    goes through find_class; persistent ids are refused by the base class.
    """

    def __init__(self, stream: IO[bytes], allowed: dict[tuple[str, str], Any] | None = None) -> None:
        super().__init__(stream)
        self.allowed = allowed or {}

    def find_class(self, module: str, name: str) -> Any:
        found = self.allowed.get((module, name))
        if found is None:
            if (module, name) in _ALWAYS_ALLOWED:
                return getattr(sys.modules.get(module) or __import__(module), name)
            raise RefusedCache(f"a cache may not name {module}.{name}")
        return found


def allow_list(types: Iterable[type]) -> dict[tuple[str, str], Any]:
    """The (module, qualified name) -> class map `loads_data` accepts, for `types` (dataclasses, enums)."""
    return {(cls.__module__, cls.__qualname__): cls for cls in types}


def loads_data(data: bytes, allowed: dict[tuple[str, str], Any] | None = None) -> Any:
    """Unpickle `data` allowing only builtin containers and scalars, dates, decimals and the `allowed` classes.

    Raises (RefusedCache, or whatever a damaged pickle raises); callers treat any exception as no cache.
    """
    return DataUnpickler(io.BytesIO(data), allowed).load()
