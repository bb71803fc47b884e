"""Rendered Markdown bodies of every record, cached by content hash and rendered in parallel when cold."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from pathlib import Path

from markupsafe import Markup

from plaintext_crm.records import cache_store
from plaintext_crm.records.model import Workspace
from plaintext_crm.site.markdown import body_key, renderer

CACHE_FILE = "site-bodies.cache"
CACHE_VERSION = 2
PARALLEL_MIN_BODIES = 2000  # a process pool only pays off for a large cold cache (pyrs: ~0.1 ms a body)


def render_bodies(workspace: Workspace, cache_dir: Path | None, *, jobs: int | None = None,
                  engine: str | None = None) -> tuple[dict[str, Markup], str]:
    """Every record's body as HTML, keyed by record path; and the engine used ("pyrs" or "py").

    With a `cache_dir` (the workspace's cache folder), renderings are kept in one checksummed file
    keyed by the body's content hash, so an unchanged body is never rendered twice; entries of bodies
    no longer present are dropped.
    """
    name, _render = renderer(engine)  # resolves the engine; workers build their own parser
    cache = _load(cache_dir, name)
    keys: dict[str, str] = {}
    missing: dict[str, str] = {}
    for record in workspace.records():
        key = body_key(record.body)
        keys[record.path] = key
        if key not in cache and key not in missing:
            missing[key] = record.body
    if missing:
        cache.update(_render_many(missing, name, jobs))
    bodies = {path: Markup(cache[key]) for path, key in keys.items()}
    if cache_dir is not None and missing:
        _save(cache_dir, name, {key: cache[key] for key in set(keys.values())})
    return bodies, name


def _render_many(texts: dict[str, str], engine: str, jobs: int | None) -> dict[str, str]:
    workers = min(jobs or os.cpu_count() or 1, 8)
    threshold = PARALLEL_MIN_BODIES if engine == "pyrs" else PARALLEL_MIN_BODIES // 10
    if workers < 2 or len(texts) < threshold or "fork" not in multiprocessing.get_all_start_methods():
        render = renderer(engine)[1]
        return {key: render(text) for key, text in texts.items()}
    items = list(texts.items())
    chunk = max(100, len(items) // (workers * 4))
    batches = [(engine, items[start:start + chunk]) for start in range(0, len(items), chunk)]
    result: dict[str, str] = {}
    from plaintext_crm.records.parse_cache import die_with_parent

    with multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        for part in pool.imap_unordered(_render_batch, batches):
            result.update(part)
    return result


def _render_batch(batch: tuple[str, list[tuple[str, str]]]) -> dict[str, str]:
    engine, items = batch
    render = renderer(engine)[1]
    return {key: render(text) for key, text in items}


def _load(cache_dir: Path | None, engine: str) -> dict[str, str]:
    """The cached renderings; a missing, damaged or foreign cache is an empty one (plain data: no class may load)."""
    if cache_dir is None:
        return {}
    payload = cache_store.read_entry(cache_dir / CACHE_FILE, CACHE_FILE)
    if payload is None:
        return {}
    try:
        data = cache_store.loads_data(payload)
    except Exception:  # noqa: BLE001 - whatever stops it loading, the answer is to render again
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("engine") != engine:
        return {}
    bodies = data.get("bodies")
    return dict(bodies) if isinstance(bodies, dict) else {}


def _save(cache_dir: Path, engine: str, bodies: dict[str, str]) -> None:
    """Write the cache atomically (a concurrent or interrupted build never sees half a file); a cache
    folder that cannot be written, or a full disk, only means no cache."""
    payload = pickle.dumps({"version": CACHE_VERSION, "engine": engine, "bodies": bodies},
                           protocol=pickle.HIGHEST_PROTOCOL)
    cache_store.write_entry(cache_dir / CACHE_FILE, CACHE_FILE, payload)
