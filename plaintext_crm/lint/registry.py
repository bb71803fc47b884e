"""The lint rule registry: every rule's code, name, default severity and documentation, and running them.

Rule families live in their own modules (deals.py, references.py, ...); each registers its rule
functions with @rule. Findings produced while loading (F001, F002, C001) are registered here without
a check function so that `plaintext-crm rules` and docs/rules.md list them too.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from plaintext_crm.errors import ToolError
from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.records.model import Workspace

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

# The rule family modules; all_rules() imports them so their @rule functions register.
RULE_MODULES: tuple[str, ...] = (
    "plaintext_crm.lint.rules.files",
    "plaintext_crm.lint.rules.settings",
    "plaintext_crm.lint.rules.deals",
    "plaintext_crm.lint.rules.references",
    "plaintext_crm.lint.rules.delivery",
    "plaintext_crm.lint.rules.names",
    "plaintext_crm.lint.rules.transitions",
)


Check = Callable[["Rule", "Analysis"], Iterable[Finding]]

EXAMPLE_TODAY = dt.date(2026, 11, 26)

# Every example runs in this small workspace, its own files added on top (a crm.yaml of its own replaces it).
EXAMPLE_BASE: dict[str, str] = {
    "crm.yaml": """\
name: Example Studio
team:
  ana: {name: Ana Ruiz}
  ben: {name: Ben Okafor}
  tom: {name: Tom Becker, active: false}
pipeline:
  - {stage: lead, probability: 0.1, rot_days: 21}
  - {stage: qualified, probability: 0.25, rot_days: 21}
  - {stage: proposal, probability: 0.5, rot_days: 14}
  - {stage: negotiation, probability: 0.75, rot_days: 14}
  - {stage: won, probability: 1.0, closed: won}
  - {stage: lost, probability: 0.0, closed: lost}
lost_reasons: [price, timing, competitor]
""",
    "clients/acme.md": "---\nname: Acme Corp\nowner: ana\n---\n",
}


@dataclass(frozen=True)
class Example:
    """A rule's documented example: workspace files that violate it and the same files fixed.

    `bad` and `fixed` map workspace-relative paths to file text (dedented when used), written over
    EXAMPLE_BASE. Linting `bad` must give findings of this rule's code only, and
    linting `fixed` no finding at all (checked by tests/test_rules_examples.py).
    """

    bad: Mapping[str, str]
    fixed: Mapping[str, str]
    title: str = ""
    today: dt.date = EXAMPLE_TODAY

    def files(self, which: str) -> dict[str, str]:
        """The whole workspace of the 'bad' or 'fixed' side: EXAMPLE_BASE with this example's files on top."""
        own = self.bad if which == "bad" else self.fixed
        return {**EXAMPLE_BASE, **{path: textwrap.dedent(text) for path, text in own.items()}}


