"""`plaintext-crm notify`: the example's digests delivered to a local SMTP server and to a local webhook server
(each service's payload shape), bounded retries, the same-day sent-log, dry runs and skipped members."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from plaintext_crm.cli import cli
from plaintext_crm.notify import send
from tests.notify_support import SHAPES, HtmlScan, self_signed_certificate, smtp_server, webhook_server
from tests.support import EXAMPLE, EXAMPLE_TODAY

pytestmark = [pytest.mark.slow]  # servers on threads, and the example analysed per test
ACTIVE_OWNERS = {"ana": "ana@brightline.example", "maya": "maya@brightline.example", "leo": "leo@brightline.example",
                 "priya": "priya@brightline.example", "sam": "sam@brightline.example"}
TOM_DEAL = """\
---
title: "<script>alert('tom')</script> Left-behind deal"
client: helix-health
owner: tom
stage: lead
next_action: Hand over
next_action_due: 2026-11-20
---
"""


@pytest.fixture(autouse=True)
def quiet_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No proxy for 127.0.0.1, no waiting between attempts, a cache folder of the test's own, no secrets."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(send, "RETRY_DELAYS", (0.0, 0.0))
    monkeypatch.setenv("PLAINTEXT_CRM_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PLAINTEXT_CRM_SMTP_PASSWORD", "PLAINTEXT_CRM_WEBHOOK_URL", "PLAINTEXT_CRM_WEBHOOK_TOKEN",
                 "PLAINTEXT_CRM_TODAY"):
        monkeypatch.delenv(name, raising=False)
    yield


def example_copy(tmp_path: Path, notify: str, extra: dict[str, str] | None = None) -> Path:
    """The example outside git, with crm.yaml's `notify:` replaced by `notify` (YAML text of its mapping)."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    config = (root / "crm.yaml").read_text(encoding="utf-8")
    config = config[:config.index("\nnotify:\n")] + "\nnotify:\n" + notify
    (root / "crm.yaml").write_text(config, encoding="utf-8")
    for rel, text in (extra or {}).items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def notify(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["notify", str(root), "--today", EXAMPLE_TODAY, *args], env=env,
                              catch_exceptions=False)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_email_reaches_each_active_owner_with_something_due(tmp_path: Path) -> None:
    with smtp_server() as (port, mailbox):
        root = example_copy(tmp_path, f"  email: {{host: 127.0.0.1, port: {port}, from: 'CRM <crm@brightline.example>', "
                                      "starttls: false}\n", {"deals/tom-open.md": TOM_DEAL})
        result = notify(root, "--via", "email")
        assert result.exit_code == 0, result.output
        received = {recipients[0]: parsed(raw) for recipients, raw in mailbox.messages}
        assert len(mailbox.messages) == 5 and set(received) == set(ACTIVE_OWNERS.values())  # none to tom
        assert "tom: skipped, an inactive member" in result.output
        for owner, address in ACTIVE_OWNERS.items():
            assert f"{owner} -> {address}: sent" in result.output
        maya = received["maya@brightline.example"]
        assert maya["Subject"] == "Brightline Studio: 2 overdue, 2 due today, 3 more - Thu 26 Nov"
        assert maya["To"] == "Maya Chen <maya@brightline.example>"
        assert maya["List-Unsubscribe"] == "<mailto:crm@brightline.example?subject=unsubscribe%20maya>"
        assert re.fullmatch(r"<digest-20261126-[0-9a-f]{24}@plaintext-crm\.invalid>", maya["Message-ID"])
        assert maya.get_content_type() == "multipart/alternative"
        text, html = parts(maya)
        assert "Direct booking flow redesign: Send the UX audit findings to Luca (due 2026-11-19, 7 days overdue)" in text
        assert "Approvals waiting (1)" in text and "Late critical tasks" not in text
        scan = HtmlScan(html)
        assert scan.resources == [] and "script" not in scan.tags and "style" not in scan.tags
        assert "https://crm.brightline.example/deals/pinecrest-hotels-booking-flow.html" in scan.links
        priya_text, _ = parts(received["priya@brightline.example"])
        # Priya's museum project is on hold: no late claims (issue 15); her approval waiting is there.
        assert "Kite mobile app v2: Design sign-off incl. compliance: waiting for Nina Park's approval" in priya_text
        assert "late" not in priya_text
        again = notify(root, "--via", "email")  # the same day: the sent-log holds every one
        assert again.exit_code == 0 and len(mailbox.messages) == 5
        assert again.output.count("not sent again") == 5
        ids = {message["Message-ID"] for message in received.values()}
        assert len(ids) == 5


