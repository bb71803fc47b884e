"""Incremental site rebuilds for watch and serve: the gathered site stays in memory; a change re-parses its files and re-renders the pages that read them.

    full build (build_site) -> gather into memory
    update(changed paths): re-read only changed record files -> load (the rest from memory) -> lint -> figures
        -> bodies (changed records only) -> plan pages -> which pages are dirty?
        -> publish record pages that read a changed file -> publish aggregate pages

A page is dirty when it reads the whole workspace (`Page.sources is None`: overview, board, lists, data.json,
...), when one of its source files changed, or when its key (its findings, figures it shows) changed, exactly
the test `build_site` uses to reuse pages between builds. Anything that every page depends on (crm.yaml,
templates, today, git HEAD, the navigation) changing makes the update a full build. The output after any
series of updates is byte for byte that of a fresh full build (tests/test_incremental.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from plaintext_crm.errors import ToolError
from plaintext_crm.findings import Finding
from plaintext_crm.records import cache_store
from plaintext_crm.records.loader import LoadedFile, build_record, load_workspace, read_file
from plaintext_crm.records.model import Workspace
from plaintext_crm.records.reading import ParseProblem, read_inside
from plaintext_crm.site import output
from plaintext_crm.site.builder import _global_key, build_site
from plaintext_crm.site.markdown import body_key, renderer
from plaintext_crm.site.pages import Page, SiteData, all_page_types
from plaintext_crm.site.templates import OVERRIDES_FOLDER, make_environment

RECORD_FOLDERS = ("clients", "deals", "projects")
# Paths (workspace-relative, "/" separators) whose change makes every page stale.
GLOBAL_FILES = ("crm.yaml",)
GLOBAL_FOLDERS = (OVERRIDES_FOLDER,)

Today = Callable[[], dt.date]
PageType = Callable[[SiteData], list[Page]]
Publish = Callable[["frozenset[str] | None"], None]  # after pages are in place: their outputs (None: all)


@dataclass(frozen=True)
class UpdateResult:
    """What one rebuild did; `problems` are the F001 findings (unparseable files) among the files saved."""

    full: bool  # everything was rebuilt (first build, crm.yaml, templates, today, HEAD or navigation changed)
    pages: int
    rendered: int  # pages rendered
    written: int  # pages whose bytes changed and were written
    removed: int  # pages deleted because their record is gone
    parsed: int  # record files read and parsed
    findings: int  # lint problems in the whole workspace
    seconds: float  # from the start of the update until the whole site was in place
    first_seconds: float  # until the pages reading the changed files were in place
    problems: tuple[Finding, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def skipped(self) -> bool:
        """Nothing to do: the saved files' contents were unchanged."""
        return not self.full and self.parsed == 0 and self.rendered == 0 and self.removed == 0


def is_record_file(rel: str) -> bool:
    """True for clients/*.md, deals/*.md and projects/*.md (the files load_workspace reads)."""
    folder, _, name = rel.partition("/")
    return folder in RECORD_FOLDERS and "/" not in name and name.endswith(".md") and not name.startswith(".")


def affects_site(rel: str) -> bool:
    """True when a change to `rel` can change the site: record files, a record folder itself (moved or
    deleted: the update looks for added and removed files), crm.yaml, anything in site-templates/."""
    return rel in GLOBAL_FILES or rel.split("/", 1)[0] in GLOBAL_FOLDERS or rel in RECORD_FOLDERS \
        or is_record_file(rel)


@dataclass
class _State:
    """The last published site: records, bodies and each page's fingerprint and output digest."""

    loaded: dict[str, LoadedFile] = field(default_factory=dict)  # record path -> built record and findings
    contents: dict[str, bytes] = field(default_factory=dict)  # record path -> digest of the bytes parsed
    versions: dict[str, int] = field(default_factory=dict)  # record path -> version, bumped on each re-parse
    bodies: dict[str, Markup] = field(default_factory=dict)  # record path -> rendered body
    body_keys: dict[str, str] = field(default_factory=dict)  # record path -> body_key of that body
    fingerprints: dict[str, tuple[object, ...] | None] = field(default_factory=dict)  # page output -> inputs
    digests: dict[str, bytes] = field(default_factory=dict)  # page output -> digest of the bytes on disk
    records: dict[str, str] = field(default_factory=dict)  # page output -> the record file it presents
    global_key: str = ""


