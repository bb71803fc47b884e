"""workspace-example's files in a scripted git history: --as-of builds and reports, forecast accuracy over three
months, a slipped deal (D011), the transition rules T001-T004 and `report`, with golden figures computed here."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from tests.history_support import ScriptedRepo

pytestmark = pytest.mark.git

EXAMPLE = Path(__file__).resolve().parent.parent / "workspace-example"
TODAY = "2026-11-26"


def x_deal(client: str, owner: str, stage: str, value: int, close: str, extra: str = "") -> str:
    return (f"---\ntitle: Scripted {client}\nclient: {client}\nowner: {owner}\nstage: {stage}\nvalue: {value}\n"
            f"created: 2026-07-20\nexpected_close: {close}\nnext_action: Call\nnext_action_due: 2026-12-20\n"
            f"{extra}---\nNotes.\n")


WON = ("scope_summary: A site\npromised_timeline: 8 weeks\nkey_constraints: [None]\nmain_stakeholder: Jo\n"
       "kickoff_date: 2026-12-07\n")
# (when, author, files): the history the tests replay; every commit's files are kept to compute goldens.
SCRIPT: list[tuple[str, str, dict[str, str]]] = [
    ("2026-07-20T10:00:00+00:00", "ana", {
        "deals/x-alpha.md": x_deal("kite-finance", "ana", "proposal", 40000, "2026-08-20"),
        "deals/x-beta.md": x_deal("lumen-labs", "sam", "qualified", 20000, "2026-09-10", "currency: USD\n"),
        "deals/x-gamma.md": x_deal("verde-energy", "maya", "negotiation", 30000, "2026-08-25")}),
    ("2026-08-10T10:00:00+00:00", "ben", {
        "deals/x-gamma.md": x_deal("verde-energy", "maya", "negotiation", 30000, "2026-09-15")}),
    ("2026-08-18T10:00:00+00:00", "ana", {
        "deals/x-alpha.md": x_deal("kite-finance", "ana", "won", 40000, "2026-08-20",
                                   "closed_on: 2026-08-18\n" + WON)}),
    ("2026-09-01T09:00:00+00:00", "cy", {
        "deals/x-beta.md": x_deal("lumen-labs", "sam", "proposal", 20000, "2026-09-25", "currency: USD\n")}),
    ("2026-09-05T10:00:00+00:00", "ben", {
        "deals/x-gamma.md": x_deal("verde-energy", "maya", "negotiation", 30000, "2026-10-20")}),
    ("2026-09-28T10:00:00+00:00", "ana", {
        "deals/x-beta.md": x_deal("lumen-labs", "sam", "won", 20000, "2026-09-25",
                                  "currency: USD\nclosed_on: 2026-09-28\n" + WON)}),
    ("2026-10-02T10:00:00+00:00", "ben", {
        "deals/x-gamma.md": x_deal("verde-energy", "maya", "negotiation", 30000, "2026-11-18")}),
]


def example_files() -> dict[str, str]:
    """The example's files, its crm.yaml reading git history (the example itself turns it off: its commits
    are this repository's development; this test commits its own story)."""
    files = {path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8")
             for path in sorted(EXAMPLE.rglob("*")) if path.is_file() and path.suffix in (".md", ".yaml")
             and path.name != "README.md"}
    assert "\ngit_history: false\n" in files["crm.yaml"]
    files["crm.yaml"] = files["crm.yaml"].replace("\ngit_history: false\n", "\n")
    return files


@pytest.fixture
def repo(tmp_path: Path) -> ScriptedRepo:
    scripted = ScriptedRepo(tmp_path / "repo")
    for index, (when, author, files) in enumerate(SCRIPT):
        scripted.commit(when, author, {**(example_files() if index == 0 else {}), **files}, message=f"step {index}")
    return scripted


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ---------------------------------------------------------------- goldens, from the files with plain yaml

def front(text: str) -> dict[str, Any]:
    return yaml.safe_load(text.split("---\n")[1]) or {}


