"""The scheduled digest job of `plaintext-crm ci github|gitlab`: valid against the CI schemas, only on schedules,
and its own shell steps deliver the example's digests to local servers, keeping the sent-log between runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from plaintext_crm.cli import cli
from plaintext_crm.editing.ci_files import GITHUB_FILE, GITLAB_FILE, github_workflow, gitlab_ci
from plaintext_crm.editing.ci_notify import NotifyJob
from tests.notify_support import smtp_server, webhook_server
from tests.support import EXAMPLE

pytestmark = [pytest.mark.slow]
BIN = Path(sys.executable).parent
JOB = NotifyJob(("email", "webhook"), 8, "Europe/Berlin", (0, 1, 2, 3, 4),
                ("0 6 * * 1,2,3,4,5", "0 7 * * 1,2,3,4,5"), "slack")


def validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, check=False)


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(cwd.parent), "no_proxy": "127.0.0.1",
            "PLAINTEXT_CRM_TODAY": "2026-11-26", **env}
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=full, capture_output=True, text=True,
                          check=False)


def _example(tmp_path: Path, port: int) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    config = (root / "crm.yaml").read_text(encoding="utf-8")
    config = config.replace("host: smtp.brightline.example, port: 587", f"host: 127.0.0.1, port: {port}")
    (root / "crm.yaml").write_text(config.replace("starttls: true", "starttls: false"), encoding="utf-8")
    return root


def test_both_files_with_the_notify_job_validate_and_run_it_only_on_schedules(tmp_path: Path) -> None:
    for item, schema in ((github_workflow(".", notify=JOB), "vendor.github-workflows"),
                         (gitlab_ci(".", notify=JOB), "vendor.gitlab-ci")):
        path = tmp_path / item.rel.replace("/", "_")
        path.write_text(item.text, encoding="utf-8")
        done = validate(path, schema)
        assert done.returncode == 0, done.stdout + done.stderr
    github = yaml.safe_load(github_workflow(".", notify=JOB).text)
    assert github[True]["schedule"] == [{"cron": "0 6 * * 1,2,3,4,5"}, {"cron": "0 7 * * 1,2,3,4,5"}]  # `on:`
    assert github["jobs"]["notify"]["if"] == "github.event_name == 'schedule'"
    assert github["jobs"]["lint"]["if"] == "github.event_name != 'schedule'"
    assert github["jobs"]["build"]["if"].startswith("github.event_name != 'schedule' && ")
    gitlab = yaml.safe_load(gitlab_ci(".", notify=JOB).text)
    assert gitlab["notify"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    for job in ("lint", "pages"):
        assert gitlab[job]["rules"][0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert "schedule" not in github_workflow(".").text and "notify" not in gitlab_ci(".").text


def test_ci_reads_the_schedule_from_crm_yaml(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    result = CliRunner().invoke(cli, ["ci", "gitlab", str(root)])
    assert result.exit_code == 0, result.output
    assert 'interval pattern "0 8 * * 1,2,3,4,5", cron time zone Europe/Berlin' in result.output
    assert "PLAINTEXT_CRM_SMTP_PASSWORD, PLAINTEXT_CRM_WEBHOOK_URL" in result.output
    text = CliRunner().invoke(cli, ["ci", "github", str(root), "--print"]).output
    lines = {entry["cron"] for entry in yaml.safe_load(text)[True]["schedule"]}
    assert lines == {"0 6 * * 1,2,3,4,5", "0 7 * * 1,2,3,4,5"}
    assert (root / GITLAB_FILE).is_file() and not (root / GITHUB_FILE).exists()


def _step_env(step: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    env = {}
    for name, value in step.get("env", {}).items():
        for expression, replacement in values.items():
            value = value.replace("${{ " + expression + " }}", replacement)
        env[name] = value
    return env


def test_the_github_notify_steps_send_and_a_rerun_sends_nothing_twice(tmp_path: Path) -> None:
    with smtp_server() as (port, mailbox), webhook_server([200]) as (url, hook):
        root = _example(tmp_path, port)
        data = yaml.safe_load(github_workflow(".", notify=JOB).text)
        steps = [step for step in data["jobs"]["notify"]["steps"] if step.get("name", "").startswith("Send")]
        assert [step["run"] for step in steps] == [
            'plaintext-crm notify "$WORKSPACE" --via email --scheduled "$SCHEDULE"',
            'plaintext-crm notify "$WORKSPACE" --via webhook --scheduled "$SCHEDULE"']
        values = {"runner.temp": str(tmp_path / "runner"), "secrets.PLAINTEXT_CRM_WEBHOOK_URL": url,
                  "secrets.PLAINTEXT_CRM_SMTP_PASSWORD": "", "github.event.schedule": "0 3 * * *"}
        base = {key: str(value) for key, value in data["env"].items()}
        for step in steps:  # a line that is not 08:00 in Berlin on any day: nothing is sent
            done = _shell(step["run"], root, {**base, **_step_env(step, values)})
            assert done.returncode == 0, done.stderr
            assert re.match(r"Nothing sent: this run is for 0[45]:00 in Europe/Berlin", done.stdout)
        values["github.event.schedule"] = ""  # a run without a schedule line sends
        for _ in range(2):
            for step in steps:
                done = _shell(step["run"], root, {**base, **_step_env(step, values)})
                assert done.returncode == 0, done.stdout + done.stderr
        assert len(mailbox.messages) == 5 and len(hook.accepted) == 5  # the second round: all in the sent-log
        cache_path = next(step for step in data["jobs"]["notify"]["steps"]
                          if "cache/save" in step.get("uses", ""))["with"]["path"]
        logs = list(Path(tmp_path / "runner").glob(cache_path.split("${{ runner.temp }}/", 1)[1]))
        assert len(logs) == 1  # what actions/cache saves: the sent-log, nothing else


def test_the_gitlab_notify_script_keeps_the_sent_log_in_the_job_cache(tmp_path: Path) -> None:
    with smtp_server() as (port, mailbox), webhook_server([200]) as (url, hook):
        root = _example(tmp_path, port)
        data = yaml.safe_load(gitlab_ci(".", notify=JOB).text)
        job = data["notify"]
        assert job["cache"]["paths"] == [".plaintext-crm-sent/"] and job["cache"]["when"] == "always"
        cache_dir = tmp_path / "runner-tmp"
        env = {**{key: str(value) for key, value in data["variables"].items()}, "CI_PROJECT_DIR": str(root),
               "PLAINTEXT_CRM_CACHE_DIR": str(cache_dir), "PLAINTEXT_CRM_WEBHOOK_URL": url}
        assert job["variables"]["PLAINTEXT_CRM_CACHE_DIR"] == "/tmp/plaintext-crm-cache"  # replaced for the test
        script = "\n".join(job["script"])
        done = _shell(script, root, env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(mailbox.messages) == 5 and len(hook.accepted) == 5
        assert [path.name for path in (root / ".plaintext-crm-sent").rglob("*") if path.is_file()] == ["notify-sent.log"]
        shutil.rmtree(cache_dir)  # a new job on a new machine: only the job cache is left
        done = _shell(script, root, env)
        assert done.returncode == 0 and done.stdout.count("not sent again") == 10, done.stdout + done.stderr
        assert len(mailbox.messages) == 5 and len(hook.accepted) == 5
        hook.answers[:] = [400]  # refused (not retried: the test does not wait)
        shutil.rmtree(root / ".plaintext-crm-sent")
        shutil.rmtree(cache_dir)
        done = _shell(script, root, env)  # the webhook fails: the email still goes, the job fails
        assert done.returncode == 1 and len(mailbox.messages) == 10
