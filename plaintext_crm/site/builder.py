"""`build_site`: the whole static-site build as one readable pipeline, from files on disk to a swapped-in folder.

    check folders -> load + lint (cached) -> analytics -> render Markdown bodies (cached, parallel)
    -> plan pages (page types) -> render pages into a staging folder (unchanged pages reused)
    -> copy assets -> manifest -> swap the staging folder in

Everything is gathered before anything is written, so the pages agree with each other.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment

from plaintext_crm import __version__
from plaintext_crm.history.record_history import history_key
from plaintext_crm.records import cache_store
from plaintext_crm.records.parse_cache import die_with_parent
from plaintext_crm.records.reading import read_inside
from plaintext_crm.site import in_place, output
from plaintext_crm.site.audience import published_pages, view_site_data
from plaintext_crm.site.bodies import render_bodies
from plaintext_crm.site.markdown import renderer
from plaintext_crm.site.pages import Page, SiteData, all_page_types, gather_site_data
from plaintext_crm.site.templates import (
    STATIC_FOLDER,
    load_all_templates,
    make_environment,
    static_files,
    template_digest,
)
from plaintext_crm.site.workspace_key import RecordDigests, record_digests, workspace_key

MANIFEST = "site-manifest.json"
PARALLEL_MIN_PAGES = 400  # below this a process pool costs more than it saves...
PARALLEL_MIN_RECORDS = 2000  # ...unless the whole-workspace pages (board, data.json...) are big themselves

T = TypeVar("T")


@dataclass(frozen=True)
class BuildResult:
    """What a build did: where, how many pages it wrote (and reused), and how long it took."""

    out: Path
    pages: int
    rendered: int
    reused: int
    seconds: float
    findings: int
    engine: str  # the Markdown renderer used: "pyrs" or "py"


def build_site(root: Path, out: Path, today: dt.date, *, use_cache: bool = True, jobs: int | None = None,
               progress: Callable[[int], object] | None = None,
               on_plan: Callable[[int], object] | None = None, gathered: SiteData | None = None,
               audience: str | None = None, passphrase: str | None = None, as_of: str | None = None) -> BuildResult:
    """Build the site of the workspace at `root` into `out`; the previous site stays whole if anything fails.

    `progress(n)` is called as pages are written; `on_plan(total)` once the number of pages is known.
    `gathered`: the workspace already gathered for `today`, with its rendered bodies (incremental.py
    keeps it in memory), so the build does not load and analyse it again. `audience`: build only what
    crm.yaml's audience of that name sees (site/audience.py); `passphrase`: encrypt every page and data
    file (site/encrypt.py). `as_of`: the commit `gathered` was read from (`build --as-of`): pages are
    reused only from a build of that same commit.
    """
    started = time.perf_counter()
    out = output.check_output_folder(out, root)  # refused before any work: no marker, or files not ours
    try:
        with output.output_lock(out):  # one build at a time into `out`; a second one waits and says so
            output.clean_stale(out)  # temporary folders of killed builds
            return _build_locked(root, out, today, started, use_cache, jobs, progress, on_plan, gathered, audience,
                                 passphrase, as_of)
    except OSError as exc:  # a full disk, a folder that cannot be written...: a message, the old site stays
        raise output.failure(exc, "build the site", out) from None


def _build_locked(root: Path, out: Path, today: dt.date, started: float, use_cache: bool, jobs: int | None,
                  progress: Callable[[int], object] | None,
                  on_plan: Callable[[int], object] | None, gathered: SiteData | None, audience: str | None = None,
                  passphrase: str | None = None, as_of: str | None = None) -> BuildResult:
    """`build_site`'s pipeline, with the lock of `out` held."""
    cache_dir = cache_store.cache_folder(root)  # in the user's cache folder: no repository can plant a cache

    # 1. Gather: load, lint, analytics, rendered bodies. Nothing is written before this is complete.
    view = None
    if gathered is not None:
        if audience is not None:
            raise ValueError("a gathered site is the whole workspace's: an audience build gathers its own")
        site, engine = gathered, renderer(None)[0]
    else:
        if audience is None:
            site = gather_site_data(root, today, use_cache=use_cache)
        else:  # only what the audience sees: no cache keyed by a record file may give a whole record back
            site, view = view_site_data(root, today, audience, use_cache=use_cache)
        site.bodies, engine = render_bodies(site.workspace, cache_dir if use_cache else None, jobs=jobs)
    site.cache_dir = cache_dir if use_cache and view is None and as_of is None else None

    # 2. Plan every page; each knows its template, its context and which record files it reads.
    env = make_environment(root, cache_dir if use_cache else None)
    pages = [page for page_type in all_page_types() for page in page_type(site)]
    if view is not None:
        pages = published_pages(pages, view)
    if passphrase is not None:  # no calendar app can open an encrypted feed
        pages = [page for page in pages if not page.output.endswith(".ics")]
    site.set_pages(pages)
    global_key = _global_key(root, today, env, audience) + (f"|as-of {as_of}" if as_of else "")
    if passphrase is not None:  # a new salt each build: no page of it can be reused, in it or after it
        global_key = "encrypted"
    # Cached page items are kept under the build's key (fragments.py); an audience's or an encrypted build
    # keeps none, as it keeps no record text in caches.
    site.build_key = global_key if use_cache and audience is None and passphrase is None else None
    if on_plan is not None:
        on_plan(len(pages))

    # 3. Render into a staging folder beside `out`; pages whose inputs did not change are reused.
    previous = _read_manifest(cache_dir, out, global_key) if use_cache and passphrase is None else {}
    signatures: dict[str, str] = {}

    def signature(rel: str) -> str:
        return _signature(str(root), rel, signatures)

    digests: RecordDigests = {}
    whole_key: str | None = None
    if previous:  # a previous build: whole-workspace pages can be reused when no record or finding changed
        digests = record_digests(site.workspace, previous["records"], signature)
        whole_key = workspace_key(digests, site.workspace.files, site.findings)
    # The manifest describes the site in `out`: only the pages rendered now are moved into it (in_place.py).
    update_in_place = bool(previous) and os.path.isdir(out)
    with output.staging_folder(out) as staging:
        # Pages rendered on every build (overview, This week, data.json) start at once, in workers when the
        # workspace is big, while this process works out which of the other pages the previous build can give.
        always = [page for page in pages if page.sources is None and not page.records_only]
        fingerprints: dict[str, str | None] = {}
        todo: list[Page] = []

        def plan_rest() -> list[Page]:
            fingerprints.update((page.output, _fingerprint(page, signature, whole_key)) for page in pages)
            rest = [page for page in pages if page.sources is not None or page.records_only]
            todo[:] = always + _reuse_unchanged(rest, previous.get("pages", {}), fingerprints, out,
                                                None if update_in_place else staging)
            if progress is not None and len(todo) < len(pages):
                progress(len(pages) - len(todo))
            return todo[len(always):]

        def digest_all() -> RecordDigests:  # no previous build: digest every record for the next one
            return record_digests(site.workspace, {}, signature)

        wanted = use_cache and whole_key is None
        digests = _render_pages(site, env, pages, always, plan_rest, staging, jobs, progress,
                                meanwhile=digest_all if wanted else None) or digests
        written = [page.output for page in pages]
        moved = [page.output for page in todo]
        for rel, source in static_files(root):
            target = staging / STATIC_FOLDER / rel
            written.append(f"{STATIC_FOLDER}/{rel}")
            if update_in_place and _same_bytes(out / STATIC_FOLDER / rel, source):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(source)
            except OSError as exc:
                exc.filename = exc.filename or str(target)
                raise
            moved.append(f"{STATIC_FOLDER}/{rel}")
        if passphrase is not None:  # (imported here: only encrypted builds load cryptography)
            from plaintext_crm.site.encrypt import derive_key, encrypt_folder, shell_page

            written = encrypt_folder(staging, written, derive_key(passphrase), shell_page())
        if update_in_place and not _forget_manifest(cache_dir):  # a stale manifest would lie about `out`
            update_in_place = False
            kept = set(written) - set(moved)
            for page in _reuse_unchanged([page for page in pages if page.output in kept], previous["pages"],
                                         fingerprints, out, staging):  # gone meanwhile: rendered here
                _write_page(site, env, page, staging)
            for rel in sorted(kept - set(fingerprints)):  # the unchanged assets
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(out / rel, staging / rel)
        if update_in_place:
            in_place.publish(staging, out, moved, written)
        else:
            output.finish(staging, written)  # the marker: every file of this site, and nothing else
            output.swap_in(staging, out)
    if use_cache:
        if whole_key is None:
            whole_key = workspace_key(digests, site.workspace.files, site.findings)
            fingerprints.update((page.output, _fingerprint(page, signature, whole_key))
                                for page in pages if page.records_only)
        _write_manifest(cache_dir, out, global_key, fingerprints, digests)
    return BuildResult(out, len(pages), len(todo), len(pages) - len(todo), time.perf_counter() - started,
                       len(site.findings), engine)


