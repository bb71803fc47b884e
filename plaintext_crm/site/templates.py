"""The Jinja environment: the workspace's own site-templates/ first, then the built-in templates."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from plaintext_crm.site import filters

OVERRIDES_FOLDER = "site-templates"
STATIC_FOLDER = "static"
BYTECODE_FOLDER = "jinja"  # compiled templates, inside the workspace's cache folder


def builtin_folder() -> Path:
    """The built-in templates: the package plaintext_crm.site_templates (the repository's site-templates/)."""
    return Path(str(resources.files("plaintext_crm.site_templates")))


def template_folders(root: Path) -> list[Path]:
    """Template folders in precedence order: the workspace's overrides (when present), then built-in."""
    own = root / OVERRIDES_FOLDER
    return [own, builtin_folder()] if own.is_dir() else [builtin_folder()]


def make_environment(root: Path, cache_dir: Path | None = None) -> Environment:
    """A Jinja environment with autoescape, StrictUndefined, trimmed blocks and this package's filters.

    With `cache_dir` (the workspace's .plaintext-crm/), compiled templates are kept on disk in
    cache_dir/jinja/, keyed by each template's source, so a build loads rather than compiles them.
    """
    bytecode_cache = None
    if cache_dir is not None:
        try:
            (cache_dir / BYTECODE_FOLDER).mkdir(parents=True, exist_ok=True)
            bytecode_cache = FileSystemBytecodeCache(str(cache_dir / BYTECODE_FOLDER))
        except OSError:  # a read-only workspace still builds, compiling its templates each time
            bytecode_cache = None
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in template_folders(root)]),
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=bytecode_cache,
    )
    filters.register(env)
    return env


def load_all_templates(env: Environment) -> None:
    """Compile (or load from the bytecode cache) every template now: forked render workers then share
    them instead of each compiling its own copies."""
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc"):
            yield path.relative_to(folder).as_posix(), path


def static_files(root: Path) -> list[tuple[str, bytes]]:
    """Assets to copy into the site's static/ folder: built-in ones, overridden by the workspace's."""
    chosen: dict[str, Path] = {}
    for folder in reversed(template_folders(root)):
        static = folder / STATIC_FOLDER
        if static.is_dir():
            chosen.update(dict(_files(static)))
    return [(rel, path.read_bytes()) for rel, path in sorted(chosen.items())]


def template_digest(root: Path) -> str:
    """A hash of every template and asset in use, so a changed template re-renders every page."""
    digest = hashlib.blake2b(digest_size=16)
    for folder in template_folders(root):
        for rel, path in _files(folder):
            stat = path.stat()
            digest.update(f"{folder}|{rel}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
