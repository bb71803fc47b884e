"""`plaintext-crm digest`: the example's digests for 2026-11-26 in every format (golden files), the items
checked against the YAML independently, links to pages the site builds, and user text escaped per syntax."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from plaintext_crm.analysis import load_analysis
from plaintext_crm.cli import cli
from plaintext_crm.notify.digest import digests
from plaintext_crm.notify.render_html import render_html
from plaintext_crm.notify.render_markdown import render_markdown
from plaintext_crm.notify.render_text import render_text
from plaintext_crm.notify.webhooks import slack_payload, teams_payload
from tests.notify_support import HtmlScan
from tests.support import EXAMPLE, EXAMPLE_TODAY

GOLDEN = Path(__file__).parent / "fixtures" / "digest"
FORMATS = {"text": "txt", "markdown": "md", "html": "html", "json": "json"}
TODAY = dt.date.fromisoformat(EXAMPLE_TODAY)
DEAL = "---\ntitle: \"{title}\"\nclient: acme\nowner: ana\nstage: lead\nnext_action: Call\nnext_action_due: {due}\n---\n"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example outside any git repository: stage dates from the files, whatever this checkout's history."""
    root = tmp_path_factory.mktemp("digest") / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["digest", *args], catch_exceptions=False)


@pytest.mark.parametrize("output_format", FORMATS)
def test_the_example_digests_match_the_golden_files(example: Path, output_format: str) -> None:
    """Regenerate after a deliberate change: plaintext-crm digest COPY --today 2026-11-26 --format F > the file
    (COPY: the example copied outside git, so that stage dates come from the files)."""
    result = run(str(example), "--today", EXAMPLE_TODAY, "--format", output_format)
    assert result.exit_code == 0, result.output
    golden = (GOLDEN / f"example-2026-11-26.{FORMATS[output_format]}").read_text(encoding="utf-8")
    assert result.output == golden


def _front_matter(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])


def test_the_follow_up_items_equal_what_the_yaml_says(example: Path) -> None:
    settings = yaml.safe_load((example / "crm.yaml").read_text(encoding="utf-8"))
    open_stages = {item["stage"] for item in settings["pipeline"] if not item.get("closed")}
    expected: dict[tuple[str, str], list[str]] = {}
    for path in sorted((example / "deals").glob("*.md")):
        deal = _front_matter(path)
        due = deal.get("next_action_due")
        if deal.get("stage") not in open_stages or not deal.get("next_action") or not isinstance(due, dt.date):
            continue
        key = "overdue" if due < TODAY else "due_today" if due == TODAY else \
            "this_week" if due <= TODAY + dt.timedelta(days=6 - TODAY.weekday()) else None
        if key:
            expected.setdefault((deal["owner"], key), []).append((due, path.stem))  # type: ignore[arg-type]
    data = json.loads(run(str(example), "--today", EXAMPLE_TODAY, "--format", "json").output)
    found = {(digest["owner"]["id"], section["key"]): [item["id"] for item in section["items"]]
             for digest in data["digests"] for section in digest["sections"]
             if section["key"] in ("overdue", "due_today", "this_week")}
    assert found == {key: [deal_id for _due, deal_id in sorted(items)] for key, items in expected.items()}
    assert [digest["owner"]["id"] for digest in data["digests"]] == ["ana", "maya", "leo", "priya", "sam"]  # no tom


def test_every_link_is_a_page_the_site_builds(example: Path, example_site: Path) -> None:
    data = json.loads(run(str(example), "--today", EXAMPLE_TODAY, "--format", "json").output)
    items = [item for digest in data["digests"] for section in digest["sections"] for item in section["items"]]
    assert items and all(item["url"] == "https://crm.brightline.example/" + item["page"] for item in items)
    assert all((example_site / item["page"]).is_file() for item in items)


def test_one_owner_an_unknown_owner_and_an_owner_with_nothing_due(example: Path) -> None:
    result = run(str(example), "--today", EXAMPLE_TODAY, "--owner", "priya")
    assert result.exit_code == 0
    assert result.output.startswith("Daily digest for Priya Nair (priya) - Thu 2026-11-26 - Brightline Studio\n")
    # Priya's museum project is on hold: it makes no "late" claims (planning from the status date, issue 15).
    assert "Late critical tasks" not in result.output and "Approvals waiting (1)" in result.output
    assert "Ana Ruiz" not in result.output
    assert run(str(example), "--today", EXAMPLE_TODAY, "--owner", "tom").output == "No digest: nothing is due.\n"
    unknown = CliRunner().invoke(cli, ["digest", str(example), "--owner", "zed"])
    assert unknown.exit_code == 2 and "no owner zed" in unknown.output


HOSTILE = '<script>alert(1)</script> & *bold* [x](http://evil) |pipe| <!here>'


@pytest.fixture
def hostile(make_workspace: Callable[..., Path]) -> Path:
    config = "name: Test & <Studio>\nsite_url: https://crm.example.com/x\nteam:\n  ana: {name: Ana <b>, email: a@example.com}\n"
    deal = DEAL.format(title=HOSTILE.replace('"', '\\"'), due="2026-11-20")
    return make_workspace({"crm.yaml": config, "deals/a-deal.md": deal, "clients/acme.md": "---\nname: Acme\n---\n"},
                          config=None)