def files_on(day: dt.date) -> dict[str, str]:
    """The committed files on `day` (commits of that day included)."""
    files: dict[str, str] = {}
    for index, (when, _author, changed) in enumerate(SCRIPT):
        if dt.date.fromisoformat(when[:10]) <= day:
            files.update({**(example_files() if index == 0 else {}), **changed})
    return files


def settings() -> tuple[dict[str, float], dict[str, Decimal], set[str]]:
    config = yaml.safe_load((EXAMPLE / "crm.yaml").read_text(encoding="utf-8"))
    probability = {item["stage"]: item.get("probability", 0) for item in config["pipeline"]}
    rates = {code: Decimal(str(rate)) for code, rate in config["exchange_rates"].items()}
    rates[config["currency"]] = Decimal(1)
    open_stages = {item["stage"] for item in config["pipeline"] if not item.get("closed")}
    return probability, rates, open_stages


def golden_forecast(day: dt.date, month: dt.date, *, own_probability: bool, owner: str | None = None) -> Decimal:
    """Open deals committed by `day` expected to close in `month`, value x probability, in EUR."""
    probability, rates, open_stages = settings()
    total = Decimal(0)
    for path, text in files_on(day).items():
        if not path.startswith("deals/"):
            continue
        fields = front(text)
        close = fields.get("expected_close")
        if fields.get("stage") not in open_stages or not isinstance(close, dt.date) or \
                (close.year, close.month) != (month.year, month.month) or (owner and fields.get("owner") != owner):
            continue
        chance = fields.get("probability") if own_probability and "probability" in fields else \
            probability[fields["stage"]]
        total += Decimal(str(fields["value"])) * rates[fields.get("currency", "EUR")] * Decimal(str(chance))
    return total.quantize(Decimal("0.01"))


def golden_won(month: dt.date) -> Decimal:
    """Deals won (closed_on) in `month`, as the files stand at the last commit, in EUR."""
    _probability, rates, _open = settings()
    total = Decimal(0)
    for path, text in files_on(dt.date(2026, 11, 26)).items():
        fields = front(text) if path.startswith("deals/") else {}
        closed = fields.get("closed_on")
        if fields.get("stage") == "won" and isinstance(closed, dt.date) and \
                (closed.year, closed.month) == (month.year, month.month):
            total += Decimal(str(fields["value"])) * rates[fields.get("currency", "EUR")]
    return total.quantize(Decimal("0.01"))


def money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- forecast accuracy and slippage

def test_forecast_accuracy_and_slippage_in_data_json(repo: ScriptedRepo, tmp_path: Path) -> None:
    result = run("build", str(repo.root), "-o", str(tmp_path / "site"), "--today", TODAY, "-q")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "site" / "data.json").read_text(encoding="utf-8"))
    months = {item["month"]: item for item in data["forecast_accuracy"]}
    assert list(months) == ["2026-08", "2026-09", "2026-10"]  # from the first commit's month on, Nov not complete
    for key, item in months.items():
        month = dt.date.fromisoformat(key + "-01")
        forecast = golden_forecast(month, month, own_probability=False)
        won = golden_won(month)
        assert money(item["forecast_at_start"]) == forecast, key
        assert money(item["won"]) == won, key
        assert item["ratio"] == (round(float(won / forecast), 4) if forecast else None), key
    # The scripted deals' part, by hand: Aug 40000 x 0.5 + 30000 x 0.75; Sep USD 20000 x 0.92 x 0.5 + 22500.
    assert golden_forecast(dt.date(2026, 8, 1), dt.date(2026, 8, 1), own_probability=False) >= Decimal(42500)
    september = months["2026-09"]["owners"]
    assert money(september["sam"]["forecast_at_start"]) == Decimal("9200.00")
    assert money(september["maya"]["forecast_at_start"]) == golden_forecast(
        dt.date(2026, 9, 1), dt.date(2026, 9, 1), own_probability=False, owner="maya")
    assert "x-beta" in september["sam"]["won_deals"]
    slipped = data["slippage"]["x-gamma"]
    assert (slipped["count"], slipped["days"]) == (3, 21 + 35 + 29)
    assert [move["to"] for move in slipped["moves"]] == ["2026-09-15", "2026-10-20", "2026-11-18"]
    forecast_page = (tmp_path / "site" / "forecast.html").read_text(encoding="utf-8")
    assert "Forecast accuracy" in forecast_page and "Sep 2026" in forecast_page
    deal_page = (tmp_path / "site" / "deals" / "x-gamma.html").read_text(encoding="utf-8")
    assert "slipped 3 times, 85 days in total" in deal_page


