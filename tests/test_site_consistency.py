"""The details a newcomer tripped over (issue 16): one definition per figure on every page, labelled; the
forecast's charts readable; the Problems page in order of severity with owners; the CLI's messages; the
example's pinned date and its history turned off inside this repository."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from plaintext_crm.analysis import GIT_HISTORY_OFF, load_analysis
from plaintext_crm.cli import cli
from plaintext_crm.site import svg
from tests.support import EXAMPLE, EXAMPLE_TODAY, REPO

TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)


def _text(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_open_projects_on_the_overview_are_the_portfolio(example_site: Path) -> None:
    overview = _text(example_site, "index.html")
    stat = re.search(r'data-figure="projects_active">.*?<strong class="stat-value">(\d+)</strong>', overview, re.DOTALL)
    assert stat is not None and "Open projects" in _plain(overview)
    portfolio = re.search(r"(\d+) open projects", _text(example_site, "portfolio.html"))
    assert portfolio is not None and stat.group(1) == portfolio.group(1) == "7"


def test_a_deal_in_another_currency_shows_its_converted_value_on_every_page(example_site: Path) -> None:
    for name in ("handoffs.html", "lists/won-this-month.html", "clients/quanta-robotics.html",
                 "deals/quanta-robotics-product-launch.html"):
        assert "$64,000 ≈ €58,880" in _plain(_text(example_site, name)), name


def test_promise_drift_is_labelled(example_site: Path) -> None:
    page = _plain(_text(example_site, "projects/helix-website.html"))
    assert "⚑ 26 working days past the sales promise" in page
    assert "⚑ +26" not in page


def test_forecast_rows_charts_and_funnel(example_site: Path) -> None:
    page = _text(example_site, "forecast.html")
    assert "won (won)" not in _plain(page) and "lost (lost)" not in _plain(page)
    assert "Average days in stage</th>" not in page  # no column of dashes: the example has no finished stays
    assert "Average days in stage: no deal has finished a stay" in _plain(page)
    sources = re.search(r'<svg class="chart"[^>]*aria-labelledby="(chart-\w+)-title[^>]*>'
                        r"<title[^>]*>Lead source conversion</title>.*?</svg>", page, re.DOTALL)
    assert sources is not None
    assert re.search(r'class="chart-value"[^>]*>\d+</text>', sources.group(0))  # each source's number of deals
    assert re.search(r"\d+ won · \d+ lost · \d+ open · win rate", sources.group(0))
    # each chart is described by the table beside it holding the same figures
    for table in ("months-table", "stages-table", "sources-table"):
        assert f'aria-describedby="{table}"' in page and f'<table class="data" id="{table}">' in page


def test_column_chart_labels_never_run_together() -> None:
    categories = [f"M{index:02}" for index in range(24)]
    chart = svg.column_chart("t", "d", categories, [svg.Series("s", "series-won", [1.0] * 24)], str)
    xs = [float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*class="chart-label"', chart)]
    assert len(xs) == 24
    assert min(b - a for a, b in itertools.pairwise(xs)) >= svg.COLUMN_SLOT - 0.1
    assert 'width="' in chart.split(">", 1)[0]  # drawn at its own size: a narrow page scrolls it


def test_problems_page_errors_first_with_owners_and_a_filter(example_site: Path) -> None:
    page = _text(example_site, "problems.html")
    severities = re.findall(r'<span class="badge sev-(error|warning|info)">', page)
    files = re.findall(r'<section class="panel problem-file".*?</section>', page, re.DOTALL)
    worst = [max(("info", "warning", "error").index(s) for s in re.findall(r"sev-(error|warning|info)", f))
             for f in files]
    assert severities and worst == sorted(worst, reverse=True)
    assert all("Owner: " in section for section in files)
    assert 'id="problem-filter" hidden' in page and 'static/problems.js' in page
    assert (example_site / "static" / "problems.js").is_file()


def test_rotting_deals_longest_first(example_site: Path) -> None:
    days = [int(d) for d in re.findall(r'title="(\d+) days in \w+', _text(example_site, "lists/rotting.html"))]
    assert len(days) >= 2 and days == sorted(days, reverse=True)


def test_a_won_deal_has_no_days_in_stage(example_site: Path) -> None:
    won = _plain(_text(example_site, "deals/quanta-robotics-product-launch.html"))
    assert "In stage since" not in won and "Closed on" in won
    assert "In stage since" in _plain(_text(example_site, "deals/helix-health-patient-portal.html"))


def test_the_readme_first_command_builds_the_example_on_its_day() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    command = next(line for line in block.splitlines() if line and not line.startswith("#"))
    assert command.endswith(f"plaintext-crm build workspace-example --today {EXAMPLE_TODAY}")
    example_readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert f"Today\" for this example is Thursday {EXAMPLE_TODAY}" in example_readme


def test_the_example_inside_this_repository_reads_no_commits() -> None:
    """Built where it lives (inside the tool's repository), the example's timelines hold its notes, not the
    tool's development commits."""
    analysis = load_analysis(EXAMPLE, TODAY, use_cache=False, whole_history=True)
    history = analysis.history.history
    assert not history.available and history.notices == (GIT_HISTORY_OFF,)
    assert history.records == {}


def test_git_history_false_is_a_declared_setting() -> None:
    result = CliRunner().invoke(cli, ["schema", "crm"])
    assert result.exit_code == 0, result.output
    assert '"git_history"' in result.output


# --- the CLI ---------------------------------------------------------------------------------------

def _example(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root



def test_moving_to_won_removes_the_old_next_action_unless_kept(tmp_path: Path) -> None:
    root = _example(tmp_path)
    deal = "verde-energy-investor-site"
    path = root / "deals" / f"{deal}.md"
    handoff = ["--scope-summary", "Site", "--promised-timeline", "6 weeks from kickoff", "--key-constraint", "None",
               "--main-stakeholder", "Paul", "--kickoff-date", "2026-12-07"]
    kept = CliRunner().invoke(cli, ["move", deal, "won", str(root), *handoff, "--keep-next-action", "--dry-run",
                                    "--today", EXAMPLE_TODAY])
    assert kept.exit_code == 0, kept.output
    assert "\n-next_action" not in kept.output and "removed the next action" not in kept.output
    moved = CliRunner().invoke(cli, ["move", deal, "won", str(root), *handoff, "--today", EXAMPLE_TODAY])
    assert moved.exit_code == 0, moved.output
    assert "(--keep-next-action keeps it)" in moved.output
    text = path.read_text(encoding="utf-8")
    assert "next_action" not in text and "stage: won" in text


def test_schedule_counts_one_project_in_the_singular(make_workspace) -> None:
    root = make_workspace({"projects/site.md": "---\ntitle: Site\nowner: ana\nstatus: active\nstart: 2026-11-02\n"
                                               "tasks:\n  - {id: build, title: Build, duration: 5}\n---\n"})
    result = CliRunner().invoke(cli, ["schedule", str(root), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 0, result.output
    assert "\n1 project: " in result.output


def test_a_misspelt_stage_gets_did_you_mean(make_workspace) -> None:
    root = make_workspace({"clients/acme.md": "---\nname: Acme\nowner: ana\n---\n",
                           "deals/web.md": "---\ntitle: Web\nclient: acme\nowner: ana\nstage: proposl\n"
                                           "next_action: Call\nnext_action_due: 2026-11-30\n---\n"})
    result = CliRunner().invoke(cli, ["lint", str(root), "--today", EXAMPLE_TODAY])
    assert "deals/web.md:5:1: D005 [error] stage 'proposl' is not in the pipeline" in result.output
    assert "did you mean 'proposal'?" in result.output


def test_move_to_a_misspelt_stage_gets_did_you_mean(tmp_path: Path) -> None:
    root = _example(tmp_path)
    result = CliRunner().invoke(cli, ["move", "tidewater-bikes-app", "negotation", str(root), "--today", EXAMPLE_TODAY])
    assert result.exit_code == 2
    assert "no stage 'negotation' in the pipeline (stages: lead," in result.output
    assert "did you mean 'negotiation'?" in result.output
