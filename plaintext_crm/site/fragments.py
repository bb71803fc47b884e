"""Cached items of the whole-workspace pages: a board card or a follow-up row rendered once per distinct input.

Most of the time of the board, the follow-ups and the problems page goes into one repeated item per
deal or file. A template renders such an item with `{{ cached("_board_card.html", d=d, href=...) }}`:
the item template sees only the inputs it is given (plus `root`, `url`, `config` and `today`, and the
filters), never the site or a function that looks something up in it, so its text is a function of
exactly those inputs and of the build's global key (tool version, today, crm.yaml, every template
and asset, git HEAD). The text is kept under a digest of the template name, the page's depth and the
inputs' `repr`, and a later build joins the stored texts of unchanged items and renders only the others.

Each page keeps its own store, `fragments/<digest of the page path>.cache` in the workspace's cache
folder (cache_store: checksummed, written atomically, outside any repository): each page is rendered by
one process of a build, so no two processes write one store, and a store holds only the items its
page used last time. The store is JSON text (strings only), tagged with the global key it was made
under; a store of another key, or one that is damaged, is ignored. Without a cache folder
(`--no-cache`) or a global key (watch's in-memory updates), items are rendered every time, so the page
is the same either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from plaintext_crm.records import cache_store

FRAGMENTS_FOLDER = "fragments"
FRAGMENTS_FORMAT = 1


def store_path(cache_dir: Path, page_output: str) -> Path:
    """The fragment store of the page `page_output` in the cache folder `cache_dir`."""
    name = hashlib.blake2b(page_output.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return cache_dir / FRAGMENTS_FOLDER / f"{name}.cache"


class Fragments:
    """The `cached(template, **inputs)` function of one page render; `save()` keeps the items it used."""

    def __init__(self, env: jinja2.Environment, base: dict[str, Any], path: Path | None, build_key: str | None,
                 reprs: dict[int, tuple[object, str]] | None = None) -> None:
        """`base`: the names every item sees (root, url, config, today); `path`: the page's store, or None;
        `reprs`: the texts of input values already seen in this build (by id, holding the value alive)."""
        self.env = env
        self.reprs = reprs if reprs is not None else {}
        self.base = base
        self.path = path if build_key is not None else None
        self.build_key = build_key
        self.stored: dict[str, str] | None = None  # loaded on the first call: most pages never call
        self.used: dict[str, str] = {}
        self.rendered = 0

    def __call__(self, name: str, **inputs: Any) -> Markup:
        template = self.env.get_template(name)
        if self.path is None:
            return Markup(self._render(template, inputs))
        key = self._key(name, inputs)
        if key is None:  # an input without a faithful repr: rendered, never stored
            return Markup(self._render(template, inputs))
        text = self.used.get(key)
        if text is None:
            if self.stored is None:
                self.stored = self._load()
            text = self.stored.get(key)
            if text is None:
                text = self._render(template, inputs)
                self.rendered += 1
            self.used[key] = text
        return Markup(text)

    def save(self) -> None:
        """Store the items this render used, when any was rendered or some stored item was not used."""
        if self.path is None or self.stored is None:
            return
        if not self.rendered and len(self.used) == len(self.stored):
            return
        try:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return  # no cache next time, the same page
        payload = json.dumps({"format": FRAGMENTS_FORMAT, "key": self.build_key, "items": self.used},
                             ensure_ascii=False, separators=(",", ":"))
        cache_store.write_entry(self.path, self.path.name, payload.encode("utf-8", "surrogatepass"))

    def _render(self, template: jinja2.Template, inputs: dict[str, Any]) -> str:
        # The plain Template.render: the page's own render adds its security policy once, to the whole page.
        return jinja2.Template.render(template, {**self.base, **inputs})

    def _load(self) -> dict[str, str]:
        """The stored items of this page's store, when whole and made under this build's key; else {}."""
        assert self.path is not None
        payload = cache_store.read_entry(self.path, self.path.name)  # the kind: the file's name
        if payload is None:
            return {}
        try:
            data = json.loads(payload.decode("utf-8", "surrogatepass"))
        except ValueError:
            return {}
        if not (isinstance(data, dict) and data.get("format") == FRAGMENTS_FORMAT and data.get("key") == self.build_key
                and isinstance(data.get("items"), dict)):
            return {}
        items = data["items"]
        if not all(isinstance(value, str) for value in items.values()):
            return {}
        return items


    def _key(self, name: str, inputs: dict[str, Any]) -> str | None:
        """The digest of an item's template name, its page's depth and its inputs (by `repr`, in name order);
        None when an input's repr is an object's address rather than its value."""
        parts = [repr(name), repr(self.base["root"])]
        for input_name in sorted(inputs):
            value = inputs[input_name]
            params = getattr(type(value), "__dataclass_params__", None)
            if params is None or not params.frozen:  # plain values, and anything that could change
                text = repr(value)
            else:  # the same figures appear on several pages and lists: their repr is worked out once
                known = self.reprs.get(id(value))
                if known is None or known[0] is not value:
                    known = self.reprs[id(value)] = (value, repr(value))
                text = known[1]
            parts.append(f"{input_name}={text}")
        joined = "\n".join(parts)
        if " object at 0x" in joined:
            return None
        return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def item_base(root: str, url: Callable[[str | None], str | None], config: object, today: object) -> dict[str, Any]:
    """The names an item template sees besides its inputs: functions of the page depth and the global key only."""
    return {"root": root, "url": url, "config": config, "today": today}
