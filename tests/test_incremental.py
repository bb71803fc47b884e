"""Incremental rebuilds (plaintext_crm.site.incremental): after random edits the site equals a fresh full build."""

from __future__ import annotations

import datetime as dt
import filecmp
import random
import re
import shutil
from pathlib import Path

import pytest

from plaintext_crm.site.builder import build_site
from plaintext_crm.site.incremental import IncrementalSite, affects_site, is_record_file
from tests.history_support import ScriptedRepo
from tests.support import EXAMPLE, copy_example_with_history

TODAY = dt.date(2026, 11, 26)


def site_differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two folders (missing on one side, or different bytes)."""
    found: list[str] = []

    def walk(compare: filecmp.dircmp, prefix: str) -> None:
        found.extend(prefix + name for name in compare.left_only + compare.right_only + compare.funny_files)
        found.extend(prefix + name for name in compare.common_files
                     if not filecmp.cmp(Path(compare.left, name), Path(compare.right, name), shallow=False))
        for name, sub in compare.subdirs.items():
            walk(sub, prefix + name + "/")

    walk(filecmp.dircmp(left, right), "")
    return sorted(found)


def fresh_build(root: Path, out: Path) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    build_site(root, out, TODAY, use_cache=False, jobs=1)
    return out


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of workspace-example outside any git repository (its history is then the same for both builds)."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


# --- random edits --------------------------------------------------------------------------------

STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost", "nonsense")
OWNERS = ("ana", "sam", "maya", "leo", "priya", "tom", "nobody")


def _set_key(text: str, key: str, value: str) -> str:
    """Set a top-level front matter key (adding it after the opening --- when missing)."""
    pattern = re.compile(rf"^{key}:.*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _match: f"{key}: {value}", text, count=1)
    return text.replace("---\n", f"---\n{key}: {value}\n", 1)


class Editor:
    """Seeded random edits of a workspace's records; returns the paths it touched (as the watcher would)."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.originals: dict[str, str] = {}
        self.counter = 0

    def files(self, kind: str) -> list[str]:
        return sorted(f"{kind}/{path.name}" for path in (self.root / kind).glob("*.md"))

    def pick(self, kind: str) -> str:
        return self.rng.choice(self.files(kind))

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> list[str]:
        self.originals.setdefault(rel, self.read(rel) if (self.root / rel).exists() else text)
        (self.root / rel).write_text(text, encoding="utf-8")
        return [rel]

    def edit(self) -> list[str]:
        operation = self.rng.choice([
            self.stage, self.value, self.owner, self.due, self.note, self.break_yaml, self.restore, self.delete,
            self.add_deal, self.rename, self.client_name, self.project_status, self.deal_client, self.new_project,
        ])
        return operation()

    def stage(self) -> list[str]:
        rel = self.pick("deals")
        return self.write(rel, _set_key(self.read(rel), "stage", self.rng.choice(STAGES)))

    def value(self) -> list[str]:
        rel = self.pick("deals")
        return self.write(rel, _set_key(self.read(rel), "value", str(self.rng.randrange(1000, 250_000, 500))))

    def owner(self) -> list[str]:
        rel = self.pick(self.rng.choice(("deals", "clients")))
        return self.write(rel, _set_key(self.read(rel), "owner", self.rng.choice(OWNERS)))

    def due(self) -> list[str]:
        rel = self.pick("deals")
        day = TODAY + dt.timedelta(days=self.rng.randint(-30, 30))
        return self.write(rel, _set_key(self.read(rel), "next_action_due", day.isoformat()))

    def note(self) -> list[str]:
        rel = self.pick(self.rng.choice(("deals", "clients", "projects")))
        day = TODAY - dt.timedelta(days=self.rng.randint(0, 60))
        return self.write(rel, self.read(rel) + f"\n## {day.isoformat()} Call number {self.rng.randint(1, 99)}\n\n"
                                                "They *liked* the plan.\n")

    def break_yaml(self) -> list[str]:
        rel = self.pick(self.rng.choice(("deals", "clients", "projects")))
        return self.write(rel, self.read(rel).replace("---\n", "---\ntitle: [unclosed\n", 1))

    def restore(self) -> list[str]:
        if not self.originals:
            return self.stage()
        rel = self.rng.choice(sorted(self.originals))
        (self.root / rel).write_text(self.originals.pop(rel), encoding="utf-8")
        return [rel]

    def delete(self) -> list[str]:
        rel = self.pick(self.rng.choice(("deals", "deals", "clients", "projects")))
        self.originals.pop(rel, None)
        (self.root / rel).unlink()
        return [rel]

    def add_deal(self) -> list[str]:
        self.counter += 1
        client = self.rng.choice([*(rel[8:-3] for rel in self.files("clients")), "no-such-client"])
        rel = f"deals/new-deal-{self.counter}.md"
        (self.root / rel).write_text(
            f"---\ntitle: New deal {self.counter}\nclient: {client}\nowner: {self.rng.choice(OWNERS)}\n"
            f"stage: {self.rng.choice(STAGES)}\nvalue: {self.rng.randrange(1000, 90_000, 1000)}\n"
            f"created: 2026-11-01\nexpected_close: 2027-01-15\nnext_action: Call them\n"
            f"next_action_due: {(TODAY + dt.timedelta(days=self.rng.randint(-5, 9))).isoformat()}\n---\nA new one.\n",
            encoding="utf-8")
        return [rel]

    def rename(self) -> list[str]:
        rel = self.pick("deals")
        self.counter += 1
        target = rel[:-3] + f"-renamed-{self.counter}.md"
        (self.root / rel).rename(self.root / target)
        self.originals.pop(rel, None)
        return [rel, target]

    def client_name(self) -> list[str]:
        rel = self.pick("clients")
        return self.write(rel, _set_key(self.read(rel), "name", f"Renamed Client {self.rng.randint(1, 999)}"))

    def project_status(self) -> list[str]:
        rel = self.pick("projects")
        status = self.rng.choice(("planned", "active", "on_hold", "done", "cancelled"))
        return self.write(rel, _set_key(self.read(rel), "status", status))

    def deal_client(self) -> list[str]:
        rel = self.pick("deals")
        return self.write(rel, _set_key(self.read(rel), "client", self.pick("clients")[8:-3]))

    def new_project(self) -> list[str]:
        self.counter += 1
        deal = self.pick("deals")[6:-3]
        rel = f"projects/new-project-{self.counter}.md"
        (self.root / rel).write_text(
            f"---\ntitle: Project {self.counter}\ndeal: {deal}\nowner: leo\nstatus: active\nstart: 2026-11-02\n"
            "due: 2027-02-01\ntasks:\n  - {id: design, title: Design, duration: 10}\n"
            "  - {id: build, title: Build, duration: 15, depends_on: [design]}\n---\n", encoding="utf-8")
        return [rel]


