"""crm.yaml's `site_url` and `notify:` (C001 findings with lines, the schema agrees), and when scheduled digests
go out: the UTC cron lines of a local hour and the check a scheduled run makes."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import jsonschema
import pytest
import yaml
from jsonschema import Draft202012Validator

from plaintext_crm.commands.schema import schema_of
from plaintext_crm.notify.schedule import cron_lines, scheduled_run_due, team_today
from plaintext_crm.records.config import config_from_text
from plaintext_crm.records.notify_settings import EmailSettings, WebhookSettings

CRM = schema_of("crm")


def _valid_for_schema(text: str) -> bool:
    return not list(Draft202012Validator(CRM).iter_errors(yaml.safe_load(text)))


def test_the_settings_are_read() -> None:
    config, findings = config_from_text(
        "site_url: https://crm.example.com/team\n"
        "notify:\n  hour: 7\n  time_zone: America/New_York\n"
        "  email: {host: smtp.example.com, from: 'CRM <crm@example.com>', port: 2525, starttls: false}\n"
        "  webhook: {kind: teams}\n")
    assert findings == []
    assert config.site_url == "https://crm.example.com/team/"
    assert config.notify.hour == 7 and config.notify.time_zone == "America/New_York"
    assert config.notify.email == EmailSettings("smtp.example.com", "CRM <crm@example.com>", 2525, False)
    assert config.notify.webhook == WebhookSettings("teams")
    assert config.notify.channels == ("email", "webhook")
    assert config_from_text("name: x\n")[0].notify.channels == ()


@pytest.mark.parametrize(("text", "line", "words", "schema_knows"), [
    ("site_url: crm.example.com\n", 1, "'site_url' must be", True),
    ("site_url: https://crm.example.com/a b\n", 1, "'site_url' must be", True),
    ("name: x\nnotify: yes please\n", 2, "'notify' must be a mapping", True),
    ("notify:\n  hour: 25\n", 2, "'hour' must be a whole hour", True),
    ("notify:\n  time_zone: Mars/Olympus\n", 2, "Mars/Olympus", False),  # the schema cannot list the zones
    ("notify:\n  email: {from: crm@example.com}\n", 2, "'host' must be", True),
    ("notify:\n  email:\n    host: smtp.example.com\n    from: nobody\n", 4, "'from' must be", True),
    ("notify:\n  email: {host: h, from: 'a@b.c, d@e.f'}\n", 2, "'from' must be", False),  # nor parse addresses
    ("notify:\n  email: {host: h, from: a@b, port: 0}\n", 2, "'port' must be", True),
    ("notify:\n  webhook:\n    kind: irc\n", 3, "kind 'irc'", True),
    ("notify:\n  hours: 8\n", 2, "unknown setting 'hours'", True),
])
def test_bad_settings_are_c001_findings_on_their_line(text: str, line: int, words: str, schema_knows: bool) -> None:
    _config, findings = config_from_text(text)
    assert [(finding.code, finding.line) for finding in findings] == [("C001", line)], findings
    assert words in findings[0].message
    assert _valid_for_schema(text) is not schema_knows


@pytest.mark.parametrize("text", [
    "site_url: https://crm.example.com/\n",
    "notify: {hour: 0, time_zone: Asia/Kolkata, webhook: {kind: matrix}}\n",
    "notify:\n  email: {host: smtp.example.com, from: a@example.com, username: crm}\n",
])
def test_good_settings_pass_the_reader_and_the_schema(text: str) -> None:
    assert config_from_text(text)[1] == []
    jsonschema.validate(yaml.safe_load(text), CRM, cls=Draft202012Validator)


WEEKDAYS = range(5)


def test_a_zone_with_summer_time_gets_one_utc_line_per_offset() -> None:
    lines = cron_lines(8, "Europe/Berlin", WEEKDAYS, 2026)
    assert [line.text for line in lines] == ["0 6 * * 1,2,3,4,5", "0 7 * * 1,2,3,4,5"]
    assert [line.text for line in cron_lines(8, "UTC", WEEKDAYS, 2026)] == ["0 8 * * 1,2,3,4,5"]
    assert [line.text for line in cron_lines(9, "Asia/Kolkata", WEEKDAYS, 2026)] == ["30 3 * * 1,2,3,4,5"]
    # 07:00 in Auckland is the previous day in UTC: Monday to Friday there is Sunday to Thursday in UTC
    assert {line.text for line in cron_lines(7, "Pacific/Auckland", WEEKDAYS, 2026)} == {
        "0 18 * * 0,1,2,3,4", "0 19 * * 0,1,2,3,4"}


@pytest.mark.parametrize(("now", "cron", "due"), [
    ("2026-11-26T07:00:00+00:00", "0 7 * * 1,2,3,4,5", True),  # winter: 08:00 in Berlin is 07:00 UTC
    ("2026-11-26T06:00:00+00:00", "0 6 * * 1,2,3,4,5", False),  # the summer line fires at 07:00 Berlin
    ("2026-07-02T06:00:00+00:00", "0 6 * * 1,2,3,4,5", True),
    ("2026-07-02T07:00:00+00:00", "0 7 * * 1,2,3,4,5", False),
    ("2026-11-26T07:55:00+00:00", "0 7 * * 1,2,3,4,5", True),  # GitHub started it late: the line counts
    ("2026-11-28T07:00:00+00:00", "0 7 * * 1,2,3,4,5", False),  # Saturday
    ("2026-12-24T07:00:00+00:00", "0 7 * * 1,2,3,4,5", False),  # a holiday
])
def test_a_scheduled_run_sends_only_at_the_team_hour_on_a_working_day(now: str, cron: str, due: bool) -> None:
    result = scheduled_run_due(cron, 8, "Europe/Berlin", WEEKDAYS, {dt.date(2026, 12, 24)},
                               dt.datetime.fromisoformat(now))
    assert result[0] is due, result[1]


def test_each_day_of_the_year_exactly_one_line_sends() -> None:
    lines = cron_lines(8, "Europe/Berlin", WEEKDAYS, 2026)
    day = dt.date(2026, 1, 1)
    while day.year == 2026:
        if day.weekday() < 5:
            due = [line for line in lines if scheduled_run_due(
                line.text, 8, "Europe/Berlin", WEEKDAYS, (),
                dt.datetime(day.year, day.month, day.day, line.hour, line.minute, 30, tzinfo=dt.UTC))[0]]
            assert len(due) == 1, day
        day += dt.timedelta(days=1)


def test_today_is_the_team_date_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAINTEXT_CRM_TODAY", raising=False)
    late = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    assert team_today(None, "Europe/Berlin", late) == dt.date(2026, 11, 27)
    assert team_today(None, "UTC", late) == dt.date(2026, 11, 26)
    assert team_today("2026-01-02", "Europe/Berlin", late) == dt.date(2026, 1, 2)
    assert zoneinfo.ZoneInfo("Europe/Berlin")  # the machine knows the zones the tests use


def test_the_sent_log_keeps_two_weeks_and_survives_a_damaged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plaintext_crm.notify.sent_log import SentLog

    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "ws"
    root.mkdir()
    now = dt.datetime(2026, 11, 26, 7, tzinfo=dt.UTC)
    log = SentLog(root)
    log.mark("email", "ana", dt.date(2026, 11, 1), now)
    log.mark("email", "ana", dt.date(2026, 11, 26), now)
    again = SentLog(root)
    assert again.sent("email", "ana", dt.date(2026, 11, 26)) and not again.sent("webhook", "ana", dt.date(2026, 11, 26))
    assert not again.sent("email", "ana", dt.date(2026, 11, 1))  # older than two weeks: dropped
    again.path.write_bytes(again.path.read_bytes()[:-3])  # damaged: not trusted, nothing counts as sent
    assert not SentLog(root).sent("email", "ana", dt.date(2026, 11, 26))
