"""Watch a workspace with watchdog and rebuild its site after each (debounced) save: `build --watch` and `serve`.

The watchdog callback only records which paths changed and sets a flag; the build loop waits for a
burst of events to go quiet, then runs one incremental update. A failed update keeps the last good
site and says why; the next good save recovers.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from plaintext_crm.clock import resolve_today
from plaintext_crm.escape import terminal
from plaintext_crm.records.cache_store import LEGACY_FOLDER
from plaintext_crm.site.incremental import (
    GLOBAL_FOLDERS,
    RECORD_FOLDERS,
    IncrementalSite,
    UpdateResult,
    affects_site,
)
from plaintext_crm.site.output import RETIRED_PREFIX, STAGING_PREFIX

# Folders watched recursively (the workspace root itself is watched alone, for crm.yaml and these folders).
WATCHED_FOLDERS = (*RECORD_FOLDERS, *GLOBAL_FOLDERS)
# Never rebuild for these: editor swap, backup and probe files, and our own working folders.
IGNORED_NAMES = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", "*.tmp", ".DS_Store")
IGNORED_FOLDERS = (".git", LEGACY_FOLDER, "__pycache__", "node_modules")
QUIET_SECONDS = 0.05  # a burst of events is over when none came for this long
MAX_WAIT_SECONDS = 1.0  # ... or when it has lasted this long
# watchdog event types that can mean new content ("opened" and "closed_no_write" cannot)
CHANGE_EVENTS = {"created", "modified", "deleted", "moved", "closed"}


@dataclass(frozen=True)
class BuildProblem:
    """Something the terminal and the served pages' banner report: where (file:line) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def is_ignored(rel: str, out_rel: str | None = None) -> bool:
    """True for paths a rebuild never needs: editor temporaries, .git, caches, the output folder."""
    parts = rel.split("/")
    if out_rel is not None and (rel == out_rel or rel.startswith(out_rel + "/")):
        return True
    if any(part in IGNORED_FOLDERS or part.startswith((STAGING_PREFIX, RETIRED_PREFIX)) for part in parts):
        return True
    return any(fnmatch.fnmatchcase(parts[-1], pattern) for pattern in IGNORED_NAMES)


class ChangeCollector(FileSystemEventHandler):
    """The watchdog callback: records the workspace-relative paths of events that can change the site and
    sets a flag; nothing else."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = os.fspath(root.resolve())
        try:
            self.out_rel: str | None = out.resolve().relative_to(self.root).as_posix()
        except ValueError:
            self.out_rel = None
        self.flag = threading.Event()
        self.lock = threading.Lock()
        self.paths: set[str] = set()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGE_EVENTS or (event.is_directory and event.event_type == "modified"):
            return  # a folder is "modified" whenever a file in it is: the file's own event says which
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(raw)
            if not path:
                continue
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            if rel.startswith("../") or rel == "." or is_ignored(rel, self.out_rel) or not affects_site(rel):
                continue
            with self.lock:
                self.paths.add(rel)
            self.flag.set()

    def take(self) -> set[str]:
        """The paths recorded since the last call."""
        with self.lock:
            paths, self.paths = self.paths, set()
        return paths


class Watcher:
    """A watchdog observer on the workspace folder and its record and template folders (not single files:
    editors save by writing a new file and renaming it over the old one)."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = root
        self.collector = ChangeCollector(root, out)
        self.observer = Observer()
        self.watches: dict[str, ObservedWatch] = {}

    def start(self) -> None:
        """Start watching (before the first build, so that saves made during it are not missed)."""
        self.observer.schedule(self.collector, os.fspath(self.root), recursive=False)
        self._sync_watches(set())
        self.observer.start()

    def stop(self) -> None:
        """Stop the observer thread and wait for it."""
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(timeout=5)

    def _sync_watches(self, changed: set[str]) -> None:
        """Watch record and template folders that exist; re-watch one that was deleted or replaced."""
        for name in WATCHED_FOLDERS:
            folder = self.root / name
            watch = self.watches.get(name)
            if watch is not None and (name in changed or not folder.is_dir()):
                try:
                    self.observer.unschedule(watch)
                except (KeyError, OSError):
                    pass  # its inotify watch went away with the folder
                del self.watches[name]
            if name not in self.watches and folder.is_dir():
                try:
                    self.watches[name] = self.observer.schedule(self.collector, os.fspath(folder), recursive=True)
                except OSError:
                    pass  # deleted again meanwhile: the next event retries

    def wait(self, stop: threading.Event) -> set[str]:
        """Block until a burst of changes is over and return its paths; an empty set once `stop` is set."""
        flag = self.collector.flag
        while not stop.is_set():
            if not flag.wait(0.2):
                continue
            started = time.monotonic()
            while True:
                flag.clear()
                if not flag.wait(QUIET_SECONDS) or time.monotonic() - started > MAX_WAIT_SECONDS:
                    break
            flag.clear()
            paths = self.collector.take()
            self._sync_watches({rel for rel in paths if rel in WATCHED_FOLDERS})
            if paths:
                return paths
        return set()


# --- the build loop ----------------------------------------------------------------------------

Echo = Callable[[str], None]
# Told after each change: the current problems, and the site paths that changed (None: any of them may have).
OnChange = Callable[[Sequence[BuildProblem], "frozenset[str] | None"], None]


