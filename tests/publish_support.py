"""Leak tests of published sites: plant canary strings in everything an audience must not see, then search
every byte of a built site (file names and compressed files included) for them."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import yaml

from plaintext_crm.records.audience import restrict
from plaintext_crm.records.config import BODY, Audience
from plaintext_crm.records.loader import load_workspace
from tests.support import EXAMPLE, copy_example_with_history

VALUE_CANARY = 9876543  # a deal value no figure of the example reaches by itself
ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_COMMITTER_NAME": "Ana Ruiz",
       "GIT_COMMITTER_EMAIL": "ana@example.com", "GIT_AUTHOR_DATE": "2026-11-20T10:00:00+00:00",
       "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+00:00", "PATH": "/usr/bin:/bin"}
VISIBLE_COMMIT = "visible-commit-marker"


def split(text: str) -> tuple[dict, str]:
    """A record's front matter (parsed) and body."""
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front) or {}, body


def join(front: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body


class Canaries:
    """Unique strings, each recorded with where it was planted."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.planted: dict[str, str] = {}

    def new(self, where: str) -> str:
        canary = f"{self.prefix}{len(self.planted):03d}q"
        self.planted[canary] = where
        return canary


def plant(root: Path, audience: Audience, canaries: Canaries, *, everything: bool = False) -> None:
    """Plant canaries in `root` (a copy of a workspace): in every hidden record (file name, a key, the title
    and the notes) and in every hidden key and body of the records `audience` shows. `everything`: treat
    every record as hidden (the encrypted site's host sees none)."""
    workspace, _ = load_workspace(root)
    view = restrict(workspace, audience)
    renames: dict[str, str] = {}
    for record in workspace.records():
        path = root / record.path
        front, body = split(path.read_text(encoding="utf-8"))
        if everything or not view.shows(record.path):
            canary = canaries.new(f"hidden record {record.path}")
            front["canary_note"] = canaries.new(f"a key of {record.path}")
            front["title" if "title" in front or record.path.startswith(("deals/", "projects/")) else "name"] = \
                f"Secret {canary}"
            body += f"\n## 2026-11-19 Call {canaries.new(f'a history heading of {record.path}')}\n" \
                    f"{canaries.new(f'the notes of {record.path}')}\n"
            path.write_text(join(front, body), encoding="utf-8")
            renames[record.id] = f"{record.id}-{canaries.new(f'the id of {record.path}')}"
            continue
        for key in audience.hide:
            if key == BODY:
                body += f"\n## 2026-11-19 Call {canaries.new(f'a heading of {record.path}')}\n" \
                        f"{canaries.new(f'the notes of {record.path}')}\n"
            elif key == "contacts" and record.path.startswith("clients/"):
                front["contacts"] = [{"name": canaries.new(f"a contact of {record.path}"),
                                      "email": f"{canaries.new('an email')}@example.com"}]
            elif key == "value" and record.path.startswith("deals/"):
                front["value"] = VALUE_CANARY
            elif key in front and key != "value":
                front[key] = canaries.new(f"{key} of {record.path}")
        path.write_text(join(front, body), encoding="utf-8")
    _rename(root, renames)


def _rename(root: Path, renames: dict[str, str]) -> None:
    """Rename records to their new ids, and every reference to them in every record."""
    if not renames:
        return
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(old)}(?![\w-])"
                                  for old in sorted(renames, key=len, reverse=True)))
    for path in sorted(root.glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        path.write_text(pattern.sub(lambda match: renames[match.group(0)], text), encoding="utf-8")
        if path.stem in renames:
            path.rename(path.with_name(f"{renames[path.stem]}.md"))


def git(root: Path, *args: str, author: str = "Ana Ruiz") -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**ENV, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a@example.com"})


def commit_history(root: Path, audience: Audience, canaries: Canaries, *, everything: bool = False) -> None:
    """A repository whose history holds canaries: commits touching hidden records, with canary messages and
    authors, and one touching only a shown record (its message must show on history pages)."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial workspace")
    workspace, _ = load_workspace(root)
    view = restrict(workspace, audience)
    hidden = [record for record in workspace.records() if everything or not view.shows(record.path)]
    shown = [record for record in workspace.deals.values() if not everything and view.shows(record.path)]
    if hidden:
        _touch(root, hidden[0].path)
        git(root, "commit", "-q", "-am", f"Update {canaries.new('a commit message')}",
            author=f"Author {canaries.new('a commit author')}")
    if hidden and shown:
        _touch(root, hidden[-1].path)
        _touch(root, shown[0].path)
        git(root, "commit", "-q", "-am", f"Both {canaries.new('a mixed commit message')}",
            author=f"Mixed {canaries.new('a mixed commit author')}")
    if shown:
        _touch(root, shown[-1].path)
        git(root, "commit", "-q", "-am", VISIBLE_COMMIT)


def _touch(root: Path, rel: str) -> None:
    with (root / rel).open("a", encoding="utf-8") as handle:
        handle.write("\nEdited.\n")


def copy_example(source: Path, target: Path) -> Path:
    """A copy of the workspace at `source`; of workspace-example, with its git history read (the leak tests
    plant canaries in commits)."""
    if source == EXAMPLE:
        return copy_example_with_history(target)
    shutil.copytree(source, target)
    return target


def leaks(out: Path, canaries: Canaries, extra: tuple[str, ...] = ()) -> list[str]:
    """Every canary (and `extra` string) found in the site at `out`: '<canary> (<where planted>) in <file>'."""
    wanted = {canary.lower(): where for canary, where in canaries.planted.items()}
    wanted.update({item.lower(): "extra" for item in extra})
    found = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        texts = [rel.lower()]
        if path.is_file():
            data = path.read_bytes()
            texts.append(data.decode("utf-8", "replace").lower())
            for opener in (gzip.decompress, zlib.decompress):
                try:
                    texts.append(opener(data).decode("utf-8", "replace").lower())
                except (OSError, zlib.error, EOFError):
                    pass
        for canary, where in wanted.items():
            if any(canary in text for text in texts):
                found.append(f"{canary} ({where}) in {rel}")
    return found


def value_forms(value: int) -> tuple[str, ...]:
    """The ways a page or data.json could write a deal value."""
    return (str(value), f"{value:,}", f"{value:,}".replace(",", " "), f"{value:,}".replace(",", "."))
