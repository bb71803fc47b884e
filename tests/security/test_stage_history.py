"""Stage history is one consistent story: stale stage_since, merges and clocks cannot make stays contradict."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.analysis import analyze
from plaintext_crm.cli import cli
from plaintext_crm.history import notices
from plaintext_crm.history.activity import activity
from plaintext_crm.history.deal_versions import TRACKED
from plaintext_crm.history.gitlog import Commit, LogCommit, LogEntry
from plaintext_crm.history.reader import GitHistory
from plaintext_crm.history.record_history import History, as_of, fold_history, read_history, stage_summary
from plaintext_crm.history.stages import StageSpan, resolve_stays, stage_history
from plaintext_crm.records.frontmatter import ParsedFile
from plaintext_crm.records.loader import build_deal, load_workspace
from tests.history_support import ScriptedRepo, deal

pytestmark = pytest.mark.git

TODAY = dt.date(2026, 11, 26)
CONFIG = """\
name: Test
team: {ana: {name: Ana Ruiz}, ben: {name: Ben Okafor}, cy: {name: Cy Twombly}}
pipeline:
  - {stage: lead, probability: 0.1, rot_days: 21}
  - {stage: qualified, probability: 0.25, rot_days: 21}
  - {stage: proposal, probability: 0.5, rot_days: 14}
  - {stage: negotiation, probability: 0.75, rot_days: 14}
  - {stage: won, closed: won}
  - {stage: lost, closed: lost}
"""
STALE = "stage_since: 2026-10-20\n"
MOVED_SINCE_COMMIT = ("stage_since 2026-10-20 but the deal moved to negotiation since the last commit; "
                      "update stage_since or remove it")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def lint_json(root: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """Exit code, findings and stderr of `plaintext-crm lint --format json`."""
    result = CliRunner().invoke(cli, ["lint", str(root), "--format", "json", "--today", TODAY.isoformat(), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)["findings"], result.stderr


def spans_of(root: Path, deal_id: str, today: dt.date = TODAY) -> tuple[StageSpan, ...]:
    history = read_history(root, use_cache=False)
    workspace, _ = load_workspace(root)
    return stage_history(history, workspace.deals[deal_id], today)


def assert_consistent(spans: tuple[StageSpan, ...], today: dt.date) -> None:
    """Stays are contiguous and ordered, none ends before it begins, the last is open, nothing after today."""
    assert spans
    for span, following in itertools.pairwise(spans):
        assert span.left == following.entered
        assert span.entered <= span.left <= today
    assert spans[-1].left is None and spans[-1].entered <= today
    assert all(span.days(today) >= 0 for span in spans)
    assert sum(span.days(today) for span in spans) == (today - spans[0].entered).days


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each CLI run in a test says its notes as a new process would."""
    monkeypatch.setattr(notices, "_SAID", set())


@pytest.fixture
def repro(tmp_path: Path) -> ScriptedRepo:
    """The issue's repro: proposal with stage_since 10-20, negotiation 11-10, back to proposal 11-20,
    stage_since never edited after the first commit."""
    repo = ScriptedRepo(tmp_path / "repro")
    repo.commit("2026-10-20T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "clients/acme.md": "---\nname: Acme\n---\n",
                                                     "deals/site.md": deal("proposal", extra=STALE)})
    repo.commit("2026-11-10T10:00:00+00:00", "ben", {"deals/site.md": deal("negotiation", extra=STALE)})
    repo.commit("2026-11-20T10:00:00+00:00", "ana", {"deals/site.md": deal("proposal", extra=STALE)})
    return repo


def test_repro_stale_stage_since_does_not_rewrite_history(repro: ScriptedRepo) -> None:
    spans = spans_of(repro.root, "site")
    assert [(span.stage, span.entered, span.left) for span in spans] == [
        ("proposal", d("2026-10-20"), d("2026-11-10")), ("negotiation", d("2026-11-10"), d("2026-11-20")),
        ("proposal", d("2026-11-20"), None)]
    assert spans[-1].days(TODAY) == 6
    assert_consistent(spans, TODAY)


