"""Load a workspace folder into typed records; bad files become findings and never stop the load."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from plaintext_crm.errors import ToolError
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records.config import CONFIG_FILE, Config, load_config
from plaintext_crm.records.dated_notes import dated_notes
from plaintext_crm.records.fields import (
    APPROVAL_FIELDS,
    CLIENT_FIELDS,
    DEAL_FIELDS,
    DEPENDENCY_TYPES,
    MAX_AMOUNT,
    MAX_WORKING_DAYS,
    PROJECT_FIELDS,
    SIMPLE_KINDS,
    TASK_FIELDS,
    Field,
)
from plaintext_crm.records.frontmatter import InvalidDate, ParsedFile, parse_record, shown_number
from plaintext_crm.records.model import (
    EARLIEST_DAY,
    KINDS,
    LATEST_DAY,
    Approval,
    Client,
    Contact,
    Deal,
    Dependency,
    Project,
    Task,
    Workspace,
)
from plaintext_crm.records.plan_values import PlanValues
from plaintext_crm.records.reading import ParseProblem, kind_of, link_problem, read_inside

ParseFiles = Callable[[Path, list[str]], list[ParsedFile]]



def find_workspace(start: Path) -> Path:
    """The nearest folder at or above `start` that holds crm.yaml, as git finds .git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ToolError(f"no workspace found: neither {start} nor any folder above it holds {CONFIG_FILE} "
                    "(run `plaintext-crm init DIR` to create one, or name the workspace folder)")


def workspace_root(path: Path | None) -> Path:
    """The workspace at `path` (a folder, with or without crm.yaml), or the one around the current folder."""
    if path is None:
        return find_workspace(Path.cwd())
    if not path.exists():
        raise ToolError(f"no workspace at {path}: the folder does not exist")
    if not path.is_dir():
        raise ToolError(f"no workspace at {path}: not a folder")
    if (path / CONFIG_FILE).is_file() or any((path / kind).is_dir() for kind in KINDS):
        return path.resolve()
    raise ToolError(f"no workspace at {path}: it holds no {CONFIG_FILE} and no clients/, deals/ or projects/ folder")


def scan_record_files(root: Path) -> tuple[list[str], list[Finding]]:
    """Relative paths of every record file, sorted (clients/*.md, deals/*.md, projects/*.md), and an F001
    finding for each `.md` entry that is not read: a folder, a named pipe, a socket or a device, or a
    symbolic link that loops, dangles, leads out of the workspace or to something other than a file."""
    found: list[str] = []
    refused: list[Finding] = []
    real_root: str | None = None
    for kind in KINDS:
        folder = root / kind
        if not folder.is_dir():
            continue
        # A folder linked from elsewhere: each file's real path must still be inside the workspace.
        linked = folder.is_symlink()
        # os.scandir knows the entry type from the directory listing: no stat per plain file.
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if not name.endswith(".md") or name.startswith("."):
                    continue
                rel = f"{kind}/{name}"
                try:
                    if not linked and entry.is_file(follow_symlinks=False):
                        found.append(rel)
                        continue
                    if real_root is None:
                        real_root = os.path.realpath(root)
                    problem = _entry_problem(entry, real_root, linked)
                except FileNotFoundError:
                    continue  # removed since the folder was listed: not part of the workspace any more
                if problem is None:
                    found.append(rel)
                else:
                    refused.append(Finding(rel, 1, 1, "F001", "invalid-front-matter", Severity.ERROR, problem.message))
    return sorted(found), sorted(refused, key=lambda finding: finding.path)


def _entry_problem(entry: os.DirEntry[str], real_root: str, linked: bool) -> ParseProblem | None:
    """Why a folder entry named like a record is not read, or None for a regular file inside the workspace."""
    if entry.is_symlink():
        return link_problem(real_root, entry.path)
    mode = entry.stat(follow_symlinks=False).st_mode
    if not stat.S_ISREG(mode):
        return ParseProblem(1, f"not read: this is {kind_of(mode)}, not a record file")
    if linked and os.path.commonpath((real_root, os.path.realpath(entry.path))) != real_root:
        return ParseProblem(1, "not read: its folder is a symbolic link out of the workspace (records are "
                               "read only from inside it)")
    return None