def describe_failure(exc: BaseException, root: Path) -> BuildProblem:
    """A failed build as file:line (a template's, when a template failed) and the error."""
    from jinja2 import TemplateSyntaxError

    where = ""
    if isinstance(exc, TemplateSyntaxError):
        where = f"{_shown(exc.filename or exc.name or '?', root)}:{exc.lineno}"
    else:
        # Jinja rewrites tracebacks so that template code shows as frames of the template file.
        frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename.endswith(".html")]
        if frames:
            where = f"{_shown(frames[-1].filename, root)}:{frames[-1].lineno}"
    message = exc.format_message() if isinstance(exc, click.ClickException) else f"{type(exc).__name__}: {exc}"
    return BuildProblem(where, message)


def finding_problems(result: UpdateResult) -> list[BuildProblem]:
    """The update's unparseable saved files as problems."""
    return [BuildProblem(f"{finding.path}:{finding.line}", f"{finding.code} {finding.message}")
            for finding in result.problems]


def _shown(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def _stamp() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


def report_update(result: UpdateResult, echo: Echo, warn: Echo) -> None:
    """One terminal line per update (to `echo`), then one line per unparseable file (to `warn`)."""
    what = terminal(", ".join(result.changed[:3])) + (f" and {len(result.changed) - 3} more"
                                                      if len(result.changed) > 3 else "")
    if result.skipped:
        return
    if result.full:
        echo(f"[{_stamp()}] {what or 'start'}: rebuilt all {result.pages} pages in {result.seconds:.2f} s")
    else:
        echo(f"[{_stamp()}] {what}: {result.written} pages written ({result.rendered} rendered, "
             f"{result.removed} removed, {result.parsed} files parsed) in {result.seconds:.2f} s; "
             f"record pages after {result.first_seconds:.2f} s")
    for problem in finding_problems(result):
        warn(f"  {terminal(str(problem))}  (left out of the site until fixed; the rest was updated)")


class LiveSite:
    """An IncrementalSite kept up to date by a Watcher: `start()`, then `run(stop)` until stopped."""

    def __init__(self, root: Path, out: Path, today: Callable[[], dt.date], *, echo: Echo, warn: Echo,
                 use_cache: bool = True, jobs: int | None = None, lock: Any = None,
                 on_change: OnChange | None = None, preview: bool = False,
                 make_site: Callable[..., Any] | None = None) -> None:
        self.root = root
        self.echo = echo
        self.warn = warn
        self.on_change = on_change
        self.watcher = Watcher(root, out)
        # make_site: another site with IncrementalSite's interface (serve --audience/--encrypt: published_serve.py)
        self.site = (make_site or IncrementalSite)(root, out, today, use_cache=use_cache, jobs=jobs, lock=lock,
                                                   on_publish=self._published, preview=preview)
        self.failure: BuildProblem | None = None

    @property
    def out(self) -> Path:
        return self.site.out

    def problems(self) -> list[BuildProblem]:
        """What the banner shows now: a failed build, then the unparseable saved files."""
        found = [BuildProblem(f"{finding.path}:{finding.line}", f"{finding.code} {finding.message}")
                 for finding in self.site.problems]
        return ([self.failure] if self.failure else []) + found

    def _published(self, outputs: frozenset[str] | None) -> None:
        self.failure = None
        if self.on_change is not None:
            self.on_change(self.problems(), outputs)

    def start(self) -> UpdateResult | None:
        """Start watching, then build everything; a failed first build is reported and watched for a fix."""
        self.watcher.start()
        return self._attempt(self.site.build)

    def run(self, stop: threading.Event) -> None:
        """Rebuild after each burst of changes until `stop` is set."""
        while not stop.is_set():
            changed = self.watcher.wait(stop)
            if changed:
                self._attempt(partial(self.site.update, changed))

    def close(self) -> None:
        self.watcher.stop()

    def _attempt(self, step: Callable[[], UpdateResult]) -> UpdateResult | None:
        try:
            result = step()
        except Exception as exc:  # noqa: BLE001 - whatever broke, the last good site stays and we say why
            self.failure = describe_failure(exc, self.root)
            self.warn(f"[{_stamp()}] build failed: {terminal(str(self.failure))}")
            self.warn("  the last good site stays in place; save a fix to rebuild")
            if self.on_change is not None:
                self.on_change(self.problems(), frozenset())
            return None
        report_update(result, self.echo, self.warn)
        return result


def today_source(today: dt.date) -> Callable[[], dt.date]:
    """A fixed day when --today was given, else one read again at each rebuild (a server outlives midnight)."""
    context = click.get_current_context()
    if context.get_parameter_source("today") in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
        return lambda: today
    return lambda: resolve_today(None)


def interrupt_main_process_only() -> None:
    """Make Ctrl-C stop this process only: worker processes that full builds fork inherit the handler and
    ignore it (their pool is then terminated), instead of each printing a KeyboardInterrupt traceback."""
    main = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() == main:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)


def watch_build(root: Path, out: Path, today: Callable[[], dt.date], *, use_cache: bool = True,
                jobs: int | None = None, quiet: bool = False) -> None:
    """`plaintext-crm build --watch`: build, then rebuild after every save until Ctrl-C."""
    echo: Echo = (lambda _text: None) if quiet else click.echo
    live = LiveSite(root, out, today, echo=echo, warn=lambda text: click.echo(text, err=True),
                    use_cache=use_cache, jobs=jobs)
    stop = threading.Event()
    interrupt_main_process_only()
    try:
        live.start()
        echo(f"Watching {root} for changes (Ctrl-C stops); the site is in {live.out}")
        live.run(stop)
    except KeyboardInterrupt:
        echo("Stopped.")
    finally:
        stop.set()
        live.close()