def test_repro_stale_stage_since_is_a_warning_and_does_not_rot(repro: ScriptedRepo) -> None:
    code, findings, _ = lint_json(repro.root)
    assert code == 0
    assert [(item["code"], item["line"], item["severity"], item["message"]) for item in findings] == [
        ("D012", 10, "warning", ("stage_since 2026-10-20 but git shows the deal moved to proposal on 2026-11-20; "
                                 "update stage_since or remove it"))]


def test_repro_site_figures_agree_with_the_stays(repro: ScriptedRepo) -> None:
    workspace, _ = load_workspace(repro.root)
    figures = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    data = figures.deals["site"]
    assert (data["stage_since"], data["days_in_stage"]) == ("2026-11-20", 6)
    assert [(item["stage"], item["entered"], item["left"], item["days"]) for item in data["stage_history"]] == [
        ("proposal", "2026-10-20", "2026-11-10", 21), ("negotiation", "2026-11-10", "2026-11-20", 10),
        ("proposal", "2026-11-20", None, 6)]
    assert [(item["stage"], item["days"]) for item in data["stage_times"]] == [("proposal", 27), ("negotiation", 10)]
    assert_consistent(tuple(StageSpan(item["stage"], d(item["entered"]), d(item["left"]) if item["left"] else None,
                                      item["author"], item["commit"], item["exact"])
                            for item in data["stage_history"]), TODAY)


def test_repro_board_figures_agree_with_the_stays(repro: ScriptedRepo) -> None:
    workspace, findings = load_workspace(repro.root)
    figures = analyze(workspace, TODAY, load_findings=findings)
    site = figures.crm.deals["site"]
    assert (site.stage_since, site.days_in_stage, site.rotting) == (d("2026-11-20"), 6, False)


@pytest.mark.parametrize(("front", "since", "left"), [
    ("stage_since: 2026-11-20\n", d("2026-11-20"), d("2026-11-20")),  # updated to git's date
    ("stage_since: 2026-11-15\n", d("2026-11-15"), d("2026-11-15")),  # the move was made before it was committed
    ("", d("2026-11-20"), d("2026-11-20")),  # removed: git's date counts
])
def test_updating_or_removing_the_stale_stage_since_fixes_it(repro: ScriptedRepo, front: str, since: dt.date,
                                                              left: dt.date) -> None:
    repro.write({"deals/site.md": deal("proposal", extra=front)})  # not committed: the front matter says it
    code, findings, _ = lint_json(repro.root, "--strict")
    assert (code, findings) == (0, [])
    spans = spans_of(repro.root, "site")
    assert [(span.stage, span.entered, span.left) for span in spans][-2:] == [
        ("negotiation", d("2026-11-10"), left), ("proposal", since, None)]
    assert_consistent(spans, TODAY)


def test_a_stage_since_written_with_the_stage_change_wins(repro: ScriptedRepo) -> None:
    repro.commit("2026-11-24T10:00:00+00:00", "ben", {"deals/site.md": deal("negotiation",
                                                                            extra="stage_since: 2026-11-21\n")})
    spans = spans_of(repro.root, "site")
    assert [(span.stage, span.entered) for span in spans][-2:] == [("proposal", d("2026-11-20")),
                                                                   ("negotiation", d("2026-11-21"))]
    assert lint_json(repro.root, "--strict")[:2] == (0, [])


def test_an_imported_deal_keeps_its_stage_since_and_rots(tmp_path: Path) -> None:
    """The documented override: git does not know when an imported deal entered its stage."""
    repo = ScriptedRepo(tmp_path / "import")
    repo.commit("2026-11-01T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "clients/acme.md": "---\nname: Acme\n---\n",
                                                     "deals/old.md": deal("proposal", extra="stage_since: 2026-09-01\n")})
    spans = spans_of(repo.root, "old")
    assert [(span.stage, span.entered, span.left, span.exact) for span in spans] == [
        ("proposal", d("2026-09-01"), None, True)]
    _, findings, _ = lint_json(repo.root)
    assert [(item["code"], item["message"]) for item in findings] == [
        ("D006", "in 'proposal' since 2026-09-01 (86 days; rot_days 14)")]