def record_files(root: Path) -> list[str]:
    """Relative paths of every record file that is read, sorted: clients/*.md, deals/*.md, projects/*.md."""
    return scan_record_files(root)[0]


def read_file(root: Path, rel: str) -> ParsedFile:
    """Read and parse one record file; an unreadable or odd file becomes a ParsedFile with a problem."""
    raw = read_inside(root, rel)
    if isinstance(raw, ParseProblem):
        return ParsedFile(rel, problem=raw)
    return parse_record(rel, raw)


def parse_files(root: Path, paths: list[str]) -> list[ParsedFile]:
    """Parse every file, one after the other."""
    return [read_file(root, rel) for rel in paths]


# One record file after building: its record (None when it could not be parsed) and the findings it gave.
LoadedFile = tuple["Client | Deal | Project | None", list[Finding]]
LoadFiles = Callable[[Path, list[str]], list[LoadedFile]]


def build_record(item: ParsedFile) -> LoadedFile:
    """The typed record of one parsed file with its own findings (F001 when it has no usable front matter)."""
    findings: list[Finding] = []
    if item.problem is not None or item.data is None:
        problem = item.problem
        findings.append(Finding(item.path, problem.line if problem else 1, 1, "F001", "invalid-front-matter",
                                Severity.ERROR, problem.message if problem else "no front matter"))
        return None, findings
    kind = item.path.split("/", 1)[0]
    builder = build_client if kind == "clients" else build_deal if kind == "deals" else build_project
    return builder(item, findings), findings


ScanFiles = Callable[[Path], tuple[list[str], list[Finding]]]


def load_workspace(root: Path, *, parse: ParseFiles = parse_files, load_files: LoadFiles | None = None,
                   config: tuple[Config, list[Finding]] | None = None,
                   scan: ScanFiles = scan_record_files) -> tuple[Workspace, list[Finding]]:
    """Load the workspace at `root`; return it with every finding the loading produced.

    `parse` turns files into ParsedFiles; `load_files`, when given, replaces parsing and building
    altogether (the persistent cache in cache.py gives back records it built on an earlier run).
    `config` replaces reading crm.yaml and `scan` listing the record files (the language server
    gives an editor's unsaved crm.yaml and the unsaved new files).
    """
    settings, findings = (config[0], list(config[1])) if config is not None else load_config(root)
    paths, refused = scan(root)
    findings.extend(refused)
    loaded = load_files(root, paths) if load_files else [build_record(item) for item in parse(root, paths)]
    return assemble_workspace(root, settings, paths, loaded, findings), findings


def assemble_workspace(root: Path, config: Config, paths: Sequence[str], loaded: Sequence[LoadedFile],
                       findings: list[Finding]) -> Workspace:
    """The workspace of built records (`loaded`, one per path of `paths`), their findings added to `findings`."""
    clients: dict[str, Client] = {}
    deals: dict[str, Deal] = {}
    projects: dict[str, Project] = {}
    for record, record_findings in loaded:
        findings.extend(record_findings)
        if isinstance(record, Deal):
            deals[record.id] = record
        elif isinstance(record, Client):
            clients[record.id] = record
        elif isinstance(record, Project):
            projects[record.id] = record
    return Workspace(root, config, clients, deals, projects, tuple(paths))