def test_a_title_with_a_script_arrives_escaped(tmp_path: Path) -> None:
    hostile = TOM_DEAL.replace("owner: tom", "owner: ana")
    with smtp_server() as (port, mailbox):
        root = example_copy(tmp_path, f"  email: {{host: 127.0.0.1, port: {port}, from: crm@brightline.example, "
                                      "starttls: false}\n", {"deals/ana-hostile.md": hostile})
        assert notify(root, "--via", "email", "--owner", "ana").exit_code == 0
        [(_to, raw)] = mailbox.messages
        _text, html = parts(parsed(raw))
        assert "<script>" not in html and "&lt;script&gt;alert(&#39;tom&#39;)&lt;/script&gt; Left-behind deal" in html
        assert HtmlScan(html).tags <= {"html", "head", "meta", "title", "body", "h1", "h2", "ul", "li", "a", "p"}


def test_starttls_and_login_with_the_password_from_the_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's certificate, and only it
    with smtp_server((cert, key)) as (port, mailbox):
        root = example_copy(tmp_path, f"  email: {{host: 127.0.0.1, port: {port}, from: crm@brightline.example}}\n")
        result = notify(root, "--via", "email", "--owner", "leo")
        assert result.exit_code == 0, result.output
        assert [recipients for recipients, _raw in mailbox.messages] == [["leo@brightline.example"]]
    monkeypatch.delenv("SSL_CERT_FILE")
    with smtp_server((cert, key)) as (port, mailbox):  # an untrusted certificate: refused, reported, exit 1
        root = example_copy(tmp_path / "again", f"  email: {{host: 127.0.0.1, port: {port}, from: crm@b.example}}\n")
        result = notify(root, "--via", "email", "--owner", "leo")
        assert result.exit_code == 1 and "leo -> leo@brightline.example: FAILED after 3 attempts" in result.output
        assert mailbox.messages == []


def test_a_dry_run_prints_the_messages_and_sends_nothing(tmp_path: Path) -> None:
    with smtp_server() as (port, mailbox):
        root = example_copy(tmp_path, f"  email: {{host: 127.0.0.1, port: {port}, from: crm@brightline.example, "
                                      "starttls: false}\n")
        result = notify(root, "--via", "email", "--dry-run")
        assert result.exit_code == 0 and mailbox.messages == []
        assert result.output.count("=== email to ") == 5 and "To: Sam Okafor <sam@brightline.example>" in result.output
        assert "sam -> sam@brightline.example: would be sent (dry run)" in result.output
        assert notify(root, "--via", "email", "--owner", "sam").exit_code == 0  # the dry run logged nothing
        assert len(mailbox.messages) == 1


def _payloads(hook: Any) -> list[dict[str, Any]]:
    return [body for _method, _path, _headers, body in hook.requests]


@pytest.mark.parametrize("kind", ["slack", "teams", "matrix", "generic"])
def test_each_kind_of_webhook_payload_has_its_service_shape(tmp_path: Path, kind: str) -> None:
    with webhook_server([200]) as (url, hook):
        root = example_copy(tmp_path, f"  webhook: {{kind: {kind}}}\n")
        result = notify(root, "--via", "webhook", env={"PLAINTEXT_CRM_WEBHOOK_URL": url + "/hook"})
        assert result.exit_code == 0, result.output
        assert len(hook.accepted) == 5
        for payload in hook.accepted:
            jsonschema.validate(payload, SHAPES[kind])
        text = json.dumps(hook.accepted)
        assert "https://crm.brightline.example/deals/quanta-robotics-website.html" in text