@pytest.mark.slow  # runs for seconds: many edits and fresh builds
@pytest.mark.parametrize(("seed", "preview"), [(1, False), (2, False), (3, True), (4, True)])
def test_random_edits_give_the_same_site_as_a_fresh_build(example: Path, tmp_path: Path, seed: int,
                                                          preview: bool) -> None:
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1, preview=preview)
    site.build()
    editor = Editor(example, seed)
    for step in range(12):
        touched = [rel for _ in range(editor.rng.choice((1, 1, 2, 3))) for rel in editor.edit()]
        site.update(touched)  # (a full build when another process changed the built-in templates meanwhile)
        differences = site_differences(tmp_path / "site", fresh_build(example, tmp_path / "fresh"))
        assert differences == [], f"seed {seed}, step {step}, after editing {touched}"
    assert site.problems == tuple(finding for finding in site.problems if finding.code == "F001")


@pytest.mark.git
def test_random_edits_in_a_git_repository_with_history(tmp_path: Path) -> None:
    """Stage histories, activity and commit timelines come from git: the site still equals a fresh build,
    including after a commit (HEAD changes: a full build)."""
    repo = ScriptedRepo(tmp_path / "repo")
    copy_example_with_history(repo.root)
    repo.commit("2026-11-02T10:00:00+00:00", "ana", message="Example workspace")
    editor = Editor(repo.root, 5)
    for step in range(3):
        editor.stage()
        editor.note()  # so that there is always something to commit
        repo.commit(f"2026-11-{20 + step}T10:00:00+00:00", "ben", message=f"Stage change {step}")
    site = IncrementalSite(repo.root, tmp_path / "site", lambda: TODAY, jobs=1, preview=True)
    site.build()
    for step in range(8):
        touched = [rel for _ in range(editor.rng.choice((1, 2))) for rel in editor.edit()]
        if step == 4:
            touched += editor.note()
            repo.commit("2026-11-25T10:00:00+00:00", "cy", message="Work in progress")
        site.update(touched)
        differences = site_differences(tmp_path / "site", fresh_build(repo.root, tmp_path / "fresh"))
        assert differences == [], f"step {step}, after editing {touched}"


