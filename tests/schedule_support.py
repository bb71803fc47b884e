"""Shared by the schedule and delivery tests: a test crm.yaml with holidays and a project file from task mappings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

D = dt.date

CONFIG = """\
name: Test Studio
team:
  ana: {name: Ana Ruiz}
holidays: [2026-12-24, 2026-12-25, 2026-12-31, 2027-01-01]
"""


def project(tasks: list[dict[str, Any]], **fields: Any) -> str:
    """A projects/*.md text from task mappings; fields default to an active project starting Mon 2026-12-07."""
    data = {"title": "P", "client": "acme", "owner": "ana", "status": "active", "start": D(2026, 12, 7),
            **fields, "tasks": tasks}
    data = {key: value for key, value in data.items() if value is not None}
    return "---\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=None) + "---\nNotes.\n"
