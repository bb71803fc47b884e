"""Hostile YAML in records and crm.yaml (issue #11, items 5 and 7): aliases that recurse or multiply,
nesting past a bound, overlong and non-finite numbers, dates outside the calendar. Each is a finding
with its line, the rest of the workspace still loads, and no command hangs or prints a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.records.frontmatter import parse_record
from plaintext_crm.records.loader import load_workspace
from tests.support import EXAMPLE, EXAMPLE_TODAY

DEAL_HEAD = "---\ntitle: Hostile\nclient: fjord-foods\nowner: ana\nstage: proposal\n"  # 5 lines, then the payload
# Findings of the example workspace that must survive one hostile file beside them.
EXAMPLE_MARKERS = {("deals/tidewater-bikes-app.md", "D002"), ("deals/kite-finance-investor-deck.md", "D007"),
                   ("projects/atlas-dashboard.md", "P002")}


def example(tmp_path: Path, files: dict[str, str] | None = None, config_tail: str = "") -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    for rel, text in (files or {}).items():
        (root / rel).write_text(text, encoding="utf-8")
    if config_tail:
        with open(root / "crm.yaml", "a", encoding="utf-8") as handle:
            handle.write(config_tail)
    return root


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, [*args, "--today", EXAMPLE_TODAY], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def lint(root: Path) -> tuple[int, set[tuple[str, int, str]], list[dict[str, object]]]:
    result = invoke("lint", "--format", "json", "--no-cache", str(root))
    findings = json.loads(result.stdout)["findings"]
    for item in findings:  # paths are shown relative to the current folder
        item["path"] = workspace_path(item["path"])
    return result.exit_code, {(item["path"], item["line"], item["code"]) for item in findings}, findings


def workspace_path(shown: str) -> str:
    return shown.rsplit("/ws/", 1)[-1]


def codes(found: set[tuple[str, int, str]]) -> set[tuple[str, str]]:
    return {(path, code) for path, _line, code in found}


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 20) -> tuple[subprocess.CompletedProcess[str], float]:
    """The real CLI in a child process (so a hang is a timeout, not a stuck test run), and its wall time."""
    env = {**os.environ, "PLAINTEXT_CRM_TODAY": EXAMPLE_TODAY}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "plaintext_crm", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd, check=False)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return done, time.perf_counter() - started


def git_repo(root: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def commit(root: Path, message: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    subprocess.run(["git", "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", message],
                   cwd=root, env=env, check=True)


# --- recursive aliases --------------------------------------------------------------------------------

RECURSIVE = {  # payload after DEAL_HEAD -> the file line of the alias
    "flow list": ("loop: &a [*a]\n", 6),
    "block list": ("loop: &a\n  - x\n  - *a\n", 8),
    "mapping": ("loop: &a {self: *a}\n", 6),
    "merge key": ("loop: &a\n  x: 1\n  <<: *a\n", 8),
    "nested": ("outer: &a\n  inner:\n    - 1\n    - deeper: [2, *a]\n", 9),
    "complex key": ("? &a [*a]\n: 1\n", 6),
    "two anchors": ("a: &a\n  b: &b\n    - *a\n", 8),
}


@pytest.mark.parametrize("name", RECURSIVE)
def test_recursive_alias_in_a_record_is_a_finding_on_its_line(tmp_path: Path, name: str) -> None:
    payload, line = RECURSIVE[name]
    root = example(tmp_path, {"deals/loop.md": DEAL_HEAD + payload + "---\nNotes.\n"})
    status, found, findings = lint(root)
    assert status == 1
    assert ("deals/loop.md", line, "F001") in found
    message = next(item["message"] for item in findings if item["path"] == "deals/loop.md")
    assert "cannot contain itself" in str(message)
    assert EXAMPLE_MARKERS <= codes(found)  # the rest of the workspace still loads and lints


def test_recursive_alias_in_a_task_list(tmp_path: Path) -> None:
    project = ("---\ntitle: Loop\nclient: fjord-foods\nowner: priya\nstatus: active\nstart: 2026-12-01\ntasks:\n"
               "  - &t {id: a, duration: 2, depends_on: [*t]}\n---\n")
    status, found, _ = lint(example(tmp_path, {"projects/loop.md": project}))
    assert status == 1 and ("projects/loop.md", 8, "F001") in found


def test_recursive_alias_in_crm_yaml_is_a_finding_and_records_still_load(tmp_path: Path) -> None:
    root = example(tmp_path, config_tail="\nloop: &a [*a]\n")
    line = (root / "crm.yaml").read_text(encoding="utf-8").count("\n")
    status, found, _ = lint(root)
    assert status == 1
    assert ("crm.yaml", line, "F001") in found
    assert ("deals/tidewater-bikes-app.md", "D002") in codes(found)


@pytest.mark.parametrize("command", ["build", "followups", "schedule"])
def test_recursive_alias_does_not_stop_other_commands(tmp_path: Path, command: str) -> None:
    root = example(tmp_path, {"deals/loop.md": DEAL_HEAD + "loop: &a [*a]\n---\n"}, config_tail="\nx: &b {y: *b}\n")
    args = [command, str(root)] + (["-o", str(tmp_path / "site")] if command == "build" else [])
    result = invoke(*args)
    assert result.exit_code in (0, 1), result.output


# --- alias bombs ("billion laughs") ------------------------------------------------------------------

def bomb(levels: int) -> str:
    """`levels` anchors, each a list of nine aliases to the previous one: 9**levels values when expanded."""
    lines = ['l0: &l0 "lol"']
    lines += [f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]" for level in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [7, 9])
def test_alias_bomb_in_a_record_is_refused_fast(tmp_path: Path, levels: int) -> None:
    root = example(tmp_path, {"deals/bomb.md": DEAL_HEAD + bomb(levels) + "---\n"})
    done, seconds = run_cli("lint", "--format", "json", "--no-cache", str(root))
    assert done.returncode == 1
    findings = json.loads(done.stdout)["findings"]
    for item in findings:
        item["path"] = workspace_path(item["path"])
    bomb_findings = [item for item in findings if item["path"] == "deals/bomb.md"]
    assert [item["code"] for item in bomb_findings] == ["F001"]
    # 9**4 = 6,561 values fit in the bound of 10,000; the fifth level (59,049) is refused on its line.
    assert bomb_findings[0]["line"] == 6 + 5 and "aliases expand" in bomb_findings[0]["message"]
    assert ("deals/tidewater-bikes-app.md", "D002") in {(item["path"], item["code"]) for item in findings}
    print(f"lint with a {levels}-level alias bomb: {seconds:.2f} s")  # ~0.4 s, nearly all start-up


@pytest.mark.parametrize("levels", [7, 9])
def test_alias_bomb_in_crm_yaml_is_refused_fast(tmp_path: Path, levels: int) -> None:
    root = example(tmp_path, config_tail="\n" + bomb(levels))
    done, seconds = run_cli("lint", "--format", "json", "--no-cache", str(root))
    assert done.returncode == 1
    found = {(workspace_path(item["path"]), item["code"]) for item in json.loads(done.stdout)["findings"]}
    assert ("crm.yaml", "F001") in found and ("deals/tidewater-bikes-app.md", "D002") in found
    print(f"lint with a {levels}-level alias bomb in crm.yaml: {seconds:.2f} s")


def test_alias_bomb_build_writes_a_small_site(tmp_path: Path) -> None:
    root = example(tmp_path, {"deals/bomb.md": DEAL_HEAD + bomb(9) + "---\n"}, config_tail="\n" + bomb(9))
    done, seconds = run_cli("build", str(root), "-o", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "data.json").stat().st_size < 1_000_000
    print(f"build with 9-level alias bombs: {seconds:.2f} s")


def test_alias_bomb_in_git_history_and_working_tree_for_changes(tmp_path: Path) -> None:
    root = example(tmp_path)
    git_repo(root)
    deal = root / "deals" / "fjord-foods-website.md"
    deal.write_text(deal.read_text(encoding="utf-8").replace("title:", bomb(9) + "title:", 1), encoding="utf-8")
    commit(root, "bomb")
    (root / "deals" / "loop.md").write_text(DEAL_HEAD + "loop: &a [*a]\n---\n", encoding="utf-8")
    for args in (["--since", "HEAD~1", "--until", "HEAD"], ["--since", "HEAD~1"], []):
        done, seconds = run_cli("changes", str(root), *args)
        assert done.returncode == 0, done.stderr
        assert seconds < 20


def test_anchors_reused_a_few_times_still_load(tmp_path: Path) -> None:
    project = ("---\ntitle: Anchored\nclient: fjord-foods\nowner: priya\nstatus: active\nstart: 2026-12-01\n"
               "defaults: &d {owner: leo, duration: 2}\ntasks:\n"
               + "".join(f"  - {{<<: *d, id: t{index}}}\n" for index in range(40)) + "---\n")
    workspace, findings = load_workspace(example(tmp_path, {"projects/anchored.md": project}))
    assert not [finding for finding in findings if finding.path == "projects/anchored.md"]
    tasks = workspace.projects["anchored"].tasks
    assert len(tasks) == 40 and all(task.owner == "leo" and task.duration == 2 for task in tasks)


def test_expansion_bound_scales_with_the_document() -> None:
    """A big document may expand past 10,000 values, up to ten times the values written."""
    anchor = "base: &b {" + ", ".join(f"k{index}: {index}" for index in range(20)) + "}\n"  # 41 values
    plain = "".join(f"p{index}: {index}\n" for index in range(2000))
    uses = "".join(f"u{index}: *b\n" for index in range(500))  # 20,500 values from 1,000 written
    accepted = parse_record("deals/x.md", ("---\n" + anchor + plain + uses + "---\n").encode())
    assert accepted.problem is None and accepted.data is not None and accepted.data["u499"]["k19"] == 19
    refused = parse_record("deals/x.md", ("---\n" + anchor + uses + "---\n").encode()).problem
    assert refused is not None and "aliases expand" in refused.message


# --- nesting -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "deep: " + "[" * 990 + "]" * 990 + "\n",
    "deep:\n" + "".join(" " * level + "- \n" for level in range(1, 400)) + " " * 400 + "- x\n",
    "deep: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
])
def test_deep_nesting_is_a_finding_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    status, found, _ = lint(example(tmp_path, {"deals/deep.md": DEAL_HEAD + text + "---\n"}))
    assert status == 1
    assert ("deals/deep.md", "F001") in codes(found)
    assert EXAMPLE_MARKERS <= codes(found)


# --- numbers -----------------------------------------------------------------------------------------

def with_value(tmp_path: Path, value: str, currency: str = "GBP", config_tail: str = "") -> Path:
    """The example with one open deal's value replaced (the fjord-foods website deal, line 6)."""
    root = example(tmp_path, config_tail=config_tail)
    deal = root / "deals" / "fjord-foods-website.md"
    text = deal.read_text(encoding="utf-8").replace("value: 30000", f"value: {value}")
    text = text.replace("stage: lost", "stage: proposal").replace("currency: GBP", f"currency: {currency}")
    deal.write_text(text, encoding="utf-8")
    return root