class IncrementalSite:
    """A site kept up to date with its workspace: `build()` once, then `update(paths)` after each change.

    `lock` is held while files in `out` are replaced (a server takes it to read a consistent site);
    `on_publish(outputs)` is called after each batch of pages is in place. With `preview`, a saved record's
    own page is first rendered from the last gather patched with that record (plaintext_crm.site.preview),
    before the exact update replaces it: quick feedback for `serve`, never the final output.
    """

    def __init__(self, root: Path, out: Path, today: Today, *, use_cache: bool = True, jobs: int | None = None,
                 lock: AbstractContextManager[object] | None = None, on_publish: Publish | None = None,
                 preview: bool = False) -> None:
        self.root = root
        self.out = output.check_output_folder(out, root)
        self.today = today
        self.use_cache = use_cache
        self.jobs = jobs
        self.lock: AbstractContextManager[object] = lock if lock is not None else nullcontext()
        self.on_publish = on_publish
        self.preview = preview
        self.state = _State()
        self.saved: set[str] = set()  # record files saved while running: their F001 findings are `problems`
        self.problems: tuple[Finding, ...] = ()  # F001 findings of saved files, as of the last gather
        self._engine = renderer(None)
        self._counter = itertools.count(1)
        self._rendered_bodies: dict[str, str] = {}  # body_key -> HTML, for bodies rendered while running
        # page output -> (record path, bytes): the last good page of a record that no longer parses. It is
        # not in `out` (a fresh build has no page for it) but a server may keep showing it with a banner.
        self.last_good: dict[str, tuple[str, bytes]] = {}
        self._last: tuple[SiteData, object] | None = None  # the last gathered site and its environment
        self._page_types: dict[str, PageType] = {}  # record page output -> the page type that plans it

    # --- the two entry points ---------------------------------------------------------------------

    def build(self, *, fresh: bool = False) -> UpdateResult:
        """A full build with `build_site` (reusing the previous site's unchanged pages unless `fresh`), then
        the state."""
        started = time.perf_counter()
        today = self.today()
        self.state = _State()
        workspace, load_findings = self._load(set(), initial=True)
        site, env, pages = self._analyze(workspace, load_findings, today, set(), initial=True)
        result = build_site(self.root, self.out, today, use_cache=self.use_cache and not fresh, jobs=self.jobs,
                            gathered=site)
        self.state.global_key = self._global_key(site, env, today)
        self.state.fingerprints = {page.output: _fingerprint(page, self.state.versions) for page in pages}
        self.state.records = {page.output: page.record for page in pages if page.record is not None}
        self._keep_last_good([], set(self.state.fingerprints))
        seconds = time.perf_counter() - started
        if self.on_publish is not None:
            self.on_publish(None)
        return UpdateResult(True, result.pages, result.rendered, result.rendered, 0, len(self.state.loaded),
                            len(site.findings), seconds, seconds, self._problems(site.findings))

    def update(self, changed: Iterable[str]) -> UpdateResult:
        """Bring the site up to date after `changed` (workspace-relative paths) were saved, created or deleted."""
        started = time.perf_counter()
        changed = {rel for rel in changed if affects_site(rel)}
        if any(rel in GLOBAL_FILES or rel.split("/", 1)[0] in GLOBAL_FOLDERS for rel in changed):
            return self._full(started, changed)
        records = {rel for rel in changed if is_record_file(rel)}
        self.saved |= records
        if changed == records and not any(self._content_changed(rel) for rel in records):
            return UpdateResult(False, len(self.state.fingerprints), 0, 0, 0, 0, 0, 0.0, 0.0, self.problems,
                                tuple(sorted(changed)))
        today = self.today()
        workspace, load_findings = self._load(records)
        parsed = self._parsed
        if self.preview:
            self._preview(workspace, load_findings, records, today)
        site, env, pages = self._analyze(workspace, load_findings, today, records)
        key = self._global_key(site, env, today)
        if key != self.state.global_key:
            # build_site's page reuse does not know the navigation: a change of it alone needs a fresh build
            nav_only = key.split("|", 1)[0] == self.state.global_key.split("|", 1)[0]
            return self._full(started, changed, fresh=nav_only)
        if self.use_cache:  # the whole-workspace pages join their unchanged items, as `build` does (fragments.py)
            site.cache_dir, site.build_key = cache_store.cache_folder(self.root), key.split("|", 1)[0]
        fingerprints = {page.output: _fingerprint(page, self.state.versions) for page in pages}
        dirty = [page for page in pages
                 if fingerprints[page.output] is None or self.state.fingerprints.get(page.output, ())
                 != fingerprints[page.output]]
        # Pages that read a changed file are published first: an open record page reloads before the
        # aggregate pages (board, data.json, ...) are done. Both batches come from the same gathered data.
        first = [page for page in dirty if page.sources is not None]
        rest = [page for page in dirty if page.sources is None]
        gone = sorted(set(self.state.fingerprints) - set(fingerprints))
        self._keep_last_good(gone, set(fingerprints))
        written = self._publish(site, env, first, [])
        first_seconds = time.perf_counter() - started
        written += self._publish(site, env, rest, gone)
        self.state.fingerprints = fingerprints
        self.state.records.update((page.output, page.record) for page in pages if page.record is not None)
        return UpdateResult(False, len(pages), len(dirty), written, len(gone), parsed, len(site.findings),
                            time.perf_counter() - started, first_seconds, self.problems,
                            tuple(sorted(changed - set(RECORD_FOLDERS))))

    def last_good_page(self, rel: str) -> bytes | None:
        """The last good version of a page whose record no longer parses (see `last_good`), else None."""
        kept = self.last_good.get(rel)
        return kept[1] if kept is not None else None

    # --- stages -----------------------------------------------------------------------------------

    def _full(self, started: float, changed: set[str], *, fresh: bool = False) -> UpdateResult:
        self.saved |= {rel for rel in changed if is_record_file(rel)}
        result = self.build(fresh=fresh)
        seconds = time.perf_counter() - started
        return UpdateResult(True, result.pages, result.rendered, result.written, 0, result.parsed, result.findings,
                            seconds, seconds, self.problems, tuple(sorted(changed - set(RECORD_FOLDERS))))

    def _keep_last_good(self, gone: list[str], pages: set[str]) -> None:
        """Remember the pages about to be deleted whose record became unparseable; forget recovered ones."""
        broken = {finding.path for finding in self.problems}
        self.last_good = {rel: kept for rel, kept in self.last_good.items() if kept[0] in broken and rel not in pages}
        for rel in gone:
            record = self.state.records.get(rel)
            if record in broken:
                data = _read_bytes(self.out / rel)
                if data is not None:
                    self.last_good[rel] = (record, data)

    def _content_changed(self, rel: str) -> bool:
        """False only when the file's bytes are known and the same as when it was last parsed."""
        known = self.state.contents.get(rel)
        return known is None or known != _record_digest(self.root, rel)

    def _load(self, changed: set[str], *, initial: bool = False) -> tuple[Workspace, list[Finding]]:
        """The workspace, re-parsing only `changed` and new files (every file through the record cache at first)."""
        self._parsed = 0
        loader = self._load_initial if initial else self._load_changed(changed)
        return load_workspace(self.root, load_files=loader)

    def _analyze(self, workspace: Workspace, load_findings: list[Finding], today: dt.date, changed: set[str], *,
                 initial: bool = False) -> tuple[SiteData, object, list[Page]]:
        """Lint, compute figures and bodies, plan the pages: everything gathered before anything is written."""
        from plaintext_crm.analysis import analyze
        from plaintext_crm.history.reader import GitHistory
        from plaintext_crm.site.pages import site_data_of

        site = site_data_of(analyze(workspace, today, GitHistory(self.root, use_cache=self.use_cache, whole=True),
                                    load_findings))
        site.bodies = self._bodies(workspace, changed, initial)
        env = make_environment(self.root, cache_store.cache_folder(self.root) if self.use_cache else None)
        pages: list[Page] = []
        for page_type in all_page_types():
            planned = page_type(site)
            pages.extend(planned)
            self._page_types.update((page.output, page_type) for page in planned if page.record is not None)
        site.set_pages(pages)
        self.problems = self._problems(site.findings)  # known before anything is published
        self._last = (site, env)
        return site, env, pages

    def _preview(self, workspace: Workspace, load_findings: list[Finding], changed: set[str],
                 today: dt.date) -> None:
        """Publish the changed records' own pages from the last gather patched with them (see preview.py)."""
        from plaintext_crm.site.preview import focused, preview_site

        if self._last is None or self._last[0].today != today:
            return
        previous, env = self._last
        wanted = {output for output, record in self.state.records.items() if record in changed}
        page_types = {self._page_types[output] for output in wanted if output in self._page_types}
        if not page_types:
            return
        try:
            site = preview_site(previous, workspace, load_findings, changed, self._bodies(workspace, changed, False))
            pages = [page for page_type in page_types for page in page_type(focused(site, changed, page_type))
                     if page.output in wanted]
            self._publish(site, env, pages, [])
        except Exception:  # noqa: BLE001 - a preview is optional: the exact update follows and reports errors
            return

    def _load_initial(self, root: Path, paths: list[str]) -> list[LoadedFile]:
        """Every record through the persistent record cache (reading only files changed since it was written)."""
        from plaintext_crm.records.parse_cache import RecordCache

        loaded = RecordCache(root, enabled=self.use_cache).load(root, paths)
        self.state.loaded = dict(zip(paths, loaded))
        self.state.versions = {rel: 0 for rel in paths}
        return loaded

    def _load_changed(self, changed: set[str]) -> Callable[[Path, list[str]], list[LoadedFile]]:
        def load(root: Path, paths: list[str]) -> list[LoadedFile]:
            state = self.state
            for rel in set(state.loaded) - set(paths):  # deleted or renamed away
                for table in (state.loaded, state.contents, state.versions):
                    table.pop(rel, None)  # type: ignore[attr-defined]
            for rel in paths:
                if rel in changed or rel not in state.loaded:
                    digest = _record_digest(root, rel)
                    state.loaded[rel] = build_record(read_file(root, rel))
                    state.contents[rel] = digest if digest is not None else b""
                    state.versions[rel] = next(self._counter)
                    self._parsed += 1
            return [state.loaded[rel] for rel in paths]

        return load

    def _bodies(self, workspace: Workspace, changed: set[str], initial: bool) -> dict[str, Markup]:
        """Rendered bodies: all of them (through the build's body cache) at first, then changed records only."""
        from plaintext_crm.site.bodies import render_bodies

        if initial:
            cache_dir = cache_store.cache_folder(self.root) if self.use_cache else None
            rendered, _engine = render_bodies(workspace, cache_dir, jobs=self.jobs)
            self.state.bodies = rendered
            self.state.body_keys = {record.path: body_key(record.body) for record in workspace.records()}
            return dict(rendered)
        _name, render = self._engine
        bodies: dict[str, Markup] = {}
        keys: dict[str, str] = {}
        for record in workspace.records():
            key = body_key(record.body) if record.path in changed or record.path not in self.state.bodies \
                else self.state.body_keys[record.path]
            keys[record.path] = key
            if key == self.state.body_keys.get(record.path) and record.path in self.state.bodies:
                bodies[record.path] = self.state.bodies[record.path]
            else:
                html = self._rendered_bodies.get(key)
                if html is None:
                    html = self._rendered_bodies[key] = render(record.body)
                bodies[record.path] = Markup(html)
        self.state.bodies, self.state.body_keys = bodies, keys
        if len(self._rendered_bodies) > len(changed):  # forget renderings of bodies no record has any more
            current = set(keys.values())
            self._rendered_bodies = {key: html for key, html in self._rendered_bodies.items() if key in current}
        return dict(bodies)

    def _global_key(self, site: SiteData, env: object, today: dt.date) -> str:
        """build_site's global key (version, today, crm.yaml, templates, HEAD) plus the navigation."""
        nav = "|".join(f"{item.key}:{item.title}:{item.output}" for item in site.nav)
        return _global_key(self.root, today, env) + "|" + nav

    def _publish(self, site: SiteData, env: object, pages: list[Page], gone: list[str]) -> int:
        """Render `pages` into a staging folder, then move the changed ones into `out` under the lock."""
        if not pages and not gone:
            return 0
        with output.staging_folder(self.out) as staging:
            fresh: list[tuple[str, bytes]] = []
            for page in pages:
                content = page.render(site, env)  # type: ignore[arg-type]
                data = content if isinstance(content, bytes) else content.encode("utf-8", "backslashreplace")
                digest = _digest_bytes(data)
                if self.state.digests.get(page.output) == digest and (self.out / page.output).is_file():
                    continue
                target = staging / page.output
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                fresh.append((page.output, digest))
            with output.output_lock(self.out), self.lock:
                # The marker lists a page before it is moved in and after it is deleted: whenever this stops,
                # every file in `out` is listed, so the next build may replace the folder.
                files = output.listed_files(self.out)
                for rel, _digest in fresh:
                    if rel not in files and os.path.lexists(self.out / rel):
                        raise ToolError(f"refusing to replace {self.out / rel}: plaintext-crm did not write it; "
                                        f"move it out of {self.out} and save again")
                files = output.add_to_marker(self.out, files, (rel for rel, _digest in fresh))
                for rel, digest in fresh:
                    if not output.is_inside(self.out, rel):
                        raise ToolError(f"refusing to write {self.out / rel}: a folder on the way is a "
                                        f"symbolic link out of {self.out}")
                    if _is_folder(self.out / rel):
                        raise ToolError(f"refusing to replace {self.out / rel}: it is a folder that plaintext-crm "
                                        f"did not write; move it out of {self.out} and save again")
                    (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging / rel, self.out / rel)
                    self.state.digests[rel] = digest
                for rel in gone:
                    self.state.digests.pop(rel, None)
                    if not output.is_inside(self.out, rel) or _is_folder(self.out / rel):
                        continue  # never delete through a link out of the site, nor a folder of the user's
                    try:
                        os.unlink(self.out / rel)
                    except FileNotFoundError:
                        pass
                    _remove_empty_parents(self.out, rel)
                output.remove_from_marker(self.out, files, gone)
        if self.on_publish is not None and (fresh or gone):
            self.on_publish(frozenset([*(rel for rel, _digest in fresh), *gone]))
        return len(fresh)

    def _problems(self, findings: Iterable[Finding]) -> tuple[Finding, ...]:
        """F001 findings (front matter that does not parse) of files saved while running."""
        return tuple(finding for finding in findings if finding.code == "F001" and finding.path in self.saved)


def _fingerprint(page: Page, versions: dict[str, int]) -> tuple[object, ...] | None:
    """What a page reads: its key and the version of each source file; None when it reads everything."""
    if page.sources is None:
        return None
    return (page.key, tuple((rel, versions.get(rel, -1)) for rel in sorted(page.sources)))


def _is_folder(path: Path) -> bool:
    """True for a real folder (not a link to one): where the tool only ever writes files."""
    return path.is_dir() and not path.is_symlink()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _digest_bytes(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _record_digest(root: Path, rel: str) -> bytes | None:
    """The digest of a record file's bytes, read as the loader reads them (no link out of the workspace,
    never blocking on a named pipe or a device), or None when it is not a readable file."""
    data = read_inside(root, rel)
    return None if isinstance(data, ParseProblem) else _digest_bytes(data)


def _remove_empty_parents(out: Path, rel: str) -> None:
    """Remove folders left empty by a deleted page (a fresh build would not create them)."""
    parent = (out / rel).parent
    while parent != out and out in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent

