"""`plaintext-crm lsp` end to end: a real server process, driven over JSON-RPC pipes by pygls's client."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lsprotocol import types

from plaintext_crm.lint.run import lint_workspace
from plaintext_crm.records.loader import load_workspace
from tests.lsp_support import ACME_CLIENT, Session, apply_edits, codes

pytestmark = pytest.mark.slow

NO_OWNER_DEAL = """\
---
title: Website relaunch
client: acme
stage: proposal
value: 12000
next_action: Send the revised proposal
next_action_due: 2026-11-30
---
Notes.
"""

WON_DEAL = """\
---
title: Annual report
client: acme
owner: ana
stage: won
value: 8000
closed_on: 2026-11-20
---
"""

PROJECT = """\
---
title: Site build
client: acme
owner: ana
status: active
start: 2026-11-02
tasks:
  - id: design
    title: Design
    duration: 5
    status: doing
  - id: build
    title: Build
    duration: 10
    status: todo
    depends_on: [design]
---
"""


def run(root: Path, scenario: Callable[[Session], Awaitable[None]]) -> None:
    """Start a server for `root`, run the scenario against it, and shut it down cleanly."""
    async def main() -> None:
        session = Session(root)
        await session.start()
        try:
            await scenario(session)
        finally:
            await session.stop()
    asyncio.run(main())


def test_missing_owner_is_reported_on_its_range_and_clears_when_typed(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": NO_OWNER_DEAL})

    async def scenario(session: Session) -> None:
        uri = session.open("deals/site.md")
        found = await session.wait_for(uri, lambda found: "D001" in codes(found))
        d001 = next(diagnostic for diagnostic in found if diagnostic.code == "D001")
        # the key is missing: the diagnostic covers the opening fence, where the key would go
        assert d001.range == types.Range(types.Position(0, 0), types.Position(0, 3))
        assert d001.severity == types.DiagnosticSeverity.Error
        assert d001.source == "plaintext-crm"
        assert d001.code_description is not None and d001.code_description.href.endswith("rules.md#d001-owner-required")
        # type the owner (unsaved): the finding clears
        session.insert(uri, 3, 0, "owner: an\n")
        await session.wait_for(uri, lambda found: "D001" in codes(found) and found[0].range.start.line == 3)
        typed = session.diagnostics[uri][0]
        assert typed.message.startswith("owner 'an' is not in the team")
        assert (typed.range.start.character, typed.range.end.character) == (7, 9)  # the value, not column 1
        session.insert(uri, 3, 9, "a")
        await session.wait_for(uri, lambda found: "D001" not in codes(found))

    run(root, scenario)


def test_a_client_created_in_another_unsaved_buffer_resolves(make_workspace: Callable[..., Path]) -> None:
    deal = NO_OWNER_DEAL.replace("client: acme", "client: globex").replace("stage: proposal", "owner: ana\nstage: proposal")
    root = make_workspace({"deals/globex-site.md": deal})

    async def scenario(session: Session) -> None:
        uri = session.open("deals/globex-site.md")
        found = await session.wait_for(uri, lambda found: "R001" in codes(found))
        assert next(d for d in found if d.code == "R001").range.start.line == 2
        session.open("clients/globex.md", "---\nname: Globex\nowner: ana\n---\n")  # never saved
        await session.wait_for(uri, lambda found: "R001" not in codes(found))

    run(root, scenario)


def test_renaming_a_client_publishes_the_broken_deals(make_workspace: Callable[..., Path]) -> None:
    deal = NO_OWNER_DEAL.replace("stage: proposal", "owner: ana\nstage: proposal")
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/one.md": deal, "deals/two.md": deal})

    async def scenario(session: Session) -> None:
        client = session.open("clients/acme.md")
        await session.wait_for(client, lambda found: True)
        # the client's file is renamed on disk: both deals (not open) now refer to a missing client
        (root / "clients/acme.md").rename(root / "clients/acme-corp.md")
        session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=session.uri("clients/acme.md"), type=types.FileChangeType.Deleted),
            types.FileEvent(uri=session.uri("clients/acme-corp.md"), type=types.FileChangeType.Created)]))
        session.client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri=client)))
        for rel in ("deals/one.md", "deals/two.md"):
            await session.wait_for(session.uri(rel), lambda found: "R001" in codes(found))

    run(root, scenario)


def test_completion_after_stage_lists_the_pipeline_with_probabilities(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": NO_OWNER_DEAL})

    async def scenario(session: Session) -> None:
        text = NO_OWNER_DEAL.replace("stage: proposal", "stage: ")
        uri = session.open("deals/site.md", text)
        await session.wait_for(uri, lambda found: True)
        result = await session.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(3, 7)))
        assert isinstance(result, types.CompletionList)
        labels = [item.label for item in result.items]
        assert labels == ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
        proposal = result.items[2]
        assert proposal.detail == "probability 0.5"
        # owners: active members first, with their names
        owners = await session.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(2, 12)))
        assert owners is not None
        # line 2 is `client: acme`: the client ids with their names
        assert isinstance(owners, types.CompletionList)
        assert [(item.label, item.detail) for item in owners.items] == [("acme", "Acme")]

    run(root, scenario)


def test_go_to_definition_of_a_client_and_of_a_task(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": NO_OWNER_DEAL,
                           "projects/site.md": PROJECT})

    async def scenario(session: Session) -> None:
        uri = session.open("deals/site.md")
        await session.wait_for(uri, lambda found: True)
        found = await session.client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(2, 10)))
        assert isinstance(found, list) and len(found) == 1
        assert found[0].uri == session.uri("clients/acme.md")
        assert found[0].range.start.line == 0
        project = session.open("projects/site.md")
        jump = await session.client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(project), position=types.Position(15, 22)))
        assert isinstance(jump, list) and jump[0].uri == project and jump[0].range.start.line == 7
        refs = await session.client.text_document_references_async(types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(session.uri("clients/acme.md")),
            position=types.Position(1, 2), context=types.ReferenceContext(include_declaration=False)))
        assert refs is not None
        assert sorted(ref.uri.rsplit("/", 2)[-2] + "/" + ref.uri.rsplit("/", 1)[-1] for ref in refs) == [
            "deals/site.md", "projects/site.md"]

    run(root, scenario)


def test_the_handoff_code_action_leaves_only_placeholder_values(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/report.md": WON_DEAL})

    async def scenario(session: Session) -> None:
        uri = session.open("deals/report.md")
        found = await session.wait_for(uri, lambda found: "D004" in codes(found))
        where = next(diagnostic.range for diagnostic in found if diagnostic.code == "D004")  # the `stage:` line
        actions = await session.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=where,
            context=types.CodeActionContext(diagnostics=found)))
        assert actions is not None
        handoff = [action for action in actions if isinstance(action, types.CodeAction)
                   and action.title.startswith("Insert the missing hand-off keys")]
        assert len(handoff) == 1 and handoff[0].edit is not None and handoff[0].edit.changes is not None
        fixed = apply_edits(WON_DEAL, handoff[0].edit.changes[uri])
        assert "scope_summary: TODO" in fixed and "kickoff_date: 2026-11-30" in fixed
        (root / "deals/report.md").write_text(fixed, encoding="utf-8")
        workspace, load_findings = load_workspace(root)
        remaining = lint_workspace(workspace, load_findings, dt.date(2026, 11, 26))
        assert [finding for finding in remaining if finding.path == "deals/report.md"] == []
        # the server agrees once the buffer holds the fix
        session.replace(uri, fixed)
        await session.wait_for(uri, lambda found: found == [])

    run(root, scenario)


def test_half_typed_documents_and_a_missing_crm_yaml_never_break_requests(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"deals/site.md": NO_OWNER_DEAL}, config=None)

    async def scenario(session: Session) -> None:
        uri = session.open("deals/site.md", "---\ntitle: [unclosed\nclient: {")
        found = await session.wait_for(uri, lambda found: "F001" in codes(found))
        assert found[0].severity == types.DiagnosticSeverity.Error
        for line in range(3):
            for column in (0, 3, 8):
                position = types.Position(line, column)
                ident = types.TextDocumentIdentifier(uri)
                await session.client.text_document_hover_async(types.HoverParams(ident, position))
                await session.client.text_document_completion_async(types.CompletionParams(ident, position))
                await session.client.text_document_definition_async(types.DefinitionParams(ident, position))
        (root / "deals/site.md").unlink()  # deleted under the server: the open buffer still counts
        session.replace(uri, NO_OWNER_DEAL)
        await session.wait_for(uri, lambda found: "D001" in codes(found))
        symbols = await session.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="site"))
        assert symbols is not None and [symbol.name for symbol in symbols] == ["site"]

    run(root, scenario)


def test_a_client_rooted_above_the_workspace_finds_it_from_the_first_document(
        make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": NO_OWNER_DEAL}, name="crm")

    async def main() -> None:
        session = Session(root.parent)  # the editor's root is the repository around the workspace
        await session.start()
        try:
            uri = session.open("crm/deals/site.md")
            found = await session.wait_for(uri, lambda found: "D001" in codes(found))
            assert "R001" not in codes(found)  # the client resolved: the workspace is crm/
        finally:
            await session.stop()
    asyncio.run(main())


def test_a_client_that_watches_files_is_asked_to_watch_the_records(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/site.md": NO_OWNER_DEAL})
    watching = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)))

    async def main() -> None:
        session = Session(root)
        await session.start(capabilities=watching)
        try:
            uri = session.open("deals/site.md")
            await session.wait_for(uri, lambda found: "D001" in codes(found))  # the registration came before
            [registration] = session.registrations
            assert registration.method == "workspace/didChangeWatchedFiles"
            options = registration.register_options
            assert options is not None
            globs = [watcher["globPattern"] for watcher in options["watchers"]]  # type: ignore[index]
            assert globs == ["**/{crm.yaml,clients/*.md,deals/*.md,projects/*.md}"]
        finally:
            await session.stop()
    asyncio.run(main())


def test_an_unsaved_crm_yaml_edit_publishes_the_deals_it_breaks_and_clears_them_again(
        make_workspace: Callable[..., Path]) -> None:
    deal = NO_OWNER_DEAL.replace("stage: proposal", "owner: ana\nstage: proposal")
    config = "team:\n  ana: {name: Ana Ruiz}\n  ben: {name: Ben Okafor}\n"
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/one.md": deal}, config=config)

    async def scenario(session: Session) -> None:
        settings = session.open("crm.yaml")
        await session.wait_for(settings, lambda found: True)
        assert session.uri("deals/one.md") not in session.diagnostics  # nothing changed there: nothing sent
        session.replace(settings, config.replace("  ana: {name: Ana Ruiz}\n", ""))  # ana leaves (unsaved)
        found = await session.wait_for(session.uri("deals/one.md"), lambda found: "D001" in codes(found))
        assert found[0].range.start.line == 3  # the owner's value
        session.replace(settings, config)
        await session.wait_for(session.uri("deals/one.md"), lambda found: found == [])

    run(root, scenario)


def test_a_named_pipe_or_a_link_out_appearing_as_a_record_gets_a_finding_not_a_hang(
        make_workspace: Callable[..., Path], tmp_path: Path) -> None:
    deal = NO_OWNER_DEAL.replace("stage: proposal", "owner: ana\nstage: proposal")
    root = make_workspace({"clients/acme.md": ACME_CLIENT, "deals/one.md": deal})
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: secret\n---\n", encoding="utf-8")

    async def scenario(session: Session) -> None:
        uri = session.open("deals/one.md")
        await session.wait_for(uri, lambda found: found == [])
        os.mkfifo(root / "deals" / "pipe.md")  # nobody ever writes to it: reading it would block
        (root / "deals" / "out.md").symlink_to(outside)
        session.insert(uri, 8, 0, "More notes.\n")
        for name in ("pipe", "out"):
            found = await session.wait_for(session.uri(f"deals/{name}.md"), lambda found: "F001" in codes(found))
            assert found[0].range.start.line == 0
        assert "secret" not in str(session.diagnostics)

    run(root, scenario)