class _Fields(PlanValues):
    """Typed reads of one front matter mapping; a value of the wrong type becomes an F002 finding."""

    def __init__(self, data: Mapping[str, Any], line_of: Callable[[str], int], path: str,
                 findings: list[Finding], what: str = "") -> None:
        self.data = data
        self.line_of = line_of
        self.path = path
        self.findings = findings
        self.what = what  # "task 'design': " for messages about a task

    def invalid(self, key: str, message: str) -> None:
        self.findings.append(Finding(self.path, self.line_of(key), 1, "F002", "invalid-value", Severity.ERROR,
                                     f"{self.what}{message}"))

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if type(value) is str:  # the common case first: read for every text key of every record
            return value.strip() or None
        if value is None or isinstance(value, bool):
            if isinstance(value, bool):
                self.invalid(key, f"'{key}' must be text, not {str(value).lower()}")
            return None
        if isinstance(value, dict | list):
            self.invalid(key, f"'{key}' must be text, not a {'list' if isinstance(value, list) else 'mapping'}")
            return None
        text = str(value).strip()
        return text or None

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, list):
            if all(isinstance(item, str | int | float) and not isinstance(item, bool) for item in value):
                return tuple(str(item).strip() for item in value if str(item).strip())
            self.invalid(key, f"'{key}' must be text or a list of texts")
            return ()
        text = self.text(key)
        return (text,) if text else ()

    def date(self, key: str) -> dt.date | None:
        value = self.data.get(key)
        day = value if type(value) is dt.date else self._other_date(key, value)  # the common case first
        if day is None:
            return None
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            self.invalid(key, f"'{key}': {day} is outside the years {EARLIEST_DAY.year} to {LATEST_DAY.year} that plans "
                              "and charts cover")
            return None
        return day

    def _other_date(self, key: str, value: Any) -> dt.date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, InvalidDate):
            self.invalid(key, f"'{key}': '{value}' is not a valid date")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.invalid(key, f"'{key}': '{value}' is not a date; write it as YYYY-MM-DD")
        return None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.invalid(key, f"'{key}': '{value}' is not a number; write digits only, like 12000 or 12500.50")
            return None
        # abs() first: math.isfinite() converts to float, which overflows on an int past 1e308 (400 digits)
        if abs(value) > MAX_AMOUNT or not math.isfinite(value):
            self.invalid(key, f"'{key}': {shown_number(value)} is not a number this tool can count with (at most "
                              f"{MAX_AMOUNT:.0e} either way); write digits only, like 12000 or 12500.50")
            return None
        return value

    def probability(self, key: str) -> float | None:
        value = self.number(key)
        if value is not None and not 0 <= value <= 1:
            self.invalid(key, f"'{key}': {value} is outside 0..1; write 40% as 0.4")
            return None
        return value

    def whole(self, key: str, minimum: int = 0, maximum: int = MAX_WORKING_DAYS) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.invalid(key, f"'{key}': '{shown_number(value)}' must be a whole number from {minimum} to {maximum}")
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(key)
        if value is not None and value not in allowed:
            self.invalid(key, f"'{key}': '{value}' is not one of {', '.join(allowed)}")
            return None
        return value

    def read(self, fields: tuple[Field, ...]) -> dict[str, Any]:
        """The typed values of the simple fields (SIMPLE_KINDS) of a declaration, by key."""
        readers, upper = _read_plan(fields)
        values = {name: reader(self, name) for name, reader in readers}
        for name in upper:
            if values[name] is not None:
                values[name] = values[name].upper()
        return values

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.invalid(key, f"'{key}' must be true or false")
            return False
        return value


Reader = Callable[[_Fields, str], Any]
_READ_PLANS: dict[int, tuple[tuple[Field, ...], tuple[tuple[tuple[str, Reader], ...], tuple[str, ...]]]] = {}