# --- rendering pages, in parallel when there are many -------------------------------------------

_SHARED: tuple[SiteData, Environment, Sequence[Page], Path] | None = None  # inherited by forked workers


def _render_pages(site: SiteData, env: Environment, pages: Sequence[Page], first: Sequence[Page],
                  then: Callable[[], Sequence[Page]], staging: Path, jobs: int | None,
                  progress: Callable[[int], object] | None, meanwhile: Callable[[], T] | None = None) -> T | None:
    """Write the pages `first`, then those `then()` returns (called while `first` renders); all are in `pages`.

    On a big build, forked workers share the gathered data copy-on-write. `meanwhile()` runs in this
    process while the workers render (else after the pages); its result is returned.
    """
    global _SHARED
    workers = min(jobs or os.cpu_count() or 1, 8)
    for folder in sorted({str(Path(page.output).parent) for page in pages}):
        (staging / folder).mkdir(parents=True, exist_ok=True)
    early = len(site.workspace.files) >= PARALLEL_MIN_RECORDS  # big enough to fork before `then()` is known
    rest: Sequence[Page] | None = None if early else then()
    planned = len(first) + len(rest) if rest is not None else len(pages)
    big = planned >= PARALLEL_MIN_PAGES or (early and planned > 1)
    if workers < 2 or not big or "fork" not in multiprocessing.get_all_start_methods():
        for page in [*first, *(rest if rest is not None else then())]:
            _write_page(site, env, page, staging)
            if progress is not None:
                progress(1)
        return meanwhile() if meanwhile is not None else None
    index_of = {page.output: index for index, page in enumerate(pages)}
    load_all_templates(env)
    _SHARED = (site, env, pages, staging)
    gc.freeze()  # keep the collector from touching (and so copying) every shared object in the workers
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent) as pool:
            started = [pool.imap_unordered(_render_batch, _batches(first, index_of, workers))]
            if rest is None:
                rest = then()
            started.append(pool.imap_unordered(_render_batch, _batches(rest, index_of, workers)))
            extra = meanwhile() if meanwhile is not None else None
            for results in started:
                for done in results:
                    if progress is not None:
                        progress(done)
        return extra
    finally:
        _SHARED = None
        gc.unfreeze()