def test_an_edit_re_parses_one_file_and_re_renders_only_its_pages_and_aggregates(example: Path,
                                                                                 tmp_path: Path) -> None:
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1)
    first = site.build()
    rel = "deals/kite-finance-mobile-app.md"
    text = (example / rel).read_text(encoding="utf-8")
    (example / rel).write_text(text + "\nOne more line.\n", encoding="utf-8")
    result = site.update([rel])
    assert result.parsed == 1
    aggregates = sum(1 for fingerprint in site.state.fingerprints.values() if fingerprint is None)
    # its deal page and its client's page (the client's timeline shows deal notes), and the aggregates
    assert result.rendered <= aggregates + 3 < first.pages
    assert "One more line." in (tmp_path / "site/deals/kite-finance-mobile-app.html").read_text(encoding="utf-8")


@pytest.mark.slow  # runs for a second or more: several builds of the example
def test_a_preview_publishes_the_saved_deal_page_before_the_exact_update(example: Path, tmp_path: Path) -> None:
    published: list[frozenset[str] | None] = []
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1, preview=True,
                           on_publish=published.append)
    site.build()
    rel = "deals/kite-finance-mobile-app.md"
    (example / rel).write_text((example / rel).read_text(encoding="utf-8") + "\nPreviewed line.\n", encoding="utf-8")
    published.clear()
    site.update([rel])
    assert published[0] == {"deals/kite-finance-mobile-app.html"}  # the preview, alone and first
    assert all(batch is not None and "deals/kite-finance-mobile-app.html" not in batch
               for batch in published[1:])  # the exact page had the same bytes: not written again
    assert site_differences(tmp_path / "site", fresh_build(example, tmp_path / "fresh")) == []


def test_saving_unchanged_bytes_does_nothing(example: Path, tmp_path: Path) -> None:
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1)
    site.build()
    rel = "deals/kite-finance-mobile-app.md"
    site.update([rel])  # the first update learns the file's bytes
    (example / rel).write_bytes((example / rel).read_bytes())
    assert site.update([rel]).skipped


