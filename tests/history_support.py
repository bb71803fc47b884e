"""Scripted git repositories for the history and changes tests: commits at fixed dates by several authors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import textwrap
from pathlib import Path

AUTHORS = {"ana": ("Ana Ruiz", "ana@example.com"), "ben": ("Ben Okafor", "ben@example.com"),
           "cy": ("Cy Twombly", "cy@example.com")}


def deal(stage: str, owner: str = "ana", value: int = 10000, expected_close: str = "2026-12-01",
         extra: str = "", body: str = "Notes.\n") -> str:
    """The text of a deal file."""
    return (f"---\ntitle: Deal\nclient: acme\nowner: {owner}\nstage: {stage}\nvalue: {value}\n"
            f"expected_close: {expected_close}\nnext_action: Call\nnext_action_due: 2026-12-20\n{extra}---\n{body}")


class ScriptedRepo:
    """A git repository in a temporary folder whose commits have fixed dates and authors."""

    def __init__(self, top: Path, workspace: str = "") -> None:
        self.top = top
        self.root = top / workspace if workspace else top
        self.root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self, author: str = "ana", when: str = "2026-01-01T12:00:00+00:00") -> dict[str, str]:
        name, email = AUTHORS[author]
        return {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
                "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": when,
                "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(self, *args: str, author: str = "ana", when: str = "2026-01-01T12:00:00+00:00") -> str:
        done = subprocess.run(["git", *args], cwd=self.top, env=self.env(author, when), capture_output=True,
                              text=True, check=True)
        return done.stdout

    def write(self, files: dict[str, str | None]) -> None:
        """Write (text) or delete (None) files relative to the workspace, without committing."""
        for rel, text in files.items():
            target = self.root / rel
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(textwrap.dedent(text), encoding="utf-8")

    def commit(self, when: str, author: str, files: dict[str, str | None] | None = None,
               renames: dict[str, str] | None = None, message: str = "change") -> str:
        """Rename (git mv), write and delete files, then commit everything at `when` as `author`."""
        for old, new in (renames or {}).items():
            self.git("mv", str(self.root / old), str(self.root / new))
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, author=author, when=when)
        return self.git("rev-parse", "HEAD").strip()


TODAY = dt.date(2026, 11, 26)
CONFIG = """\
name: Test
team: {ana: {name: Ana Ruiz}, ben: {name: Ben Okafor}, cy: {name: Cy Twombly}}
pipeline:
  - {stage: lead, probability: 0.1}
  - {stage: qualified, probability: 0.25}
  - {stage: proposal, probability: 0.5, rot_days: 14}
  - {stage: negotiation, probability: 0.75}
  - {stage: won, closed: won}
  - {stage: lost, closed: lost}
"""


def scripted(top: Path, workspace: str = "") -> ScriptedRepo:
    """Seven commits by three authors: stage moves, owner/value/close changes, a rename with an edit,
    a record created late and one deleted."""
    repo = ScriptedRepo(top, workspace)
    repo.commit("2026-09-01T10:00:00+02:00", "ana", {
        "crm.yaml": CONFIG, "clients/acme.md": "---\nname: Acme\n---\n",
        "deals/site.md": deal("lead"), "deals/old.md": deal("lead", owner="ben"),
    }, message="Acme: website lead")
    repo.commit("2026-09-15T09:00:00+00:00", "ben", {"deals/site.md": deal("qualified", owner="ben")},
                message="Qualified the Acme site")
    repo.commit("2026-10-01T16:00:00+00:00", "ana", {"deals/site.md": deal("proposal", owner="ben", value=12000)},
                message="Proposal sent")
    repo.commit("2026-10-20T11:00:00+00:00", "ben", {"deals/acme-site.md": deal(
        "proposal", owner="ben", value=12000, body="Notes.\n\n## 2026-10-20 Call\nThey liked it.\n")},
        renames={"deals/site.md": "deals/acme-site.md"}, message="Rename the Acme deal")
    # 23:30 in New York is already 2026-11-03 in UTC: the author's own calendar day counts.
    repo.commit("2026-11-02T23:30:00-05:00", "ana", {"deals/acme-site.md": deal(
        "negotiation", owner="ben", value=12000, expected_close="2027-01-15")}, message="Negotiating")
    repo.commit("2026-11-10T08:00:00+00:00", "cy", {"deals/app.md": deal("qualified", owner="cy"),
                                                   "projects/p.md": "---\ntitle: P\n---\n"}, message="App deal")
    repo.commit("2026-11-12T08:00:00+00:00", "ben", {"deals/old.md": None}, message="Drop old deal")
    return repo