@dataclass(frozen=True)
class HistoryExample(Example):
    """A rule example that needs git history: `history` is committed, oldest first, before the example's
    files are written over it (lint_example). Each commit: (ISO author and committer date, files)."""

    history: tuple[tuple[str, Mapping[str, str]], ...] = ()
    base: bool = False  # lint against HEAD as the base revision, as the pre-commit hook does (transition rules)

    def commit_history(self, root: Path) -> None:
        """Make `root` a repository holding `history`, one commit per entry."""
        import subprocess
        import textwrap

        from plaintext_crm.errors import ToolError

        base = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        base.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="Ana Ruiz",
                    GIT_AUTHOR_EMAIL="ana@example.com", GIT_COMMITTER_NAME="Ana Ruiz",
                    GIT_COMMITTER_EMAIL="ana@example.com", GIT_TERMINAL_PROMPT="0")

        def git(*args: str, when: str = "") -> None:
            env = {**base, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else base
            try:
                subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                raise ToolError(f"cannot make the git history of a rule example ({exc}); it needs git") from None

        git("init", "-q")
        for when, files in self.history:
            for rel, text in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")
            git("add", "--", *files)
            git("commit", "-q", "--no-verify", "-m", f"example: {', '.join(files)}", when=when)


@dataclass(frozen=True)
class Rule:
    """A registered lint rule; its docstring is its documentation."""

    code: str
    name: str
    severity: Severity
    summary: str
    check: Check | None = None  # None: the loader produces these findings
    examples: tuple[Example, ...] = ()
    doc: str = ""  # longer documentation; the check function's docstring by default

    def finding(self, where: Location, message: str, column: int = 1) -> Finding:
        """A finding of this rule at `where`, with the rule's default severity."""
        return Finding(where.path, where.line, column, self.code, self.name, self.severity, message)


REGISTRY: dict[str, Rule] = {}


def register(code: str, name: str, severity: Severity, summary: str, check: Check | None = None,
             examples: Iterable[Example] = (), doc: str = "") -> Rule:
    """Add a rule to the registry; a code may be registered once."""
    if code in REGISTRY:
        raise RuntimeError(f"rule {code} registered twice")
    text = doc or (inspect.getdoc(check) if check is not None else None) or ""
    registered = Rule(code, name, severity, summary, check, tuple(examples), text)
    REGISTRY[code] = registered
    return registered


def rule(code: str, name: str, severity: Severity, summary: str,
         examples: Iterable[Example] = ()) -> Callable[[Check], Check]:
    """Decorator registering a check function `(rule, ctx) -> findings` under a code and name.

    The function's docstring documents the rule in docs/rules.md, after the summary.
    """

    def decorate(check: Check) -> Check:
        register(code, name, severity, summary, check, examples)
        return check

    return decorate


def add_examples(code: str, *examples: Example, doc: str = "") -> None:
    """Attach examples (and documentation) to an already registered rule, e.g. a loader-produced one."""
    registered = REGISTRY[code]
    REGISTRY[code] = replace(registered, examples=registered.examples + examples, doc=doc or registered.doc)


register("F001", "invalid-front-matter", Severity.ERROR,
         "A record file has missing, unparsable or non-mapping front matter, or cannot be read as UTF-8.")
register("F002", "invalid-value", Severity.ERROR,
         "A value has the wrong type: a date that is not a date, a number that is not a number, "
         "a status outside its set, a probability outside 0..1.")
register("C001", "invalid-config", Severity.ERROR, "A crm.yaml setting is invalid; its default is used instead.")


def all_rules() -> dict[str, Rule]:
    """Every registered rule by code, importing the rule family modules first."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(sorted(REGISTRY.items()))


def run_rules(analysis: Analysis) -> list[Finding]:
    """Run every registered check over an analysed workspace."""
    findings: list[Finding] = []
    for registered in all_rules().values():
        if registered.check is not None:
            try:
                findings.extend(registered.check(registered, analysis))
            except Exception as exc:  # a bug in a rule is a tool failure: say which rule, no traceback
                raise ToolError(f"rule {registered.code} {registered.name} failed: {type(exc).__name__}: {exc} "
                                "(a bug in plaintext-crm; please report it)") from exc
    return findings


def apply_policy(findings: Iterable[Finding], workspace: Workspace) -> Iterator[Finding]:
    """Apply crm.yaml severity overrides ('off' drops a rule) and each record's `lint_ignore`."""
    overrides = workspace.config.rule_severity
    ignored_by_path = {record.path: record.lint_ignore for record in workspace.records() if record.lint_ignore}
    for finding in findings:
        if any(finding.code.startswith(prefix) for prefix in ignored_by_path.get(finding.path, ())):
            continue
        if finding.code in overrides:
            severity = overrides[finding.code]
            if severity is None:
                continue
            finding = Finding(finding.path, finding.line, finding.column, finding.code, finding.rule, severity,
                              finding.message)
        yield finding
