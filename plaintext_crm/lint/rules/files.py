"""File-level rules: front matter that cannot be read (F001/F002, from the loader), duplicate ids, YAML 1.1 traps, typo'd keys."""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from plaintext_crm.findings import Finding, Location, Severity
from plaintext_crm.lint.registry import Example, Rule, add_examples, rule
from plaintext_crm.lint.rules.deals import OPEN_DEAL
from plaintext_crm.records.config import CONFIG_FILE, KNOWN_SETTINGS
from plaintext_crm.records.model import CLIENT_KEYS, COMMON_KEYS, DEAL_KEYS, PROJECT_KEYS, TASK_KEYS, Record

if TYPE_CHECKING:
    from plaintext_crm.analysis import Analysis

DEAL = """\
    ---
    title: Website relaunch
    client: acme
    owner: ana
    stage: proposal
    value: {value}
    next_action: Send the revised proposal
    next_action_due: {due}
    ---
    Notes about the deal.
    """

add_examples(
    "F001",
    Example({"deals/website.md": "title: Website relaunch\nclient: acme\n"},
            {"deals/website.md": DEAL.format(value=24000, due="2026-11-30")},
            "Front matter without its '---' fences"),
    Example({"deals/website.md": DEAL.format(value="[24000", due="2026-11-30")},
            {"deals/website.md": DEAL.format(value=24000, due="2026-11-30")},
            "Unparsable YAML: an unclosed list (the finding gives the YAML error's line)"),
    Example({"deals/website.md": DEAL.format(value="&v [24000, *v]", due="2026-11-30")},
            {"deals/website.md": DEAL.format(value=24000, due="2026-11-30")},
            "An alias inside its own anchor: a value that would contain itself"),
    doc="The file must start with a `---` line, hold a YAML mapping of keys to values, and close it with "
        "the next line of three or more dashes; the Markdown body follows. A list or a single value is "
        "not front matter. Files must be UTF-8, at most 10 MB. The finding carries the line YAML reports. "
        "Refused too: aliases that recurse (`&a [*a]`) or expand the front matter past 10,000 values "
        "(and ten times what is written), nesting past 64 levels, a value that is not what its tag says "
        "(`!!int ana`), integers of more than 1000 characters. An entry named like a record that is not "
        "a regular file inside the workspace is not read: a folder, a named pipe, a socket, a device, a "
        "symbolic link that loops, dangles or leads out of the workspace; so is such a `crm.yaml`. "
        "Such a file is left out of everything else (pages, references), so fix it first.",
)
add_examples(
    "F002",
    Example({"deals/website.md": DEAL.format(value="24k", due="2026-11-31")},
            {"deals/website.md": DEAL.format(value=24000, due="2026-11-30")},
            "A value that is not a number and a date that does not exist"),
    doc="Dates are written YYYY-MM-DD, must exist and lie in the years 1900 to 2999; `value` and "
        "`probability` are plain finite numbers (not `.nan` or `.inf`; amounts up to 10^15; `probability` "
        "from 0 to 1: 40% is 0.4); statuses come from their lists (project: planned, "
        "active, on_hold, done, cancelled; task: todo, doing, done, blocked; approval: pending, approved, "
        "rejected); task durations are whole days, at most 10,000; dependencies are `task`, `project/task` "
        "or `{task: id, type: FS|SS|FF|SF, lag: days}`. A top-level key must be text (`yes:` or `1:` is "
        "not, and python-frontmatter cannot read such a file). The value is ignored and the rest of the "
        "record loads.",
)


@rule("F003", "duplicate-id", Severity.ERROR,
      "Two records of a kind have ids that differ only in case, or a project has two tasks with one id.",
      examples=[
          Example({"clients/Acme.md": "---\nname: Acme (old file)\nowner: ana\n---\n"},
                  {}, "clients/Acme.md beside clients/acme.md: one id on a case-insensitive disk"),
          Example({"projects/website.md": """\
                       ---
                       title: Website relaunch
                       client: acme
                       owner: ana
                       tasks:
                         - {id: design, duration: 5}
                         - {id: design, duration: 3}
                       ---
                       """},
                  {"projects/website.md": """\
                       ---
                       title: Website relaunch
                       client: acme
                       owner: ana
                       tasks:
                         - {id: design, duration: 5}
                         - {id: design-review, duration: 3}
                       ---
                       """}, "Two tasks named alike"),
      ])