def _batches(pages: Sequence[Page], index_of: dict[str, int], workers: int) -> list[list[int]]:
    """Indexes of `pages` in batches: each whole-workspace page (the slow ones) alone and first, then chunks."""
    whole = [index_of[page.output] for page in pages if page.sources is None]
    parts = [index_of[page.output] for page in pages if page.sources is not None]
    chunk = max(50, len(parts) // (workers * 8))
    return [[index] for index in whole] + [parts[start:start + chunk] for start in range(0, len(parts), chunk)]


def _render_batch(indexes: list[int]) -> int:
    """Render some of the pages in a forked worker (the pages and data come from the parent's memory)."""
    assert _SHARED is not None
    site, env, pages, staging = _SHARED
    for index in indexes:
        _write_page(site, env, pages[index], staging)
    return len(indexes)


def _write_page(site: SiteData, env: Environment, page: Page, staging: Path) -> None:
    content = page.render(site, env)
    target = staging / page.output
    try:
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            with open(target, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
                handle.write(content)
    except OSError as exc:  # a failed write names no file: say which one (a full disk, a size limit...)
        if exc.filename is None:
            exc.filename = str(target)
        raise


# --- reuse of unchanged pages between builds ----------------------------------------------------

def _global_key(root: Path, today: dt.date, env: object, audience: str | None = None) -> str:
    """What every page depends on: tool version, today, the audience, crm.yaml and the templates."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{__version__}|{today.isoformat()}|{audience!r}|".encode())
    config = read_inside(root, "crm.yaml")  # never waits on a pipe, never reads through a link out
    digest.update(config if isinstance(config, bytes) else b"-")
    digest.update(template_digest(root).encode())
    digest.update(history_key(root).encode())  # stage histories, timelines and activity follow HEAD
    return digest.hexdigest()


def _signature(root: str, rel: str, signatures: dict[str, str]) -> str:
    """The state of one record file (size and mtime), looked up once per build."""
    signature = signatures.get(rel)
    if signature is None:
        try:
            stat = os.stat(os.path.join(root, rel))  # plain strings: pathlib costs 3x at 10k pages
            signature = f"|{rel}:{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            signature = f"|{rel}:missing"
        signatures[rel] = signature
    return signature


def _fingerprint(page: Page, signature: Callable[[str], str], whole_key: str | None) -> str | None:
    """The state of a page's inputs (its record files' size and mtime, plus its key); None: always render.

    A `records_only` page reads every record: its state is `whole_key` (see workspace_key.py), when known.
    """
    if page.sources is None:
        if page.records_only and whole_key is not None:
            return hashlib.blake2b(f"{page.key}|{whole_key}".encode(), digest_size=16).hexdigest()
        return None
    digest = hashlib.blake2b(page.key.encode("utf-8"), digest_size=16)
    for rel in sorted(page.sources):
        digest.update(signature(rel).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _reuse_unchanged(pages: Sequence[Page], previous: dict[str, str], fingerprints: dict[str, str | None],
                     out: Path, staging: Path | None) -> list[Page]:
    """Hard-link the previous build's copy of every page whose inputs are unchanged into `staging` (with
    None, the page stays where it is in `out`); return the others."""
    todo = []
    folders: set[str] = set()
    old_root = str(out)
    present: set[str] | None = None  # the site's files, listed once (in place)
    for page in pages:
        fingerprint = fingerprints[page.output]
        if fingerprint is None or previous.get(page.output) != fingerprint:
            todo.append(page)
            continue
        if staging is None:
            if present is None:
                present = in_place.page_files(out)
            if page.output not in present:  # removed by hand: render it again
                todo.append(page)
            continue
        new_root = str(staging)
        target = os.path.join(new_root, page.output)
        folder = os.path.dirname(target)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        try:
            _link_or_copy(os.path.join(old_root, page.output), target)
        except FileNotFoundError:  # removed from the old site by hand: render it again
            todo.append(page)
    return todo


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    """Reuse an unchanged file of the previous build: a hard link when possible, else a copy (never of a link)."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        if os.path.islink(source):  # never publish what a link points at: the page is rendered again
            raise FileNotFoundError(errno.ENOENT, "a symbolic link", os.fspath(source)) from None
        shutil.copyfile(source, target)