def _read_plan(fields: tuple[Field, ...]) -> tuple[tuple[tuple[str, Reader], ...], tuple[str, ...]]:
    """(key, reader) of each simple field of a declaration and the keys read upper-cased; worked out once per
    declaration, since every record of a kind reads the same keys (building is the hot path of a cold load)."""
    kept = _READ_PLANS.get(id(fields))
    if kept is not None and kept[0] is fields:
        return kept[1]
    readers: list[tuple[str, Reader]] = []
    for spec in fields:
        reader: Reader
        if spec.kind == "choice":
            reader = functools.partial(_read_choice, choices=spec.choices)
        elif spec.kind in ("texts", "owners"):
            reader = _Fields.text_list
        elif spec.kind in SIMPLE_KINDS:
            reader = getattr(_Fields, spec.kind)
        else:
            continue
        readers.append((spec.name, reader))
    plan = (tuple(readers), tuple(spec.name for spec in fields if spec.upper))
    _READ_PLANS[id(fields)] = (fields, plan)  # the declaration is kept alive, so its id is not reused
    return plan


def _read_choice(fields: _Fields, key: str, choices: tuple[str, ...]) -> str | None:
    return fields.choice(key, choices)


def _as_text(value: Any) -> Any:
    """`value` with each non-finite float replaced by its YAML text (.nan, .inf, -.inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return shown_number(value)
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return value


def _common(item: ParsedFile, findings: list[Finding]) -> tuple[dict[str, Any], _Fields]:
    assert item.data is not None
    data = item.data
    for trap in item.traps:
        if trap.kind == "non-finite":
            # NaN and infinity cannot be counted with, compared or written as JSON: records keep the
            # text, and the typed reads of numeric fields report it (F002).
            data = _as_text(item.data)
        elif trap.kind == "key-not-text":
            findings.append(Finding(item.path, trap.line, 1, "F002", "invalid-value", Severity.ERROR, trap.message))
    top_lines = {str(path[0]): line for path, line in item.key_lines.items() if len(path) == 1}
    fields = _Fields(data, lambda key: top_lines.get(key, 1), item.path, findings)
    base = {
        "id": item.path.rsplit("/", 1)[-1][:-3],
        "path": item.path,
        "fields": data,
        "key_lines": top_lines,
        "body": item.body,
        "body_line": item.body_line,
        "history": tuple(dated_notes(item.body, item.body_line)),
        "lint_ignore": tuple(code.upper() for code in fields.text_list("lint_ignore")),
        "traps": tuple(item.traps),
    }
    return base, fields


def build_client(item: ParsedFile, findings: list[Finding]) -> Client:
    """A Client from a parsed clients/*.md file."""
    base, fields = _common(item, findings)
    contacts = []
    raw_contacts = base["fields"].get("contacts")
    if raw_contacts is not None and not isinstance(raw_contacts, list):
        fields.invalid("contacts", "'contacts' must be a list of {name, role, email, phone}")
    for index, raw in enumerate(raw_contacts if isinstance(raw_contacts, list) else []):
        if isinstance(raw, str):
            raw = {"name": raw}
        if not isinstance(raw, dict) or not raw.get("name"):
            line = item.key_lines.get(("contacts", index), fields.line_of("contacts"))
            findings.append(Finding(item.path, line, 1, "F002", "invalid-value", Severity.ERROR,
                                    "each contact needs at least a 'name'"))
            continue
        contacts.append(Contact(*(str(raw[key]) if raw.get(key) is not None else None
                                  for key in ("name", "role", "email", "phone"))))  # type: ignore[arg-type]
    return Client(**base, **fields.read(CLIENT_FIELDS), contacts=tuple(contacts))


def build_deal(item: ParsedFile, findings: list[Finding]) -> Deal:
    """A Deal from a parsed deals/*.md file."""
    base, f = _common(item, findings)
    return Deal(**base, **f.read(DEAL_FIELDS))


def build_project(item: ParsedFile, findings: list[Finding]) -> Project:
    """A Project, with its tasks, from a parsed projects/*.md file."""
    base, f = _common(item, findings)
    raw_tasks = base["fields"].get("tasks")
    tasks: list[Task] = []
    if raw_tasks is not None and not isinstance(raw_tasks, list):
        f.invalid("tasks", "'tasks' must be a list of tasks, each a mapping with at least an 'id'")
    for index, raw in enumerate(raw_tasks if isinstance(raw_tasks, list) else []):
        task = _build_task(item, index, raw, findings)
        if task is not None:
            tasks.append(task)
    return Project(**base, **f.read(PROJECT_FIELDS), tasks=tuple(tasks))


_TASK_VALUES = tuple(spec for spec in TASK_FIELDS if spec.name != "id")  # the id is checked before these


def _build_task(item: ParsedFile, index: int, raw: Any, findings: list[Finding]) -> Task | None:
    prefix = ("tasks", index)
    first_line = item.key_lines.get(prefix, 1)
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        findings.append(Finding(item.path, first_line, 1, "F002", "invalid-value", Severity.ERROR,
                                f"task {index + 1} must be a mapping with at least an 'id'"))
        return None
    task_id = str(raw["id"]).strip()
    # Look up this task's own keys rather than scanning every key path of the file (quadratic in tasks).
    lines = {str(key): item.key_lines[prefix + (str(key),)] for key in raw if prefix + (str(key),) in item.key_lines}
    f = _Fields(raw, lambda key: lines.get(key, first_line), item.path, findings, f"task '{task_id}': ")
    values = f.read(_TASK_VALUES)
    values["status"] = values["status"] or "todo"
    owners = values.pop("owner")
    values["owner"], values["owners"] = (owners[0] if owners else None), owners
    return Task(id=task_id, **values, depends_on=tuple(_dependencies(item, index, raw.get("depends_on"), f)),
                approval=_approval(raw.get("approval"), f), line=first_line, key_lines=lines, fields=raw)


def _dependencies(item: ParsedFile, index: int, raw: Any, f: _Fields) -> Iterable[Dependency]:
    if raw is None:
        return
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list):
        f.invalid("depends_on", "'depends_on' must be a list of task ids")
        return
    for position, entry in enumerate(raw):
        line = item.key_lines.get(("tasks", index, "depends_on", position), f.line_of("depends_on"))
        dependency = _dependency(entry, line)
        if isinstance(dependency, str):
            f.findings.append(Finding(item.path, line, 1, "F002", "invalid-value", Severity.ERROR,
                                      f"{f.what}{dependency}"))
        else:
            yield dependency


def _dependency(entry: Any, line: int) -> Dependency | str:
    """One depends_on entry, or the reason it is invalid."""
    dep_type, lag = "FS", 0
    if isinstance(entry, dict):
        target = entry.get("task")
        dep_type = str(entry.get("type", "FS")).upper()
        lag = entry.get("lag", 0)
        if dep_type not in DEPENDENCY_TYPES:
            return f"dependency type '{entry.get('type')}' is not one of {', '.join(DEPENDENCY_TYPES)}"
        if isinstance(lag, bool) or not isinstance(lag, int) or abs(lag) > MAX_WORKING_DAYS:
            return (f"dependency lag '{shown_number(lag)}' must be a whole number of working days (negative for "
                    f"a lead), at most {MAX_WORKING_DAYS} either way")
    else:
        target = entry
    if not isinstance(target, str | int) or isinstance(target, bool) or not str(target).strip():
        return "each dependency names a task: `design`, `project-id/task-id` or {task: design, type: SS, lag: 2}"
    project, _, task = str(target).strip().rpartition("/")
    return Dependency(task=task, project=project or None, type=dep_type, lag=lag, line=line)


def _approval(raw: Any, f: _Fields) -> Approval | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        f.invalid("approval", "'approval' must be a mapping {by, status, date}")
        return None
    inner = _Fields(raw, lambda key: f.line_of("approval"), f.path, f.findings, f.what + "approval ")
    values = inner.read(APPROVAL_FIELDS)
    return Approval(**{**values, "status": values["status"] or "pending"})
