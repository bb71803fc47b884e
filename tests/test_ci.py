"""The CI files of `init` and `ci github|gitlab`: valid against the GitHub workflow and GitLab CI schemas
(check-jsonschema's vendored copies, offline), and their own shell steps build the example's site."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from plaintext_crm import __version__
from plaintext_crm.cli import cli
from plaintext_crm.editing.ci_files import GITHUB_FILE, GITLAB_FILE, github_workflow, gitlab_ci
from plaintext_crm.site.encrypt import open_envelope
from tests.support import EXAMPLE

pytestmark = [pytest.mark.slow]
SCHEMAS = {GITHUB_FILE: "vendor.github-workflows", GITLAB_FILE: "vendor.gitlab-ci"}
BIN = Path(sys.executable).parent
PASSPHRASE = "a long passphrase for ci"


def validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, check=False)


def test_init_writes_both_files_and_they_validate(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "ws"), "--no-git"])
    assert result.exit_code == 0, result.output
    for rel, schema in SCHEMAS.items():
        assert rel in result.output
        done = validate(tmp_path / "ws" / rel, schema)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_validation_can_fail(tmp_path: Path) -> None:
    for rel, schema in SCHEMAS.items():
        broken = tmp_path / rel.replace("/", "_")
        data = yaml.safe_load(github_workflow(".").text if rel == GITHUB_FILE else gitlab_ci(".").text)
        (data["jobs"]["lint"] if rel == GITHUB_FILE else data["lint"])["runs-on" if rel == GITHUB_FILE
                                                                        else "script"] = {"not": "valid"}
        broken.write_text(yaml.safe_dump(data), encoding="utf-8")
        assert validate(broken, schema).returncode != 0


def test_ci_adds_a_file_to_a_workspace_in_a_subfolder_and_keeps_an_existing_one(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    shutil.copytree(EXAMPLE, top / "crm team")
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    runner = CliRunner()
    for kind, rel in (("github", GITHUB_FILE), ("gitlab", GITLAB_FILE)):
        result = runner.invoke(cli, ["ci", kind, str(top / "crm team"), "--install", "plaintext-crm==9.9"])
        assert result.exit_code == 0, result.output
        data = yaml.safe_load((top / rel).read_text(encoding="utf-8"))
        variables = data["env"] if kind == "github" else data["variables"]
        assert variables == {"WORKSPACE": "crm team", "PLAINTEXT_CRM": "plaintext-crm==9.9",
                             **({} if kind == "github" else {"GIT_DEPTH": "0"})}
        assert validate(top / rel, SCHEMAS[rel]).returncode == 0
        again = runner.invoke(cli, ["ci", kind, str(top / "crm team")])
        assert again.exit_code == 2 and "exists; kept it" in again.output
        assert runner.invoke(cli, ["ci", kind, str(top / "crm team"), "--force"]).exit_code == 0
        assert f"plaintext-crm=={__version__}" in (top / rel).read_text(encoding="utf-8")


def test_a_workspace_path_never_becomes_yaml_or_shell(tmp_path: Path) -> None:
    hostile = 'x": 1\n$(touch pwned) `id`'
    for item in (github_workflow(hostile), gitlab_ci(hostile)):
        data = yaml.safe_load(item.text)
        assert (data.get("env") or data["variables"])["WORKSPACE"] == hostile
        assert "$(touch" not in "".join(_run_steps(data))


def _run_steps(data: dict[str, Any]) -> list[str]:
    if "jobs" in data:
        return [step["run"] for job in data["jobs"].values() for step in job["steps"] if "run" in step]
    return [*data["default"]["before_script"], *(line for job in ("lint", "pages") for line in data[job]["script"])]


def _git_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    env = {"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "Ana",
           "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "PATH": os.environ["PATH"]}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "Example"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return root


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(cwd.parent), **env}
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=full, capture_output=True, text=True,
                          check=False)


def test_the_github_workflow_steps_lint_and_build_the_example(tmp_path: Path) -> None:
    root = _git_copy(tmp_path)
    data = yaml.safe_load(github_workflow(".").text)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    base = {**{key: str(value) for key, value in data["env"].items()}, "RUNNER_TEMP": str(runner_temp)}
    install, lint, transitions = [step for step in data["jobs"]["lint"]["steps"] if "run" in step]
    # pip would fetch the pinned release from the network: the test runs this checkout's plaintext-crm instead
    assert install["run"] == 'python -m pip install "$PLAINTEXT_CRM"'
    assert base["PLAINTEXT_CRM"] == f"plaintext-crm=={__version__}"
    done = _shell(lint["run"], root, base)
    assert done.returncode == 1 and "::warning file=deals/" in done.stdout  # the example has findings
    # On a pull request, the transition rules against its base (here HEAD: nothing changed, nothing found).
    assert transitions["if"] == "!cancelled() && github.event_name == 'pull_request'"
    assert transitions["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout
    checked = _shell(transitions["run"], root, {**base, "BASE_SHA": head.strip()})
    assert checked.returncode == 0 and "::" not in checked.stdout, checked.stdout + checked.stderr
    build = next(step for step in data["jobs"]["build"]["steps"] if step.get("name") == "Build the site")
    assert build["env"] == {"PLAINTEXT_CRM_SITE_PASSWORD": "${{ secrets.PLAINTEXT_CRM_SITE_PASSWORD }}"}
    missing = _shell(build["run"], root, base)
    assert missing.returncode == 2 and "PLAINTEXT_CRM_SITE_PASSWORD" in missing.stderr  # no secret, no site
    done = _shell(build["run"], root, {**base, "PLAINTEXT_CRM_SITE_PASSWORD": PASSPHRASE})
    assert done.returncode == 0, done.stderr
    upload = next(step for step in data["jobs"]["build"]["steps"] if "upload-pages-artifact" in step.get("uses", ""))
    site = Path(upload["with"]["path"].replace("${{ runner.temp }}", str(runner_temp)))
    assert "plaintext-crm-encrypted" in (site / "index.html").read_text(encoding="utf-8")
    data_json = json.loads(open_envelope(json.loads((site / "data.json").read_text(encoding="utf-8")), PASSPHRASE))
    assert data_json["audience"]["name"] == "leadership"  # the example's publish: audience
    assert (site / "robots.txt").read_text(encoding="utf-8").endswith("Disallow: /\n")


def test_the_gitlab_pages_job_builds_the_example_into_public(tmp_path: Path) -> None:
    root = _git_copy(tmp_path)
    data = yaml.safe_load(gitlab_ci(".").text)
    env = {**{key: str(value) for key, value in data["variables"].items()}, "CI_PROJECT_DIR": str(root),
           "PLAINTEXT_CRM_SITE_PASSWORD": PASSPHRASE}
    assert data["default"]["before_script"] == ['python -m pip install "$PLAINTEXT_CRM"']
    lint = _shell("\n".join(data["lint"]["script"]), root, env)
    assert lint.returncode == 1 and "deals/" in lint.stdout
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout
    transitions = _shell("\n".join(data["transitions"]["script"]), root,
                         {**env, "CI_MERGE_REQUEST_DIFF_BASE_SHA": head.strip()})
    assert transitions.returncode == 0, transitions.stdout + transitions.stderr
    assert data["transitions"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    pages = _shell("\n".join(data["pages"]["script"]), root, env)
    assert pages.returncode == 0, pages.stderr
    assert data["pages"]["artifacts"]["paths"] == ["public"]
    assert "plaintext-crm-encrypted" in (root / "public" / "index.html").read_text(encoding="utf-8")
