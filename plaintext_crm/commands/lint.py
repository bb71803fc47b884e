"""`plaintext-crm lint [PATH]...`: lint whole workspaces, report findings in the named files."""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import click

from plaintext_crm.errors import ToolError
from plaintext_crm.escape import terminal
from plaintext_crm.findings import Finding
from plaintext_crm.lint.report import FORMATS, Shown, Summary, render, sort_shown
from plaintext_crm.options import today_option
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.frontmatter import HAVE_LIBYAML
from plaintext_crm.records.loader import find_workspace, workspace_root
from plaintext_crm.records.model import KINDS, Workspace


@dataclass
class Target:
    """One workspace to lint and which of its findings to show."""

    root: Path
    everything: bool = False
    files: set[str] = field(default_factory=set)  # workspace-relative paths
    folders: list[str] = field(default_factory=list)  # workspace-relative folder prefixes ("deals/")

    def shows(self, finding: Finding) -> bool:
        return (self.everything or finding.path in self.files
                or any(finding.path.startswith(prefix) for prefix in self.folders))


def _is_workspace_folder(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() or any((folder / kind).is_dir() for kind in KINDS)


def _root_of(path: Path) -> Path:
    """The workspace holding a file or folder: the nearest folder above with crm.yaml, or a folder
    holding clients/, deals/ or projects/ for a workspace without crm.yaml."""
    start = path if path.is_dir() else path.parent
    try:
        return find_workspace(start)
    except ToolError:
        for folder in (start, *start.parents):
            if _is_workspace_folder(folder):
                return folder.resolve()
        raise ToolError(f"no workspace at {path}: neither it nor any folder above it holds {CONFIG_FILE} "
                        "or a clients/, deals/ or projects/ folder") from None


def resolve_targets(paths: tuple[Path, ...]) -> list[Target]:
    """Group the PATH arguments by workspace; no PATH means the workspace around the current folder."""
    if not paths:
        return [Target(workspace_root(None), everything=True)]
    targets: dict[Path, Target] = {}
    for path in paths:
        if not os.path.lexists(path):  # a link that loops or dangles is linted: it gets its own finding
            raise ToolError(f"no such file or folder: {path}")
        if path.is_dir() and _is_workspace_folder(path):
            root = workspace_root(path)
            targets.setdefault(root, Target(root)).everything = True
            continue
        root = _root_of(path)
        target = targets.setdefault(root, Target(root))
        # A file's own name is kept: a link named like a record is reported under its name, wherever it leads.
        real = path.resolve() if path.is_dir() else Path(os.path.realpath(path.parent)) / path.name
        rel = real.relative_to(root).as_posix()
        if path.is_dir():
            target.folders.append(rel.rstrip("/") + "/")
        else:
            target.files.add(rel)
    return list(targets.values())


def resolve_staged_targets(paths: tuple[Path, ...]) -> list[Target]:
    """The workspaces for --staged: PATHs need not exist on disk (a file deleted there may be staged); a
    file outside any workspace is passed over (hooks pass every matching file). Without PATH, the
    workspace around the current folder, else every workspace whose crm.yaml the repository's index holds."""
    from plaintext_crm.lint.staged import workspaces_in_index

    if not paths:
        try:
            return [Target(workspace_root(None))]
        except ToolError:
            roots = workspaces_in_index(Path.cwd())
            if not roots:
                raise
            return [Target(root) for root in roots]
    targets: dict[Path, Target] = {}
    for path in paths:
        if path.is_dir() and _is_workspace_folder(path):
            root = workspace_root(path)
            targets.setdefault(root, Target(root))
            continue
        existing = next(folder for folder in (path, *path.parents) if folder.exists() or folder == Path())
        try:
            root = _root_of(existing)
        except ToolError:
            continue
        target = targets.setdefault(root, Target(root))
        rel = Path(os.path.normpath(Path.cwd() / path)).relative_to(root).as_posix()
        if path.is_dir():
            target.folders.append(rel.rstrip("/") + "/")
        else:
            target.files.add(rel)
    if not targets:
        raise ToolError(f"no workspace around {', '.join(map(str, paths))}")
    return list(targets.values())


def _shown_prefix(root: Path, cwd: Path) -> str:
    """What to put before a workspace-relative path to make it relative to the current folder."""
    prefix = Path(os.path.relpath(root, cwd)).as_posix()
    return "" if prefix == "." else prefix + "/"


def _codes(values: tuple[str, ...], option: str) -> list[str]:
    """--select/--ignore values: repeated or comma-separated codes or prefixes, checked against the rules."""
    from plaintext_crm.lint.run import unknown_patterns

    codes = [code.strip().upper() for value in values for code in value.split(",") if code.strip()]
    unknown = unknown_patterns(codes)
    if unknown:
        raise click.BadParameter(f"no rule code starts with {', '.join(unknown)} (see `plaintext-crm rules`)",
                                 param_hint=option)
    return codes


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
@today_option
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rule codes or prefixes (D, D00, D004); comma-separated or repeated.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Leave out these rule codes or prefixes.")
@click.option("--staged", is_flag=True,
              help="Check what `git commit` would record (the index, not the working tree): the findings in "
                   "the staged files and in the named files, and the errors the staged changes cause in "
                   "other files. What the hooks run.")
@click.option("--base", metavar="REV|DATE",
              help="Also check how deals changed since this revision (a pull request's base): the transition "
                   "rules T001-T004. --staged compares with HEAD.")
@click.option("--as-of", "as_of", metavar="DATE|REV",
              help="Lint the workspace as committed on that day (or at that revision), that day counting as today.")
@click.option("--no-cache", is_flag=True, help="Parse every file; neither read nor write the parse cache.")
@click.option("--verbose", "-v", is_flag=True, help="Say on stderr how many files were parsed or reused.")
def lint(paths: tuple[Path, ...], output_format: str, today: dt.date, strict: bool, select: tuple[str, ...],
         ignore: tuple[str, ...], staged: bool, base: str | None, as_of: str | None, no_cache: bool,
         verbose: bool) -> None:
    """Check deals, clients, projects and crm.yaml; report problems as `path:line:col: CODE message`.

    Each PATH is a workspace folder or files inside one; without PATH, the workspace around the
    current folder. The whole workspace is always checked (references need it), but with files named
    only their findings are shown: what a pre-commit hook needs.

    With --staged, the files as staged are checked (untracked files and unstaged edits left out), and
    the findings shown are those in the files the commit adds or changes, in the named files, and the
    errors the commit brings to other files (a deal whose client it deletes).

    With --base REV (and always with --staged, against HEAD), the transition rules check how each deal
    changed since then: a reopened deal's reason, skipped stages, a won deal's value, closed_on.

    Exit status: 0 no errors, 1 errors found (or warnings with --strict), 2 usage error or no workspace.
    """
    from plaintext_crm.lint.run import exit_code

    selected, ignored = _codes(select, "--select"), _codes(ignore, "--ignore")
    if not HAVE_LIBYAML:
        click.echo("warning: PyYAML runs without libyaml, so parsing is about 7 times slower; "
                   "install libyaml and reinstall PyYAML", err=True)
    if as_of is not None and staged:
        raise click.UsageError("--as-of lints a past commit; --staged the commit being made: use one of them")
    cwd = Path.cwd()
    options = _Run(today, strict, selected, ignored, not no_cache, verbose, base, as_of)
    shown: list[Shown] = []
    records = 0
    for target in (resolve_staged_targets(paths) if staged else resolve_targets(paths)):
        findings, checked = _lint_staged(target, options) if staged else _lint_target(target, options)
        records += checked
        prefix = _shown_prefix(target.root, cwd)
        shown.extend(Shown(prefix + finding.path, finding) for finding in findings)
    shown = sort_shown(shown)
    code = exit_code((item.finding for item in shown), strict)
    click.echo(render(output_format, shown, Summary.of(shown, records, code)))
    sys.exit(code)


@dataclass(frozen=True)
class _Run:
    """The options every workspace of one run is linted with."""

    today: dt.date
    strict: bool
    select: list[str]
    ignore: list[str]
    use_cache: bool
    verbose: bool
    base: str | None = None  # the base revision of the transition rules
    as_of: str | None = None  # lint the workspace as it stood then
    base_only: frozenset[str] | None = None  # read only these records of the base (those a commit changes)


def _base_workspace(root: Path, revision: str | None, use_cache: bool,
                    only: frozenset[str] | None = None) -> Workspace | None:
    """The workspace at the base revision (None without one; HEAD's is None before the first commit)."""
    if revision is None:
        return None
    from plaintext_crm.gitrepo import locate_repository, resolve_head
    from plaintext_crm.history.as_of import resolve_revision, workspace_at_commit

    repo = locate_repository(root)
    if repo is None:
        raise ToolError(f"--base compares with a git revision, but {root} is not inside a git repository")
    if revision == "HEAD" and resolve_head(repo, root) is None:
        return None  # the first commit: nothing to compare with
    return workspace_at_commit(root, resolve_revision(root, revision), use_cache=use_cache, only=only)[0]


def _load(root: Path, options: _Run, *, home: Path | None = None) -> tuple[Workspace, list[Finding]]:
    """Load the workspace at `root` and lint it. `home`: where the workspace really lives, for a snapshot
    written elsewhere: its record cache and git history are read there, and the workspace keeps that root."""
    from plaintext_crm.analysis import analyze
    from plaintext_crm.lint.run import say_history_notices, select_findings
    from plaintext_crm.records.loader import load_workspace
    from plaintext_crm.records.parse_cache import RecordCache, load_workspace_with_stats

    if options.as_of is not None:
        from plaintext_crm.analysis import load_analysis_as_of

        past = load_analysis_as_of(root, options.as_of, use_cache=options.use_cache)
        if options.base is not None:
            past = analyze(past.workspace, past.today, past.git, past.load_findings,
                           base=_base_workspace(root, options.base, options.use_cache))
        say_history_notices(past)
        return past.workspace, select_findings(past.findings, select=options.select, ignore=options.ignore)
    if home is None:
        workspace, load_findings, stats = load_workspace_with_stats(root, use_cache=options.use_cache)
    else:
        # The snapshot's files that the working tree also holds carry its mtimes: the cache serves them.
        cache = RecordCache(home, enabled=options.use_cache)
        gc.disable()  # as load_workspace_with_stats does: loading frees nothing for the collector to find
        try:
            workspace, load_findings = load_workspace(root, load_files=cache.load)
        finally:
            gc.enable()
        stats = cache.stats
    # The records live until the process ends: keep the cyclic GC from walking them again and again.
    gc.freeze()
    for problem in stats.problems:
        click.echo(f"warning: {terminal(problem)}", err=True)
    if options.verbose:
        click.echo(f"{terminal(str(home or root))}: {stats.reused} files from the cache, {stats.parsed} parsed "
                   f"({stats.workers} process{'es' if stats.workers > 1 else ''})", err=True)
    if home is not None:
        workspace = replace(workspace, root=home)
    analysis = analyze(workspace, options.today, load_findings=load_findings,
                       base=_base_workspace(home or root, options.base, options.use_cache, options.base_only))
    say_history_notices(analysis)
    findings = select_findings(analysis.findings, select=options.select, ignore=options.ignore)
    return workspace, findings


def _lint_target(target: Target, options: _Run) -> tuple[list[Finding], int]:
    """The findings to show of one workspace's working tree, and its record count."""
    workspace, findings = _load(target.root, options)
    return [finding for finding in findings if target.shows(finding)], len(workspace.files)


def _lint_staged(target: Target, options: _Run) -> tuple[list[Finding], int]:
    """The findings to show of what the commit records of one workspace, and its record count."""
    from plaintext_crm.lint.run import exit_code
    from plaintext_crm.lint.staged import read_staged, snapshot_folder

    state = read_staged(target.root)
    if not state.touched and not target.files and not target.folders:
        return [], 0  # the commit leaves this workspace as it is
    if options.base is None:  # the transition rules judge the commit: its changed deals against HEAD's
        options = replace(options, base="HEAD", base_only=frozenset(state.changed))
    if state.in_place:
        workspace, findings = _load(target.root, options)
    else:
        with snapshot_folder(state) as (folder, written):
            if options.verbose:
                click.echo(f"{terminal(str(target.root))}: the working tree differs from the index; linting the {written} "
                           "staged files in a temporary folder", err=True)
            workspace, findings = _load(folder, options, home=target.root)
    shown = [finding for finding in findings if target.shows(finding) or finding.path in state.changed]
    # Errors in files the commit leaves alone are its doing only when HEAD does not have them (for
    # instance a deal whose client the commit deletes): compare with a lint of HEAD, which costs a second
    # lint, so only when there are such errors.
    others = [finding for finding in findings
              if finding not in shown and exit_code([finding], options.strict)]
    if others:
        with snapshot_folder(state, head=True) as (folder, _written):
            _head, before = _load(folder, options, home=target.root)
        known = {_identity(finding) for finding in before}
        shown.extend(finding for finding in others if _identity(finding) not in known)
    return shown, len(workspace.files)


def _identity(finding: Finding) -> tuple[object, ...]:
    return (finding.path, finding.line, finding.column, finding.code, finding.severity, finding.message)
