"""CRM analytics on small workspaces: follow-up states, rotting, board, money, overview, hand-offs, forecast."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.findings import Finding, Severity
from plaintext_crm.records.config import load_config
from plaintext_crm.records.loader import load_workspace
from plaintext_crm.records.model import DealStatus
from plaintext_crm.sales.analytics import CrmAnalytics, sales_figures
from plaintext_crm.sales.figures import (
    FollowUpState,
    cents,
    follow_up_state,
    week_of,
)
from plaintext_crm.sales.forecast import NO_SOURCE, window_start

TODAY = dt.date(2026, 11, 26)  # a Thursday

CONFIG = """\
name: Test Studio
currency: EUR
team:
  ana: {name: Ana Ruiz}
  ben: {name: Ben Okafor}
  old: {name: Old Timer, active: false}
pipeline:
  - {stage: lead, probability: 0.1, rot_days: 21}
  - {stage: proposal, probability: 0.5, rot_days: 14}
  - {stage: won, closed: won}
  - {stage: lost, closed: lost}
"""


def deal(**fields: Any) -> str:
    """A deal file with these front matter fields (lists and dicts written as YAML flow)."""
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, list):
            value = "[" + ", ".join(str(item) for item in value) + "]"
        lines.append(f"{key}: {value}")
    return "\n".join(lines + ["---", "Notes.", ""])


def run(make_workspace, deals: dict[str, str], config: str = CONFIG, extra: dict[str, str] | None = None,
        today: dt.date = TODAY, **kwargs: Any) -> CrmAnalytics:
    files = {f"deals/{deal_id}.md": text for deal_id, text in deals.items()}
    root = make_workspace({**files, **(extra or {})}, config=config)
    workspace, findings = load_workspace(root)
    assert [f for f in findings if f.code == "C001"] == []
    return sales_figures(workspace, today, **kwargs)


# --- follow-up states and days in stage ---------------------------------------------------------

@pytest.mark.parametrize(("fields", "state"), [
    ({"next_action": "Call", "next_action_due": "2026-11-25"}, FollowUpState.OVERDUE),
    ({"next_action": "Call", "next_action_due": "2026-11-26"}, FollowUpState.DUE_TODAY),
    ({"next_action": "Call", "next_action_due": "2026-11-27"}, FollowUpState.PLANNED),
    ({"next_action": "Call"}, FollowUpState.NONE),
    ({"next_action_due": "2026-11-27"}, FollowUpState.NONE),
    ({"next_action": "Call", "next_action_due": "2026-02-30"}, FollowUpState.NONE),  # not a valid date
    ({}, FollowUpState.NONE),
])
def test_follow_up_state(make_workspace, fields: dict[str, str], state: FollowUpState) -> None:
    workspace, _ = load_workspace(make_workspace({"deals/d.md": deal(stage="lead", **fields)}, config=CONFIG))
    assert follow_up_state(workspace.deals["d"], TODAY) is state
    assert sales_figures(workspace, TODAY).deals["d"].follow_up is state


def test_closed_deals_have_no_follow_up_and_never_rot(make_workspace) -> None:
    analytics = run(make_workspace, {
        "w": deal(stage="won", next_action="Call", next_action_due="2026-11-01", stage_since="2026-01-01"),
    })
    figures = analytics.deals["w"]
    assert figures.follow_up is FollowUpState.NONE and figures.days_overdue == 0
    assert figures.days_in_stage == 329 and not figures.rotting


def test_days_in_stage_and_rotting_boundary(make_workspace) -> None:
    analytics = run(make_workspace, {
        "at-limit": deal(stage="proposal", stage_since="2026-11-12"),  # 14 days, rot_days 14
        "over": deal(stage="proposal", stage_since="2026-11-11"),  # 15 days
        "future": deal(stage="proposal", stage_since="2026-12-01"),
        "unknown": deal(stage="proposal"),
    })
    deals = analytics.deals
    assert (deals["at-limit"].days_in_stage, deals["at-limit"].rotting) == (14, False)
    assert (deals["over"].days_in_stage, deals["over"].rotting) == (15, True)
    assert (deals["future"].days_in_stage, deals["future"].rotting) == (0, False)
    assert (deals["unknown"].days_in_stage, deals["unknown"].rotting) == (None, False)
    assert analytics.overview.rotting.deal_ids == ("over",)


def test_stage_since_callable_replaces_front_matter(make_workspace) -> None:
    from_history = {"d": dt.date(2026, 10, 1)}
    analytics = run(make_workspace, {"d": deal(stage="lead", stage_since="2026-11-20")},
                    stage_since=lambda d: from_history.get(d.id))
    assert analytics.deals["d"].stage_since == dt.date(2026, 10, 1)
    assert analytics.deals["d"].days_in_stage == 56 and analytics.deals["d"].rotting


def test_days_overdue(make_workspace) -> None:
    analytics = run(make_workspace, {"d": deal(stage="lead", next_action="x", next_action_due="2026-11-20")})
    assert analytics.deals["d"].days_overdue == 6


# --- board -----------------------------------------------------------------------------------------

def test_board_columns_cards_order_and_totals(make_workspace) -> None:
    analytics = run(make_workspace, {
        "none": deal(stage="lead", value=1000),
        "planned": deal(stage="lead", value=2000, next_action="x", next_action_due="2026-12-01"),
        "today": deal(stage="lead", value=3000, next_action="x", next_action_due="2026-11-26"),
        "old-overdue": deal(stage="lead", value=4000, next_action="x", next_action_due="2026-11-01"),
        "new-overdue": deal(stage="lead", value=5000, next_action="x", next_action_due="2026-11-25"),
        "override": deal(stage="proposal", value=10000, probability=0.8),
        "plain": deal(stage="proposal", value=10000),
        "won": deal(stage="won", value=99999, closed_on="2026-11-02"),
        "typo": deal(stage="proposl", value=50000, next_action="x", next_action_due="2026-11-20"),
    })
    board = analytics.board
    assert [column.stage for column in board.columns] == ["lead", "proposal"]
    lead, proposal = board.columns
    assert [card.id for card in lead.cards] == ["old-overdue", "new-overdue", "today", "planned", "none"]
    assert lead.count == 5
    assert lead.total.value == Decimal("15000.00") and lead.weighted.value == Decimal("1500.00")
    assert proposal.total.value == Decimal("20000.00")
    assert proposal.weighted.value == Decimal("13000.00")  # 10000 x 0.8 (override) + 10000 x 0.5
    assert board.total.value == Decimal("35000.00") and board.weighted.value == Decimal("14500.00")
    assert [card.id for card in board.unstaged] == ["typo"]
    assert analytics.deals["typo"].status is DealStatus.UNKNOWN
    assert analytics.overview.unknown_stage.deal_ids == ("typo",)
    # an unknown stage is still open work: its follow-up counts
    assert "typo" in analytics.overview.overdue.deal_ids


def test_board_owners_for_the_filter(make_workspace) -> None:
    analytics = run(make_workspace, {
        "a": deal(stage="lead", owner="ben"), "b": deal(stage="lead", owner="ana"),
        "c": deal(stage="lead", owner="zed"), "d": deal(stage="lead"), "e": deal(stage="won", owner="old"),
    })
    assert [(o.id, o.name, o.active) for o in analytics.board.owners] == [
        ("ana", "Ana Ruiz", True), ("ben", "Ben Okafor", True), ("zed", "zed", None), (None, "(no owner)", None)]


# --- money -----------------------------------------------------------------------------------------

RATES_CONFIG = CONFIG + "exchange_rates: {USD: 0.92, gbp: 1.15}\n"


def test_exchange_rates_convert_and_missing_rates_are_listed_not_summed(make_workspace) -> None:
    analytics = run(make_workspace, {
        "eur": deal(stage="proposal", value=1000),
        "usd": deal(stage="proposal", value=1000, currency="usd"),
        "gbp": deal(stage="proposal", value=1000, currency="GBP"),
        "chf": deal(stage="proposal", value=1000, currency="CHF"),
        "novalue": deal(stage="proposal"),
    }, config=RATES_CONFIG)
    deals = analytics.deals
    assert deals["usd"].value_base == Decimal("920.00") and deals["usd"].currency == "USD"
    assert deals["gbp"].value_base == Decimal("1150.00")
    assert deals["chf"].value_base is None and deals["chf"].unconverted
    total = analytics.overview.open_pipeline.amount
    assert total is not None
    assert total.value == Decimal("3070.00")
    assert total.deal_ids == ("eur", "gbp", "usd")
    assert total.unconverted == ("chf",) and total.no_value == ("novalue",) and not total.complete
    assert analytics.overview.open_pipeline.count == 5  # every open deal is behind the figure


def test_weighted_sum_is_rounded_once_at_the_end(make_workspace) -> None:
    # 1001 x 0.3333 = 333.6333 each: rounding per deal would give 1000.89, rounding the sum gives 1000.90
    analytics = run(make_workspace, {name: deal(stage="lead", value=1001, probability=0.3333) for name in "abc"})
    assert analytics.overview.weighted_forecast.amount.value == Decimal("1000.90")
    assert cents(Decimal("2.345")) == Decimal("2.35")
    tiny = run(lambda files, config: make_workspace(files, config=config, name="tiny"), {"x": deal(stage="lead", value=0.1)})
    assert tiny.deals["x"].weighted == Decimal("0.01")  # 0.1 x 0.1, exact


@pytest.mark.parametrize(("setting", "line", "message"), [
    ("exchange_rates: [USD]", 2, "must map currency codes"),
    ("exchange_rates:\n  USD: -1", 3, "positive number"),
    ("exchange_rates:\n  USD: yes", 3, "positive number"),
    ("exchange_rates:\n  USD: '0.9'", 3, "positive number"),
    ("exchange_rates:\n  dollars: 0.9", 3, "three-letter currency code"),
    ("exchange_rates:\n  EUR: 2", 3, "workspace currency"),
])
def test_bad_exchange_rates_are_c001(tmp_path: Path, setting: str, line: int, message: str) -> None:
    (tmp_path / "crm.yaml").write_text("currency: EUR\n" + setting + "\n", encoding="utf-8")
    config, findings = load_config(tmp_path)
    assert [(f.code, f.line) for f in findings] == [("C001", line)]
    assert message in findings[0].message
    assert config.exchange_rates == {}


def test_good_exchange_rates(tmp_path: Path) -> None:
    (tmp_path / "crm.yaml").write_text("currency: eur\nexchange_rates: {usd: 0.92, GBP: 1, EUR: 1}\n",
                                       encoding="utf-8")
    config, findings = load_config(tmp_path)
    assert findings == []
    assert config.exchange_rates == {"USD": Decimal("0.92"), "GBP": Decimal(1), "EUR": Decimal(1)}


# --- overview and follow-ups -----------------------------------------------------------------------

def test_overview_won_this_month_and_quarter_and_lint_counts(make_workspace) -> None:
    analytics = run(make_workspace, {
        "nov": deal(stage="won", value=100, closed_on="2026-11-03"),
        "oct": deal(stage="won", value=200, closed_on="2026-10-31"),
        "sep": deal(stage="won", value=400, closed_on="2026-09-30"),
        "no-date": deal(stage="won", value=800),
        "lost-nov": deal(stage="lost", value=1600, closed_on="2026-11-10"),
    }, findings=[Finding("deals/a.md", 1, 1, "D001", "x", Severity.ERROR, "m"),
                 Finding("deals/a.md", 2, 1, "D002", "y", Severity.WARNING, "m"),
                 Finding("deals/b.md", 2, 1, "D002", "y", Severity.WARNING, "m")])
    overview = analytics.overview
    assert (overview.month, overview.quarter) == ("2026-11", "2026-Q4")
    assert overview.won_this_month.deal_ids == ("nov",) and overview.won_this_month.amount.value == 100
    assert overview.won_this_quarter.deal_ids == ("nov", "oct")
    assert overview.won_this_quarter.amount.value == Decimal("300.00")
    assert overview.open_pipeline.count == 0 and overview.open_pipeline.amount.value == 0
    assert overview.lint_problems == 3
    assert dict(overview.lint_by_severity) == {"error": 1, "warning": 2, "info": 0}
    assert analytics.forecast.won_without_close_date == ("no-date",)


def test_week_is_monday_to_sunday() -> None:
    assert week_of(TODAY) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert week_of(dt.date(2026, 11, 29)) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert week_of(dt.date(2026, 11, 30)) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))


def test_follow_ups_per_owner_in_disjoint_lists(make_workspace) -> None:
    analytics = run(make_workspace, {
        "a-overdue": deal(stage="lead", owner="ana", next_action="x", next_action_due="2026-11-02"),
        "a-today": deal(stage="lead", owner="ana", next_action="x", next_action_due="2026-11-26"),
        "a-sunday": deal(stage="lead", owner="ana", next_action="x", next_action_due="2026-11-29"),
        "a-monday": deal(stage="lead", owner="ana", next_action="x", next_action_due="2026-11-30"),
        "a-missing": deal(stage="lead", owner="ana"),
        "b-friday": deal(stage="proposal", owner="ben", next_action="x", next_action_due="2026-11-27"),
        "b-won": deal(stage="won", owner="ben", next_action="x", next_action_due="2026-11-27"),
        "nobody": deal(stage="lead", next_action="x", next_action_due="2026-11-01"),
    })
    followups = analytics.followups
    assert (followups.week_start, followups.week_end) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    by_owner = {entry.owner.id: entry.lists for entry in followups.owners}
    assert list(by_owner) == ["ana", "ben", None]
    ana = by_owner["ana"]
    assert [[f.id for f in part] for part in (ana.overdue, ana.due_today, ana.this_week, ana.later, ana.missing)] \
        == [["a-overdue"], ["a-today"], ["a-sunday"], ["a-monday"], ["a-missing"]]
    assert [f.id for f in ana.scheduled] == ["a-overdue", "a-today", "a-sunday", "a-monday"]
    assert [f.id for f in by_owner["ben"].this_week] == ["b-friday"]  # the won deal is not a follow-up
    overview = analytics.overview
    assert overview.overdue.deal_ids == ("nobody", "a-overdue")  # oldest first
    assert overview.due_today.deal_ids == ("a-today",)
    assert overview.due_this_week.deal_ids == ("b-friday", "a-sunday")  # by due date
    assert overview.no_next_action.deal_ids == ("a-missing",)


# --- hand-offs -------------------------------------------------------------------------------------

HANDOFF_FIELDS = {"scope_summary": "Site", "promised_timeline": "6 weeks", "key_constraints": "[Budget]",
                      "main_stakeholder": "Jo", "kickoff_date": "2026-12-01"}


def test_handoffs_completeness_and_projects(make_workspace) -> None:
    analytics = run(make_workspace, {
        "complete": deal(stage="won", closed_on="2026-11-20", project="p-complete", **HANDOFF_FIELDS),
        "linked-back": deal(stage="won", closed_on="2026-11-10", **HANDOFF_FIELDS),
        "partial": deal(stage="won", closed_on="2026-11-01", scope_summary="x", key_constraints="[]",
                        main_stakeholder="''", kickoff_date="2026-02-30"),
        "late": deal(stage="won", closed_on="2026-10-01", **{**HANDOFF_FIELDS, "kickoff_date": "2026-11-16"},
                     project="missing-project"),
        "open": deal(stage="lead"),
    }, extra={"projects/p-complete.md": "---\ntitle: P\ndeal: complete\n---\n",
              "projects/p-linked.md": "---\ntitle: L\ndeal: linked-back\n---\n"})
    items = {item.deal.id: item for item in analytics.handoffs.items}
    assert list(items) == ["complete", "linked-back", "partial", "late"]  # most recently closed first
    assert items["complete"].complete and items["complete"].project_id == "p-complete"
    assert items["linked-back"].project_id == "p-linked" and items["linked-back"].project_ref is None
    partial = items["partial"]
    assert partial.missing == ("promised_timeline", "key_constraints", "main_stakeholder")
    assert partial.invalid == ("kickoff_date",) and not partial.complete
    late = items["late"]
    assert late.complete and late.project_ref == "missing-project" and late.project_id is None
    assert late.kickoff_passed and not items["complete"].kickoff_passed
    assert [item.deal.id for item in analytics.handoffs.incomplete] == ["partial"]
    assert [item.deal.id for item in analytics.handoffs.without_project] == ["partial", "late"]


def test_handoff_fields_come_from_config_including_custom_ones(make_workspace) -> None:
    config = CONFIG + "handoff_fields: [budget_code, kickoff_date]\n"
    analytics = run(make_workspace, {"w": deal(stage="won", budget_code="B-12")}, config=config)
    item = analytics.handoffs.items[0]
    assert item.required == ("budget_code", "kickoff_date") and item.missing == ("kickoff_date",)


# --- forecast --------------------------------------------------------------------------------------

def test_forecast_months_buckets_and_stats(make_workspace) -> None:
    analytics = run(make_workspace, {
        "dec": deal(stage="proposal", value=1000, expected_close="2026-12-15", source="web"),
        "dec2": deal(stage="lead", value=1000, expected_close="2026-12-31", source="web"),
        "feb": deal(stage="lead", value=500, expected_close="2027-02-01"),
        "this-month-late": deal(stage="lead", value=300, expected_close="2026-11-25"),
        "this-month": deal(stage="lead", value=700, expected_close="2026-11-30", source="referral"),
        "no-date": deal(stage="proposal", value=100),
        "won-nov": deal(stage="won", value=2000, created="2026-10-01", closed_on="2026-11-10", source="referral"),
        "won-jan": deal(stage="won", value=1000, created="2025-12-01", closed_on="2026-01-20", source="web"),
        "won-old": deal(stage="won", value=4000, created="2024-01-01", closed_on="2024-03-01", source="web"),
        "lost-nov": deal(stage="lost", value=9000, closed_on="2026-11-02", source="web"),
        "lost-old": deal(stage="lost", value=9000, closed_on="2023-11-02"),
    })
    forecast = analytics.forecast
    months = {bucket.key: bucket for bucket in forecast.months}
    assert window_start(TODAY) == dt.date(2025, 12, 1)
    assert list(months) == ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
                            "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02"]
    assert months["2026-01"].won.deal_ids == ("won-jan",) and months["2026-01"].won.value == 1000
    assert months["2026-11"].won.deal_ids == ("won-nov",)
    assert months["2026-11"].weighted.deal_ids == ("this-month",)
    assert months["2026-11"].weighted.value == Decimal("70.00") and months["2026-11"].total == Decimal("2070.00")
    assert months["2026-12"].weighted.value == Decimal("600.00")  # 1000 x 0.5 + 1000 x 0.1
    assert months["2026-12"].open_value.value == Decimal("2000.00")
    assert months["2027-02"].weighted.value == Decimal("50.00")
    assert forecast.overdue_close.weighted.deal_ids == ("this-month-late",)
    assert forecast.no_date.open_value.deal_ids == ("no-date",) and forecast.no_date.weighted.value == 50
    assert forecast.weighted_total.value == Decimal("800.00")
    assert forecast.weighted_total.value == sum(b.weighted.value for b in (*forecast.months, forecast.no_date,
                                                                               forecast.overdue_close))

    all_time = forecast.all_time
    assert (len(all_time.won_ids), len(all_time.lost_ids), all_time.win_rate) == (3, 2, 0.6)
    assert all_time.average_won_value == Decimal("2333.33")
    assert all_time.average_cycle_days == 50.0  # 40, 50 and 60 days
    recent = forecast.last_12_months
    assert set(recent.won_ids) == {"won-nov", "won-jan"} and recent.lost_ids == ("lost-nov",)
    assert recent.win_rate == 0.6667 and recent.average_won_value == Decimal("1500.00")
    assert recent.average_cycle_days == 45.0

    sources = {row.source: row for row in forecast.sources}
    assert [row.source for row in forecast.sources] == ["web", "referral", NO_SOURCE]
    web = sources["web"]
    assert (web.deals, web.open, web.won, web.lost, web.win_rate) == (5, 2, 2, 1, 0.6667)
    assert web.won_revenue.value == Decimal("5000.00")
    assert (sources[NO_SOURCE].deals, sources[NO_SOURCE].win_rate) == (4, 0.0)

    stages = {total.stage: total for total in forecast.stages}
    assert list(stages) == ["lead", "proposal", "won", "lost"]
    assert (stages["lead"].count, stages["lead"].value.value, stages["lead"].weighted.value) == (
        4, Decimal("2500.00"), Decimal("250.00"))
    assert stages["won"].weighted.value == Decimal("7000.00") and stages["lost"].weighted.value == 0


def test_forecast_with_no_closed_deals_has_no_rates(make_workspace) -> None:
    analytics = run(make_workspace, {"d": deal(stage="lead", value=10)})
    stats = analytics.forecast.all_time
    assert stats.win_rate is None and stats.average_won_value is None and stats.average_cycle_days is None
    assert [bucket.key for bucket in analytics.forecast.months][-1] == "2026-11"


# --- data.json ---------------------------------------------------------------------------------------

def test_to_data_is_json_with_iso_dates_ids_and_cents(make_workspace) -> None:
    analytics = run(make_workspace, {
        "d": deal(stage="lead", value=1001, probability=0.3333, owner="ana", next_action="Call",
                  next_action_due="2026-11-25", created="2026-11-01"),
        "w": deal(stage="won", value=10, closed_on="2026-11-02", **HANDOFF_FIELDS),
    })
    data = json.loads(json.dumps(analytics.to_data()))
    assert data["today"] == "2026-11-26" and data["currency"] == "EUR"
    d = data["deals"]["d"]
    assert d["follow_up"] == "overdue" and d["next_action_due"] == "2026-11-25" and d["is_open"] is True
    assert d["weighted"] == 333.63 and d["value"] == 1001.0 and d["status"] == "open"
    assert data["board"]["columns"][0]["cards"] == ["d"] and data["board"]["columns"][0]["count"] == 1
    assert data["overview"]["overdue"] == {"key": "overdue", "label": "Follow-ups overdue", "count": 1,
                                           "deal_ids": ["d"], "amount": None}
    assert data["handoffs"]["items"][0]["deal"] == "w" and data["handoffs"]["items"][0]["complete"] is True
    assert data["followups"]["owners"][0]["owner"] == {"id": "ana", "name": "Ana Ruiz", "active": True}
    assert data["forecast"]["months"][-1]["key"] == "2026-11"
    assert data["forecast"]["sources"][0] | {"won_revenue": None} == {
        "source": "(none)", "deal_ids": ["d", "w"], "open_ids": ["d"], "won_ids": ["w"], "lost_ids": [],
        "win_rate": 1.0, "won_revenue": None, "deals": 2, "open": 1, "won": 1, "lost": 0}


def test_probability_override_only_weighs_open_deals(make_workspace) -> None:
    analytics = run(make_workspace, {
        "won": deal(stage="won", value=1000, probability=0.3, closed_on="2026-11-02"),
        "lost": deal(stage="lost", value=1000, probability=0.3, closed_on="2026-11-02"),
        "open": deal(stage="lead", value=1000, probability=0.3),
    })
    assert [analytics.deals[d].probability for d in ("won", "lost", "open")] == [1.0, 0.0, 0.3]
    stages = {total.stage: total.weighted.value for total in analytics.forecast.stages}
    assert stages == {"lead": Decimal("300.00"), "proposal": 0, "won": Decimal("1000.00"), "lost": 0}


# --- invariants over random workspaces --------------------------------------------------------------

_dates = st.dates(min_value=dt.date(2025, 6, 1), max_value=dt.date(2027, 6, 30))
_deals = st.dictionaries(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.fixed_dictionaries({
        "stage": st.sampled_from(["lead", "proposal", "won", "lost", "mystery"]),
        "value": st.one_of(st.none(), st.integers(0, 10**6), st.decimals(0, 10**5, places=2).map(str)),
        "currency": st.sampled_from([None, "EUR", "USD", "CHF"]),
        "probability": st.one_of(st.none(), st.decimals(0, 1, places=3).map(str)),
        "owner": st.sampled_from([None, "ana", "ben", "zed"]),
        "next_action_due": st.one_of(st.none(), _dates), "expected_close": st.one_of(st.none(), _dates),
        "closed_on": st.one_of(st.none(), _dates), "stage_since": st.one_of(st.none(), _dates),
    }), max_size=12)


@settings(max_examples=40, deadline=None)
@given(_deals)
def test_figures_are_consistent(deals: dict[str, dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "crm.yaml").write_text(RATES_CONFIG, encoding="utf-8")
        (root / "deals").mkdir()
        for deal_id, fields in deals.items():
            written = {key: value for key, value in fields.items() if value is not None}
            if "next_action_due" in written:
                written["next_action"] = "Call"
            (root / "deals" / f"{deal_id}.md").write_text(deal(**written), encoding="utf-8")
        analytics = sales_figures(load_workspace(root)[0], TODAY)
    overview, board, forecast = analytics.overview, analytics.board, analytics.forecast
    active = sorted(d for d, f in analytics.deals.items() if f.status in (DealStatus.OPEN, DealStatus.UNKNOWN))
    lists = analytics.followups.all
    placed = [f.id for part in (lists.overdue, lists.due_today, lists.this_week, lists.later, lists.missing)
              for f in part]
    assert sorted(placed) == active  # every open deal in exactly one list
    assert sorted(f.id for owner in analytics.followups.owners for f in owner.lists.scheduled + owner.lists.missing) \
        == active
    open_ids = sorted(d for d, f in analytics.deals.items() if f.status is DealStatus.OPEN)
    amount = overview.open_pipeline.amount
    assert sorted(amount.deal_ids + amount.unconverted + amount.no_value) == open_ids
    assert len(set(amount.deal_ids + amount.unconverted + amount.no_value)) == len(open_ids)
    for on_board, headline in ((board.total, amount), (board.weighted, overview.weighted_forecast.amount)):
        assert on_board.value == headline.value
        assert sorted(on_board.deal_ids + on_board.unconverted) == sorted(headline.deal_ids + headline.unconverted)
    assert forecast.weighted_total == overview.weighted_forecast.amount
    cent = Decimal("0.01")
    columns = sum((column.total.value for column in board.columns), Decimal(0))
    assert abs(columns - board.total.value) <= cent * len(board.columns)  # each column rounded once
    buckets = [*forecast.months, forecast.no_date, forecast.overdue_close]
    assert abs(sum((b.weighted.value for b in buckets), Decimal(0)) - forecast.weighted_total.value) \
        <= cent * len(buckets)
    assert sorted(d for b in buckets for d in b.weighted.deal_ids + b.weighted.unconverted + b.weighted.no_value) \
        == open_ids
    assert sum(row.deals for row in forecast.sources) == len(deals)
    for figures in analytics.deals.values():
        assert figures.rotting == (figures.is_open and figures.rot_days is not None
                                   and figures.days_in_stage is not None and figures.days_in_stage > figures.rot_days)