def test_a_server_failing_twice_then_accepting_gets_exactly_one_message(tmp_path: Path) -> None:
    with webhook_server([500, 500, 200]) as (url, hook):
        root = example_copy(tmp_path, "  webhook: {kind: slack}\n")
        env = {"PLAINTEXT_CRM_WEBHOOK_URL": url}
        result = notify(root, "--via", "webhook", "--owner", "ana", env=env)
        assert result.exit_code == 0, result.output
        assert len(hook.requests) == 3 and len(hook.accepted) == 1
        assert "ana -> the slack webhook: sent after 3 attempts" in result.output
        assert notify(root, "--via", "webhook", "--owner", "ana", env=env).exit_code == 0
        assert len(hook.requests) == 3  # the same day: not sent again


def test_failures_are_bounded_reported_per_recipient_and_sent_on_the_next_run(tmp_path: Path) -> None:
    with webhook_server([503]) as (url, hook):
        root = example_copy(tmp_path, "  webhook: {kind: generic}\n")
        env = {"PLAINTEXT_CRM_WEBHOOK_URL": url}
        result = notify(root, "--via", "webhook", "--owner", "ana", "--owner", "leo", env=env)
        assert result.exit_code == 1
        assert "ana -> the generic webhook: FAILED after 3 attempts: HTTP 503" in result.output
        assert "leo -> the generic webhook: FAILED after 3 attempts" in result.output
        assert len(hook.requests) == 6 and hook.accepted == []
        hook.answers[:] = [400]  # a refusal is not retried
        assert notify(root, "--via", "webhook", "--owner", "ana", env=env).exit_code == 1
        assert len(hook.requests) == 7
        hook.answers[:] = [200]
        assert notify(root, "--via", "webhook", "--owner", "ana", "--owner", "leo", env=env).exit_code == 0
        assert [body["owner"]["id"] for body in hook.accepted] == ["ana", "leo"]


def test_matrix_is_put_with_a_stable_transaction_and_the_token(tmp_path: Path) -> None:
    with webhook_server([200]) as (url, hook):
        root = example_copy(tmp_path, "  webhook: {kind: matrix}\n")
        env = {"PLAINTEXT_CRM_WEBHOOK_URL": url + "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message",
               "PLAINTEXT_CRM_WEBHOOK_TOKEN": "secret-token"}
        assert notify(root, "--via", "webhook", "--owner", "maya", env=env).exit_code == 0
        [(method, path, headers, body)] = hook.requests
        assert method == "PUT" and re.fullmatch(r"/_matrix/client/v3/rooms/%21room%3Aexample.org/send/"
                                                r"m\.room\.message/[0-9a-f]{32}", path)
        assert headers["Authorization"] == "Bearer secret-token"
        assert "<h2>" in body["formatted_body"].replace(' style="font-size:110%"', "")


def test_missing_settings_and_secrets_are_refused(tmp_path: Path) -> None:
    root = example_copy(tmp_path, "  webhook: {kind: slack}\n")
    email_result = CliRunner().invoke(cli, ["notify", str(root), "--via", "email"])
    assert email_result.exit_code == 2 and "no usable notify.email" in email_result.output
    hook_result = CliRunner().invoke(cli, ["notify", str(root), "--via", "webhook"])
    assert hook_result.exit_code == 2 and "PLAINTEXT_CRM_WEBHOOK_URL" in hook_result.output


def test_a_scheduled_run_at_the_wrong_hour_sends_nothing(tmp_path: Path) -> None:
    with webhook_server([200]) as (url, hook):
        root = example_copy(tmp_path, "  hour: 8\n  time_zone: Europe/Berlin\n  webhook: {kind: slack}\n")
        env = {"PLAINTEXT_CRM_WEBHOOK_URL": url}
        # every line but one is the wrong hour today, whatever the date: 24 lines, at most one sends
        results = [notify(root, "--via", "webhook", "--owner", "ana", "--scheduled", f"0 {hour} * * *", env=env)
                   for hour in range(24)]
        assert all(result.exit_code == 0 for result in results)
        skipped = [result for result in results if result.output.startswith("Nothing sent: ")]
        assert len(skipped) >= 23 and len(hook.accepted) == 24 - len(skipped) <= 1
