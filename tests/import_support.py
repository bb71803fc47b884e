"""Shared helpers of the import and export tests: the sample exports, a workspace for them, the CLI in-process."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner, Result

from plaintext_crm.cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
TODAY = "2026-11-26"
IMPORT_CONFIG = """\
name: Test Studio
currency: EUR
exchange_rates: {USD: 0.92}
team:
  ana: {name: Ana Ruiz, email: ana@studio.example}
  ben: {name: Ben Ortiz}
lost_reasons: [price, timing, competitor]
"""


def run(*args: str, today: str = TODAY) -> Result:
    """The CLI in this process, with the tests' fixed today."""
    return CliRunner().invoke(cli, [*args, "--today", today], catch_exceptions=False)


def hubspot_args(root: Path, *extra: str) -> list[str]:
    files = FIXTURES / "hubspot"
    return ["import", "hubspot", str(root), "--deals", str(files / "deals.csv"), "--companies",
            str(files / "companies.csv"), "--contacts", str(files / "contacts.csv"), *extra]


def pipedrive_args(root: Path, *extra: str) -> list[str]:
    files = FIXTURES / "pipedrive"
    return ["import", "pipedrive", str(root), "--deals", str(files / "deals.csv"), "--organizations",
            str(files / "organizations.csv"), "--persons", str(files / "persons.csv"), "--notes",
            str(files / "notes.csv"), *extra]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (git's own folder aside) and the hash of its bytes."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and ".git" not in path.relative_to(root).parts}


def fill_mapping(root: Path, replacements: dict[str, str]) -> None:
    """Edit the proposed import-mapping.yaml as a user would: `old line` -> `new line`."""
    path = root / "import-mapping.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