def _same_bytes(path: Path, data: bytes) -> bool:
    """True when `path` is a regular file (not a link) holding exactly `data`."""
    if not in_place.is_page_file(os.fspath(path)):
        return False
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _forget_manifest(cache_dir: Path) -> bool:
    """Delete the page manifest before `out` is changed in place (the next build, if this one is killed
    meanwhile, renders every page); False when it cannot be deleted."""
    try:
        os.unlink(cache_dir / MANIFEST)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _read_manifest(cache_dir: Path, out: Path, global_key: str) -> dict[str, Any]:
    """The previous build's page fingerprints ("pages") and record digests ("records"), if it built the
    same `out` with the same global inputs; else {}."""
    try:
        data = json.loads(cache_store.read_entry(cache_dir / MANIFEST, MANIFEST) or b"{}")
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("out") != str(out) or data.get("global") != global_key:
        return {}
    pages, records = data.get("pages"), data.get("records")
    return {"pages": pages if isinstance(pages, dict) else {}, "records": records if isinstance(records, dict) else {}}


def _mtime(signature: str) -> str:
    """The mtime in a `_signature` text, zero-padded so that texts compare as numbers ("" when missing)."""
    mtime = signature.rsplit(":", 1)[1]
    return mtime.zfill(24) if mtime.isdigit() else ""


def _write_manifest(cache_dir: Path, out: Path, global_key: str, fingerprints: dict[str, str | None],
                    records: RecordDigests) -> None:
    pages = {path: value for path, value in fingerprints.items() if value is not None}
    # A file saved in the last seconds may change again keeping its size and mtime: digest it again next time.
    settled = str(time.time_ns() - cache_store.RACY_WINDOW_NS).zfill(24)
    kept = {path: entry for path, entry in records.items() if _mtime(entry[0]) < settled}
    manifest = json.dumps({"out": str(out), "global": global_key, "pages": pages, "records": kept})
    cache_store.write_entry(cache_dir / MANIFEST, MANIFEST, manifest.encode("utf-8"))  # never fails a build
