"""Running the linter: load (cached) -> analysis (rules, crm.yaml policy) -> selection by code and path, exit code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm.analysis import Analysis, analyze, load_analysis
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.lint.registry import Example, HistoryExample, all_rules
from plaintext_crm.records.model import Workspace


@dataclass(frozen=True)
class LintResult:
    """A linted workspace: its analysis, and every finding after crm.yaml's policy (sorted)."""

    analysis: Analysis

    @property
    def workspace(self) -> Workspace:
        return self.analysis.workspace

    @property
    def findings(self) -> list[Finding]:
        return list(self.analysis.findings)


def say_history_notices(analysis: Analysis) -> None:
    """Print what the run should know about git history on stderr (once per process; a notice about a
    lasting state, such as no repository, once per workspace)."""
    from plaintext_crm.history.notices import say_once

    summary, _notices = analysis.git.stage_summary()
    for notice in analysis.history_notices:
        say_once(notice, analysis.workspace.root if summary is None else None)


def lint_workspace(workspace: Workspace, load_findings: Iterable[Finding], today: dt.date,
                   base: Workspace | None = None) -> list[Finding]:
    """Every finding of a loaded workspace (`analyze(...).findings`), its git history read from its root;
    with `base`, the transition rules compare with that workspace."""
    return list(analyze(workspace, today, load_findings=load_findings, base=base).findings)


def run_lint(root: Path, today: dt.date, *, use_cache: bool = True) -> LintResult:
    """Load the workspace at `root` (through the parse cache unless use_cache is False), analyse and lint it."""
    analysis = load_analysis(root, today, use_cache=use_cache)
    say_history_notices(analysis)
    return LintResult(analysis)


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

    from plaintext_crm.records.loader import load_workspace

    with tempfile.TemporaryDirectory(prefix="plaintext-crm-example-") as folder:
        root = Path(folder)
        if isinstance(example, HistoryExample):
            example.commit_history(root)
        for rel, text in example.files(which).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        workspace, load_findings = load_workspace(root)
        base = None
        if isinstance(example, HistoryExample) and example.base:
            from plaintext_crm.history.as_of import resolve_revision, workspace_at_commit

            base = workspace_at_commit(root, resolve_revision(root, "HEAD"), use_cache=False)[0]
        return lint_workspace(workspace, load_findings, example.today, base)
