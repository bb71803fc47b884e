"""A digest as JSON data: `digest --format json` and the generic webhook's payload."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plaintext_crm.escape import json_dumps
from plaintext_crm.notify.digest import Digest


def digest_data(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-able data: owner, date, and each section's items with their links."""
    return {
        "workspace": digest.workspace,
        "date": digest.today.isoformat(),
        "owner": {"id": digest.owner, "name": digest.name, "email": digest.email, "active": digest.active,
                  "member": digest.member},
        "sections": [{"key": section.key, "title": section.title, "items": [
            {"kind": item.kind, "id": item.record_id, "path": item.path, "title": item.title,
             "detail": item.detail, "date": item.date.isoformat() if item.date else None,
             "page": item.page, "url": item.url}
            for item in section.items]} for section in digest.sections],
    }


def render_json(digests: Iterable[Digest]) -> str:
    """`{"digests": [...]}` with the digests that hold something."""
    return json_dumps({"digests": [digest_data(digest) for digest in digests if not digest.empty]}) + "\n"
