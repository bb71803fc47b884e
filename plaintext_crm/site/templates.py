"""The Jinja environment of the site: the workspace's own site-templates/ first, then the built-in templates,
rendered in the template sandbox, compiled templates cached in the workspace's cache folder, every page
finished with its security policy (security.py)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import BytecodeCache, FileSystemLoader, StrictUndefined, Template, select_autoescape
from jinja2.bccache import Bucket
from jinja2.loaders import split_template_path

from plaintext_crm.errors import ToolError
from plaintext_crm.records import cache_store
from plaintext_crm.site import filters
from plaintext_crm.site.security import finish_page
from plaintext_crm.template_sandbox import SANDBOX_VERSION, TemplateSandbox, render_budget

OVERRIDES_FOLDER = "site-templates"
STATIC_FOLDER = "static"
BYTECODE_FOLDER = "jinja"  # compiled templates, inside the workspace's cache folder
BYTECODE_KIND = "jinja-bytecode"


def builtin_folder() -> Path:
    """The built-in templates: the package plaintext_crm.site_templates (the repository's site-templates/)."""
    return Path(str(resources.files("plaintext_crm.site_templates")))


def template_folders(root: Path) -> list[Path]:
    """Template folders in precedence order: the workspace's overrides (when present), then built-in.

    The overrides folder must be inside the workspace: a site-templates/ that is a symbolic link to
    another folder would publish that folder's files.
    """
    own = root / OVERRIDES_FOLDER
    if not own.is_dir():
        return [builtin_folder()]
    if not _inside(os.path.realpath(own), os.path.realpath(root)):
        raise ToolError(f"{OVERRIDES_FOLDER}/ is a symbolic link to {os.path.realpath(own)}, outside the workspace: "
                        f"refusing to use it; make {OVERRIDES_FOLDER}/ a real folder of the workspace")
    return [own, builtin_folder()]


def _inside(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _shown(filename: str, folders: list[Path], root: Path) -> str:
    """A template file as messages name it: `site-templates/x.html`, or `built-in x.html`."""
    for folder in folders:
        if _inside(filename, os.path.normpath(folder)):
            rel = Path(os.path.relpath(filename, folder)).as_posix()
            return f"built-in {rel}" if folder == builtin_folder() else Path(os.path.relpath(filename, root)).as_posix()
    return filename


class TemplateFolders(FileSystemLoader):
    """Templates by name from the folders in order; a file whose real path leaves its folder (a symbolic
    link to /etc/passwd or to a secret) is refused, so no template can publish a file from elsewhere."""

    def __init__(self, folders: list[Path], describe: Callable[[str], str]) -> None:
        super().__init__([str(folder) for folder in folders])
        self.describe = describe
        self.real_folders = [os.path.realpath(folder) for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses "..": names are relative to the folders
        for folder, real_folder in zip(self.searchpath, self.real_folders, strict=True):
            filename = os.path.normpath(os.path.join(folder, *pieces))
            if not os.path.lexists(filename):
                continue
            if not _inside(os.path.realpath(filename), real_folder):
                raise ToolError(f"{self.describe(filename)} is a symbolic link to a file outside its folder "
                                f"({os.path.realpath(filename)}): refusing to read it")
            if os.path.isfile(filename):
                break
        else:
            raise jinja2.TemplateNotFound(template)
        try:
            with open(filename, encoding=self.encoding) as handle:
                contents = handle.read()
            mtime = os.path.getmtime(filename)
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(f"{self.describe(filename)}: cannot read the template: {exc}") from None

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, filename, uptodate


class CheckedBytecodeCache(BytecodeCache):
    """Compiled templates as checksummed entries of the workspace's cache folder (cache_store), never in the
    workspace: compiled code is code, so it is only loaded from a place no repository writes, and only
    when it is exactly what this tool stored (damage means compiling again, not a broken build)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{SANDBOX_VERSION}|{jinja2.__version__}|{name}|{filename or ''}"
        return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        payload = cache_store.read_entry(self.folder / bucket.key, BYTECODE_KIND)
        if payload is None:
            return
        try:
            bucket.bytecode_from_string(payload)
        except Exception:  # noqa: BLE001 - an entry this tool cannot load is compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return
        cache_store.write_entry(self.folder / bucket.key, BYTECODE_KIND, bucket.bytecode_to_string())


class SitePage(Template):
    """A site template: a rendered HTML page gets its security policy (see security.finish_page)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with render_budget():
            html = super().render(*args, **kwargs)
        context: MutableMapping[str, Any] = args[0] if args and isinstance(args[0], dict) else kwargs
        return finish_page(html, external_images=getattr(context.get("config"), "external_images", False) is True)


def make_environment(root: Path, cache_dir: Path | None = None) -> jinja2.Environment:
    """The sandboxed Jinja environment of the site: autoescape, StrictUndefined, trimmed blocks, the filters.

    With `cache_dir` (caches allowed), compiled templates are kept in the workspace's cache folder
    (cache_store.cache_folder, outside the workspace: a folder inside it, like the old .plaintext-crm/, is
    never used), keyed by each template's name, file and source, so a build loads rather than compiles them.
    """
    bytecode_cache = None
    if cache_dir is not None:
        if _inside(os.path.realpath(cache_dir), os.path.realpath(root)):
            cache_dir = cache_store.cache_folder(root)
        bytecode_cache = CheckedBytecodeCache(cache_dir / BYTECODE_FOLDER)
    folders = template_folders(root)

    def shown(filename: str) -> str:
        return _shown(filename, folders, root)

    def locate(filename: str, line: int) -> tuple[str, int] | None:
        return (shown(filename), line) if any(_inside(filename, os.path.normpath(f)) for f in folders) else None

    env = TemplateSandbox(
        locate,
        loader=TemplateFolders(folders, shown),
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=bytecode_cache,
    )
    env.template_class = SitePage
    filters.register(env)
    return env


def load_all_templates(env: jinja2.Environment) -> None:
    """Compile (or load from the bytecode cache) every template now: forked render workers then share
    them instead of each compiling its own copies."""
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc"):
            yield path.relative_to(folder).as_posix(), path


def static_files(root: Path) -> list[tuple[str, bytes]]:
    """Assets to copy into the site's static/ folder: built-in ones, overridden by the workspace's.

    An asset whose real path leaves its static/ folder (a symbolic link out) is refused: it would publish
    a file from elsewhere on the machine that builds the site.
    """
    folders = template_folders(root)
    chosen: dict[str, tuple[Path, Path]] = {}
    for folder in reversed(folders):
        static = folder / STATIC_FOLDER
        if static.is_dir():
            chosen.update((rel, (static, path)) for rel, path in _files(static))
    files = []
    for rel, (static, path) in sorted(chosen.items()):
        if not _inside(os.path.realpath(path), os.path.realpath(static)):
            raise ToolError(f"{_shown(str(path), folders, root)} is a symbolic link to a file outside "
                            f"{STATIC_FOLDER}/ ({os.path.realpath(path)}): refusing to publish it")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ToolError(f"{_shown(str(path), folders, root)}: cannot read it: {exc.strerror or exc}") from None
        problem = active_content(rel, data)
        if problem is not None:
            raise ToolError(f"{_shown(str(path), folders, root)}: {problem}; refusing to publish it (static/ is "
                            "for styles, scripts the pages load, images and fonts)")
        files.append((rel, data))
    return files


# Documents a browser opens as a page of the site's origin: published as they are, they would run
# outside the pages' Content-Security-Policy (and could read data.json and send it anywhere).
ACTIVE_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".xht", ".shtml", ".xml", ".xsl", ".xslt", ".svgz",
                             ".mht", ".mhtml", ".swf"})
_SVG_ACTIVE = re.compile(rb"<\s*script|<\s*foreignobject|\son[a-z]+\s*=|javascript:|<\s*iframe|<\s*embed"
                         rb"|<\s*object|<!entity", re.IGNORECASE)


def active_content(rel: str, data: bytes) -> str | None:
    """Why an asset would run as a page of the site (an HTML or XML document, an SVG with scripts,
    event handlers or embedded documents), or None for a plain asset."""
    suffix = os.path.splitext(rel)[1].lower()
    if suffix in ACTIVE_SUFFIXES:
        return f"a {suffix} document opens as a page of the site, outside its Content-Security-Policy"
    if suffix == ".svg" and _SVG_ACTIVE.search(data):
        return "an SVG image with scripts, event handlers or embedded documents runs as a page when opened"
    return None


def template_digest(root: Path) -> str:
    """A hash of every template and asset in use, so a changed template re-renders every page."""
    digest = hashlib.blake2b(digest_size=16)
    for folder in template_folders(root):
        for rel, path in _files(folder):
            stat = path.stat()
            digest.update(f"{folder}|{rel}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
