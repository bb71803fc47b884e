"""Workspace templates are data: site-templates/ and templates/ render in a sandbox (issue 11, item 4).

Every escape attempt is refused with a message naming the template file and line (exit 2, no
traceback), no code runs, no file outside the template folders is read, and the compiled-template
cache is never loaded from the workspace nor trusted when damaged.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner, Result
from jinja2.bccache import Bucket, FileSystemBytecodeCache

from plaintext_crm.cli import cli
from plaintext_crm.errors import ToolError
from plaintext_crm.records import cache_store
from plaintext_crm.site import builder
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.templates import builtin_folder
from tests.support import EXAMPLE, EXAMPLE_TODAY

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
LOCAL_STATE = shutil.ignore_patterns(".plaintext-crm", "site")  # a checkout's own caches and build

# Expressions that reach Python internals, the file system or a shell; {m} is a marker file to create.
ESCAPES = [
    "cycler.__init__.__globals__.os.system('touch {m}')",
    "joiner.__init__.__globals__.os.system('touch {m}')",
    "namespace.__init__.__globals__.os.system('touch {m}')",
    "lipsum.__globals__['os'].system('touch {m}')",
    "lipsum.__globals__.os.popen('touch {m}').read()",
    "''.__class__.__mro__[1].__subclasses__()",
    "().__class__.__base__.__subclasses__()",
    "self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch {m}')",
    "self.__init__.__globals__",
    "range.__self__",
    "range.__init__.__globals__",
    "'{{0.__init__.__globals__[os]}}'.format(cycler)",
    "'{{0.__class__.__mro__}}'.format('')",
    "'{{x.__class__}}'.format_map(dict(x=1))",
    "cycler|attr('__init__')|attr('__globals__')",
    "(cycler|attr('__init__')).__globals__",
    "''|attr('__class__')",
    "('x'|upper).__class__.__base__.__subclasses__()",
    "(dict|attr('fromkeys')).__self__.__subclasses__()",
    "lipsum.__code__.co_consts",
    "'ab' * 6000000",
    "7 ** 400000",
]
SITE_ONLY = [  # the site's context holds paths and shared data
    "workspace.root.joinpath('written-by-a-template').write_text('x')",
    "(workspace.root / 'crm.yaml').read_text()",
    "workspace.root.parent.iterdir()|list",
    "site.links.clear()",
    "workspace.config.__class__.__init__.__globals__",
    "record_url.__globals__",
]
STATEMENTS = [
    "{% include '/etc/passwd' %}",
    "{% include '../crm.yaml' %}",
    "{% include '../../../../etc/hostname' %}",
    "{% import '/etc/hostname' as x %}",
    "{% from '..\\\\crm.yaml' import y %}",
]


def cli_run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})


def assert_refused(result: Result, where: str) -> None:
    """Exit 2 with one clear message naming the template and line; no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert where in result.output, result.output


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root, ignore=LOCAL_STATE)
    return root


def override(root: Path, line: str, name: str = "overview.html") -> None:
    """A site template override whose third line is `line`."""
    (root / "site-templates").mkdir(exist_ok=True)
    (root / "site-templates" / name).write_text(
        '{% extends "base.html" %}\n{% block content %}\n' + line + "\n{% endblock %}\n", encoding="utf-8")


# --- site-templates/ on build ------------------------------------------------------------------

