"""Findings: problems in user data, as values that carry their file and line."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """How serious a finding is; errors fail `lint`, warnings fail it only with --strict."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value came from: a workspace-relative path ('/' separators) and a 1-based line."""

    path: str
    line: int = 1


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem found in the workspace."""

    path: str  # relative to the workspace root, "/" separators
    line: int  # 1-based; the offending key's line, else the file's first line
    column: int
    code: str  # "D004"
    rule: str  # "handoff-required"
    severity: Severity
    message: str

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)
