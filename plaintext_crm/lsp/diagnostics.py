"""Lint findings as LSP diagnostics: the range of the key or value a finding is about, severity, rule link."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.lsp.text import line_parts

# docs/rules.md of the project; each rule is a heading "## D001 owner-required" (anchor d001-owner-required).
RULES_URL = "https://github.com/plaintext-crm/plaintext-crm/blob/main/docs/rules.md"
_CHECKOUT_RULES = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
SOURCE = "plaintext-crm"

SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
              Severity.INFO: types.DiagnosticSeverity.Information}

# Findings about a key itself (its name), not about the value written; an empty value points at its key too.
KEY_CODES = frozenset({"K001"})


def default_rules_url() -> str:
    """docs/rules.md of the source checkout the server runs from (an editable install), else the project's."""
    return _CHECKOUT_RULES.as_uri() if _CHECKOUT_RULES.is_file() else RULES_URL


def rule_link(finding: Finding, rules_url: str = RULES_URL) -> str:
    """The address of a finding's rule in docs/rules.md."""
    return f"{rules_url}#{finding.code.lower()}-{finding.rule}"


def finding_span(lines: list[str], finding: Finding) -> tuple[int, int, int]:
    """(0-based line, start column, end column) of what a finding points at: the value written on its line
    (the key for key problems and for empty values), the whole `---` for a key that is missing."""
    index = max(finding.line - 1, 0)
    if index >= len(lines):
        return (max(len(lines) - 1, 0), 0, 0)
    text = lines[index]
    if finding.column > 1:
        start = min(finding.column - 1, len(text))
        return index, start, len(text)
    parts = line_parts(text)
    if parts.key_span is not None and (finding.code in KEY_CODES or parts.value_span is None):
        return (index, *parts.key_span)
    if parts.value_span is not None:
        return (index, *parts.value_span)
    stripped = text.strip()
    begin = text.find(stripped) if stripped else 0
    return index, begin, begin + len(stripped)


def to_diagnostic(lines: list[str], finding: Finding, rules_url: str = RULES_URL) -> types.Diagnostic:
    """One finding as a diagnostic over code points (the server converts to the client's units)."""
    line, start, end = finding_span(lines, finding)
    return types.Diagnostic(
        range=types.Range(types.Position(line, start), types.Position(line, end)),
        message=finding.message,
        severity=SEVERITIES[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=rule_link(finding, rules_url)),
        source=SOURCE,
        data={"rule": finding.rule},
    )
