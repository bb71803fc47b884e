"""The build command and pipeline: output folder safety, swap-in, broken files, reuse, overrides, CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.errors import ToolError
from plaintext_crm.site import builder
from plaintext_crm.site.builder import build_site
from tests.support import EXAMPLE, EXAMPLE_TODAY

TODAY = dt.date(2026, 11, 26)

DEAL = """\
---
title: Website <script>alert(1)</script>
client: acme
owner: ana
stage: proposal
value: 24000
created: 2026-09-01
expected_close: 2026-12-15
next_action: Send proposal
next_action_due: 2026-11-20
stage_since: 2026-10-20
budget_holder: CFO
---
Notes with <script>alert("x")</script> and [bad](javascript:alert(1)).

## 2026-10-20 Proposal sent
Sent v1.
"""
CLIENT = "---\nname: Acme & Sons\nowner: ana\ncontacts:\n  - {name: Jane Roe, role: CEO, email: jane@acme.example}\n---\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def test_builds_every_page_of_a_small_workspace(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT})
    result = build_site(root, root / "site", TODAY)
    files = tree(root / "site")
    for name in ("index.html", "board.html", "forecast.html", "followups.html", "followups.ics",
                 "followups-ana.ics", "handoffs.html", "problems.html", "clients/index.html", "clients/acme.html",
                 "deals/website.html", "data.json", "static/site.css", "static/board.js"):
        assert name in files, name
    assert result.pages == len([name for name in files if not name.startswith(("static/", ".plaintext-crm-site"))])
    deal = files["deals/website.html"].decode()
    assert "<script>alert" not in deal and "&lt;script&gt;alert(&#34;x&#34;)" in deal.replace("&quot;", "&#34;")
    assert 'href="javascript' not in deal
    assert "budget_holder" in deal and "CFO" in deal  # unknown keys are shown
    assert "Proposal sent" in deal
    assert 'href="../clients/acme.html"' in deal and 'href="../static/site.css"' in deal
    assert "Acme &amp; Sons" in files["clients/acme.html"].decode()
    assert files["followups.ics"].startswith(b"BEGIN:VCALENDAR\r\n")


def test_ids_that_need_escaping_get_working_links(make_workspace) -> None:
    root = make_workspace({"deals/big deal#1.md": DEAL, "clients/acme.md": CLIENT})
    build_site(root, root / "site", TODAY)
    assert (root / "site" / "deals" / "big deal#1.html").is_file()
    board = (root / "site" / "board.html").read_text(encoding="utf-8")
    assert 'href="deals/big%20deal%231.html"' in board


def test_data_json_has_the_model_and_figures(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT})
    build_site(root, root / "site", TODAY)
    data = json.loads((root / "site" / "data.json").read_text(encoding="utf-8"))
    assert data["today"] == "2026-11-26"
    assert data["deals"]["website"]["fields"]["budget_holder"] == "CFO"
    assert data["deals"]["website"]["expected_close"] == "2026-12-15"
    assert data["clients"]["acme"]["contacts"][0]["name"] == "Jane Roe"
    assert data["figures"]["overview"]["open_pipeline"]["amount"]["value"] == 24000
    assert data["figures"]["deals"]["website"]["follow_up"] == "overdue"
    assert data["pages"]["deals/website.md"] == "deals/website.html"


def test_broken_files_still_build_and_are_listed(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT,
                           "deals/broken.md": "---\ntitle: [unclosed\n---\n", "deals/bad-value.md":
                           "---\ntitle: X\nstage: lead\nvalue: lots\n---\n"})
    build_site(root, root / "site", TODAY)
    problems = (root / "site" / "problems.html").read_text(encoding="utf-8")
    assert "deals/broken.md" in problems and "F001" in problems and "(could not be loaded)" in problems
    assert "deals/bad-value.md" in problems and 'href="deals/bad-value.html"' in problems
    assert (root / "site" / "deals" / "website.html").is_file()


@pytest.mark.parametrize("where", ["root", "parent"])
def test_refuses_an_output_folder_that_is_or_contains_the_workspace(make_workspace, where: str) -> None:
    root = make_workspace({"deals/website.md": DEAL})
    out = root if where == "root" else root.parent
    with pytest.raises(ToolError, match="is or contains the workspace"):
        build_site(root, out, TODAY)
    assert (root / "deals" / "website.md").is_file()


@pytest.mark.parametrize("folder", ["deals", "site-templates/out", ".git"])
def test_refuses_an_output_folder_inside_the_workspace_data(make_workspace, folder: str) -> None:
    root = make_workspace({"deals/website.md": DEAL})
    with pytest.raises(ToolError, match="belongs to the workspace"):
        build_site(root, root / folder, TODAY)
    assert (root / "deals" / "website.md").is_file()


def test_refuses_to_replace_a_folder_that_is_not_a_site(make_workspace, tmp_path: Path) -> None:
    root = make_workspace({"deals/website.md": DEAL})
    other = tmp_path / "documents"
    other.mkdir()
    (other / "letter.txt").write_text("keep me")
    with pytest.raises(ToolError, match="plaintext-crm did not write"):
        build_site(root, other, TODAY)
    assert (other / "letter.txt").read_text() == "keep me"


def test_a_failed_build_leaves_the_previous_site_intact(make_workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT})
    build_site(root, root / "site", TODAY)
    before = tree(root / "site")
    (root / "deals" / "website.md").write_text(DEAL.replace("Send proposal", "Call back"), encoding="utf-8")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(builder, "_write_page", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        build_site(root, root / "site", TODAY, use_cache=False)
    assert tree(root / "site") == before
    leftovers = [entry.name for entry in root.iterdir() if entry.name.startswith(".site-")]
    assert leftovers == []


def test_rebuild_after_one_change_equals_a_full_build(make_workspace, tmp_path: Path) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT,
                           "deals/other.md": DEAL.replace("Website", "Other"),
                           "clients/zeta.md": "---\nname: Zeta\n---\n"})
    build_site(root, root / "site", TODAY)
    path = root / "deals" / "website.md"
    path.write_text(DEAL.replace("value: 24000", "value: 30000"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    incremental = build_site(root, root / "site", TODAY)
    assert incremental.reused > 0 and incremental.rendered < incremental.pages
    full_out = tmp_path / "full"
    build_site(root, full_out, TODAY, use_cache=False)
    assert tree(root / "site") == tree(full_out)
    assert "€30,000" in (root / "site" / "deals" / "website.html").read_text(encoding="utf-8")


def test_a_changed_day_renders_everything_again(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT})
    build_site(root, root / "site", TODAY)
    again = build_site(root, root / "site", TODAY + dt.timedelta(days=1))
    assert again.reused == 0


def test_workspace_templates_override_builtin_ones(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT,
                           "site-templates/_footer.html": "<footer>Our own footer {{ config.name }}</footer>\n",
                           "site-templates/static/extra.css": "body { color: red; }\n"})
    build_site(root, root / "site", TODAY)
    assert "Our own footer Test Studio" in (root / "site" / "index.html").read_text(encoding="utf-8")
    assert (root / "site" / "static" / "extra.css").is_file()
    assert (root / "site" / "static" / "site.css").is_file()


@pytest.mark.slow  # a CLI process reading this checkout's git history
def test_cli_build_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(EXAMPLE), "-o", str(out), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built ") and " pages " in result.output and " s; " in result.output
    assert (out / "index.html").is_file()


def test_cli_build_refusal_is_a_clean_error(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL})
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(root)])
    assert result.exit_code == 2
    assert "refusing to build into" in result.output and "Traceback" not in result.output


@pytest.mark.slow  # a process pool
def test_parallel_rendering_gives_the_same_site(make_workspace, tmp_path: Path, monkeypatch) -> None:
    files = {"clients/acme.md": CLIENT}
    files.update({f"deals/deal-{index:03}.md": DEAL.replace("Website", f"Deal {index}") for index in range(30)})
    root = make_workspace(files)
    build_site(root, tmp_path / "serial", TODAY, use_cache=False, jobs=1)
    monkeypatch.setattr(builder, "PARALLEL_MIN_PAGES", 1)
    build_site(root, tmp_path / "parallel", TODAY, use_cache=False, jobs=2)
    assert tree(tmp_path / "serial") == tree(tmp_path / "parallel")


@pytest.mark.slow  # runs for a second or more: several builds
def test_whole_workspace_pages_are_reused_when_only_notes_change(make_workspace, tmp_path: Path) -> None:
    """A deal's notes appear only on its own page and in data.json: the board, lists and other pages built
    from records and figures are reused; a front matter change renders them again. Both equal a full build."""
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": CLIENT,
                           "deals/other.md": DEAL.replace("Website", "Other")})
    build_site(root, root / "site", TODAY)
    board_inode = (root / "site" / "board.html").stat().st_ino
    path = root / "deals" / "website.md"

    def save(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))

    save(DEAL + "\nOne more line of notes.\n")
    notes_only = build_site(root, root / "site", TODAY)
    assert (root / "site" / "board.html").stat().st_ino == board_inode  # hard-linked from the previous build
    assert "One more line of notes." in (root / "site" / "data.json").read_text(encoding="utf-8")
    assert tree(root / "site") == tree(build_site(root, tmp_path / "full1", TODAY, use_cache=False).out)

    save(DEAL.replace("value: 24000", "value: 30000"))
    value_changed = build_site(root, root / "site", TODAY)
    assert value_changed.rendered > notes_only.rendered
    assert "€30,000" in (root / "site" / "board.html").read_text(encoding="utf-8")
    assert tree(root / "site") == tree(build_site(root, tmp_path / "full2", TODAY, use_cache=False).out)


def test_a_project_checklist_in_the_notes_renders_the_project_list_again(make_workspace, tmp_path: Path) -> None:
    """A project's notes hold its kickoff checklist, which its status reads: they count as a change of the
    records the whole-workspace pages are built from."""
    project = ("---\ntitle: Relaunch\nclient: acme\nstatus: active\nstart: 2026-11-02\ndue: 2026-12-18\n"
               "tasks:\n  - {id: design, duration: 5}\n---\n## Kickoff checklist\n- [ ] Access to hosting\n")
    root = make_workspace({"clients/acme.md": CLIENT, "projects/relaunch.md": project})
    build_site(root, root / "site", TODAY)
    index_inode = (root / "site" / "projects" / "index.html").stat().st_ino
    path = root / "projects" / "relaunch.md"
    path.write_text(project.replace("- [ ]", "- [x]"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    build_site(root, root / "site", TODAY)
    assert (root / "site" / "projects" / "index.html").stat().st_ino != index_inode
    assert tree(root / "site") == tree(build_site(root, tmp_path / "full", TODAY, use_cache=False).out)