@pytest.mark.slow  # runs for a second or more: several builds of the example
def test_a_broken_file_is_a_problem_and_the_rest_still_updates(example: Path, tmp_path: Path) -> None:
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1)
    site.build()
    broken, other = "deals/kite-finance-mobile-app.md", "deals/fjord-foods-website.md"
    good_page = (tmp_path / "site/deals/kite-finance-mobile-app.html").read_bytes()
    (example / broken).write_text("---\ntitle: [unclosed\nstage: won\n---\n", encoding="utf-8")
    (example / other).write_text((example / other).read_text(encoding="utf-8") + "\nFresh news.\n", encoding="utf-8")
    result = site.update([broken, other])
    assert [(problem.path, problem.code) for problem in result.problems] == [(broken, "F001")]
    assert result.problems[0].line == 3  # where YAML noticed the unclosed list
    assert "Fresh news." in (tmp_path / "site/deals/fjord-foods-website.html").read_text(encoding="utf-8")
    assert not (tmp_path / "site/deals/kite-finance-mobile-app.html").exists()  # as in a fresh build
    assert site.last_good_page("deals/kite-finance-mobile-app.html") == good_page  # what a server may show
    assert broken in (tmp_path / "site/problems.html").read_text(encoding="utf-8")
    (example / broken).write_text((EXAMPLE / broken).read_text(encoding="utf-8"), encoding="utf-8")
    assert site.update([broken]).problems == ()
    assert site.last_good_page("deals/kite-finance-mobile-app.html") is None
    assert site_differences(tmp_path / "site", fresh_build(example, tmp_path / "fresh")) == []


@pytest.mark.slow  # runs for a second or more: several builds of the example
def test_a_template_change_rebuilds_everything_and_a_template_error_keeps_the_site(example: Path,
                                                                                  tmp_path: Path) -> None:
    from plaintext_crm.errors import ToolError

    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1)
    site.build()
    before = (tmp_path / "site/index.html").read_bytes()
    (example / "site-templates").mkdir()
    (example / "site-templates/_footer.html").write_text("<footer>{% if %}</footer>\n", encoding="utf-8")
    with pytest.raises(ToolError, match="site-templates/_footer.html:1: "):  # a template's error names it
        site.update(["site-templates/_footer.html"])
    assert (tmp_path / "site/index.html").read_bytes() == before
    (example / "site-templates/_footer.html").write_text("<footer>Our own footer</footer>\n", encoding="utf-8")
    assert site.update(["site-templates/_footer.html"]).full
    assert "Our own footer" in (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert site_differences(tmp_path / "site", fresh_build(example, tmp_path / "fresh")) == []


@pytest.mark.slow  # runs for a second or more: several builds of the example
def test_a_crm_yaml_change_rebuilds_everything(example: Path, tmp_path: Path) -> None:
    site = IncrementalSite(example, tmp_path / "site", lambda: TODAY, jobs=1)
    site.build()
    config = (example / "crm.yaml").read_text(encoding="utf-8")
    (example / "crm.yaml").write_text(config.replace("Brightline Studio", "Brightline Studio GmbH"), encoding="utf-8")
    assert site.update(["crm.yaml"]).full
    assert "Brightline Studio GmbH" in (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert site_differences(tmp_path / "site", fresh_build(example, tmp_path / "fresh")) == []


def test_a_new_day_rebuilds_everything(example: Path, tmp_path: Path) -> None:
    days = iter([TODAY, TODAY + dt.timedelta(days=1)])
    current = {"day": next(days)}
    site = IncrementalSite(example, tmp_path / "site", lambda: current["day"], jobs=1)
    site.build()
    current["day"] = next(days)
    rel = "deals/fjord-foods-website.md"
    (example / rel).write_text((example / rel).read_text(encoding="utf-8") + "\nTomorrow.\n", encoding="utf-8")
    assert site.update([rel]).full


@pytest.mark.parametrize(("rel", "record", "site_input"), [
    ("deals/a.md", True, True), ("clients/b.md", True, True), ("projects/c.md", True, True),
    ("deals/.a.md", False, False), ("deals/sub/a.md", False, False), ("deals", False, True),
    ("crm.yaml", False, True), ("site-templates/base.html", False, True),
    ("README.md", False, False), ("notes/x.md", False, False), ("deals/a.txt", False, False),
])
def test_which_paths_matter(rel: str, record: bool, site_input: bool) -> None:
    assert is_record_file(rel) is record
    assert affects_site(rel) is site_input