def test_d011_warns_about_the_deal_that_slipped_three_times(repo: ScriptedRepo) -> None:
    result = run("lint", str(repo.root), "--today", TODAY, "--select", "D011", "--format", "json")
    found = json.loads(result.output)
    assert [(workspace_path(item["path"]), item["code"]) for item in found["findings"]] == [
        ("deals/x-gamma.md", "D011")]
    assert "moved later 3 times, by 85 days" in found["findings"][0]["message"]


# ---------------------------------------------------------------- the pipeline as of a day

def test_build_as_of_shows_the_workspace_of_that_day(repo: ScriptedRepo, tmp_path: Path) -> None:
    repo.write({"deals/x-gamma.md": "---\nbroken: [\n---\n"})  # the working tree is never read
    result = run("build", str(repo.root), "-o", str(tmp_path / "past"), "--as-of", "2026-09-01")
    assert result.exit_code == 0, result.output
    assert "As of 2026-09-01" in result.output
    data = json.loads((tmp_path / "past" / "data.json").read_text(encoding="utf-8"))
    assert data["today"] == "2026-09-01"
    deals = data["deals"]
    assert deals["x-gamma"]["expected_close"] == "2026-09-15" and deals["x-beta"]["stage"] == "proposal"
    assert deals["x-alpha"]["stage"] == "won"
    # The history is cut at that commit: x-beta's later win is not in it.
    assert [stay["stage"] for stay in deals["x-beta"]["stage_history"]] == ["qualified", "proposal"]
    september = next(item for item in data["figures"]["forecast"]["months"] if item["key"] == "2026-09")
    golden = golden_forecast(dt.date(2026, 9, 1), dt.date(2026, 9, 1), own_probability=True)
    assert money(september["weighted"]["value"]) == golden
    assert not any(finding["path"] == "deals/x-gamma.md" and finding["code"] == "F001"
                   for finding in data["findings"])
    commit = repo.git("rev-list", "-1", "--before=2026-09-02 00:00:00", "HEAD").strip()
    this_week = (tmp_path / "past" / "this-week.html").read_text(encoding="utf-8")
    assert f"to {commit[:7]} (as of)" in this_week  # the week up to that commit, not the working tree


