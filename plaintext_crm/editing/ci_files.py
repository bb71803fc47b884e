"""The CI files `init` and `ci github|gitlab` write: lint every push and merge request, build the site as
crm.yaml's `publish:` says and deploy it to GitHub Pages or GitLab Pages (docs/publishing.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from plaintext_crm import __version__
from plaintext_crm.editing.atomic import inspect_target, read_bytes, write_atomic
from plaintext_crm.editing.ci_notify import NotifyJob, github_job, github_schedule, gitlab_job
from plaintext_crm.errors import ToolError

GITHUB_FILE = ".github/workflows/plaintext-crm.yml"
GITLAB_FILE = ".gitlab-ci.yml"
DEFAULT_INSTALL = f"plaintext-crm=={__version__}"  # the version that wrote the file, pinned
PYTHON = "3.12"


@dataclass(frozen=True)
class CiFile:
    """A CI file to write: where (relative to the repository's top) and its text."""

    rel: str
    text: str


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's): user text never becomes YAML syntax."""
    return json.dumps(text, ensure_ascii=True)


def github_workflow(workspace: str, install: str = DEFAULT_INSTALL, notify: NotifyJob | None = None) -> CiFile:
    """The GitHub Actions workflow: lint with annotations everywhere; build and deploy Pages on the default branch;
    with `notify`, the daily digests on a schedule (the other jobs do not run on it).

    `workspace` (the workspace folder relative to the repository, "." at its top) and `install` (what pip
    installs) reach the shell only through environment variables, never spliced into a command.
    """
    text = f"""\
# Written by `plaintext-crm ci github` (plaintext-crm {__version__}); see docs/publishing.md.
# Lints every push and pull request (findings appear as annotations). On the default branch it builds
# the site as crm.yaml's `publish:` says (audience, encryption) and deploys it to GitHub Pages.
# Once per repository: Settings > Pages > Source: "GitHub Actions"; with `publish: {{encrypt: true}}`,
# add the passphrase as the repository secret PLAINTEXT_CRM_SITE_PASSWORD (Settings > Secrets > Actions).
name: plaintext-crm

on:
  push:
  pull_request:
  workflow_dispatch:
{github_schedule(notify) if notify else ""}
permissions:
  contents: read

env:
  WORKSPACE: {_quoted(workspace)}
  PLAINTEXT_CRM: {_quoted(install)}

jobs:
  lint:
{"    if: github.event_name != 'schedule'" + chr(10) if notify else ""}\
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # stage dates and the history pages come from git history
      - uses: actions/setup-python@v5
        with:
          python-version: "{PYTHON}"
      - name: Install plaintext-crm
        run: python -m pip install "$PLAINTEXT_CRM"
      - name: Lint
        run: plaintext-crm lint "$WORKSPACE" --format github
      - name: Deal transitions of the pull request (reopened deals, skipped stages, won values)
        if: "!cancelled() && github.event_name == 'pull_request'"  # also when the lint above found errors
        env:
          BASE_SHA: ${{{{ github.event.pull_request.base.sha }}}}
        run: plaintext-crm lint "$WORKSPACE" --format github --base "$BASE_SHA" --select T

  build:
    # Not after lint: a workspace with lint problems still publishes its dashboard (they are on its Problems page).
    if: {"github.event_name != 'schedule' && " if notify else ""}github.event_name != 'pull_request' && \
github.ref_name == github.event.repository.default_branch
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "{PYTHON}"
      - name: Install plaintext-crm
        run: python -m pip install "$PLAINTEXT_CRM"
      - name: Build the site
        env:
          PLAINTEXT_CRM_SITE_PASSWORD: ${{{{ secrets.PLAINTEXT_CRM_SITE_PASSWORD }}}}
        run: plaintext-crm build "$WORKSPACE" --publish --no-cache --out "$RUNNER_TEMP/site"
      - uses: actions/upload-pages-artifact@v3
        with:
          path: ${{{{ runner.temp }}}}/site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    concurrency:
      group: pages
      cancel-in-progress: false
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""
    return CiFile(GITHUB_FILE, text + (github_job(notify, PYTHON) if notify else ""))


def gitlab_ci(workspace: str, install: str = DEFAULT_INSTALL, notify: NotifyJob | None = None) -> CiFile:
    """The GitLab CI file: a lint job for pushes and merge requests, and a `pages` job on the default branch;
    with `notify`, a `notify` job that runs only in scheduled pipelines (which run nothing else)."""
    scheduled = '    - if: $CI_PIPELINE_SOURCE == "schedule"\n      when: never\n' if notify else ""
    text = f"""\
# Written by `plaintext-crm ci gitlab` (plaintext-crm {__version__}); see docs/publishing.md.
# Lints every push and merge request. On the default branch the `pages` job builds the site as crm.yaml's
# `publish:` says (audience, encryption) and GitLab Pages serves it. With `publish: {{encrypt: true}}`, add
# the passphrase as a masked, protected CI/CD variable PLAINTEXT_CRM_SITE_PASSWORD (Settings > CI/CD > Variables).
variables:
  WORKSPACE: {_quoted(workspace)}
  PLAINTEXT_CRM: {_quoted(install)}
  GIT_DEPTH: "0"  # stage dates and the history pages come from git history

default:
  image: python:{PYTHON}
  before_script:
    - python -m pip install "$PLAINTEXT_CRM"

lint:
  stage: test
  script:
    - plaintext-crm lint "$WORKSPACE"
  rules:
{scheduled}\
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH

transitions:  # a merge request: how it changes deals (reopened deals, skipped stages, won values)
  stage: test
  script:
    - plaintext-crm lint "$WORKSPACE" --base "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --select T
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"

pages:
  stage: deploy
  needs: []  # not after lint: a workspace with lint problems still publishes its dashboard
  script:
    - plaintext-crm build "$WORKSPACE" --publish --no-cache --out "$CI_PROJECT_DIR/public"
  artifacts:
    paths:
      - public
  rules:
{scheduled}\
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"""
    return CiFile(GITLAB_FILE, text + (gitlab_job(notify) if notify else ""))


def ci_file(kind: str, workspace: str, install: str = DEFAULT_INSTALL, notify: NotifyJob | None = None) -> CiFile:
    """The CI file of `kind` ("github" or "gitlab"), with the scheduled digest job when `notify` is given."""
    return github_workflow(workspace, install, notify) if kind == "github" else gitlab_ci(workspace, install, notify)


def write_ci_file(top: Path, item: CiFile, *, replace: bool = False) -> str:
    """Write `item` under the repository top `top` (atomically, never through a link); what was done.

    An existing file is kept (ToolError) unless `replace`: it may hold the team's own jobs.
    """
    info = inspect_target(top, item.rel)
    if info is None:
        write_atomic(top, item.rel, item.text.encode("utf-8"), None)
        return f"wrote {item.rel}"
    if not replace:
        kind = "github" if item.rel == GITHUB_FILE else "gitlab"
        raise ToolError(f"{item.rel} exists; kept it as it is (it may hold other jobs): merge the jobs of "
                        f"`plaintext-crm ci {kind} --print` into it, or pass --force to replace it")
    _data, stamp = read_bytes(top, item.rel)
    write_atomic(top, item.rel, item.text.encode("utf-8"), stamp)
    return f"replaced {item.rel}"
