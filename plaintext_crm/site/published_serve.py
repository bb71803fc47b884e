"""An audience's or an encrypted site for `serve`: rebuilt whole with `build_site` after every change."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from plaintext_crm.site import output
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.incremental import UpdateResult


class PublishedSite:
    """The IncrementalSite interface `LiveSite` drives (build, update, out, problems, last_good_page), by full
    builds: an encrypted site takes a fresh salt each build, so no page of it can be updated alone."""

    def __init__(self, root: Path, out: Path, today: Callable[[], dt.date], *, audience: str | None,
                 passphrase: str | None, use_cache: bool = True, jobs: int | None = None,
                 lock: AbstractContextManager[object] | None = None,
                 on_publish: Callable[[frozenset[str] | None], object] | None = None, preview: bool = False) -> None:
        self.root = root
        self.out = output.check_output_folder(out, root)
        self.today = today
        self.audience = audience
        self.passphrase = passphrase
        self.use_cache = use_cache
        self.jobs = jobs
        self.lock: AbstractContextManager[object] = lock if lock is not None else nullcontext()
        self.on_publish = on_publish
        self.problems = ()  # unparseable files are on the site's Problems page (when the audience has it)

    def build(self, *, fresh: bool = False) -> UpdateResult:
        """Build the whole site (swapped in at once, so a server never reads half of it)."""
        started = time.perf_counter()
        with self.lock:
            result = build_site(self.root, self.out, self.today(), use_cache=self.use_cache and not fresh,
                                jobs=self.jobs, audience=self.audience, passphrase=self.passphrase)
        seconds = time.perf_counter() - started
        if self.on_publish is not None:
            self.on_publish(None)
        return UpdateResult(True, result.pages, result.rendered, result.rendered, 0, 0, result.findings,
                            seconds, seconds)

    def update(self, changed: set[str]) -> UpdateResult:
        """After a save: build everything again."""
        result = self.build()
        return UpdateResult(True, result.pages, result.rendered, result.written, 0, result.parsed, result.findings,
                            result.seconds, result.first_seconds, (), tuple(sorted(changed)))

    def last_good_page(self, rel: str) -> bytes | None:
        """No page is kept from an earlier build: a broken record's page is simply absent."""
        return None
