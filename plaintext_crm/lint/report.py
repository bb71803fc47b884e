"""Lint output: text lines (`path:line:col: CODE [severity] message`), a JSON document, GitHub workflow annotations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from plaintext_crm.escape import json_dumps, terminal, workflow_data, workflow_property
from plaintext_crm.findings import Finding, Severity

FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class Shown:
    """A finding with the path it is shown under (relative to the current folder)."""

    path: str
    finding: Finding


@dataclass(frozen=True)
class Summary:
    """Counts for the summary line and the JSON `summary` object."""

    errors: int
    warnings: int
    infos: int
    records: int  # records checked in the workspace(s)
    exit_code: int

    @classmethod
    def of(cls, shown: Sequence[Shown], records: int, exit_code: int) -> Summary:
        counts = Counter(item.finding.severity for item in shown)
        return cls(counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO], records, exit_code)

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.infos

    def line(self) -> str:
        """'3 errors, 11 warnings in 60 records checked.' or 'No problems in 60 records checked.'"""
        checked = f"{self.records} record{'s' if self.records != 1 else ''} checked"
        if not self.total:
            return f"No problems: {checked}."
        parts = [_plural(self.errors, "error"), _plural(self.warnings, "warning")]
        if self.infos:
            parts.append(_plural(self.infos, "info", "info"))
        return f"Found {', '.join(parts)} ({checked})."


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def sort_shown(shown: Sequence[Shown]) -> list[Shown]:
    """By shown path, line, column and code."""
    return sorted(shown, key=lambda item: (item.path, item.finding.line, item.finding.column, item.finding.code,
                                          item.finding.message))


def text_report(shown: Sequence[Shown], summary: Summary) -> str:
    """One `path:line:col: CODE [severity] message` line per finding, then the summary line.

    Paths and messages hold names and values from the workspace: their control and bidi characters
    are shown as escapes, so each finding is exactly one line and nothing reaches the terminal raw."""
    lines = [f"{terminal(item.path)}:{item.finding.line}:{item.finding.column}: {item.finding.code} "
             f"[{item.finding.severity.label}] {terminal(item.finding.message)}" for item in shown]
    lines.append(summary.line())
    return "\n".join(lines)


def json_report(shown: Sequence[Shown], summary: Summary) -> str:
    """{"findings": [{path, line, column, code, rule, severity, message}], "summary": {...}}.

    Paths and messages keep their exact text; hidden characters are written as \\u escapes."""
    document = {
        "findings": [{"path": item.path, "line": item.finding.line, "column": item.finding.column,
                      "code": item.finding.code, "rule": item.finding.rule,
                      "severity": item.finding.severity.label, "message": item.finding.message}
                     for item in shown],
        "summary": {"errors": summary.errors, "warnings": summary.warnings, "info": summary.infos,
                    "findings": summary.total, "records": summary.records, "exit_code": summary.exit_code},
    }
    return json_dumps(document)


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_report(shown: Sequence[Shown], summary: Summary) -> str:
    """GitHub Actions workflow commands (`::error file=...,line=...::message`), then the summary line.

    Values are escaped as GitHub reads workflow commands (`%`, CR, LF; in properties also `:` and `,`),
    after hidden characters are made visible: the log renders ANSI sequences too."""
    lines = [f"::{_GITHUB_LEVEL[item.finding.severity]} file={workflow_property(item.path)},"
             f"line={item.finding.line},col={item.finding.column},"
             f"title={workflow_property(f'{item.finding.code} {item.finding.rule}')}::"
             f"{workflow_data(item.finding.message)}" for item in shown]
    lines.append(summary.line())
    return "\n".join(lines)


def render(output_format: str, shown: Sequence[Shown], summary: Summary) -> str:
    """The report in one of FORMATS."""
    return {"text": text_report, "json": json_report, "github": github_report}[output_format](shown, summary)
