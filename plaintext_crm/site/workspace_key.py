"""What the whole-workspace pages read, as one digest: every record without its Markdown notes, and the findings.

A rebuild reuses a page marked `Page.records_only` (board, lists, follow-ups, forecast, problems, ...)
when this digest and the build's global key (tool version, today, crm.yaml, templates, git HEAD) are
unchanged: such a page is a function of the records, the findings and the figures derived from them.
The notes of deals and clients (the body, and the text under each dated heading) are left out because
they appear only on their own page, their client's timeline and data.json (all rendered when the file
changes); a project's notes stay in, since its kickoff checklist feeds its status.

Hashing every record costs ~0.3 s on 10,000 deals, so each record's digest is stored beside its file's
signature (size and mtime) in the site manifest and reused while the file is unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Callable, Iterable, Mapping

from plaintext_crm.findings import Finding
from plaintext_crm.records.model import Client, Deal, Record, Workspace

# Kinds whose Markdown body no whole-workspace page or figure reads (see the module docstring).
BODY_ONLY_ON_OWN_PAGE: tuple[type, ...] = (Client, Deal)

RecordDigests = dict[str, tuple[str, str]]  # record path -> (file signature, digest of the record)

_FIELDS: dict[type, tuple[str, ...]] = {}


def _digested_fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(field.name for field in dataclasses.fields(kind)
                      if not (field.name in ("body", "history") and issubclass(kind, BODY_ONLY_ON_OWN_PAGE)))
        _FIELDS[kind] = names
    return names


def record_digest(record: Record) -> str:
    """A digest of everything loaded from a record file that whole-workspace pages can read."""
    values: tuple[object, ...] = tuple([getattr(record, name) for name in _digested_fields(type(record))])
    if isinstance(record, BODY_ONLY_ON_OWN_PAGE):  # dated headings without the text under them
        values += tuple((entry.date, entry.title, entry.line) for entry in record.history)
    return hashlib.blake2b(pickle.dumps(values, protocol=5), digest_size=16).hexdigest()


def record_digests(workspace: Workspace, known: Mapping[str, object], signature: Callable[[str], str]
                   ) -> RecordDigests:
    """Every record's (signature, digest); a record whose file signature is the one in `known` keeps its digest."""
    digests: RecordDigests = {}
    for record in workspace.records():
        current = signature(record.path)
        previous = known.get(record.path)
        if (isinstance(previous, list | tuple) and len(previous) == 2 and previous[0] == current
                and isinstance(previous[1], str)):
            digests[record.path] = (current, previous[1])
        else:
            digests[record.path] = (current, record_digest(record))
    return digests


def workspace_key(digests: Mapping[str, tuple[str, str]], files: Iterable[str], findings: Iterable[Finding]) -> str:
    """One digest of all records (as `record_digests` gives them), the record files and every finding."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(digests):
        digest.update(f"{path}:{digests[path][1]}\n".encode("utf-8", "surrogateescape"))
    digest.update("\n".join(files).encode("utf-8", "surrogateescape"))
    for f in findings:
        digest.update(f"\n{f.path}:{f.line}:{f.column}:{f.code}:{f.severity.label}:{f.rule}:{f.message}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
