"""Hand-off and templates: every template renders records that load and lint clean, whatever users type."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plaintext_crm.cli import cli
from plaintext_crm.editing.handoff import missing_handoff_fields, plan_handoff
from plaintext_crm.editing.record_templates import TEMPLATE_NAMES, find_template, render_record
from plaintext_crm.errors import ToolError
from plaintext_crm.lint.run import lint_workspace
from plaintext_crm.records.loader import load_workspace
from tests.support import EXAMPLE, EXAMPLE_TODAY, MINIMAL_CONFIG, write_files

TODAY = dt.date(2026, 11, 26)
CLIENT = "---\nname: Acme\nowner: ana\n---\n"
WON_DEAL = """\
---
title: Website relaunch
client: acme
owner: ana
stage: won
value: 24000
closed_on: 2026-11-20
scope_summary: Relaunch of the marketing site, 12 pages
promised_timeline: {timeline}
key_constraints: [Launch before the March trade fair]
main_stakeholder: Jane Doe (CMO)
kickoff_date: {kickoff}
budget_code: {budget}
---
Notes.
"""

# What people type: colons, hashes, quotes, YAML 1.1 words, leading dashes, brackets, unicode, newlines.
user_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
    st.sampled_from(["NO", "yes", "012", "12:30", "- dash", "a: b", "#1 priority", "'quoted'", '"dq"', "[x]",
                     "{y}", "---", "…ünïcode", "null", "~", "@handle", "%pct", "`tick`", "a\nb", "&anchor", "*star"]),
).filter(lambda text: text.strip() != "")


def _lint_paths(root: Path) -> list[tuple[str, str, str]]:
    workspace, load_findings = load_workspace(root)
    return [(f.path, f.code, f.message) for f in lint_workspace(workspace, load_findings, TODAY)]


@pytest.mark.slow  # runs for seconds: many generated examples
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=user_text, action=user_text, name=user_text, contact=user_text, source=user_text)
def test_new_records_from_any_user_text_load_and_lint_clean(title: str, action: str, name: str, contact: str,
                                                           source: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_files(Path(folder), {"crm.yaml": MINIMAL_CONFIG})
        runner = CliRunner()
        env = {"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
        steps = [
            ["new", "client", "acme", "--name", name, "--owner", "ana", "--contact", contact, "--source", source,
             "--notes", action],
            ["new", "deal", "acme-web", "--title", title, "--client", "acme", "--owner", "ben", "--next", action,
             "--due", "+1w", "--source", source, "--value", "100"],
            ["new", "project", "acme-web", "--title", title, "--client", "acme", "--owner", "ana",
             "--deal", "acme-web", "--notes", action],
        ]
        for step in steps:
            result = runner.invoke(cli, [*step, str(root)], env=env)
            assert result.exit_code == 0, (step, result.output)
        workspace, load_findings = load_workspace(root)
        assert load_findings == []
        assert workspace.clients["acme"].name == name.strip()
        assert workspace.deals["acme-web"].title == title.strip()
        assert workspace.deals["acme-web"].next_action == action.strip()
        assert workspace.projects["acme-web"].title == title.strip()
        assert _lint_paths(root) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scope=user_text, stakeholder=user_text, constraints=st.lists(user_text, min_size=1, max_size=3),
       budget=user_text)
@pytest.mark.slow  # runs for seconds: many generated examples
def test_handoff_from_any_user_text_lints_clean(scope: str, stakeholder: str, constraints: list[str],
                                                budget: str) -> None:
    config = MINIMAL_CONFIG + "handoff_fields: [scope_summary, promised_timeline, key_constraints, " \
                              "main_stakeholder, kickoff_date, budget_code]\n"
    with tempfile.TemporaryDirectory() as folder:
        root = write_files(Path(folder), {"crm.yaml": config, "clients/acme.md": CLIENT,
                                          "deals/web.md": WON_DEAL.format(timeline="10 weeks", kickoff="2026-12-07",
                                                                          budget="B-1")})
        env = {"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
        runner = CliRunner()
        # Rewrite the hand-off through the editing path itself, then hand off.
        moved = runner.invoke(cli, ["move", "web", "won", "--scope-summary", scope, "--main-stakeholder", stakeholder,
                                    *[arg for item in constraints for arg in ("--key-constraint", item)],
                                    "--set", f"budget_code={budget}", str(root)], env=env)
        assert moved.exit_code == 0, moved.output
        result = runner.invoke(cli, ["handoff", "web", str(root)], env=env)
        assert result.exit_code == 0, result.output
        workspace, load_findings = load_workspace(root)
        assert load_findings == []
        project = workspace.projects["web"]
        assert project.fields["scope_summary"] == scope.strip()
        assert project.fields["key_constraints"] == [item.strip() for item in constraints]
        assert project.fields["budget_code"] == budget.strip()
        assert _lint_paths(root) == []


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_built_in_template_is_shipped_and_documents_its_variables(name: str, tmp_path: Path) -> None:
    template = find_template(tmp_path, name)
    assert template.source == f"built-in {name}"
    assert "Variables:" in template.text


def test_init_copies_the_templates_and_the_new_workspace_uses_them(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "agency"
    assert runner.invoke(cli, ["init", str(root), "--no-git"]).exit_code == 0
    assert sorted(path.name for path in (root / "templates").iterdir()) == sorted(TEMPLATE_NAMES)
    env = {"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
    for step in (["new", "client", "acme", "--owner", "me"],
                 ["new", "deal", "acme-web", "--title", "Web", "--client", "acme", "--owner", "me",
                  "--next", "Call", "--due", "+3d"],
                 ["move", "acme-web", "won", "--scope-summary", "Site", "--promised-timeline", "8 weeks",
                  "--key-constraint", "Budget", "--main-stakeholder", "Jo", "--kickoff-date", "monday"],
                 ["handoff", "acme-web"]):
        result = runner.invoke(cli, [*step, str(root)], env=env)
        assert result.exit_code == 0, (step, result.output)
        assert "templates/" in result.output or step[0] in ("move",)
    assert _lint_paths(root) == []


def _example(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


def test_plan_handoff_status_due_and_notes(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": CLIENT,
                           "deals/web.md": WON_DEAL.format(timeline="whenever", kickoff="2026-12-07", budget="B")})
    workspace, _ = load_workspace(root)
    plan = plan_handoff(workspace, workspace.deals["web"], TODAY)
    assert plan.due is None
    # the salesperson is not made the project's owner: nobody is, until told (--owner)
    assert plan.notes == ("due left empty: cannot read a date from the promised timeline 'whenever'",
                          "owner left empty: give --owner MEMBER, or set `owner:` in the project, for who runs it")
    assert "\nowner:\n" in plan.project.after and "Handed over by " in plan.project.after
    assert " to (nobody)" not in plan.project.after
    assert "status: planned\n" in plan.project.after and "    status: todo\n" in plan.project.after
    assert "due:\n" in plan.project.after
    assert not (root / "projects").exists()  # planning writes nothing
    assert "budget: 24000\n" in plan.project.after  # the deal's value: its invoices share it


def test_handoff_leaves_the_budget_out_for_a_deal_in_another_currency(make_workspace) -> None:
    deal = WON_DEAL.format(timeline="whenever", kickoff="2026-12-07", budget="B").replace(
        "value: 24000\n", "value: 24000\ncurrency: USD\n")
    root = make_workspace({"clients/acme.md": CLIENT, "deals/web.md": deal})
    workspace, _ = load_workspace(root)
    assert "budget:" not in plan_handoff(workspace, workspace.deals["web"], TODAY).project.after


def test_missing_handoff_fields_matches_lint(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": CLIENT, "deals/web.md": WON_DEAL.format(
        timeline="''", kickoff="2026-02-30", budget="B")})
    workspace, _ = load_workspace(root)
    deal = workspace.deals["web"]
    assert missing_handoff_fields(workspace.config, deal) == ["promised_timeline", "kickoff_date"]
    with pytest.raises(ToolError, match="incomplete: missing promised_timeline, kickoff_date"):
        plan_handoff(workspace, deal, TODAY)


def test_handoff_project_appears_on_the_site_with_its_handoff_context(tmp_path: Path) -> None:
    from plaintext_crm.site.builder import build_site

    root = _example(tmp_path)
    result = CliRunner().invoke(cli, ["handoff", "pinecrest-hotels-microsite", str(root)],
                                env={"PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY})
    assert result.exit_code == 0, result.output
    build_site(root, tmp_path / "site", TODAY)
    page = (tmp_path / "site" / "projects" / "pinecrest-hotels-microsite.html").read_text(encoding="utf-8")
    for text in ("Winter season microsite", "Sofia Marino", "5 weeks from kickoff",
                 "Must be live before 21 December (first ski weekend)",
                 "Planned for: Reuse the existing CMS templates"):
        assert text in page, text
    deal_page = (tmp_path / "site" / "deals" / "pinecrest-hotels-microsite.html").read_text(encoding="utf-8")
    assert "projects/pinecrest-hotels-microsite.html" in deal_page


def test_render_record_refuses_a_template_that_breaks_yaml(tmp_path: Path) -> None:
    from plaintext_crm.editing.record_templates import Template

    template = Template("deal.md", "templates/deal.md", "---\ntitle: Deal {{ title }}: more\n---\n")
    with pytest.raises(ToolError, match="renders front matter the loader cannot read"):
        render_record(template, {"title": "x"}, "deals/x.md")