NON_FINITE = [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1.0e+400", "-1.0e+400"]


@pytest.mark.parametrize("value", NON_FINITE + ["2.0e+15", "10000000000000001"])
def test_non_finite_or_absurd_value_is_f002(tmp_path: Path, value: str) -> None:
    status, found, _ = lint(with_value(tmp_path, value))
    assert status == 1 and ("deals/fjord-foods-website.md", 6, "F002") in found


def test_non_finite_custom_field_keeps_its_text(tmp_path: Path) -> None:
    root = example(tmp_path, {"deals/odd.md": DEAL_HEAD + "value: 100\nbudget: .nan\nceiling: -.inf\n"
                                                            "limits: [1, .inf]\n---\n"})
    workspace, findings = load_workspace(root)
    assert workspace.deals["odd"].fields["budget"] == ".nan"
    assert workspace.deals["odd"].fields["limits"] == [1, ".inf"]
    assert not [finding for finding in findings if finding.path == "deals/odd.md"]


@pytest.mark.parametrize("rate", [".inf", "+.Inf", "1.0e+400", "1.0e+300"])  # (.nan, -.inf, 0 were already C001)
def test_non_finite_exchange_rate_is_c001(tmp_path: Path, rate: str) -> None:
    root = with_value(tmp_path, "30000", currency="CHF", config_tail=f"\nexchange_rates: {{CHF: {rate}}}\n")
    status, found, _ = lint(root)
    line = (root / "crm.yaml").read_text(encoding="utf-8").count("\n")
    assert status == 1 and ("crm.yaml", line, "C001") in found


@pytest.mark.parametrize("setting", ["rot_days: 1000000000000000000000", "rot_days: 100001"])
def test_absurd_rot_days_are_c001(tmp_path: Path, setting: str) -> None:  # (.nan probabilities were already C001)
    root = example(tmp_path)
    config = (root / "crm.yaml").read_text(encoding="utf-8")
    (root / "crm.yaml").write_text(config.replace("{stage: proposal, probability: 0.5, rot_days: 14}",
                                                  f"{{stage: proposal, {setting}}}"), encoding="utf-8")
    status, found, _ = lint(root)
    assert status == 1 and ("crm.yaml", "C001") in codes(found)


@pytest.mark.parametrize("digits", ["1" + "0" * 5000, "0x" + "f" * 5000, "-" + "9" * 4400, "1:" + "10:" * 2000 + "1"])
def test_overlong_integer_is_a_finding_not_a_value_error(tmp_path: Path, digits: str) -> None:
    status, found, _ = lint(example(tmp_path, {"deals/long.md": DEAL_HEAD + f"value: {digits}\n---\n"}))
    assert status == 1 and ("deals/long.md", 6, "F001") in found


def project_with(task_lines: str, head: str = "") -> str:
    return ("---\ntitle: Long\nclient: fjord-foods\nowner: priya\nstatus: active\nstart: 2026-12-01\n" + head
            + "tasks:\n" + task_lines + "---\n")


@pytest.mark.parametrize("task", [
    "  - {id: a, duration: 100000000}\n",
    "  - {id: a, duration: 1000000000000000000000}\n",
    "  - {id: a, duration: 2}\n  - {id: b, duration: 2, depends_on: [{task: a, lag: 100000000}]}\n",
    "  - {id: a, duration: 2}\n  - {id: b, duration: 2, depends_on: [{task: a, lag: -100000000}]}\n",
])
def test_absurd_durations_and_lags_are_f002_and_plans_still_work(tmp_path: Path, task: str) -> None:
    root = example(tmp_path, {"projects/long.md": project_with(task)})
    status, found, _ = lint(root)
    assert status == 1 and ("projects/long.md", "F002") in codes(found)
    assert invoke("schedule", str(root)).exit_code == 0


@pytest.mark.parametrize("field", ["expected_close: 9999-12-31", "next_action_due: 0001-01-01",
                                   "created: 1000-01-01"])
def test_dates_outside_the_calendar_are_f002(tmp_path: Path, field: str) -> None:
    status, found, _ = lint(example(tmp_path, {"deals/far.md": DEAL_HEAD + f"value: 100\n{field}\n---\n"}))
    assert status == 1 and ("deals/far.md", 7, "F002") in found


def test_every_command_survives_hostile_numbers_and_dates(tmp_path: Path) -> None:
    """One workspace with all of the above, committed and edited again: build, changes, followups, schedule."""
    chain = "".join(f"  - {{id: t{index}, duration: 10000{f', depends_on: [t{index - 1}]' if index else ''}}}\n"
                    for index in range(30))
    files = {
        "deals/odd.md": DEAL_HEAD + "value: .inf\nprobability: .nan\nbudget: .nan\nexpected_close: 9999-12-31\n"
                                    "next_action: Call\nnext_action_due: 0001-01-01\n---\n## 9999-12-31 A call\nx\n",
        "deals/chf.md": DEAL_HEAD.replace("title:", "currency: CHF\ntitle:") + "value: 1.0e+300\n---\n",
        "projects/far.md": project_with("  - {id: a, duration: 3, due: 9999-12-30}\n"
                                        "  - {id: b, start: 0001-01-01, duration: 100000000}\n"
                                        "  - {id: c, duration: 2, depends_on: [{task: a, lag: -100000000}]}\n",
                                        head="due: 9999-12-31\n"),
        "projects/chain.md": project_with(chain),
    }
    root = with_value(tmp_path, ".nan", config_tail="\nexchange_rates: {CHF: .inf, GBP: 1.0e+400}\n")
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    config = (root / "crm.yaml").read_text(encoding="utf-8")
    (root / "crm.yaml").write_text(config.replace("{stage: proposal, probability: 0.5, rot_days: 14}",
                                                  "{stage: proposal, probability: .nan, rot_days: 100000000000}"),
                                   encoding="utf-8")
    git_repo(root)
    (root / "deals" / "fjord-foods-website.md").write_text(
        (root / "deals" / "fjord-foods-website.md").read_text(encoding="utf-8").replace("value: .nan", "value: -.inf"),
        encoding="utf-8")
    assert lint(root)[0] == 1
    assert invoke("build", str(root), "-o", str(tmp_path / "site")).exit_code == 0
    json.loads((tmp_path / "site" / "data.json").read_text(encoding="utf-8"),
               parse_constant=lambda name: pytest.fail(f"data.json holds {name}"))
    for command in (["changes", str(root), "--since", "HEAD"], ["changes", str(root), "--since", "HEAD", "--until", "HEAD"],
                    ["followups", str(root)], ["schedule", str(root)]):
        assert invoke(*command).exit_code in (0, 1)
