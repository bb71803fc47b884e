"""The delivery part of the built site: data.json's schedule fields, the pages, the navigation, health on others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import EXAMPLE


@pytest.fixture
def site(example_site: Path) -> Path:
    return example_site


def test_data_json_schedule(site: Path) -> None:
    data = json.loads((site / "data.json").read_text(encoding="utf-8"))
    helix = data["projects"]["helix-website"]["schedule"]
    assert (helix["health"], helix["planned_start"], helix["planned_finish"], helix["due"], helix["slack"],
            helix["drift"], helix["percent_complete"]) == ("at risk", "2026-08-03", "2026-12-30", "2026-12-11", -10,
                                                         26, 21)
    assert helix["promised"] == {"text": "16 weeks from kickoff", "finish": "2026-11-20", "kickoff": "2026-08-03"}
    assert helix["next_milestone"] == {"task": "launch", "title": "Launch", "date": "2026-12-30"}
    qa = helix["tasks"]["qa"]
    assert {key: qa[key] for key in ("earliest_start", "earliest_finish", "latest_start", "latest_finish", "slack",
                                     "critical", "state")} == {
        "earliest_start": "2026-12-07", "earliest_finish": "2026-12-18", "latest_start": "2026-11-23",
        "latest_finish": "2026-12-04", "slack": -10, "critical": True, "state": "waiting"}
    done = helix["tasks"]["discovery"]
    assert (done["latest_start"], done["slack"], done["critical"]) == (None, None, False)
    for project in data["projects"].values():
        for task in project["schedule"]["tasks"].values():
            assert set(task) >= {"earliest_start", "earliest_finish", "latest_start", "latest_finish", "slack",
                                 "critical"}


def test_pages_and_navigation(site: Path) -> None:
    for name in ("projects/index.html", "portfolio.html", *(f"projects/{path.stem}.html"
                                                           for path in (EXAMPLE / "projects").glob("*.md"))):
        assert (site / name).is_file(), name
    overview = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="projects/index.html"' in overview and 'href="portfolio.html"' in overview
    assert 'data-figure="projects_at_risk"' in overview and "Helix Health website relaunch" in overview
    client = (site / "clients" / "northwind-coffee.html").read_text(encoding="utf-8")
    assert client.count('data-health="on track"') == 2
    listing = (site / "projects" / "index.html").read_text(encoding="utf-8")
    assert listing.index('data-project="helix-website"') < listing.index('data-project="northwind-rebrand"')
    page = (site / "projects" / "kite-mobile-app.html").read_text(encoding="utf-8")
    assert "Nina Park" in page and "20 weeks from kickoff" in page and "3 of 5 done" in page


def test_site_builds_with_cycles_and_odd_projects(make_workspace, tmp_path: Path) -> None:
    import datetime as dt

    from plaintext_crm.site.builder import build_site

    root = make_workspace({
        "clients/acme.md": "---\nname: Acme\n---\n",
        "projects/loop.md": """\
            ---
            title: Loop
            client: acme
            deal: nowhere
            owner: ana
            status: active
            start: 2026-12-07
            depends_on: [empty]
            tasks:
              - {id: a, duration: 2, depends_on: [b]}
              - {id: b, duration: 2, depends_on: [a]}
              - {id: m, milestone: true, depends_on: [a, empty/none]}
            ---
            - [ ] one
            """,
        "projects/empty.md": "---\ntitle: Empty\nowner: ana\nstatus: planned\ndepends_on: [loop]\n---\n",
    })
    build_site(root, tmp_path / "out", dt.date(2026, 11, 26), use_cache=False)
    page = (tmp_path / "out" / "projects" / "loop.html").read_text(encoding="utf-8")
    assert "dependency cycle a -&gt; b -&gt; a" in page
    assert "This project names no deal" not in page and "Deal <code>nowhere</code> does not exist" in page
    portfolio = (tmp_path / "out" / "portfolio.html").read_text(encoding="utf-8")
    assert "project dependency cycle empty -&gt; loop -&gt; empty" in portfolio
    assert (tmp_path / "out" / "projects" / "empty.html").is_file()


def test_rebuild_refreshes_health_changed_by_another_project(make_workspace, tmp_path: Path) -> None:
    import datetime as dt
    import os

    from plaintext_crm.site.builder import build_site

    upstream = "---\ntitle: Q\nclient: globex\nowner: ana\nstatus: active\nstart: 2026-12-07\ntasks:\n" \
               "  - {{id: api, duration: {days}}}\n---\n"
    root = make_workspace({
        "clients/acme.md": "---\nname: Acme\n---\n", "clients/globex.md": "---\nname: Globex\n---\n",
        "projects/p.md": "---\ntitle: P\nclient: acme\nowner: ana\nstatus: active\nstart: 2026-12-07\n"
                         "due: 2026-12-31\ntasks:\n  - {id: ui, duration: 3, depends_on: [q/api]}\n---\n",
        "projects/q.md": upstream.format(days=2),
    })
    out, today = tmp_path / "out", dt.date(2026, 11, 26)
    build_site(root, out, today)
    assert 'data-health="on track"' in (out / "clients" / "acme.html").read_text(encoding="utf-8")
    (root / "projects" / "q.md").write_text(upstream.format(days=30), encoding="utf-8")
    stat = os.stat(root / "projects" / "q.md")
    os.utime(root / "projects" / "q.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    build_site(root, out, today)  # acme's page reads no file that changed, but p's health did
    assert 'data-health="at risk"' in (out / "clients" / "acme.html").read_text(encoding="utf-8")
    assert 'data-health="at risk"' in (out / "projects" / "p.html").read_text(encoding="utf-8")


def test_gantt_draws_cross_project_dependencies(site: Path) -> None:
    page = (site / "projects" / "northwind-webshop.html").read_text(encoding="utf-8")
    gantt = page.split('class="chart gantt"', 1)[1].split("</svg>", 1)[0]
    # the other project's task is a dashed row labelled with its reference, with an arrow to the task waiting for it
    assert 'class="gantt-bar state-external is-external" data-key="northwind-rebrand/brand-guidelines"' in gantt
    assert 'data-link="northwind-rebrand/brand-guidelines>visual-design"' in gantt
    assert "<title>northwind-rebrand/brand-guidelines (another project)" in gantt
    assert "status date 26 Nov" in gantt
