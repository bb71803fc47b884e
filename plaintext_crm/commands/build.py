"""`plaintext-crm build`: render the workspace as a static site (see docs/site.md)."""

from __future__ import annotations

import datetime as dt
import signal
import sys
from pathlib import Path
from typing import Any

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.loader import workspace_root

PROGRESS_MIN_PAGES = 300  # smaller builds finish before a bar would be worth drawing


@click.command()
@workspace_argument
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ inside the workspace).")
@today_option
@click.option("--no-cache", is_flag=True, help="Ignore and do not update the caches: parse, render and write everything.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Worker processes for big builds (default: CPU count).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--audience", metavar="NAME",
              help="Build only what crm.yaml's audience NAME sees: its clients, sections and keys (docs/publishing.md).")
@click.option("--encrypt", is_flag=True,
              help="Encrypt every page and data file; the passphrase comes from PLAINTEXT_CRM_SITE_PASSWORD or "
                   "--password-file (docs/publishing.md). Calendar feeds are left out.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file whose first line is the passphrase of --encrypt.")
@click.option("--publish", "use_publish", is_flag=True,
              help="Build as crm.yaml's `publish:` says (its audience, and --encrypt when it sets encrypt: true): "
                   "what the generated CI workflows run.")
@click.option("--as-of", "as_of", metavar="DATE|REV",
              help="Build the site as the workspace stood on that day (its last commit on or before it) or at that "
                   "revision, that day counting as today; read from git, nothing is checked out.")
@click.option("--watch", is_flag=True,
              help="Keep running: rebuild the affected pages whenever a record, crm.yaml or a template is saved "
                   "(see docs/serve.md). Ctrl-C stops.")
def build(workspace: Path | None, out: Path | None, today: dt.date, no_cache: bool, jobs: int | None,
          quiet: bool, audience: str | None, encrypt: bool, password_file: Path | None, use_publish: bool,
          watch: bool, as_of: str | None) -> None:
    """Build the static site of WORKSPACE into OUT: dashboards, pipeline board, forecast, follow-ups,
    a page per deal and client, hand-offs, problems, data.json and calendar feeds.

    The site is written to a temporary folder beside OUT and swapped in when complete, so a failed
    build leaves the previous site as it was. OUT must be new, empty, or a site built before (it
    carries a .plaintext-crm-site marker listing its files); a folder holding anything else is refused.
    Broken records do not stop the build: they are listed on the Problems page. Exit status 0 when the
    site was built, 2 when it could not be.
    """
    from plaintext_crm.site.builder import build_site

    if hasattr(signal, "SIGXFSZ"):  # past a file size limit (`ulimit -f`) a write fails with EFBIG: a message
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    root = workspace_root(workspace)
    target = out if out is not None else root / "site"
    if use_publish:
        audience, encrypt = _publish_settings(root, audience, encrypt)
    if password_file is not None and not encrypt:
        raise click.UsageError("--password-file is the passphrase of --encrypt; add --encrypt")
    passphrase = None
    if encrypt:
        from plaintext_crm.site.encrypt import read_passphrase

        passphrase = read_passphrase(password_file)
    if watch and (audience is not None or encrypt):
        raise click.UsageError("--watch builds the whole site; build an audience's or an encrypted site without it")
    if as_of is not None and (watch or audience is not None):
        raise click.UsageError("--as-of builds the whole site of a past commit once; leave out --watch and --audience")
    if watch:
        from plaintext_crm.site.watch import today_source, watch_build

        watch_build(root, target, today_source(today), use_cache=not no_cache, jobs=jobs, quiet=quiet)
        return
    bar: Any = None
    show_bar = not quiet and sys.stderr.isatty()

    def on_plan(total: int) -> None:
        nonlocal bar
        if show_bar and total >= PROGRESS_MIN_PAGES:
            bar = click.progressbar(length=total, label="Building", file=sys.stderr, show_pos=True)
            bar.__enter__()

    def progress(count: int) -> None:
        if bar is not None:
            bar.update(count)

    gathered, commit = None, None
    if as_of is not None:
        gathered, commit, today = _gather_as_of(root, as_of, not no_cache, jobs)
    try:
        result = build_site(root, target, today, use_cache=not no_cache, jobs=jobs, progress=progress,
                            on_plan=on_plan, audience=audience, passphrase=passphrase, gathered=gathered,
                            as_of=commit)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not quiet:
        reused = f", {result.reused} unchanged" if result.reused else ""
        problems = (f"{result.findings} lint problems listed on problems.html" if audience is None
                    else f"{result.findings} lint problems shown to this audience")
        click.echo(f"Built {result.pages} pages ({result.rendered} written{reused}) into {terminal(_shown(result.out))} "
                   f"in {result.seconds:.2f} s; {problems}.")
        if commit is not None:
            click.echo(f"As of {today.isoformat()}: the workspace at commit {commit[:7]}.")
        if audience is not None:
            click.echo(f"Audience '{terminal(audience)}': only its clients, sections and keys are in the site.")
        if encrypt:
            click.echo("Encrypted: every page and data file opens only with the passphrase; calendar feeds (.ics) "
                       "are left out, since no calendar app can decrypt them.")


def _gather_as_of(root: Path, as_of: str, use_cache: bool, jobs: int | None) -> tuple[Any, str, dt.date]:
    """The site's data as of a day or revision, with rendered bodies; the commit read and its day."""
    from plaintext_crm.analysis import load_analysis_as_of
    from plaintext_crm.records.cache_store import cache_folder
    from plaintext_crm.site.bodies import render_bodies
    from plaintext_crm.site.pages import site_data_of

    analysis = load_analysis_as_of(root, as_of, use_cache=use_cache)
    site = site_data_of(analysis)
    site.bodies, _engine = render_bodies(site.workspace, cache_folder(root) if use_cache else None, jobs=jobs)
    commit = analysis.git.history().head
    assert commit is not None  # a snapshot is always read at a commit
    return site, commit, analysis.today


def _publish_settings(root: Path, audience: str | None, encrypt: bool) -> tuple[str | None, bool]:
    """The audience and encryption of crm.yaml's `publish:`, unless given on the command line."""
    from plaintext_crm.records.config import load_config

    config, findings = load_config(root)
    bad = [finding for finding in findings if finding.message.startswith(("publish:", "'publish'"))]
    if bad:
        raise ToolError(f"crm.yaml:{bad[0].line}: {bad[0].message}")
    if not config.publish.written:
        raise ToolError("--publish builds what crm.yaml's `publish:` says, and crm.yaml has none: add one, e.g. "
                        "`publish: {audience: leadership, encrypt: true}` (docs/publishing.md); nothing was built")
    return (audience if audience is not None else config.publish.audience), encrypt or config.publish.encrypt


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
