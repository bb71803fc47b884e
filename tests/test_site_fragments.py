"""Cached items of the whole-workspace pages (plaintext_crm.site.fragments): reused only for the same inputs,
ignored when damaged or made under another global key, and the pages equal a build without caches."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from plaintext_crm.records import cache_store
from plaintext_crm.site.builder import build_site
from plaintext_crm.site.fragments import FRAGMENTS_FOLDER, Fragments, item_base, store_path

TODAY = dt.date(2026, 11, 26)


@dataclass(frozen=True)
class Card:
    title: str
    value: int


def environment(calls: list[str]) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.DictLoader({"_card.html": "<li>{{ d.title }} {{ d.value }} {{ note() }}"
                                                                      " {{ root }}</li>"}), autoescape=True)
    env.globals["note"] = lambda: calls.append("rendered") or ""
    return env


def fragments(env: jinja2.Environment, path: Path | None, key: str | None = "k", root: str = "") -> Fragments:
    return Fragments(env, item_base(root, lambda target: target, None, TODAY), path, key)


def test_an_item_is_rendered_once_then_joined_from_the_store(tmp_path: Path) -> None:
    calls: list[str] = []
    env = environment(calls)
    path = tmp_path / FRAGMENTS_FOLDER / "page.cache"
    first = fragments(env, path)
    assert first("_card.html", d=Card("A <b>", 1)) == "<li>A &lt;b&gt; 1  </li>"
    first("_card.html", d=Card("A <b>", 1))  # the same inputs twice on one page: rendered once
    first.save()
    assert calls == ["rendered"]
    second = fragments(env, path)
    assert second("_card.html", d=Card("A <b>", 1)) == "<li>A &lt;b&gt; 1  </li>"
    assert calls == ["rendered"]
    assert second("_card.html", d=Card("A <b>", 2)) == "<li>A &lt;b&gt; 2  </li>"  # another input: rendered
    assert second("_card.html", d=Card("A <b>", 1), extra=None) == "<li>A &lt;b&gt; 1  </li>"  # another input name
    assert fragments(env, path, root="../")("_card.html", d=Card("A <b>", 1)) == "<li>A &lt;b&gt; 1  ../</li>"
    assert calls == ["rendered"] * 4


def test_a_store_of_another_key_or_damaged_is_ignored(tmp_path: Path) -> None:
    calls: list[str] = []
    env = environment(calls)
    path = tmp_path / FRAGMENTS_FOLDER / "page.cache"
    first = fragments(env, path, key="old")
    first("_card.html", d=Card("A", 1))
    first.save()
    fragments(env, path, key="new")("_card.html", d=Card("A", 1))  # templates, today or crm.yaml changed
    assert len(calls) == 2
    data = bytearray(path.read_bytes())
    data[-3] ^= 1  # a flipped bit in the stored text
    path.write_bytes(bytes(data))
    assert fragments(env, path, key="old")("_card.html", d=Card("A", 1)) == "<li>A 1  </li>"
    assert len(calls) == 3


def test_a_store_naming_other_values_is_ignored(tmp_path: Path) -> None:
    """A checked entry whose items are not all text (not something this tool writes) is not used."""
    calls: list[str] = []
    env = environment(calls)
    path = tmp_path / "page.cache"
    payload = json.dumps({"format": 1, "key": "k", "items": {"x": {"__class__": "os.system"}}})
    cache_store.write_entry(path, path.name, payload.encode())
    assert fragments(env, path)("_card.html", d=Card("A", 1)) == "<li>A 1  </li>"
    assert calls == ["rendered"]


def test_without_a_store_or_a_key_every_item_is_rendered(tmp_path: Path) -> None:
    calls: list[str] = []
    env = environment(calls)
    for items in (fragments(env, None), fragments(env, tmp_path / "page.cache", key=None)):
        items("_card.html", d=Card("A", 1))
        items("_card.html", d=Card("A", 1))
        items.save()
    assert len(calls) == 4
    assert not (tmp_path / "page.cache").exists()


def test_an_input_without_a_faithful_repr_is_never_stored(tmp_path: Path) -> None:
    calls: list[str] = []
    env = environment(calls)
    path = tmp_path / "page.cache"
    items = fragments(env, path)
    items("_card.html", d=Card("A", 1), thing=object())
    items("_card.html", d=Card("A", 1), thing=object())
    assert len(calls) == 2


DEAL = """\
---
title: Website
client: acme
owner: ana
stage: proposal
value: 24000
next_action: Send proposal
next_action_due: 2026-11-20
---
Notes.
"""


def save(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def test_pages_with_cached_items_equal_a_build_without_caches(make_workspace, tmp_path: Path) -> None:
    files = {f"deals/deal-{index}.md": DEAL.replace("Website", f"Deal {index}") for index in range(6)}
    files["clients/acme.md"] = "---\nname: Acme\n---\n"
    root = make_workspace(files)
    build_site(root, root / "site", TODAY, jobs=1)
    stores = list((cache_store.cache_folder(root) / FRAGMENTS_FOLDER).iterdir())
    assert store_path(cache_store.cache_folder(root), "board.html") in stores
    # A stage, a value, a removed client (the links of every card change) and a new deal.
    save(root / "deals" / "deal-1.md", DEAL.replace("Website", "Deal 1").replace("proposal", "negotiation"))
    save(root / "deals" / "deal-2.md", DEAL.replace("Website", "Deal 2").replace("24000", "99000"))
    built = build_site(root, root / "site", TODAY, jobs=1)
    assert built.reused > 0
    assert tree(root / "site") == tree(build_site(root, tmp_path / "full1", TODAY, use_cache=False).out)
    (root / "clients" / "acme.md").unlink()
    save(root / "deals" / "deal-9.md", DEAL.replace("Website", "Deal 9"))
    build_site(root, root / "site", TODAY, jobs=1)
    assert tree(root / "site") == tree(build_site(root, tmp_path / "full2", TODAY, use_cache=False).out)
    assert 'href="clients/acme.html"' not in (root / "site" / "board.html").read_text(encoding="utf-8")


def test_an_overridden_item_template_wins_over_the_cached_items(make_workspace) -> None:
    root = make_workspace({"deals/website.md": DEAL, "clients/acme.md": "---\nname: Acme\n---\n"})
    build_site(root, root / "site", TODAY, jobs=1)
    (root / "site-templates").mkdir()
    (root / "site-templates" / "_board_card.html").write_text("<li>Our card: {{ d.title }}</li>\n", encoding="utf-8")
    build_site(root, root / "site", TODAY, jobs=1)
    assert "<li>Our card: Website</li>" in (root / "site" / "board.html").read_text(encoding="utf-8")