def test_a_stage_changed_in_the_working_tree_makes_the_old_stage_since_stale(repro: ScriptedRepo) -> None:
    repro.write({"deals/site.md": deal("negotiation", extra=STALE)})
    spans = spans_of(repro.root, "site")
    assert [(span.stage, span.entered, span.left, span.author) for span in spans][-2:] == [
        ("proposal", d("2026-11-20"), TODAY, "Ana Ruiz"), ("negotiation", TODAY, None, "(uncommitted)")]
    _, findings, _ = lint_json(repro.root)
    assert [(item["code"], item["message"]) for item in findings] == [
        ("D012", MOVED_SINCE_COMMIT)]


def test_the_hook_warns_about_a_stale_stage_since_in_what_is_staged(repro: ScriptedRepo) -> None:
    repro.write({"deals/site.md": deal("negotiation", extra=STALE)})
    repro.git("add", "deals/site.md")
    repro.write({"deals/site.md": deal("negotiation", extra="stage_since: 2026-11-25\n")})  # fixed, not staged
    code, findings, _ = lint_json(repro.root, "--staged")
    assert (code, [(item["code"], item["message"]) for item in findings]) == (0, [
        ("D012", MOVED_SINCE_COMMIT)])
    assert lint_json(repro.root, "--strict")[:2] == (0, [])  # the working tree is right


def test_a_stage_since_before_the_previous_stay_began_is_reported_and_bounded(repro: ScriptedRepo) -> None:
    repro.write({"deals/site.md": deal("proposal", extra="stage_since: 2026-11-01\n")})
    spans = spans_of(repro.root, "site")
    assert [(span.stage, span.entered, span.left) for span in spans][-2:] == [
        ("negotiation", d("2026-11-10"), d("2026-11-10")), ("proposal", d("2026-11-10"), None)]
    assert_consistent(spans, TODAY)
    _, findings, _ = lint_json(repro.root)
    assert [(item["code"], item["line"], item["message"]) for item in findings] == [
        ("D006", 5, "in 'proposal' since 2026-11-10 (16 days; rot_days 14)"),  # on the stage line: not its date
        ("D012", 10, ("stage_since 2026-11-01 but git shows the deal entered negotiation on 2026-11-10, "
                      "before it moved to proposal; update stage_since or remove it"))]


# ---------------------------------------------------------------- merges: the mainline's view

def branches(tmp_path: Path, strategy: str) -> ScriptedRepo:
    """main: lead (10-01), qualified (10-08); branch `feature` from the first commit: proposal (authored
    10-09, committed 10-05), negotiation (10-12); merged into main on 10-15 with `-X strategy`."""
    repo = ScriptedRepo(tmp_path / f"merge-{strategy}")
    repo.commit("2026-10-01T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "clients/acme.md": "---\nname: Acme\n---\n",
                                                     "deals/site.md": deal("lead")}, message="Lead")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write({"deals/site.md": deal("proposal")})
    repo.git("commit", "-q", "-am", "Proposal", "--date", "2026-10-09T10:00:00+00:00", author="ben",
             when="2026-10-05T10:00:00+00:00")
    repo.commit("2026-10-12T10:00:00+00:00", "ben", {"deals/site.md": deal("negotiation")}, message="Negotiation")
    repo.git("checkout", "-q", "main")
    repo.commit("2026-10-08T10:00:00+00:00", "ana", {"deals/site.md": deal("qualified")}, message="Qualified")
    repo.git("merge", "-q", "--no-ff", f"-X{strategy}", "-m", "Merge feature", "feature", author="cy",
             when="2026-10-15T10:00:00+00:00")
    return repo