def duplicate_id(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """A record's id is its file name. Ids that differ only in case clash on macOS and Windows disks
    and in links, so each kind's ids must be unique ignoring case. Task ids must be unique within their
    project, since dependencies name them."""
    files = analysis.workspace.files
    by_id: dict[tuple[str, str], list[str]] = defaultdict(list)
    # Kind folders are lower case, so paths that agree ignoring case are exactly the clashing ids: one
    # set of lowered paths tells whether any exist before grouping every file by id.
    if len({path.lower() for path in files}) < len(files):
        for path in files:
            kind, _, name = path.partition("/")
            by_id[kind, name[:-3].lower()].append(path)
    for paths in by_id.values():
        first, *others = sorted(paths)
        for other in others:
            yield rule.finding(Location(other), f"same id as {first} apart from letter case; rename one of them")
    for project in analysis.workspace.projects.values():
        seen: dict[str, int] = {}
        for task in project.tasks:
            if task.id in seen:
                yield rule.finding(Location(project.path, task.line),
                                   f"task id '{task.id}' is used twice (first on line {seen[task.id]})")
            else:
                seen[task.id] = task.line


@rule("Y001", "yaml-1.1-trap", Severity.WARNING,
      "A value YAML 1.1 reads differently from what was probably meant: NO as false, 012 as octal, "
      "12:30 as a number, a key written twice.",
      examples=[Example({"clients/nordic.md": """\
                             ---
                             name: Nordic Fish AS
                             owner: ana
                             country: NO
                             postcode: 0150
                             ---
                             """},
                        {"clients/nordic.md": """\
                             ---
                             name: Nordic Fish AS
                             owner: ana
                             country: "NO"
                             postcode: "0150"
                             ---
                             """}, "Norway becomes false and an Oslo postcode an octal number")])
def yaml_trap(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """PyYAML follows YAML 1.1: `yes`, `no`, `on`, `off`, `y` and `n` are booleans, digits with a
    leading zero are octal, `12:30` is the base-60 number 750, and a key written twice silently keeps
    its last value. Quote such values. (A date that does not exist, like 2026-02-30, is F002.) A file
    that starts with a byte-order mark is read, but python-frontmatter and other tools find no front
    matter in it: save it as UTF-8 without BOM."""
    workspace = analysis.workspace
    config = workspace.config
    # `lint: {D003: off}` is crm.yaml's documented way to turn a rule off: false is what is meant there.
    severity_lines = {line for key, line in config.key_lines.items() if len(key) == 2 and key[0] == "lint"}
    sources: list[tuple[str, tuple]] = [(CONFIG_FILE, tuple(
        trap for trap in config.traps if not (trap.line in severity_lines and trap.text.lower() == "off")))]
    sources += [(record.path, record.traps) for record in workspace.records()]
    for path, traps in sources:
        for trap in traps:
            if trap.kind not in _REPORTED_ELSEWHERE:
                yield rule.finding(Location(path, trap.line), trap.message)


# An impossible date and a non-finite number (kept as their text) are F002 where the value is used;
# a key that is not text is F002 when the record is built.
_REPORTED_ELSEWHERE = ("invalid-date", "non-finite", "key-not-text")
KNOWN_KEYS = {"clients": CLIENT_KEYS, "deals": DEAL_KEYS, "projects": PROJECT_KEYS}


@functools.lru_cache(maxsize=4096)
def likely_typo(key: str, known: tuple[str, ...]) -> str | None:
    """The known key that `key` is probably a misspelling of, or None for a deliberate extra key.

    Cached: the same extra keys (`industry`, `budget_holder`) come back in thousands of records."""
    normal = key.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in known:
        return normal
    close = difflib.get_close_matches(normal, known, n=1, cutoff=0.8)
    if close:
        return close[0]
    longer = [candidate for candidate in known if candidate.startswith(normal)]
    return longer[0] if len(normal) >= 5 and len(longer) == 1 else None


def _line_or_first(key_lines: Mapping[str, int], key: str) -> int:
    return key_lines.get(key, 1)


_KNOWN_SETS: dict[tuple[str, ...], frozenset[str]] = {}


def _known_set(known: tuple[str, ...]) -> frozenset[str]:
    known_set = _KNOWN_SETS.get(known)
    if known_set is None:
        known_set = _KNOWN_SETS[known] = frozenset(known + COMMON_KEYS)
    return known_set


def _typos(record_path: str, fields: Mapping[str, Any], known: tuple[str, ...], line_of: Callable[[str], int],
           what: str = "") -> Iterator[tuple[Location, str]]:
    known_set = _known_set(known)
    for key in fields.keys() - known_set:
        key_text = str(key)
        if key_text in known_set:
            continue
        guess = likely_typo(key_text, known + COMMON_KEYS)
        if guess is not None:
            yield Location(record_path, line_of(key_text)), f"{what}unknown key '{key_text}': did you mean '{guess}'?"


@rule("K001", "unknown-key", Severity.WARNING,
      "An unknown key looks like a misspelling of a known one (next_action_date for next_action_due).",
      examples=[Example({"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
                             "stage: proposal\n", "stage: proposal\n    expected_close_date: 2026-12-18\n")},
                        {"deals/website.md": OPEN_DEAL.format(owner="ana").replace(
                            "stage: proposal\n", "stage: proposal\n    expected_close: 2026-12-18\n    budget_holder: CFO\n")},
                        "A typo hides the date from the forecast; an extra key of your own is fine")])
def unknown_key(rule: Rule, analysis: Analysis) -> Iterator[Finding]:
    """Keys the tool does not know are kept as they are (add your own, like `budget_holder`), so a
    misspelt key silently does nothing: `next_action_date` leaves the deal without a due date. Keys
    within a small edit distance of a known key (or with hyphens or capitals) are reported, in records,
    in tasks and in crm.yaml."""
    workspace = analysis.workspace
    if workspace.config.path:
        config = workspace.config
        for where, message in _typos(CONFIG_FILE, config.extra, KNOWN_SETTINGS, lambda key: config.line_of(key)):
            yield rule.finding(where, message)
    record: Record
    # Most records and tasks use known keys only: a set comparison in C skips them.
    for record in workspace.records():
        known = KNOWN_KEYS[record.path.split("/", 1)[0]]
        if record.fields.keys() <= _known_set(known):
            continue
        for where, message in _typos(record.path, record.fields, known, functools.partial(_line_or_first, record.key_lines)):
            yield rule.finding(where, message)
    task_keys = _known_set(TASK_KEYS)
    for project in workspace.projects.values():
        for task in project.tasks:
            if task.fields.keys() <= task_keys:
                continue
            for where, message in _typos(project.path, task.fields, TASK_KEYS, task.line_of,
                                         f"task '{task.id}': "):
                yield rule.finding(where, message)
