"""The lint pipeline: load (cached) -> lint context -> rules -> crm.yaml policy -> selection by code and path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.lint.registry import Example, LintContext, all_rules, apply_policy, run_rules
from plaintext_crm.records.model import Workspace


@dataclass(frozen=True)
class LintResult:
    """A linted workspace: every finding after crm.yaml's policy, sorted by path, line, column, code."""

    workspace: Workspace
    findings: list[Finding]
    context: LintContext | None = None  # what the rules derived (stage dates, schedule): reused by the site


def build_lint_context(workspace: Workspace, today: dt.date) -> LintContext:
    """The one place a LintContext is made: derived facts rules need (e.g. git history) are added here."""
    from plaintext_crm.history.record_history import read_stage_summary, say_once
    from plaintext_crm.history.stages import STAGE_CONFLICTS, lint_notices, stage_dates

    # git history says when each deal entered its stage (cached by HEAD: one small read when unchanged);
    # without git, D006 falls back to front matter stage_since.
    summary, notices = read_stage_summary(workspace.root)
    for notice in lint_notices(summary, notices, workspace, today):  # no git: once per workspace; else per run
        say_once(notice, workspace.root if summary is None else None)
    dates = stage_dates(summary, workspace, today)
    return LintContext(workspace, today, dates.since,
                       extra={STAGE_CONFLICTS: dates.conflicts})


def lint_workspace(workspace: Workspace, load_findings: Iterable[Finding], today: dt.date, *,
                   ctx: LintContext | None = None) -> list[Finding]:
    """Run every rule over a loaded workspace and apply crm.yaml severities and `lint_ignore`.

    Pass `ctx` (from build_lint_context) to keep what the rules derive, e.g. for compute_figures.
    """
    ctx = ctx if ctx is not None else build_lint_context(workspace, today)
    findings = [*load_findings, *run_rules(ctx)]
    return sorted(set(apply_policy(findings, ctx)), key=lambda finding: (*finding.sort_key(), finding.message))


def run_lint(root: Path, today: dt.date, *, use_cache: bool = True) -> LintResult:
    """Load the workspace at `root` (through the parse cache unless use_cache is False) and lint it."""
    from plaintext_crm.records.parse_cache import load_workspace_cached

    workspace, load_findings = load_workspace_cached(root, use_cache=use_cache)
    ctx = build_lint_context(workspace, today)
    return LintResult(workspace, lint_workspace(workspace, load_findings, today, ctx=ctx), ctx)


def matches(code: str, patterns: Sequence[str]) -> bool:
    """True when `code` equals or starts with one of the patterns (`D`, `D00`, `D004`)."""
    return any(code.startswith(pattern) for pattern in patterns)


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """The --select/--ignore patterns that match no registered rule code."""
    codes = all_rules()
    return [pattern for pattern in patterns if not any(code.startswith(pattern) for code in codes)]


def select_findings(findings: Iterable[Finding], *, select: Sequence[str] = (), ignore: Sequence[str] = ()
                    ) -> list[Finding]:
    """Keep findings whose code is selected (all when `select` is empty) and not ignored."""
    return [finding for finding in findings
            if (not select or matches(finding.code, select)) and not matches(finding.code, ignore)]


def exit_code(findings: Iterable[Finding], strict: bool) -> int:
    """0 when nothing fails, 1 when an error (or, with strict, a warning) is among the findings."""
    threshold = Severity.WARNING if strict else Severity.ERROR
    return 1 if any(finding.severity >= threshold for finding in findings) else 0


def lint_example(example: Example, which: str) -> list[Finding]:
    """Lint the 'bad' or 'fixed' side of a rule's Example in a throwaway workspace (no cache)."""
    import tempfile

    from plaintext_crm.history.stages import HistoryExample
    from plaintext_crm.records.loader import load_workspace

    with tempfile.TemporaryDirectory(prefix="plaintext-crm-example-") as folder:
        root = Path(folder)
        if isinstance(example, HistoryExample):
            example.commit_history(root)
        for rel, text in example.files(which).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        workspace, load_findings = load_workspace(root)
        return lint_workspace(workspace, load_findings, example.today)