def test_user_text_is_escaped_for_each_syntax(hostile: Path) -> None:
    [digest] = [item for item in digests(load_analysis(hostile, TODAY, use_cache=False)) if not item.empty]
    page = render_html(digest)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold*" in page
    assert "Ana &lt;b&gt;" in page
    collector = HtmlScan(page)
    assert collector.tags <= {"html", "head", "meta", "title", "body", "h1", "h2", "ul", "li", "a", "span", "p"}
    assert collector.resources == [] and collector.links == ["https://crm.example.com/x/deals/a-deal.html"]
    markdown = render_markdown(digest)
    assert "<script>" not in markdown and "\\*bold\\*" in markdown and "\\[x\\]" in markdown
    assert "(https://crm.example.com/x/deals/a-deal.html)" in markdown
    assert "<script>" in render_text(digest)  # the terminal shows text as written
    slack = json.dumps(slack_payload(digest))
    assert "<script>" not in slack and "<!here>" not in slack and "&lt;!here&gt;" in slack
    assert "<https://crm.example.com/x/deals/a-deal.html|&lt;script&gt;" in slack
    card = teams_payload(digest)["attachments"][0]["content"]
    runs = [run for block in card["body"] for run in block["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}  # plain text by the schema: never read as Markdown
    [title] = [run for run in runs if run["text"] == HOSTILE]
    assert title["selectAction"] == {"type": "Action.OpenUrl", "url": "https://crm.example.com/x/deals/a-deal.html"}


def test_the_example_html_has_no_external_resources(example: Path) -> None:
    collector = HtmlScan(run(str(example), "--today", EXAMPLE_TODAY, "--format", "html").output)
    assert collector.resources == [] and "style" not in collector.tags and "script" not in collector.tags
    assert collector.links and all(link.startswith("https://crm.brightline.example/") for link in collector.links)


def test_without_site_url_items_name_their_files(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"deals/a-deal.md": DEAL.format(title="Plain", due="2026-11-26"),
                           "clients/acme.md": "---\nname: Acme\n---\n"})
    result = run(str(root), "--today", EXAMPLE_TODAY)
    assert result.output.splitlines()[2:5] == ["Due today (1)", "  - Plain: Call (due 2026-11-26)",
                                               "    deals/a-deal.md"]


def test_notify_skips_members_without_email_inactive_ones_and_owners_outside_the_team(
        make_workspace: Callable[..., Path]) -> None:
    import datetime as dt_

    from plaintext_crm.notify.run import plan
    from plaintext_crm.records.notify_settings import EmailSettings, NotifySettings

    files = {f"deals/{owner}-deal.md": DEAL.format(title=f"{owner}'s deal", due="2026-11-20").replace(
        "owner: ana", f"owner: {owner}") for owner in ("ana", "ben", "old", "zed")}
    root = make_workspace({**files, "clients/acme.md": "---\nname: Acme\n---\n"})
    found = digests(load_analysis(root, TODAY, use_cache=False))
    assert [digest.owner for digest in found if not digest.empty] == ["ana", "ben", "old", "zed"]
    settings = NotifySettings(email=EmailSettings("smtp.example.com", "crm@example.com"))
    now = dt_.datetime(2026, 11, 26, 7, tzinfo=dt_.UTC)
    deliveries, notices = plan(found, settings, "email", now)
    assert [delivery.to for delivery in deliveries] == ["ana@example.com"]
    assert notices == ["ben: skipped, no email in crm.yaml's team",
                       "old: skipped, an inactive member (active: false in crm.yaml); their open records need a new owner",
                       "zed: skipped, not a member of crm.yaml's team (no email to send to)"]
    hooks, skipped = plan(found, settings, "webhook", now)  # a chat needs no address; people who left get nothing
    assert [delivery.digest.owner for delivery in hooks] == ["ana", "ben", "zed"] and skipped == notices[1:2]


PROJECT = """\
---
title: Site build
client: acme
owner: ana
status: active
start: 2026-11-02
tasks:
  - {id: design, title: Design, start: 2026-11-02, duration: 5, status: done, approval: {by: Jane, status: pending}}
  - {id: build, title: Build, duration: 10, status: doing, depends_on: [design], due: 2026-11-20}
  - {id: review, title: Client review, milestone: true, start: 2026-11-27, status: todo}
  - {id: launch, title: Launch, milestone: true, status: todo, depends_on: [build]}
  - {id: docs, title: Handbook, duration: 5, status: todo, depends_on: [launch]}
---
"""


def test_project_owners_get_late_critical_tasks_approvals_and_this_weeks_milestones(
        make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"projects/site.md": PROJECT, "clients/acme.md": "---\nname: Acme\n---\n"})
    [digest] = digests(load_analysis(root, TODAY, use_cache=False), ["ana"])
    found = {section.key: [item.detail for item in section.items] for section in digest.sections}
    # Build, in progress past its due date, is late; the launch after it is planned from today on (the
    # status date), so it waits for Build rather than being late itself.
    assert found == {"late_tasks": ["Build (due 2026-11-20, 6 days late)"],
                     "approvals": ["Design: waiting for Jane's approval"],
                     "milestones": ["Client review (Fri 2026-11-27)"]}
    assert {item.page for section in digest.sections for item in section.items} == {"projects/site.html"}