def test_merged_branches_do_not_interleave_their_stays(tmp_path: Path) -> None:
    repo = branches(tmp_path, "theirs")
    log = repo.git("log", "--format=%s %ad %cd", "--date=short")
    assert "Proposal 2026-10-09 2026-10-05" in log  # the interleaved dates the old date order stumbled on
    spans = spans_of(repo.root, "site")
    assert [(span.stage, span.entered, span.left, span.author) for span in spans] == [
        ("lead", d("2026-10-01"), d("2026-10-08"), "Ana Ruiz"),
        ("qualified", d("2026-10-08"), d("2026-10-15"), "Ana Ruiz"),
        ("negotiation", d("2026-10-15"), None, "Cy Twombly")]  # the branch's stage counts at its merge
    assert_consistent(spans, TODAY)
    history = read_history(repo.root, use_cache=False)
    record = history.records["deals/site.md"]
    assert [(touch.commit.subject, touch.action) for touch in record.touches] == [
        ("Lead", "created"), ("Qualified", "edited"), ("Merge feature", "edited")]
    merge = activity(history, limit=1)[0]
    assert (merge.commit.subject, merge.events[0].details) == ("Merge feature", ("stage: qualified → negotiation",))


def test_a_merge_that_keeps_the_mainline_stage_adds_no_stay(tmp_path: Path) -> None:
    repo = branches(tmp_path, "ours")
    spans = spans_of(repo.root, "site")
    assert [(span.stage, span.entered, span.left) for span in spans] == [
        ("lead", d("2026-10-01"), d("2026-10-08")), ("qualified", d("2026-10-08"), None)]
    assert [(item["code"], item["message"]) for item in lint_json(repo.root)[1]] == [
        ("D006", "in 'qualified' since 2026-10-08 (49 days; rot_days 21)")]


