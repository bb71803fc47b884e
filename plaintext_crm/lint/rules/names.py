"""File-name rules: a record's file name is its id, so it must be safe to print, link, sync and type (N001, N002)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from plaintext_crm.escape import is_hidden, visible
from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.lint.registry import Example, Rule, rule
from plaintext_crm.lint.rules.deals import OPEN_DEAL

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]*")  # a whole id no rule objects to (but reserved names)
_WINDOWS_FORBIDDEN = frozenset('<>:"\\|?*')
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)),
                               *(f"lpt{n}" for n in range(10))})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_LENGTH = 60
SHOWN_CHARACTERS = 5


def _listed(chars: list[str]) -> str:
    """' (\\r, \\n)': the distinct characters in order, hidden ones as escapes, at most a few."""
    distinct = list(dict.fromkeys(chars))
    shown = [visible(char) if is_hidden(char) else char for char in distinct[:SHOWN_CHARACTERS]]
    return f" ({', '.join(shown)}{', ...' if len(distinct) > SHOWN_CHARACTERS else ''})"


def name_problems(record_id: str) -> tuple[list[str], list[str]]:
    """Why a record id is unsafe (N001) and why it is not a plain id (N002), as short phrases."""
    controls, undecodable, invisible, spaces, forbidden, other = [], [], [], [], [], []
    for char in record_id:
        if _PLAIN_ID.match(char):
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            controls.append(char)
        elif category == "Cs":
            undecodable.append(char)
        elif category in ("Cf", "Zl", "Zp"):
            invisible.append(char)
        elif char.isspace() or category == "Zs":
            spaces.append(char)
        elif char in _WINDOWS_FORBIDDEN:
            forbidden.append(char)
        else:
            other.append(char)
    unsafe = []
    if controls:
        unsafe.append("control characters" + _listed(controls))
    if undecodable:
        unsafe.append("bytes that are not UTF-8" + _listed(undecodable))
    if invisible:
        unsafe.append("invisible or bidi control characters" + _listed(invisible))
    if spaces:
        unsafe.append("whitespace")
    if forbidden:
        unsafe.append("characters not allowed in file names on Windows" + _listed(forbidden))
    if record_id.split(".")[0].lower() in _WINDOWS_RESERVED:
        unsafe.append("a name Windows reserves for a device")
    odd = []
    if other:
        odd.append("characters other than ASCII letters, digits, '.', '_' and '-'" + _listed(other))
    if record_id.startswith("-"):
        odd.append("starts with '-' (reads as an option on a command line)")
    return unsafe, odd


def suggested_id(record_id: str, kind: str, taken: set[str]) -> str:
    """A lowercase kebab-case id made from `record_id` (accents dropped), not one of `taken` (lowercased)."""
    # Control characters separate words (x@y\r\nEND); invisible ones join them (zero\u200bwidth).
    text = "".join(" " if unicodedata.category(char) == "Cc" else "" if is_hidden(char) else char
                   for char in record_id)
    text = "".join(char for char in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(char))
    slug = _NOT_SLUG.sub("-", text).strip("-")
    if len(slug) > SLUG_LENGTH:
        slug = slug[:SLUG_LENGTH].rsplit("-", 1)[0] or slug[:SLUG_LENGTH]
    if not slug:  # nothing Latin to keep (東京): a short stable name from the bytes
        digest = hashlib.sha1(record_id.encode("utf-8", "surrogateescape")).hexdigest()[:6]
        slug = f"{kind.rstrip('s')}-{digest}"
    candidate, counter = slug, 2
    while candidate in taken:
        candidate, counter = f"{slug}-{counter}", counter + 1
    return candidate


def _checked_names(analysis: Analysis) -> Iterator[tuple[str, str, list[str], list[str], set[str]]]:
    """(path, kind, N001 reasons, N002 reasons, the kind's ids lowercased) of each file with a problem."""
    ids: dict[str, set[str]] = {}
    for path in analysis.workspace.files:
        kind, _, name = path.partition("/")
        record_id = name[:-3]
        if _PLAIN_NAME.fullmatch(record_id) and record_id.split(".")[0].lower() not in _WINDOWS_RESERVED:
            continue
        if not ids:  # the taken ids, gathered only once a name needs a suggestion
            for other in analysis.workspace.files:
                other_kind, _, other_name = other.partition("/")
                ids.setdefault(other_kind, set()).add(other_name[:-3].lower())
        unsafe, odd = name_problems(record_id)
        yield path, kind, unsafe, odd, ids[kind]


def _rename(path: str, kind: str, taken: set[str]) -> str:
    record_id = path.partition("/")[2][:-3]
    return f"rename it to {kind}/{suggested_id(record_id, kind, taken)}.md"


@rule("N001", "unsafe-file-name", Severity.ERROR,
      "A record's file name holds control, invisible or bidi characters, whitespace, bytes that are "
      "not UTF-8, or characters Windows does not allow.",
      examples=[Example({"deals/Website Relaunch.md": OPEN_DEAL.format(owner="ana")},
                        {"deals/website-relaunch.md": OPEN_DEAL.format(owner="ana")},
                        "Spaces in a file name")])
def unsafe_file_name(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """The file name is the record's id: it appears in references, links, feeds, reports and shell
    commands. A line break or an escape sequence in it can forge lines of a report or events of a
    calendar, a bidi override (U+202E) or a zero-width character makes it read as another name, and
    spaces or `: ? * < > | " \\` break scripts and checkouts on other systems. The finding, on line 1,
    suggests a lowercase kebab-case id to rename the file to (references to the old id need the same
    change). Every output shows such characters escaped, so the report itself is safe to read."""
    for path, kind, unsafe, odd, taken in _checked_names(analysis):
        if unsafe:
            yield rule.finding(Location(path), f"unsafe file name: {'; '.join(unsafe + odd)}; "
                                                f"{_rename(path, kind, taken)}")


@rule("N002", "file-name-not-id", Severity.WARNING,
      "A record's file name is not a plain id: characters other than ASCII letters, digits, '.', '_' "
      "and '-', or a leading '-'.",
      examples=[Example({"deals/acme&co-website.md": OPEN_DEAL.format(owner="ana")},
                        {"deals/acme-co-website.md": OPEN_DEAL.format(owner="ana")},
                        "Punctuation in a file name")])
def file_name_not_id(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Ids are best written in lowercase kebab-case (`acme-website`). An accented letter has two
    Unicode spellings (macOS tools often write the decomposed one), so one id can become two; other
    scripts and look-alike letters make ids hard to type and easy to confuse, and punctuation such as `&`, `#`, `%` or `'` needs
    quoting in shells and URLs. The finding, on line 1, suggests an id to rename the file to. Capital
    letters are not flagged here; F003 reports ids that differ only in case."""
    for path, kind, unsafe, odd, taken in _checked_names(analysis):
        if odd and not unsafe:
            yield rule.finding(Location(path), f"file name is not a plain id: {'; '.join(odd)}; "
                                                f"{_rename(path, kind, taken)}")
