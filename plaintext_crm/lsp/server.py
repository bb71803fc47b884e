"""The language server (pygls): documents in, diagnostics published after typing pauses, requests answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from plaintext_crm import __version__
from plaintext_crm.clock import resolve_today
from plaintext_crm.delivery.schedule import Schedule, schedule_workspace
from plaintext_crm.findings import Finding, Location
from plaintext_crm.lsp import actions, completion, navigation, symbols
from plaintext_crm.lsp.diagnostics import default_rules_url, to_diagnostic
from plaintext_crm.lsp.state import Snapshot, WorkspaceState
from plaintext_crm.lsp.text import context_at, position_of, smallest_change, split_lines
from plaintext_crm.records.config import CONFIG_FILE
from plaintext_crm.records.loader import ParseProblem, read_inside
from plaintext_crm.records.model import KINDS

log = logging.getLogger("plaintext_crm.lsp")
DEBOUNCE_SECONDS = 0.03  # typing bursts arrive within this; one analysis follows the last change
F = TypeVar("F", bound=Callable[..., Any])

_SYMBOL_KINDS = {"task": types.SymbolKind.Event, "milestone": types.SymbolKind.Constant, "key": types.SymbolKind.Field,
                 "client": types.SymbolKind.Class, "deal": types.SymbolKind.Object, "project": types.SymbolKind.Module}


def workspace_root_for(folder: Path) -> Path:
    """The workspace around `folder`: the nearest folder holding crm.yaml at or above it (else, for a file in
    clients/, deals/ or projects/, the folder above that; else `folder` itself: no crm.yaml is fine)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    if folder.name in KINDS:
        return folder.parent
    return folder