def test_changes_since_a_date_reads_the_mainline_not_a_branch(tmp_path: Path) -> None:
    repo = branches(tmp_path, "theirs")
    result = CliRunner().invoke(cli, ["changes", str(repo.root), "--since", "2026-10-13", "--until", "2026-10-16",
                                      "--format", "json", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(item["id"], item["before"], item["after"]) for item in report["advanced"]] == [
        ("site", "qualified", "negotiation")]


def test_cached_history_of_a_branch_tip_is_not_continued_after_its_merge(tmp_path: Path) -> None:
    repo = branches(tmp_path, "theirs")
    repo.git("checkout", "-q", "feature")
    assert [visit.stage for visit in read_history(repo.root).records["deals/site.md"].visits] == [
        "lead", "proposal", "negotiation"]  # cached at the branch's tip
    repo.git("checkout", "-q", "main")
    cached = read_history(repo.root)
    assert cached == read_history(repo.root, use_cache=False)
    assert [visit.stage for visit in cached.records["deals/site.md"].visits] == ["lead", "qualified", "negotiation"]


# ---------------------------------------------------------------- commits dated in the future

@pytest.fixture
def future(tmp_path: Path) -> ScriptedRepo:
    repo = ScriptedRepo(tmp_path / "future")
    repo.commit("2026-11-01T10:00:00+00:00", "ana", {"crm.yaml": CONFIG, "clients/acme.md": "---\nname: Acme\n---\n",
                                                     "deals/site.md": deal("lead")}, message="Lead")
    repo.commit("2027-01-03T10:00:00+00:00", "ben", {"deals/site.md": deal("qualified")}, message="Wrong clock")
    repo.commit("2026-11-20T10:00:00+00:00", "ana", {"deals/site.md": deal("proposal")}, message="Proposal")
    return repo


NOTE = ("note: git history has commits dated after today (2026-11-26): they count as made today "
        "(a computer's clock was probably wrong)")


def test_future_commits_count_as_today_in_stays_and_lint_says_so(future: ScriptedRepo) -> None:
    spans = spans_of(future.root, "site")
    assert [(span.stage, span.entered, span.left) for span in spans] == [
        ("lead", d("2026-11-01"), TODAY), ("qualified", TODAY, TODAY), ("proposal", TODAY, None)]
    assert_consistent(spans, TODAY)
    code, findings, stderr = lint_json(future.root)
    assert (code, findings) == (0, [])
    assert NOTE in stderr.splitlines()
    _, _, stderr = lint_json(future.root, "--today", "2027-02-01")  # the last --today given wins
    assert "dated after today" not in stderr


def test_future_commits_are_noted_by_changes_and_on_the_site(future: ScriptedRepo) -> None:
    future.commit("2026-11-21T10:00:00+00:00", "cy", {"clients/acme.md": "---\nname: ACME\n---\n"})
    future.git("commit", "-q", "--amend", "--no-edit", "--date", "2026-11-21T10:00:00+00:00", author="cy",
               when="2027-03-01T10:00:00+00:00")  # only the committer's clock was wrong
    result = CliRunner().invoke(cli, ["changes", str(future.root), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert NOTE in result.stderr.splitlines()
    workspace, _ = load_workspace(future.root)
    figures = analyze(workspace, TODAY, GitHistory(workspace.root, use_cache=False)).history
    assert NOTE.removeprefix("note: ") in figures.history.notices
    assert NOTE.removeprefix("note: ") in figures.to_data()["notices"]
    dates = [(item.commit.subject, item.commit.date) for item in figures.recent]
    assert ("Wrong clock", TODAY) in dates and all(date <= TODAY for _, date in dates)
    assert all(item.commit.committed is None or item.commit.committed <= TODAY for item in figures.recent)
    assert figures.deals["site"]["stage_since"] == TODAY.isoformat()


# ---------------------------------------------------------------- the invariants, on random histories

STAGES = ("lead", "qualified", "proposal", "negotiation", "won")
BASE = dt.date(2026, 9, 1)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[LogCommit], dict[str, dict[str, Any] | None], frozenset[str],
                                        dict[str, Any], dt.date, list[dict[str, Any] | None]]:
    """Random commits of one deal (stages, dates out of order or after today, stage_since kept, set or
    removed, unreadable versions), a working tree and a today."""
    day = st.integers(0, 150).map(lambda offset: BASE + dt.timedelta(days=offset))
    commits: list[LogCommit] = []
    contents: dict[str, dict[str, Any] | None] = {}
    versions: list[dict[str, Any] | None] = []
    since: dt.date | None = draw(st.one_of(st.none(), day))
    for index in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(("keep", "keep", "set", "remove")))
        since = draw(day) if action == "set" else None if action == "remove" else since
        values: dict[str, Any] | None = {key: None for key in TRACKED}
        assert values is not None
        values.update(stage=draw(st.sampled_from(STAGES)), stage_since=since)
        if draw(st.integers(0, 9)) == 0:
            values = None  # front matter that cannot be read
        blob = f"{index:040x}"
        contents[blob] = values
        versions.append(values)
        when = draw(day)
        commit = Commit(f"{index + 1:040x}", when, index, "Ana Ruiz", "ana@example.com", f"c{index}", draw(day))
        commits.append(LogCommit(commit, [LogEntry("A" if index == 0 else "M", blob, "deals/x.md")]))
    boundary = frozenset({commits[0].commit.sha}) if draw(st.booleans()) else frozenset()
    last = next((item for item in reversed(versions) if item is not None), None)
    stage = draw(st.sampled_from((*STAGES, *([last["stage"]] * 3 if last else ()))))
    front = draw(st.sampled_from(("keep", "keep", "set", "remove")))
    front_since = last["stage_since"] if last and front == "keep" else draw(day) if front == "set" else None
    today = BASE + dt.timedelta(days=draw(st.integers(40, 140)))
    return commits, contents, boundary, {"stage": stage, "stage_since": front_since}, today, versions


@settings(max_examples=400, deadline=None)
@given(histories())
def test_stays_are_consistent_for_any_commit_sequence(case: tuple[Any, ...]) -> None:
    commits, contents, boundary, front, today, versions = case
    records, _removed = fold_history(commits, contents, boundary)
    history = History(True, commits[-1].commit.sha, bool(boundary), records, (), len(commits), ())
    deal_ = build_deal(ParsedFile("deals/x.md", {"title": "X", **front}, {}), [])
    spans = stage_history(history, deal_, today)
    assert_consistent(spans, today)
    # The same stays with every commit after today dated today first: clamping is all it does.
    assert stage_history(as_of(history, today), deal_, today) == spans
    readable = [version for version in versions if version is not None]
    stages = [version["stage"] for index, version in enumerate(readable)
              if index == 0 or version["stage"] != readable[index - 1]["stage"]]
    if not readable or front["stage"] != readable[-1]["stage"]:
        stages.append(front["stage"])
    assert [span.stage for span in spans] == stages
    # Lint's small summary resolves the very same date, and says the same about the front matter.
    committed, rows = stage_summary(history).get("deals/x.md", (None, ()))
    stays = resolve_stays(rows, committed, deal_.stage, deal_.stage_since, today)
    assert stays.entered == tuple(span.entered for span in spans)
    conflict = stays.conflict
    if deal_.stage_since is None:
        assert conflict is None
    elif conflict is None:  # a stage_since git does not contradict wins
        assert spans[-1].entered == min(deal_.stage_since, today)
    else:
        assert conflict.stage_since == deal_.stage_since != spans[-1].entered
    if readable and front["stage"] == readable[-1]["stage"] and front["stage_since"] == readable[-1]["stage_since"]:
        # The spec of a stale stage_since, checked against the versions themselves.
        start = max(index for index, version in enumerate(readable)
                    if index == 0 or version["stage"] != readable[index - 1]["stage"])
        written = start == 0 or any(readable[index]["stage_since"] != readable[index - 1]["stage_since"]
                                    for index in range(start, len(readable)))
        dated = [item.commit.date for item, version in zip(commits, versions, strict=True) if version is not None]
        moved = min(max(dated[:start + 1]), today)
        since = front["stage_since"]
        stale = not written and since is not None and since != moved
        assert (conflict is not None and conflict.reason == "stale") == stale


def test_a_left_over_stage_since_later_than_the_move_is_stale_too() -> None:
    # Written (in the future) while the deal was a lead, never updated when it was lost on 11-15.
    rows = (("lead", dt.date(2026, 10, 1), dt.date(2026, 11, 19), True), ("lost", dt.date(2026, 11, 15), None, True))
    stays = resolve_stays(rows, dt.date(2026, 11, 19), "lost", dt.date(2026, 11, 19), dt.date(2026, 11, 26))
    assert stays.entered == (dt.date(2026, 10, 1), dt.date(2026, 11, 15))
    assert stays.conflict is not None and stays.conflict.reason == "stale"
    assert stays.conflict.stage_since == dt.date(2026, 11, 19)


def test_a_move_dated_before_an_earlier_commit_counts_from_that_commit() -> None:
    """Found by the property test above: a commit dated 2026-09-02 in the proposal stay, then the move to
    lead in a later commit whose clock said 2026-09-01. Git's dates never go back, so the deal entered lead
    on 09-02, and the stage_since 09-01 left over from the proposal stay is stale (D012)."""
    versions = [("proposal", None, "2026-09-01"), ("proposal", d("2026-09-01"), "2026-09-02"),
                ("lead", d("2026-09-01"), "2026-09-01")]
    commits, contents = [], {}
    for index, (stage, since, when) in enumerate(versions):
        contents[f"{index:040x}"] = {**{key: None for key in TRACKED}, "stage": stage, "stage_since": since}
        commit = Commit(f"{index + 1:040x}", d(when), index, "Ana Ruiz", "ana@example.com", f"c{index}", d(when))
        commits.append(LogCommit(commit, [LogEntry("A" if index == 0 else "M", f"{index:040x}", "deals/x.md")]))
    records, _removed = fold_history(commits, contents, frozenset())
    history = History(True, commits[-1].commit.sha, False, records, (), len(commits), ())
    deal_ = build_deal(ParsedFile("deals/x.md", {"title": "X", "stage": "lead", "stage_since": d("2026-09-01")}, {}), [])
    assert [(span.stage, span.entered) for span in stage_history(history, deal_, TODAY)] == [
        ("proposal", d("2026-09-01")), ("lead", d("2026-09-02"))]
    committed, rows = stage_summary(history)["deals/x.md"]
    stays = resolve_stays(rows, committed, "lead", d("2026-09-01"), TODAY)
    assert stays.conflict is not None and stays.conflict.reason == "stale" and stays.conflict.moved == d("2026-09-02")
