"""Record templates (client.md, deal.md, project.md, kickoff.md): find, render with YAML-safe values, check.

Templates render in the template sandbox (template_sandbox.py): a workspace's templates/ is data that
anyone who can commit writes, so `{{ cycler.__init__.__globals__ }}` is an error naming its line.

The front matter of a template is rendered with a Jinja `finalize` hook that writes every `{{ value }}`
as a complete YAML value (quoted when needed), so no user input can produce invalid YAML or a value the
loader reads differently (`NO`, `012`, `a: b`, a leading `-`). The body is Markdown and is rendered as text.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from plaintext_crm.editing.edit import render_inline
from plaintext_crm.errors import ToolError
from plaintext_crm.records.frontmatter import parse_record, split_front_matter
from plaintext_crm.records.reading import ParseProblem

TEMPLATES_FOLDER = "templates"
TEMPLATE_NAMES = ("client.md", "deal.md", "project.md", "kickoff.md")

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TRAILING_BLANK = re.compile(r"(?m)^([ \t]*(?:- )?[A-Za-z_][A-Za-z0-9_]*:)[ \t]+$")
_UNSAFE = re.compile(r'[/\\<>:"|?*\x00-\x1f\x7f]')


@dataclass(frozen=True, slots=True)
class Template:
    """A record template and where it came from (shown in error messages)."""

    name: str
    source: str  # "templates/deal.md" (the workspace's) or "built-in deal.md"
    text: str


def find_template(root: Path, name: str) -> Template:
    """The workspace's templates/<name> if it exists, else the built-in one."""
    own = root / TEMPLATES_FOLDER / name
    if own.is_file():
        real, workspace = os.path.realpath(own), os.path.realpath(root)
        if not real.startswith(workspace.rstrip(os.sep) + os.sep):
            raise ToolError(f"{TEMPLATES_FOLDER}/{name} is a symbolic link to {real}, outside the workspace: "
                            "refusing to read it")
        try:
            return Template(name, f"{TEMPLATES_FOLDER}/{name}", own.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(f"{TEMPLATES_FOLDER}/{name}: cannot read the template: {exc}") from None
    built_in = resources.files("plaintext_crm.editing").joinpath("templates", name)
    return Template(name, f"built-in {name}", built_in.read_text(encoding="utf-8"))


def _front_value(value: Any) -> str:
    """Jinja finalize for the front matter: every printed value becomes one complete YAML value."""
    import jinja2

    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises the usual "'x' is undefined"
    if isinstance(value, list | tuple):
        return render_inline(list(value)) if value else "[]"
    return render_inline(value)


def _body_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_body_value(item) for item in value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def _environment(template: Template, first_line: int, finalize: Any) -> Any:
    """The template sandbox (see template_sandbox.py): a workspace's template is data, not code."""
    import jinja2  # imported here: lint never loads templates and must not pay for jinja2

    from plaintext_crm.template_sandbox import TemplateSandbox

    def locate(filename: str, line: int) -> tuple[str, int] | None:
        return (template.source, line + first_line - 1) if filename == template.source else None

    return TemplateSandbox(locate, finalize=finalize, undefined=jinja2.StrictUndefined, trim_blocks=True,
                           lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                           loader=jinja2.FunctionLoader(lambda name: None))


def _render_part(template: Template, text: str, first_line: int, finalize: Any, context: Mapping[str, Any]) -> str:
    from plaintext_crm.template_sandbox import TemplateProblem, render_budget

    env = _environment(template, first_line, finalize)
    try:
        compiled = env.template_class.from_code(env, env.compile(text, template.name, template.source), env.globals)
        with render_budget():
            return str(compiled.render(**context))
    except TemplateProblem as exc:
        if exc.cause != "UndefinedError":
            raise
        raise ToolError(f"{exc.message}; the variables are: {', '.join(sorted(context))}") from None
    except (TypeError, ValueError) as exc:
        raise ToolError(f"{template.source}: cannot render the template: {exc}") from None


def render_record(template: Template, context: Mapping[str, Any], rel: str) -> str:
    """Render a template into the text of the record file `rel`; refuse output the loader cannot read."""
    split = split_front_matter(template.text)
    if isinstance(split, ParseProblem):
        raise ToolError(f"{template.source}:{split.line}: {split.message}")
    front, body, body_line = split
    rendered_front = _render_part(template, front, 2, _front_value, context)
    rendered_body = _render_part(template, body, body_line, _body_value, context)
    # `key: {{ empty }}` leaves "key: " behind: drop the trailing blank so files stay tidy.
    rendered_front = _TRAILING_BLANK.sub(r"\1", rendered_front)
    if rendered_front and not rendered_front.endswith("\n"):
        rendered_front += "\n"
    text = f"---\n{rendered_front}---\n{rendered_body}"
    parsed = parse_record(rel, text.encode("utf-8"))
    if parsed.problem is not None:
        raise ToolError(f"{template.source} renders front matter the loader cannot read "
                        f"(line {parsed.problem.line} of the new {rel}: {parsed.problem.message}); "
                        "write each value as `key: {{ variable }}`")
    return text


def id_problem(record_id: str) -> str | None:
    """Why `record_id` cannot be a record's file name, or None when it can."""
    if not record_id or not record_id.strip():
        return "the id is empty"
    if record_id != record_id.strip():
        return "the id starts or ends with a space"
    if record_id.lower().endswith(".md"):
        return f"give the id without '.md' (use '{record_id[:-3]}')"
    if _UNSAFE.search(record_id):
        return "the id contains a path separator or a character that is not allowed in file names"
    if record_id.startswith((".", "-")):
        return "the id starts with '.' or '-' (hidden files and option-like names are not allowed)"
    if record_id.endswith("."):
        return "the id ends with '.'"
    if record_id.split(".")[0].lower() in _RESERVED:
        return f"'{record_id}' is a reserved file name on Windows"
    if len(record_id.encode("utf-8")) > 120:
        return "the id is longer than 120 bytes"
    return None


def id_advice(record_id: str) -> str | None:
    """A recommendation when the id is safe but not lowercase kebab-case."""
    if _KEBAB.match(record_id):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "-", record_id.lower()).strip("-")
    return f"ids are best written in lowercase kebab-case (like '{suggestion or 'acme-website'}')"