class CrmLanguageServer(LanguageServer):
    """plaintext-crm's server: one workspace, its open documents, the last analysis."""

    def __init__(self) -> None:
        super().__init__("plaintext-crm", __version__)
        self.state: WorkspaceState | None = None
        self.today_text: str | None = None
        self.rules_url = default_rules_url()
        self.open_uris: dict[str, str] = {}  # rel -> uri of open documents in the workspace
        self.baseline: dict[str, tuple[Finding, ...]] | None = None  # findings of unopened files at the start
        self.published: dict[str, tuple[Finding, ...]] = {}  # unopened files we published for
        self._pending: asyncio.Task[None] | None = None
        self._dirty = True
        self._schedule: tuple[Snapshot, Schedule] | None = None

    # --- workspace and paths ------------------------------------------------------------------------------

    def today(self) -> dt.date:
        """`today` of the options, else PLAINTEXT_CRM_TODAY, else the calendar; a bad date is logged, not fatal."""
        try:
            return resolve_today(self.today_text)
        except click.ClickException as exc:  # ToolError: not a date
            log.warning("%s; counting from the calendar's date", exc.format_message())
            return dt.date.today()

    def start_workspace(self, folder: Path) -> WorkspaceState:
        self.state = WorkspaceState(workspace_root_for(folder), self.today)
        return self.state

    def adopt(self, uri: str) -> None:
        """Before the first document opens: when the client's root folder has no crm.yaml at or above it (an
        editor rooted at a repository that holds the workspace in a subfolder), take the workspace around
        the document instead."""
        path = uris.to_fs_path(uri)
        if path is None or self.open_uris:
            return
        if self.state is not None and (self.state.root / CONFIG_FILE).is_file():
            return
        around = workspace_root_for(Path(path).parent)
        if self.state is None or (around / CONFIG_FILE).is_file():
            self.start_workspace(around)
            self.baseline, self.published, self._schedule = None, {}, None

    def relative(self, uri: str) -> str | None:
        """The workspace-relative path of a document, or None for one outside the workspace."""
        path = uris.to_fs_path(uri)
        if path is None:
            return None
        if self.state is None:
            self.start_workspace(Path(path).parent)
        assert self.state is not None
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.state.root)
        except ValueError:
            try:
                rel = Path(path).resolve().relative_to(self.state.root)
            except ValueError:
                return None
        return rel.as_posix()

    def uri_of(self, rel: str) -> str:
        assert self.state is not None
        return self.open_uris.get(rel) or uris.from_fs_path(str(self.state.root / rel)) or ""

    def lines_of(self, rel: str) -> list[str]:
        """The lines of a file as the editor has it (its buffer), else as on disk."""
        assert self.state is not None
        text = self.state.buffers.get(rel)
        if text is None:
            # as the loader reads: never through a link out of the workspace, never blocking on a pipe
            raw = read_inside(self.state.root, rel)
            text = "" if isinstance(raw, ParseProblem) else raw.decode("utf-8", "replace")
        return split_lines(text)

    # --- analysis and publishing --------------------------------------------------------------------------

    def changed(self) -> None:
        """A buffer or file changed: analyse after the typing pauses."""
        self._dirty = True
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = asyncio.get_running_loop().create_task(self._analyse_later())

    async def _analyse_later(self) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        if self._dirty:  # a request may have analysed the change already (see `fresh`)
            self.analyse_and_publish()

    def fresh(self) -> Snapshot | None:
        """The analysis of the current texts (made now when a change has not been analysed yet)."""
        if self.state is None:
            return None
        if self._dirty or self.state.snapshot is None:
            self.analyse_and_publish()
        return self.state.snapshot

    def analyse_and_publish(self) -> None:
        if self.state is None:
            return
        self._dirty = False
        first = self.state.snapshot is None
        try:
            snapshot = self.state.analyse()
        except Exception:  # the server must outlive any surprise in the workspace
            log.exception("analysis failed")
            return
        if first:
            # The records of a big workspace are millions of long-lived objects: leave them out of the
            # collector's full passes, which would otherwise stall an analysis now and then.
            gc.collect()
            gc.freeze()
        self.publish(snapshot)

    def publish(self, snapshot: Snapshot) -> None:
        """Diagnostics of every open document, and of other files whose findings this session changed."""
        findings = snapshot.findings
        if self.baseline is None:
            self.baseline = dict(findings)
        targets = set(self.open_uris) | set(self.published)
        for rel in set(findings) | set(self.baseline):
            if rel not in self.open_uris and findings.get(rel, ()) != self.baseline.get(rel, ()):
                targets.add(rel)
        for rel in sorted(targets):
            found = findings.get(rel, ())
            if rel not in self.open_uris:
                if self.published.get(rel) == found:
                    continue
                self.published[rel] = found
            self._send(rel, found)

    def _send(self, rel: str, found: Iterable[Finding]) -> None:
        lines = self.lines_of(rel)
        codec = self.workspace.position_codec
        diagnostics = []
        for finding in found:
            diagnostic = to_diagnostic(lines, finding, self.rules_url)
            diagnostic.range = codec.range_to_client_units(lines, diagnostic.range)
            diagnostics.append(diagnostic)
        version = None
        if rel in self.open_uris:
            version = self.workspace.get_text_document(self.open_uris[rel]).version
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=self.uri_of(rel), diagnostics=diagnostics, version=version))

    def schedule(self, snapshot: Snapshot) -> Callable[[], Schedule]:
        """The delivery schedule of an analysis, computed on first use (hover on a task)."""
        def get() -> Schedule:
            if self._schedule is None or self._schedule[0] is not snapshot:
                self._schedule = (snapshot, schedule_workspace(snapshot.workspace, snapshot.today))
            return self._schedule[1]
        return get

    # --- requests -----------------------------------------------------------------------------------------

    def position(self, uri: str, position: types.Position) -> tuple[str, list[str], int, int] | None:
        """(rel, lines, line, column in code points) of a request's position, or None outside the workspace."""
        rel = self.relative(uri)
        if rel is None:
            return None
        document = self.workspace.get_text_document(uri)
        lines = split_lines(document.source)
        server_position = self.workspace.position_codec.position_from_client_units(document.lines, position)
        return rel, lines, server_position.line, server_position.character

    def location(self, where: Location) -> types.Location:
        lines = self.lines_of(where.path)
        line = min(max(where.line - 1, 0), max(len(lines) - 1, 0))
        width = len(lines[line]) if lines else 0
        span = self.workspace.position_codec.range_to_client_units(
            lines, types.Range(types.Position(line, 0), types.Position(line, width)))
        return types.Location(uri=self.uri_of(where.path), range=span)


server = CrmLanguageServer()


