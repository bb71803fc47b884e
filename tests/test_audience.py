"""Audiences: crm.yaml settings, refusing unknown names, the restricted workspace, findings and the pages built."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.errors import ToolError
from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records.audience import ANOTHER_PROJECT, ANOTHER_RECORD, check_audience, restrict
from plaintext_crm.records.config import SECTIONS, Audience, load_config
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.site.audience import EVERY_AUDIENCE, page_section, view_findings
from plaintext_crm.site.builder import build_site
from tests.support import EXAMPLE, EXAMPLE_TODAY, MINIMAL_CONFIG

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
AUDIENCES = """
audiences:
  portal:
    clients: [acme]
    sections: [projects, clients]
    hide: [contacts, body, budget_note]
"""
FILES = {
    "clients/acme.md": "---\nname: Acme\ncontacts:\n  - {name: Jane Secret, email: jane@acme.example}\n---\n"
                       "Acme notes.\n\n## 2026-11-01 Call\nPrivate call notes.\n",
    "clients/globex.md": "---\nname: Globex\n---\nGlobex notes.\n",
    "deals/acme-site.md": "---\ntitle: Acme site\nclient: acme\nowner: ana\nstage: won\nvalue: 1000\n"
                          "budget_note: tight\nproject: globex-plan\n---\n",
    "deals/globex-deal.md": "---\ntitle: Globex deal\nclient: globex\nowner: ana\nstage: lead\nvalue: 5\n---\n",
    "projects/acme-build.md": "---\ntitle: Acme build\nclient: acme\ndeal: acme-site\ndepends_on: [globex-plan]\n"
                              "tasks:\n  - {id: a, title: Start, duration: 2, depends_on: [globex-plan/b]}\n---\n",
    "projects/globex-plan.md": "---\ntitle: Globex plan\nclient: globex\ntasks:\n  - {id: b, duration: 3}\n---\n",
}


@pytest.fixture
def portal(make_workspace: Callable[..., Path]) -> Path:
    return make_workspace(FILES, config=MINIMAL_CONFIG + AUDIENCES)


def test_audiences_and_publish_are_read_from_crm_yaml(portal: Path) -> None:
    config, findings = load_config(portal)
    assert findings == []
    assert config.audiences["portal"] == Audience("portal", ("acme",), ("projects", "clients"),
                                                  ("contacts", "body", "budget_note"))
    assert not config.publish.written and not config.publish.encrypt


def test_bad_audience_and_publish_settings_are_findings_with_lines(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({}, config=MINIMAL_CONFIG + "audiences:\n  x:\n    sections: [projects, gantt]\n"
                          "    hid: [body]\npublish:\n  audience: nobody\n  encrypt: yes please\n")
    config, findings = load_config(root)
    shown = [(finding.line, finding.message) for finding in findings]
    assert (10, "audience 'x': unknown section 'gantt' (valid: " + ", ".join(SECTIONS) + ")") in shown
    assert (11, "audience 'x': unknown setting 'hid' (valid: clients, sections, hide)") in shown
    assert (13, "publish: audience 'nobody' is not one of crm.yaml's audiences (x)") in shown
    assert (14, "publish: 'encrypt' must be true or false") in shown
    assert config.publish.encrypt  # a typo reads as the safe choice


@pytest.mark.parametrize(("audience", "message"), [
    ("nobody", "unknown audience 'nobody'; crm.yaml defines: portal"),
    ("typo-key", "audience 'typo-key': unknown key 'contact' in hide; valid keys: body, name, owner, contacts"),
    ("typo-section", "audience 'typo-section': unknown section 'deal'; valid sections: overview, pipeline"),
    ("typo-client", "audience 'typo-client': unknown client 'acmee'; clients: acme, globex"),
])
def test_unknown_names_exit_2_with_the_valid_ones(make_workspace: Callable[..., Path], audience: str,
                                                    message: str) -> None:
    root = make_workspace(FILES, config=MINIMAL_CONFIG + AUDIENCES + "  typo-key: {hide: [contact]}\n"
                          "  typo-section: {sections: [deal]}\n  typo-client: {clients: [acmee]}\n")
    for command in ("build", "serve"):
        result = CliRunner().invoke(cli, [command, str(root), "--today", EXAMPLE_TODAY, "--audience", audience])
        assert result.exit_code == 2
        assert message in result.output
        assert not (root / "site").exists()
    workspace, _ = load_workspace(root)
    with pytest.raises(ToolError):
        check_audience(workspace.config, audience, workspace)


def test_restrict_keeps_the_clients_records_and_removes_hidden_keys_bodies_and_references(portal: Path) -> None:
    workspace, _ = load_workspace(portal)
    view = restrict(workspace, workspace.config.audiences["portal"])
    shown = view.workspace
    assert sorted(shown.clients) == ["acme"] and sorted(shown.deals) == ["acme-site"]
    assert sorted(shown.projects) == ["acme-build"]
    assert shown.files == ("clients/acme.md", "deals/acme-site.md", "projects/acme-build.md")
    acme = shown.clients["acme"]
    assert acme.contacts == () and "contacts" not in acme.fields and "contacts" not in acme.key_lines
    assert acme.body == "" and acme.history == ()
    deal = shown.deals["acme-site"]
    assert "budget_note" not in deal.fields and deal.value == 1000  # value is not hidden for this audience
    assert deal.project is None and deal.fields["project"] == ANOTHER_PROJECT
    project = shown.projects["acme-build"]
    assert project.depends_on == (ANOTHER_PROJECT,) and project.fields["depends_on"] == [ANOTHER_PROJECT]
    assert project.tasks[0].depends_on[0].project == ANOTHER_PROJECT
    assert "globex" not in repr(shown.records())
    assert view.hidden_ids == {"globex", "globex-deal", "globex-plan"}
    assert ANOTHER_RECORD == "another record"


def test_findings_of_hidden_records_keys_and_notes_are_left_out_and_ids_taken_out(portal: Path) -> None:
    workspace, _ = load_workspace(portal)
    portal_audience = workspace.config.audiences["portal"]
    view = restrict(workspace, Audience("with-problems", portal_audience.clients, SECTIONS, portal_audience.hide))
    assert view_findings([], view, workspace) == []

    def finding(path: str, line: int, message: str) -> Finding:
        return Finding(path, line, 1, "X001", "x", Severity.WARNING, message)

    found = [finding("clients/globex.md", 2, "hidden record"), finding("clients/acme.md", 3, "a contact"),
             finding("clients/acme.md", 8, "in the notes"), finding("crm.yaml", 1, "names globex"),
             finding("projects/acme-build.md", 5, "waits for globex-plan/b, not globex-plan-x")]
    kept = view_findings(found, view, workspace)
    assert [(item.path, item.message) for item in kept] == [
        ("projects/acme-build.md", "waits for another record/b, not globex-plan-x")]
    assert view_findings(found, restrict(workspace, portal_audience), workspace) == []  # no problems section


def test_every_page_of_a_full_build_belongs_to_a_section(example_site: Path) -> None:
    outputs = [path.relative_to(example_site).as_posix() for path in example_site.rglob("*")
               if path.is_file() and not path.name.startswith(".") and "static" not in path.parts]
    assert [rel for rel in outputs if page_section(rel) is None and rel not in EVERY_AUDIENCE] == []
    assert {page_section(rel) for rel in outputs} - {None} == set(SECTIONS)


def _links(out: Path) -> list[tuple[str, str]]:
    """(page, site path) of every relative link and asset of every page."""
    found = []
    for page in out.rglob("*.html"):
        rel = page.relative_to(out).as_posix()
        for target in re.findall(r'(?:href|src)="([^"#][^"]*)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(target)
            if parts.scheme or not parts.path:
                continue
            found.append((rel, posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(parts.path)))))
    return found


@pytest.mark.parametrize("name", ["client-northwind", pytest.param("leadership", marks=pytest.mark.slow)])
def test_an_audience_site_links_only_to_pages_it_has(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    out = tmp_path / "site"
    build_site(root, out, TODAY, use_cache=False, audience=name)
    broken = [(page, target) for page, target in _links(out) if not (out / target).is_file()]
    assert broken == []
    sections = load_config(root)[0].audiences[name].sections
    nav = re.findall(r'<nav class="site-nav".*?</nav>', (out / "index.html").read_text(encoding="utf-8"), re.DOTALL)[0]
    if name == "client-northwind":
        assert sections == ("projects",)
        assert re.findall(r">([^<]+)</a></li>", nav) == ["Projects"]
        assert sorted(path.name for path in (out / "projects").glob("*.html")) == [
            "index.html", "northwind-rebrand.html", "northwind-webshop.html"]
        assert not (out / "deals").exists() and not list(out.glob("*.ics"))
    else:
        assert len(re.findall(r"<li><a ", nav)) == 12  # with Workload and Revenue
        emails = {email for client in (root / "clients").glob("*.md")
                  for email in re.findall(r"[\w.+-]+@[\w.-]+", client.read_text(encoding="utf-8"))}
        assert len(emails) > 5
        text = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*") if path.suffix in (".html", ".json"))
        assert [email for email in emails if email in text] == []


def test_a_dependency_on_a_hidden_project_shows_as_another_project(portal: Path) -> None:
    out = portal.parent / "site"
    build_site(portal, out, TODAY, use_cache=False, audience="portal")
    page = (out / "projects" / "acme-build.html").read_text(encoding="utf-8")
    assert f">{ANOTHER_PROJECT}<" in page and "a project not shown here" in page  # its node on the graph
    everything = "".join(path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file())
    assert "globex" not in everything.lower() and "Jane Secret" not in everything
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*.html")) == [
        "clients/acme.html", "clients/index.html", "index.html", "projects/acme-build.html", "projects/index.html"]


def test_a_file_that_did_not_load_is_listed_only_by_a_view_hiding_nothing(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({**FILES, "deals/broken.md": "---\ntitle: [unclosed\n---\n"},
                          config=MINIMAL_CONFIG + "audiences:\n  sections-only: {sections: [problems, deals]}\n"
                                                  "  no-contacts: {hide: [contacts]}\n")
    workspace, findings = load_workspace(root)
    assert "deals/broken.md" in workspace.files and "deals/broken.md" not in {r.path for r in workspace.records()}
    broken = [finding for finding in findings if finding.path == "deals/broken.md"]
    assert broken
    everything = restrict(workspace, workspace.config.audiences["sections-only"])
    assert "deals/broken.md" in everything.workspace.files
    assert view_findings(broken, everything, workspace) == broken
    hiding = restrict(workspace, workspace.config.audiences["no-contacts"])
    assert "deals/broken.md" not in hiding.workspace.files and "broken" in hiding.hidden_ids
    assert view_findings(broken, hiding, workspace) == []
