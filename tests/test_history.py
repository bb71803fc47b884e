"""History from git: real repositories with scripted commits at fixed dates, checked figure by figure."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from plaintext_crm import gitrepo as gitrepo_module
from plaintext_crm.gitrepo import GitFailed, locate_repository, read_head
from plaintext_crm.history import gitlog as gitlog_module
from plaintext_crm.history import notices
from plaintext_crm.history import record_history as history_module
from plaintext_crm.history.deal_versions import DealFieldReader, read_deal_fields
from plaintext_crm.history.record_history import read_history, read_stage_summary
from plaintext_crm.history.stages import (
    UNCOMMITTED,
    days_in_stage,
    deal_history_data,
    stage_dates,
    stage_funnel,
    stage_history,
    stage_since,
    stage_times,
)
from plaintext_crm.lint.run import run_lint
from plaintext_crm.records.cache_store import cache_folder
from plaintext_crm.records.loader import load_workspace
from tests.history_support import CONFIG, TODAY, ScriptedRepo, deal, scripted

pytestmark = pytest.mark.git


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def repo(tmp_path: Path) -> ScriptedRepo:
    return scripted(tmp_path / "repo")


def test_per_deal_facts_follow_the_rename(repo: ScriptedRepo) -> None:
    history = read_history(repo.root, use_cache=False)
    assert history.available and not history.shallow and history.notices == ()
    assert history.commit_count == 7
    assert sorted(history.records) == ["clients/acme.md", "deals/acme-site.md", "deals/app.md", "projects/p.md"]
    record = history.records["deals/acme-site.md"]
    assert record.former_paths == ("deals/site.md",)
    assert [(visit.stage, visit.entered, visit.commit.author) for visit in record.visits] == [
        ("lead", d("2026-09-01"), "Ana Ruiz"), ("qualified", d("2026-09-15"), "Ben Okafor"),
        ("proposal", d("2026-10-01"), "Ana Ruiz"), ("negotiation", d("2026-11-02"), "Ana Ruiz")]
    assert [(change.field, change.old, change.new, change.commit.date) for change in record.changes] == [
        ("stage", "lead", "qualified", d("2026-09-15")), ("owner", "ana", "ben", d("2026-09-15")),
        ("stage", "qualified", "proposal", d("2026-10-01")), ("value", 10000, 12000, d("2026-10-01")),
        ("stage", "proposal", "negotiation", d("2026-11-02")),
        ("expected_close", d("2026-12-01"), d("2027-01-15"), d("2026-11-02"))]
    assert [(touch.action, touch.commit.date, touch.commit.author) for touch in record.touches] == [
        ("created", d("2026-09-01"), "Ana Ruiz"), ("edited", d("2026-09-15"), "Ben Okafor"),
        ("edited", d("2026-10-01"), "Ana Ruiz"), ("renamed", d("2026-10-20"), "Ben Okafor"),
        ("edited", d("2026-11-02"), "Ana Ruiz")]
    assert record.created is not None and record.created.commit.subject == "Acme: website lead"
    assert (record.last_changed.commit.date, record.last_changed.commit.email) == (d("2026-11-02"), "ana@example.com")
    assert record.committed["stage"] == "negotiation"
    client = history.records["clients/acme.md"]
    assert (client.created.commit.date, client.last_changed.commit.date) == (d("2026-09-01"), d("2026-09-01"))
    assert [(gone.path, gone.deleted, gone.last_changed.action, gone.last_changed.commit.author)
            for gone in history.removed] == [("deals/old.md", True, "deleted", "Ben Okafor")]


def test_stage_history_spans_and_days(repo: ScriptedRepo) -> None:
    history = read_history(repo.root, use_cache=False)
    workspace, _ = load_workspace(repo.root)
    spans = stage_history(history, workspace.deals["acme-site"], TODAY)
    assert [(span.stage, span.entered, span.left, span.author) for span in spans] == [
        ("lead", d("2026-09-01"), d("2026-09-15"), "Ana Ruiz"),
        ("qualified", d("2026-09-15"), d("2026-10-01"), "Ben Okafor"),
        ("proposal", d("2026-10-01"), d("2026-11-02"), "Ana Ruiz"),
        ("negotiation", d("2026-11-02"), None, "Ana Ruiz")]
    assert [span.days(TODAY) for span in spans] == [14, 16, 32, 24]
    assert stage_since(history, workspace.deals["acme-site"], TODAY) == d("2026-11-02")
    assert stage_since(history, workspace.deals["app"], TODAY) == d("2026-11-10")
    assert days_in_stage(history, workspace.deals["acme-site"], TODAY) == 24
    data = deal_history_data(history, workspace.deals["acme-site"], TODAY)
    assert data["stage_since"] == "2026-11-02" and data["days_in_stage"] == 24
    assert data["stage_history"][0] == {"stage": "lead", "entered": "2026-09-01", "left": "2026-09-15",
                                        "author": "Ana Ruiz", "commit": spans[0].commit, "exact": True,
                                        "days": 14}
    assert (data["created_on"], data["created_by"], data["last_changed_on"]) == ("2026-09-01", "Ana Ruiz",
                                                                                   "2026-11-02")


def test_front_matter_stage_since_wins_and_uncommitted_changes_count_from_today(repo: ScriptedRepo) -> None:
    repo.write({"deals/acme-site.md": deal("negotiation", owner="ben", value=12000, expected_close="2027-01-15",
                                           extra="stage_since: 2026-10-30\n"),
                "deals/app.md": deal("proposal", owner="cy"),
                "deals/fresh.md": deal("lead")})
    history = read_history(repo.root, use_cache=False)
    workspace, _ = load_workspace(repo.root)
    site = stage_history(history, workspace.deals["acme-site"], TODAY)
    assert [(span.stage, span.entered, span.left) for span in site[-2:]] == [
        ("proposal", d("2026-10-01"), d("2026-10-30")), ("negotiation", d("2026-10-30"), None)]
    app = stage_history(history, workspace.deals["app"], TODAY)
    assert [(span.stage, span.entered, span.left, span.author) for span in app] == [
        ("qualified", d("2026-11-10"), TODAY, "Cy Twombly"), ("proposal", TODAY, None, UNCOMMITTED)]
    assert stage_since(history, workspace.deals["fresh"], TODAY) == TODAY
    summary, notices = read_stage_summary(repo.root, use_cache=False)
    assert notices == ()
    # The lint seam resolves the same dates as the full history, front matter included.
    assert stage_dates(summary, workspace, TODAY).since == {
        "acme-site": d("2026-10-30"), "app": TODAY, "fresh": TODAY}


def test_time_in_each_stage_counts_every_stay() -> None:
    from plaintext_crm.history.stages import StageSpan

    spans = (StageSpan("lead", d("2026-01-01"), d("2026-01-11"), "a", "1", True),
             StageSpan("qualified", d("2026-01-11"), d("2026-01-15"), "a", "2", True),
             StageSpan("lead", d("2026-01-15"), d("2026-01-20"), "a", "3", True),
             StageSpan("qualified", d("2026-01-20"), None, "a", "4", True))
    assert [(time.stage, time.first_entered, time.last_exited, time.days) for time in stage_times(spans, d("2026-01-30"))] == [
        ("lead", d("2026-01-01"), d("2026-01-20"), 15), ("qualified", d("2026-01-11"), None, 14)]


def test_funnel_conversion_average_days_and_sales_cycle(tmp_path: Path) -> None:
    repo = ScriptedRepo(tmp_path / "funnel")
    repo.commit("2026-01-01T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "deals/a.md": deal("lead"),
                                                     "deals/b.md": deal("lead"), "deals/c.md": deal("lead")})
    repo.commit("2026-01-11T10:00:00+00:00", "ana", {"deals/a.md": deal("qualified"), "deals/b.md": deal("qualified")})
    repo.commit("2026-01-21T10:00:00+00:00", "ben", {"deals/a.md": deal("won"), "deals/b.md": deal("lost")})
    history = read_history(repo.root, use_cache=False)
    workspace, _ = load_workspace(repo.root)
    funnel = stage_funnel(history, workspace, d("2026-02-01"))
    rows = [(row.stage, row.reached, row.moved_on, row.conversion, row.average_days, row.finished_stays)
            for row in funnel.stages]
    # a won: reached every open stage; b lost from qualified; c still a lead.
    assert rows == [("lead", 3, 2, 2 / 3, 10.0, 2), ("qualified", 2, 1, 0.5, 10.0, 2),
                    ("proposal", 1, 1, 1.0, None, 0), ("negotiation", 1, 1, 1.0, None, 0)]
    assert funnel.won == 1
    assert funnel.average_sales_cycle_days == 20.0 and funnel.sales_cycle_deals == ("a",)


def test_workspace_in_a_sub_folder_of_a_repository(tmp_path: Path) -> None:
    repo = scripted(tmp_path / "code", workspace="crm/ws")
    (repo.top / "src").mkdir()
    (repo.top / "src" / "app.py").write_text("print(1)\n")
    repo.commit("2026-11-20T10:00:00+00:00", "cy", {"deals/acme-site.md": deal("won", owner="ben")},
                message="Won, and some code")
    found = locate_repository(repo.root)
    assert found is not None and found.prefix == "crm/ws/"
    history = read_history(repo.root, use_cache=False)
    assert sorted(history.records) == ["clients/acme.md", "deals/acme-site.md", "deals/app.md", "projects/p.md"]
    assert [visit.stage for visit in history.records["deals/acme-site.md"].visits][-1] == "won"
    assert history.commit_count == 8


def test_shallow_clone_uses_what_is_there_and_says_so(repo: ScriptedRepo, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", repo.top.as_uri(), str(clone)], check=True,
                   capture_output=True)
    history = read_history(clone, use_cache=False)
    assert history.shallow and history.commit_count == 2
    assert history.notices and "shallow clone" in history.notices[0] and "2026-11-10" in history.notices[0]
    site = history.records["deals/acme-site.md"]
    assert site.created is None and not site.complete
    assert [(visit.stage, visit.entered, visit.exact) for visit in site.visits] == [
        ("negotiation", d("2026-11-10"), False)]
    workspace, _ = load_workspace(clone)
    spans = stage_history(history, workspace.deals["acme-site"], TODAY)
    assert [(span.entered, span.exact) for span in spans] == [(d("2026-11-10"), False)]
    assert [(gone.path, gone.complete) for gone in history.removed] == [("deals/old.md", False)]


def test_no_repository_and_no_git(make_workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = make_workspace({"deals/x.md": deal("proposal", extra="stage_since: 2026-11-01\n"),
                           "deals/y.md": deal("proposal")})
    history = read_history(root)
    assert not history.available and history.records == {}
    assert history.notices == ("not a git repository: days in stage come from front matter stage_since only",)
    workspace, _ = load_workspace(root)
    assert stage_since(history, workspace.deals["x"], TODAY) == d("2026-11-01")
    assert stage_since(history, workspace.deals["y"], TODAY) is None
    assert read_stage_summary(root) == (None, history.notices)
    repo = scripted(tmp_path / "nogit")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    history = read_history(repo.root)
    assert not history.available and "git is not installed" in history.notices[0]


def test_git_failure_is_a_notice_not_a_crash(repo: ScriptedRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise GitFailed("fatal: detected dubious ownership")

    monkeypatch.setattr(gitlog_module, "run_git", broken)
    history = read_history(repo.root, use_cache=False)
    assert not history.available
    assert history.notices == (("cannot read git history (fatal: detected dubious ownership): "
                               "days in stage come from front matter only"),)


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = ScriptedRepo(tmp_path / "new")
    repo.write({"crm.yaml": CONFIG, "deals/a.md": deal("lead")})
    history = read_history(repo.root)
    assert history.available and history.head is None and history.records == {}
    workspace, _ = load_workspace(repo.root)
    assert stage_since(history, workspace.deals["a"], TODAY) == TODAY


def test_cache_by_head(repo: ScriptedRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    first = read_history(repo.root)
    assert (cache_folder(repo.root) / history_module.CACHE_FILE).is_file()
    assert not (repo.root / ".plaintext-crm").exists()  # never inside the repository

    def no_git(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("an unchanged repository must not run git")

    for module in (history_module, gitlog_module, gitrepo_module):
        monkeypatch.setattr(module, "run_git", no_git)
    again = read_history(repo.root)
    assert again == first
    summary, _ = read_stage_summary(repo.root)
    assert summary is not None and summary["deals/acme-site.md"][1][-1] == ("negotiation", d("2026-11-02"), None, True)
    monkeypatch.undo()
    repo.commit("2026-11-25T10:00:00+00:00", "cy", {"deals/app.md": deal("proposal", owner="cy")})
    summary, _ = read_stage_summary(repo.root)
    assert summary is not None and summary["deals/app.md"][1][-1] == ("proposal", d("2026-11-25"), None, True)
    # A corrupt cache is rebuilt, never trusted.
    (cache_folder(repo.root) / history_module.CACHE_FILE).write_bytes(b"\x80garbage")
    assert read_history(repo.root).records["deals/app.md"].committed["stage"] == "proposal"


def test_head_from_loose_and_packed_refs(repo: ScriptedRepo) -> None:
    found = locate_repository(repo.root)
    assert found is not None
    expected = repo.git("rev-parse", "HEAD").strip()
    assert read_head(found) == expected
    repo.git("pack-refs", "--all")
    assert not (found.git_dir / "refs" / "heads" / "main").exists()
    assert read_head(found) == expected


def test_declared_stage_since_in_a_commit_wins_over_the_commit_date(tmp_path: Path) -> None:
    repo = ScriptedRepo(tmp_path / "declared")
    repo.commit("2026-10-01T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "deals/a.md": deal("lead")})
    repo.commit("2026-10-25T10:00:00+00:00", "ana", {"deals/a.md": deal("proposal", extra="stage_since: 2026-10-20\n")})
    # Moving on without touching the now stale stage_since: the commit date counts for the new stage.
    repo.commit("2026-11-05T10:00:00+00:00", "ben", {"deals/a.md": deal("negotiation",
                                                                        extra="stage_since: 2026-10-20\n")})
    history = read_history(repo.root, use_cache=False)
    visits = history.records["deals/a.md"].visits
    assert [(visit.stage, visit.entered) for visit in visits] == [
        ("lead", d("2026-10-01")), ("proposal", d("2026-10-20")), ("negotiation", d("2026-11-05"))]


def test_lint_counts_rotting_from_git_history(repo: ScriptedRepo) -> None:
    repo.commit("2026-11-20T10:00:00+00:00", "ana", {"deals/app.md": deal("proposal", owner="cy")})
    repo.commit("2026-10-05T10:00:00+00:00", "ana", {"deals/late.md": deal("proposal")})
    rotting = [(f.path, f.code) for f in run_lint(repo.root, TODAY).findings if f.code == "D006"]
    assert rotting == [("deals/late.md", "D006")]
    repo.write({"deals/late.md": deal("negotiation")})  # moved on, not committed yet: counts from today
    assert [f for f in run_lint(repo.root, TODAY).findings if f.code == "D006"] == []


TRICKY = [
    deal("lead"),
    deal("lead", extra="stage_since: 2026-11-01  # after the call\n"),
    "---\n\"stage\": proposal\nowner: ana\n---\n",
    "---\nstage: >\n  proposal\nowner: ana\n---\n",
    "---\n{stage: won, owner: ben, value: 5}\n---\n",
    "---\nstage: lead\nvalue: 12k\nexpected_close: 2026-02-30\n---\n",
    "---\nstage: 'lead'\nowner: \"ana\"\nvalue: 1_000\ncurrency: usd\n---\n",
    "---\nstage: lead\nstage: won\n---\n",
    "---\nowner:\n  - ana\n  - ben\nstage: lead\n---\n",
    "---\nstage: [lead\n---\n",
    "no front matter\n",
    "---\ntitle: x\n# stage: won\nstage: lost\n---\n",
    "---\r\nstage: won\r\nowner: ana\r\n---\r\nBody\r\n",
    "\ufeff---\nstage: lost\n...\nBody\n",
    "---\ntitle: \"two\nstage: won\"\nstage: lead\n---\n",
    "---\ntags: [a,\nstage: won]\nowner: ben\n---\n",
    "---\nstage: lead\nnote: a\u2028stage: won\n---\n",
    "---\nstage: lead\n---\n" + "## 2026-01-01 Note\n" * 500,
    "---   \nstage: lead\n---  \n",
    "--- \nstage: lead\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_line_scanner_reads_like_the_full_parser(text: str) -> None:
    raw = text.encode()
    assert DealFieldReader().read(raw) == read_deal_fields(raw)


def test_new_commits_are_folded_onto_the_cached_history(repo: ScriptedRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    read_history(repo.root)
    repo.commit("2026-11-20T10:00:00+00:00", "cy", {"deals/app.md": deal("proposal", owner="ben")},
                renames={"deals/acme-site.md": "deals/acme.md"})
    repo.commit("2026-11-21T10:00:00+00:00", "ana", {"deals/app.md": None, "clients/acme.md": "---\nname: ACME\n---\n"})
    ranges: list[str | None] = []
    real_log = gitlog_module.git_log

    def logged(root: Path, prefix: str = "", after: str | None = None, until: str = "HEAD") -> bytes:
        ranges.append(after)
        return real_log(root, prefix, after, until)

    monkeypatch.setattr(gitlog_module, "git_log", logged)
    incremental = read_history(repo.root)
    assert len(ranges) == 1 and ranges[0] is not None  # only the two new commits were read
    full = read_history(repo.root, use_cache=False)
    assert incremental == full
    assert incremental.commit_count == 9
    assert incremental.records["deals/acme.md"].former_paths == ("deals/site.md", "deals/acme-site.md")
    assert [gone.path for gone in incremental.removed] == ["deals/old.md", "deals/app.md"]
    # Rewritten history (amend): the cached HEAD is no longer an ancestor, so everything is read again.
    repo.git("commit", "-q", "--amend", "-m", "Reworded", when="2026-11-22T10:00:00+00:00")
    ranges.clear()
    rewritten = read_history(repo.root)
    assert ranges == [None]
    assert rewritten == read_history(repo.root, use_cache=False)
    assert rewritten.records["clients/acme.md"].last_changed.commit.subject == "Reworded"


def test_one_line_scanner_shared_across_versions_keeps_them_apart() -> None:
    reader = DealFieldReader()
    versions = [text.encode() for text in TRICKY * 2]
    assert [reader.read(raw) for raw in versions] == [read_deal_fields(raw) for raw in versions]
    assert reader.full_parses > 0  # the unusual ones did go to the full parser


def test_a_long_history_read_as_two_halves_is_the_same(repo: ScriptedRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    single = read_history(repo.root, use_cache=False)
    monkeypatch.setattr(gitlog_module, "PARALLEL_LOG_MIN", 2)
    monkeypatch.setattr(gitlog_module.os, "cpu_count", lambda: 2)
    calls: list[tuple[str | None, str]] = []
    real_log = gitlog_module.git_log

    def logged(root: Path, prefix: str = "", after: str | None = None, until: str = "HEAD") -> bytes:
        calls.append((after, until))
        return real_log(root, prefix, after, until)

    monkeypatch.setattr(gitlog_module, "git_log", logged)
    assert read_history(repo.root, use_cache=False) == single
    assert len(calls) == 2 and calls[0][0] is None and calls[1][0] == calls[0][1]


def test_inside_a_git_hook_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = scripted(tmp_path / "hooked", workspace="crm")
    # What git exports to hooks, relative to the top of the repository; the workspace is a sub-folder.
    monkeypatch.setenv("GIT_DIR", ".git")
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index")
    history = read_history(repo.root, use_cache=False)
    assert history.available and "deals/acme-site.md" in history.records


def test_no_git_notice_is_said_once_per_workspace(make_workspace, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    quiet = make_workspace({"deals/x.md": deal("proposal")}, name="quiet")  # no stage rots: nothing to say
    root = make_workspace({"deals/x.md": deal("proposal"), "deals/y.md": deal("won")}, config=CONFIG)
    for _run in range(2):  # two runs of `plaintext-crm lint` each: a fresh process each time
        for workspace in (quiet, root):
            monkeypatch.setattr(notices, "_SAID", set())
            run_lint(workspace, TODAY)
    assert capsys.readouterr().err == ("note: not a git repository: days in stage come from front matter "
                                       "stage_since only; open deals in stages with rot_days need one, "
                                       "or D006 cannot flag them\n")