def guarded(handler: F) -> F:
    """A request handler that logs any failure and answers nothing: bad input never becomes an error response."""
    @functools.wraps(handler)
    def run(ls: CrmLanguageServer, params: Any) -> Any:
        try:
            return handler(ls, params)
        except Exception:  # a half-typed document must not break the request
            log.exception("%s failed", handler.__name__)
            return None
    return cast(F, run)


@server.feature(types.INITIALIZE)
def initialize(ls: CrmLanguageServer, params: types.InitializeParams) -> None:
    """Pick the workspace (around the root folder the client names) and the options:
    `today` (YYYY-MM-DD, for fixed dates in tests) and `rulesUrl` (where rule codes link to)."""
    options = params.initialization_options
    if isinstance(options, dict):
        if isinstance(options.get("today"), str):
            ls.today_text = options["today"]
        if isinstance(options.get("rulesUrl"), str):
            ls.rules_url = options["rulesUrl"]
    root = ls.workspace.root_path
    if root:
        ls.start_workspace(Path(root))


@server.feature(types.INITIALIZED)
def initialized(ls: CrmLanguageServer, params: types.InitializedParams) -> None:
    """Ask the client to report records and crm.yaml changed outside the editor (git checkout, `plaintext-crm
    move`), when it can watch files; otherwise the next analysis notices them by their stamps."""
    capabilities = ls.client_capabilities.workspace
    watched = capabilities.did_change_watched_files if capabilities else None
    if watched is None or not watched.dynamic_registration:
        return
    ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
        id="plaintext-crm-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[
            types.FileSystemWatcher(glob_pattern=f"**/{{{CONFIG_FILE},{','.join(f'{kind}/*.md' for kind in KINDS)}}}"),
        ]))]))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CrmLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.adopt(params.text_document.uri)
    rel = ls.relative(params.text_document.uri)
    if rel is None or ls.state is None:
        return
    ls.open_uris[rel] = params.text_document.uri
    ls.state.open(rel, params.text_document.text)
    ls.changed()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: CrmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    rel = ls.relative(params.text_document.uri)
    if rel is None or ls.state is None:
        return
    ls.state.open(rel, ls.workspace.get_text_document(params.text_document.uri).source)
    ls.changed()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: CrmLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    if ls.state is not None:
        ls.state.look_at_disk()
        ls.changed()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: CrmLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """The file on disk counts again; its diagnostics are cleared, as editors expect of a closed file."""
    rel = ls.relative(params.text_document.uri)
    if rel is None or ls.state is None:
        return
    ls.state.close(rel)
    ls.open_uris.pop(rel, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))
    snapshot = ls.fresh()
    if snapshot is not None and ls.baseline is not None:
        ls.baseline[rel] = snapshot.findings.get(rel, ())
        ls.published.pop(rel, None)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: CrmLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
    if ls.state is None:
        return
    for change in params.changes:
        rel = ls.relative(change.uri)
        if rel is not None:
            ls.state.forget(rel)
    ls.state.look_at_disk()
    ls.changed()


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" ", "/", "-", "["]))
@guarded
def complete(ls: CrmLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
    where = ls.position(params.text_document.uri, params.position)
    snapshot = ls.state.snapshot if ls.state else None
    if where is None or snapshot is None:
        return None
    rel, lines, line, column = where
    context = context_at(lines, line, column)
    if context is None and rel == CONFIG_FILE and line < len(lines):
        # crm.yaml has no fences: a top-level key being typed is read as if it were front matter
        stripped = lines[line][:column]
        context = None if ":" in stripped or stripped.startswith(" ") else context_at(["---", stripped, "---"], 1, column)
    if context is None:
        return None
    items = completion.complete(snapshot.workspace, rel, lines, line, context, ls.today())
    codec = ls.workspace.position_codec
    span = codec.range_to_client_units(lines, types.Range(types.Position(line, context.start),
                                                           types.Position(line, column)))
    for item in items:
        item.text_edit = types.TextEdit(range=span, new_text=item.insert_text or item.label)
        item.insert_text = None
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded
def hover(ls: CrmLanguageServer, params: types.HoverParams) -> types.Hover | None:
    where = ls.position(params.text_document.uri, params.position)
    snapshot = ls.fresh()
    if where is None or snapshot is None:
        return None
    rel, lines, line, column = where
    target = navigation.target_at(snapshot.workspace, rel, lines, line, column)
    if target is None:
        return None
    text = navigation.hover_text(snapshot.workspace, target, snapshot.today, ls.schedule(snapshot))
    if text is None:
        return None
    line, start, end = target.span
    span = ls.workspace.position_codec.range_to_client_units(
        lines, types.Range(types.Position(line, start), types.Position(line, end)))
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text), range=span)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded
def definition(ls: CrmLanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
    where = ls.position(params.text_document.uri, params.position)
    snapshot = ls.fresh()
    if where is None or snapshot is None:
        return None
    rel, lines, line, column = where
    target = navigation.target_at(snapshot.workspace, rel, lines, line, column)
    found = navigation.definition(snapshot.workspace, target) if target is not None else None
    return [ls.location(found)] if found is not None else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded
def references(ls: CrmLanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
    where = ls.position(params.text_document.uri, params.position)
    snapshot = ls.fresh()
    if where is None or snapshot is None:
        return None
    rel, lines, line, column = where
    workspace = snapshot.workspace
    target = navigation.target_at(workspace, rel, lines, line, column)
    if target is None or target.kind == "key":
        # elsewhere in a record's own file: the references of that record
        kind, _, name = rel.partition("/")
        if kind in KINDS and rel.endswith(".md"):
            target = navigation.Target(kind, name.removesuffix(".md"))
        else:
            return None
    found = list(navigation.references(workspace, target))
    if params.context.include_declaration:
        declared = navigation.definition(workspace, target)
        if declared is not None:
            found.insert(0, declared)
    return [ls.location(where_) for where_ in found]


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@guarded
def code_action(ls: CrmLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    rel = ls.relative(uri)
    snapshot = ls.fresh()
    if rel is None or snapshot is None:
        return None
    first, last = params.range.start.line + 1, params.range.end.line + 1
    findings = [finding for finding in snapshot.findings.get(rel, ()) if first <= finding.line <= last]
    text = ls.workspace.get_text_document(uri).source
    result = []
    for fix in actions.fixes(snapshot.workspace, rel, text, findings, snapshot.today):
        start, end, replacement = smallest_change(text, fix.new_text)
        lines = split_lines(text)
        codec = ls.workspace.position_codec
        span = codec.range_to_client_units(lines, types.Range(types.Position(*position_of(text, start)),
                                                              types.Position(*position_of(text, end))))
        matching = [diagnostic for diagnostic in params.context.diagnostics
                    if diagnostic.code == fix.finding.code and diagnostic.range.start.line == fix.finding.line - 1]
        result.append(types.CodeAction(
            title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=matching or None,
            is_preferred=fix.preferred or None,
            edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=span, new_text=replacement)]})))
    return result


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded
def document_symbol(ls: CrmLanguageServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    rel = ls.relative(params.text_document.uri)
    snapshot = ls.fresh()
    if rel is None or snapshot is None:
        return None
    lines = ls.lines_of(rel)
    result = []
    for symbol in symbols.document_symbols(snapshot.workspace, rel):
        width = len(lines[symbol.line]) if symbol.line < len(lines) else 0
        span = ls.workspace.position_codec.range_to_client_units(
            lines, types.Range(types.Position(symbol.line, 0), types.Position(symbol.line, width)))
        result.append(types.DocumentSymbol(name=symbol.name, detail=symbol.detail or None,
                                           kind=_SYMBOL_KINDS[symbol.kind], range=span, selection_range=span))
    return result


@server.feature(types.WORKSPACE_SYMBOL)
@guarded
def workspace_symbol(ls: CrmLanguageServer, params: types.WorkspaceSymbolParams
                     ) -> list[types.WorkspaceSymbol] | None:
    snapshot = ls.fresh()
    if snapshot is None:
        return None
    return [types.WorkspaceSymbol(name=symbol.name, kind=_SYMBOL_KINDS[symbol.kind], container_name=symbol.detail,
                                  location=types.Location(ls.uri_of(symbol.path),
                                                          types.Range(types.Position(0, 0), types.Position(0, 0))))
            for symbol in symbols.workspace_symbols(snapshot.workspace, params.query)]