def test_as_of_a_revision_and_lint_and_followups(repo: ScriptedRepo) -> None:
    third = repo.git("rev-list", "--reverse", "HEAD").split()[2]
    result = run("report", "pipeline", str(repo.root), "--as-of", third, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["today"] == "2026-08-18"
    followups = run("followups", str(repo.root), "--as-of", "2026-08-01", "--format", "json")
    assert json.loads(followups.output)["today"] == "2026-08-01"
    lint = run("lint", str(repo.root), "--as-of", "2026-08-01", "--select", "D011", "--format", "json")
    assert json.loads(lint.output)["findings"] == []  # x-gamma had not slipped yet
    missing = run("report", "pipeline", str(repo.root), "--as-of", "2026-01-01")
    assert missing.exit_code == 2 and "no commit on or before" in missing.output


def test_records_of_a_revision_are_built_once(repo: ScriptedRepo) -> None:
    from plaintext_crm.history.as_of import workspace_at_commit
    from plaintext_crm.records import cache_store
    from plaintext_crm.records.blob_records import BlobRecords

    head = repo.git("rev-parse", "HEAD").strip()
    workspace, _findings = workspace_at_commit(repo.root, head)
    assert "x-gamma" in workspace.deals and workspace.config.name == "Brightline Studio"
    again = BlobRecords(cache_store.cache_folder(repo.root))
    again.load({path: blob for path, blob in _blobs(repo, head).items()}, lambda blobs: {})
    assert again.parsed == 0 and again.reused == len(workspace.files)


def _blobs(repo: ScriptedRepo, commit: str) -> dict[str, str]:
    listing = repo.git("ls-tree", "-r", commit, "--", "clients", "deals", "projects")
    return {line.split("\t")[1]: line.split()[2] for line in listing.splitlines()}


# ---------------------------------------------------------------- transition rules

def transition_codes(repo: ScriptedRepo, *args: str) -> list[tuple[str, str]]:
    result = run("lint", str(repo.root), "--today", TODAY, "--select", "T", "--format", "json", *args)
    return [(workspace_path(item["path"]), item["code"]) for item in json.loads(result.output)["findings"]]


def workspace_path(shown: str) -> str:
    """A finding's path (shown relative to the current folder) relative to the workspace."""
    return shown.rsplit("/repo/", 1)[-1]


def test_transition_rules_need_a_base(repo: ScriptedRepo) -> None:
    alpha = x_deal("kite-finance", "ana", "proposal", 40000, "2026-12-20")
    beta = x_deal("lumen-labs", "sam", "won", 25000, "2026-09-25", "currency: USD\nclosed_on: 2026-09-28\n" + WON)
    repo.write({"deals/x-alpha.md": alpha, "deals/x-beta.md": beta})
    assert transition_codes(repo) == []  # a plain lint knows no base
    assert transition_codes(repo, "--base", "HEAD") == [("deals/x-alpha.md", "T001"), ("deals/x-beta.md", "T003")]
    repo.write({"deals/x-alpha.md": alpha.replace("stage:", "reopen_reason: A second phase\nstage:")})
    assert transition_codes(repo, "--base", "HEAD") == [("deals/x-beta.md", "T003")]


def test_staged_lint_checks_stage_skips_and_wins_against_head(repo: ScriptedRepo) -> None:
    config = (repo.root / "crm.yaml").read_text(encoding="utf-8") + "stage_rules: {no_skip: true}\n"
    repo.commit("2026-11-20T10:00:00+00:00", "ana", {
        "crm.yaml": config, "deals/x-delta.md": x_deal("fjord-foods", "maya", "lead", 5000, "2027-01-15")})
    repo.write({"deals/x-delta.md": x_deal("fjord-foods", "maya", "proposal", 5000, "2027-01-15"),
                "deals/x-gamma.md": x_deal("verde-energy", "maya", "won", 30000, "2026-11-18", WON)})
    repo.git("add", "-A")
    assert transition_codes(repo, "--staged") == [("deals/x-delta.md", "T002"), ("deals/x-gamma.md", "T004")]
    # D008 leaves the deal won by the commit to T004 (one finding, an error).
    d008 = run("lint", str(repo.root), "--today", TODAY, "--staged", "--select", "D008", "--format", "json")
    assert json.loads(d008.output)["findings"] == []
    repo.write({"deals/x-delta.md": x_deal("fjord-foods", "maya", "proposal", 5000, "2027-01-15",
                                           "skip_reason: Referral\n")})
    repo.git("add", "-A")
    assert transition_codes(repo, "--staged") == [("deals/x-gamma.md", "T004")]


def test_move_sets_closed_on_and_asks_why_a_deal_is_reopened(repo: ScriptedRepo) -> None:
    result = run("move", "x-gamma", "won", str(repo.root), "--today", TODAY, "--scope-summary", "A site",
                 "--promised-timeline", "8 weeks", "--key-constraint", "None", "--main-stakeholder", "Jo",
                 "--kickoff-date", "2026-12-07")
    assert result.exit_code == 0, result.output
    assert "closed_on: 2026-11-26" in (repo.root / "deals" / "x-gamma.md").read_text(encoding="utf-8")
    assert transition_codes(repo, "--base", "HEAD") == []
    refused = run("move", "x-alpha", "proposal", str(repo.root), "--today", TODAY)
    assert refused.exit_code == 2 and "--reason" in refused.output
    done = run("move", "x-alpha", "proposal", str(repo.root), "--today", TODAY, "--reason", "Phase two")
    assert done.exit_code == 0, done.output
    text = (repo.root / "deals" / "x-alpha.md").read_text(encoding="utf-8")
    assert "reopen_reason: Phase two" in text and "closed_on" not in text
    assert transition_codes(repo, "--base", "HEAD") == []


# ---------------------------------------------------------------- reports, against the site's data.json

def test_reports_show_the_figures_of_data_json(repo: ScriptedRepo, tmp_path: Path) -> None:
    for args, folder in (((("--today", TODAY)), "now"), (("--as-of", "2026-10-01"), "past")):
        assert run("build", str(repo.root), "-o", str(tmp_path / folder), "-q", *args).exit_code == 0
        data = json.loads((tmp_path / folder / "data.json").read_text(encoding="utf-8"))
        figures = data["figures"]
        pipeline = json.loads(run("report", "pipeline", str(repo.root), "--format", "json", *args).output)
        assert [(row["stage"], row["deals"], row["value"], row["weighted"]) for row in pipeline["rows"]] == [
            (column["stage"], len(column["cards"]), column["total"]["value"], column["weighted"]["value"])
            for column in figures["board"]["columns"]]
        assert pipeline["total"]["value"] == figures["board"]["total"]["value"]
        forecast = json.loads(run("report", "forecast", str(repo.root), "--format", "json", *args).output)
        by_month = {row["month"]: row for row in forecast["rows"]}
        for bucket in figures["forecast"]["months"]:
            row = by_month[bucket["label"]]
            assert (row["won"], row["open"], row["weighted"]) == (
                bucket["won"]["value"], bucket["open_value"]["value"], bucket["weighted"]["value"])
        for item in data["forecast_accuracy"]:
            label = dt.date.fromisoformat(item["month"] + "-01").strftime("%b %Y")
            assert (by_month[label]["forecast_at_start"], by_month[label]["ratio"]) == (
                item["forecast_at_start"], item["ratio"])
    now = json.loads((tmp_path / "now" / "data.json").read_text(encoding="utf-8"))
    projects = json.loads(run("report", "projects", str(repo.root), "--format", "json", "--today", TODAY).output)
    titles = {project["title"]: project["schedule"] for project in now["projects"].values()}
    assert projects["rows"] and all(
        (row["health"], row["percent_complete"], row["planned_finish"], row["drift"]) == (
            titles[row["project"]]["health"], titles[row["project"]]["percent_complete"],
            titles[row["project"]]["planned_finish"], titles[row["project"]]["drift"]) for row in projects["rows"])
    clients = json.loads(run("report", "clients", str(repo.root), "--format", "json", "--today", TODAY).output)
    open_total = sum(money(deal["value_base"]) for deal in now["figures"]["deals"].values()
                     if deal["status"] == "open" and deal["value_base"] is not None)
    assert money(clients["total"]["open_value"]) == open_total
    owners = json.loads(run("report", "owners", str(repo.root), "--format", "json", "--today", TODAY).output)
    assert owners["total"]["value"] == json.loads(
        (tmp_path / "now" / "data.json").read_text(encoding="utf-8"))["figures"]["board"]["total"]["value"]
    mine = json.loads(run("report", "pipeline", str(repo.root), "--format", "json", "--today", TODAY,
                          "--owner", "maya").output)
    assert mine["owner"] == "maya" and mine["total"]["value"] == next(
        row["value"] for row in owners["rows"] if row["owner"] == "Maya Chen")
