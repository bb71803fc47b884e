"""A client for end-to-end tests of `plaintext-crm lsp`: pygls's LanguageClient over the real process's pipes."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.client import LanguageClient

TODAY = "2026-11-26"
ACME_CLIENT = "---\nname: Acme\nowner: ana\n---\n"  # a client of ana's (the team of conftest's MINIMAL_CONFIG)
WAIT_SECONDS = 20.0  # generous for a loaded shared machine; waits end as soon as the event arrives


class Session:
    """One server process, the diagnostics it published, and helpers to open and edit documents."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("plaintext-crm-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.published: dict[str, float] = {}  # uri -> when its diagnostics last arrived (time.perf_counter)
        self.versions: dict[str, int] = {}
        self._arrived = asyncio.Event()
        self.registrations: list[types.Registration] = []

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.published[params.uri] = time.perf_counter()
            self._arrived.set()

    async def start(self, *, today: str = TODAY, capabilities: types.ClientCapabilities | None = None
                    ) -> types.InitializeResult:
        await self.client.start_io(sys.executable, "-m", "plaintext_crm", "lsp")
        result = await self.client.initialize_async(types.InitializeParams(
            capabilities=capabilities or types.ClientCapabilities(), root_uri=self.uri(""),
            initialization_options={"today": today}))
        self.client.initialized(types.InitializedParams())
        return result

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, rel: str) -> str:
        return uris.from_fs_path(str(self.root / rel)) or ""

    def open(self, rel: str, text: str | None = None) -> str:
        uri = self.uri(rel)
        if text is None:
            text = (self.root / rel).read_text(encoding="utf-8")
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text)))
        return uri

    def replace(self, uri: str, text: str) -> None:
        """Send the document's whole new text (a full-content change)."""
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        """Type `text` at a position (an incremental change)."""
        self.versions[uri] += 1
        where = types.Position(line, character)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(where, where), text=text)]))

    async def wait_for(self, uri: str, check: Callable[[list[types.Diagnostic]], bool],
                       timeout: float = WAIT_SECONDS) -> list[types.Diagnostic]:
        """The diagnostics of `uri` once they satisfy `check` (failing after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.diagnostics.get(uri)
            if found is not None and check(found):
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"diagnostics of {uri} never matched; last: {found}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                continue


def codes(diagnostics: list[types.Diagnostic]) -> list[Any]:
    return sorted(str(diagnostic.code) for diagnostic in diagnostics)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with LSP text edits applied (positions in code points: the tests use ASCII)."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[:position.line]) + position.character

    for edit in sorted(edits, key=lambda item: (item.range.start.line, item.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text