@pytest.mark.parametrize("payload", ESCAPES + SITE_ONLY)
def test_site_template_escapes_are_refused_naming_file_and_line(ws: Path, tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    override(ws, "<p>{{ " + payload.format(m=marker) + " }}</p>")
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert_refused(result, "site-templates/overview.html:3: ")
    assert not marker.exists()
    assert not (ws / "written-by-a-template").exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("statement", STATEMENTS)
def test_site_templates_cannot_include_files_by_path(ws: Path, tmp_path: Path, statement: str) -> None:
    override(ws, statement)
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert_refused(result, "site-templates/overview.html:3: no template named")


def test_a_symlinked_template_cannot_publish_a_file_from_elsewhere(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    override(ws, "{% include 'leak.html' %}")
    (ws / "site-templates" / "leak.html").symlink_to(secret)
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert_refused(result, "site-templates/leak.html is a symbolic link to a file outside its folder")
    assert not any("TOP-SECRET" in path.read_text(errors="replace")
                   for path in (tmp_path / "out").rglob("*") if path.is_file())


def test_a_symlinked_static_asset_is_refused(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY", encoding="utf-8")
    (ws / "site-templates" / "static").mkdir(parents=True)
    (ws / "site-templates" / "static" / "logo.css").symlink_to(secret)
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert_refused(result, "site-templates/static/logo.css is a symbolic link to a file outside static/")
    assert not (tmp_path / "out" / "static" / "logo.css").exists()


def test_a_site_templates_folder_linked_outside_the_workspace_is_refused(ws: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "_footer.html").write_text("<footer>from elsewhere</footer>\n", encoding="utf-8")
    (ws / "site-templates").symlink_to(elsewhere, target_is_directory=True)
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert_refused(result, "site-templates/ is a symbolic link")


def test_errors_in_forked_render_workers_are_the_same_clear_error(ws: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "PARALLEL_MIN_PAGES", 1)
    override(ws, "<p>{{ deal.__class__.__init__.__globals__ }}</p>", "deal.html")
    with pytest.raises(ToolError) as raised:
        build_site(ws, tmp_path / "out", TODAY, use_cache=False, jobs=2)
    assert raised.value.message.startswith("site-templates/deal.html:3: access to attribute '__class__'")


def test_syntax_and_undefined_errors_name_the_override(ws: Path, tmp_path: Path) -> None:
    override(ws, "{% if %}")
    assert_refused(cli_run("build", str(ws), "-o", str(tmp_path / "a")), "site-templates/overview.html:3: ")
    override(ws, "{{ no_such_variable }}")
    assert_refused(cli_run("build", str(ws), "-o", str(tmp_path / "b")),
                   "site-templates/overview.html:3: 'no_such_variable' is undefined")


def test_ordinary_overrides_still_build(ws: Path, tmp_path: Path) -> None:
    override(ws, "{% import 'macros/ui.html' as ui %}{% set ns = namespace(n=0) %}"
                 "{% for deal in workspace.deals.values() %}{% set ns.n = ns.n + 1 %}{% endfor %}"
                 "<p id='x'>{{ ns.n }} deals, {{ '{:,}'.format(12500) }}, {{ workspace.root.name }}, "
                 "{{ 12500|money }}, {{ [1, 2] * 2 }}, {{ 2 ** 10 }}, {{ today|date('long') }}</p>")
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    deals = len(list((ws / "deals").glob("*.md")))
    assert f"<p id='x'>{deals} deals, 12,500, ws, €12,500, [1, 2, 1, 2], 1024, 26 Nov 2026</p>" in page


# --- templates/ on new and handoff -----------------------------------------------------------------

DEAL_TEMPLATE = """\
---
title: {{{{ title }}}}
client: {{{{ client }}}}
owner: {{{{ owner }}}}
stage: {{{{ stage }}}}
value: {{{{ value }}}}
source: {{{{ source }}}}
next_action: {{{{ next_action }}}}
next_action_due: {{{{ next_action_due }}}}
note: {front}
---
Notes.

{body}
"""
NEW_DEAL = ("new", "deal", "sandboxed", "--title", "T", "--client", "fjord-foods", "--owner", "ana", "--value", "100",
            "--stage", "lead", "--source", "referral", "--next", "Call", "--due", "2026-12-01")


@pytest.mark.parametrize("payload", ESCAPES)
@pytest.mark.parametrize("part", ["front", "body"])
def test_record_template_escapes_are_refused_naming_file_and_line(ws: Path, tmp_path: Path, payload: str,
                                                                  part: str) -> None:
    marker = tmp_path / "pwned"
    expression = "{{ " + payload.format(m=marker) + " }}"
    (ws / "templates").mkdir()
    (ws / "templates" / "deal.md").write_text(
        DEAL_TEMPLATE.format(front=expression if part == "front" else "x", body=expression if part == "body" else ""),
        encoding="utf-8")
    result = cli_run(*NEW_DEAL, str(ws))
    assert_refused(result, "templates/deal.md:10: " if part == "front" else "templates/deal.md:14: ")
    assert not marker.exists()
    assert not (ws / "deals" / "sandboxed.md").exists()


@pytest.mark.parametrize("statement", STATEMENTS)
def test_record_templates_cannot_include_files(ws: Path, statement: str) -> None:
    (ws / "templates").mkdir()
    (ws / "templates" / "deal.md").write_text(DEAL_TEMPLATE.format(front="x", body=statement), encoding="utf-8")
    assert_refused(cli_run(*NEW_DEAL, str(ws)), "templates/deal.md:14: no template named")


@pytest.mark.parametrize("payload", ESCAPES[:6] + ESCAPES[11:14])
def test_handoff_template_escapes_are_refused(ws: Path, tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    built_in = (Path(__file__).resolve().parents[2] / "plaintext_crm" / "editing" / "templates" / "kickoff.md").read_text()
    (ws / "templates").mkdir()
    text = built_in.replace("status: {{ status }}\n", "status: {{ status }}\nx: {{ " + payload.format(m=marker) + " }}\n")
    line = text.splitlines().index("x: {{ " + payload.format(m=marker) + " }}") + 1
    (ws / "templates" / "kickoff.md").write_text(text, encoding="utf-8")
    result = cli_run("handoff", "pinecrest-hotels-microsite", str(ws))
    assert_refused(result, f"templates/kickoff.md:{line}: ")
    assert not marker.exists()
    assert not (ws / "projects" / "pinecrest-hotels-microsite.md").exists()


def test_a_record_template_linked_outside_the_workspace_is_refused(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(DEAL_TEMPLATE.format(front="x", body="SECRET"), encoding="utf-8")
    (ws / "templates").mkdir()
    (ws / "templates" / "deal.md").symlink_to(secret)
    assert_refused(cli_run(*NEW_DEAL, str(ws)), "templates/deal.md is a symbolic link to")
    assert not (ws / "deals" / "sandboxed.md").exists()


def test_record_templates_still_render_normally(ws: Path) -> None:
    (ws / "templates").mkdir()
    (ws / "templates" / "deal.md").write_text(
        DEAL_TEMPLATE.format(front="{{ title|upper }}", body="{{ '{} for {}'.format(title, client_name) }}"),
        encoding="utf-8")
    result = cli_run(*NEW_DEAL, str(ws))
    assert result.exit_code == 0, result.output
    text = (ws / "deals" / "sandboxed.md").read_text(encoding="utf-8")
    assert "note: T\n" in text and "T for Fjord Foods" in text


# --- the compiled-template cache -------------------------------------------------------------------

def plant_bytecode(root: Path, marker: Path) -> None:
    """What a hostile commit could add: compiled code for the built-in templates under .plaintext-crm/jinja,
    stamped with the checksum of the real sources so that Jinja's own check accepts it."""
    env = jinja2.Environment()
    cache = FileSystemBytecodeCache(str(root / ".plaintext-crm" / "jinja"))
    (root / ".plaintext-crm" / "jinja").mkdir(parents=True)
    evil = "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}"
    for path in builtin_folder().rglob("*.html"):
        name = path.relative_to(builtin_folder()).as_posix()
        filename = os.path.normpath(os.path.join(str(builtin_folder()), *name.split("/")))
        for candidate in {filename, str(path)}:
            bucket = Bucket(env, cache.get_cache_key(name, candidate), cache.get_source_checksum(path.read_text()))
            bucket.code = env.compile(evil, name, candidate)
            cache.dump_bytecode(bucket)


def test_compiled_templates_in_the_workspace_are_never_loaded(ws: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    plant_bytecode(ws, marker)
    result = cli_run("build", str(ws), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "Open pipeline" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def bytecode_files(root: Path) -> list[Path]:
    """Compiled templates wherever a build kept them (the workspace's cache folder; once .plaintext-crm/)."""
    places = [cache_store.cache_folder(root) / "jinja", root / ".plaintext-crm" / "jinja"]
    return [path for place in places if place.is_dir() for path in sorted(place.iterdir()) if path.is_file()]


def site_files(out: Path) -> dict[str, bytes]:
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and not path.name.startswith(".plaintext-crm")}


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7])
def test_damaged_compiled_templates_are_compiled_again(ws: Path, tmp_path: Path, where: float) -> None:
    assert cli_run("build", str(ws), "-o", str(tmp_path / "first")).exit_code == 0
    files = bytecode_files(ws)
    assert len(files) >= 10
    for path in files:  # two bytes of the compiled code flipped, the header left whole
        data = bytearray(path.read_bytes())
        at = int(len(data) * where)
        data[at] ^= 0x5A
        data[at + 1] ^= 0xFF
        path.write_bytes(bytes(data))
    again = cli_run("build", str(ws), "-o", str(tmp_path / "again"))
    assert again.exit_code == 0, again.output
    reference = cli_run("build", str(ws), "-o", str(tmp_path / "reference"), "--no-cache")
    assert reference.exit_code == 0
    assert site_files(tmp_path / "again") == site_files(tmp_path / "reference")


def test_compiled_templates_are_reused_from_the_user_cache_folder(ws: Path, tmp_path: Path) -> None:
    assert cli_run("build", str(ws), "-o", str(tmp_path / "out")).exit_code == 0
    assert not (ws / ".plaintext-crm" / "jinja").exists()
    stored = bytecode_files(ws)
    assert stored and all(path.parent == cache_store.cache_folder(ws) / "jinja" for path in stored)
    payload = cache_store.read_entry(stored[0], "jinja-bytecode")
    assert payload is not None and payload.startswith(b"j")  # Jinja's own header inside a checked entry


def test_template_problems_survive_pickling() -> None:
    from plaintext_crm.template_sandbox import TemplateProblem

    problem = pickle.loads(pickle.dumps(TemplateProblem("site-templates/x.html:3: no", "SecurityError")))
    assert isinstance(problem, ToolError) and problem.message == "site-templates/x.html:3: no"
    assert problem.cause == "SecurityError" and problem.exit_code == 2
