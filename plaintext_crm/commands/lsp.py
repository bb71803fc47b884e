"""`plaintext-crm lsp`: run the language server over stdin and stdout (docs/editor.md)."""

from __future__ import annotations

import logging
import sys

import click

from plaintext_crm.errors import ToolError


@click.command()
@click.option("--log-level", type=click.Choice(["error", "warning", "info", "debug"]), default="warning",
              show_default=True, help="How much the server logs on stderr.")
def lsp(log_level: str) -> None:
    """Run the language server for editors (LSP over stdio): findings as you type, completion, hover,
    go to definition, references, quick fixes and symbols. docs/editor.md shows each editor's set-up."""
    try:
        from plaintext_crm.lsp.server import server
    except ImportError as exc:  # the optional extra is missing
        raise ToolError(f"the language server needs pygls and lsprotocol ({exc.name} is missing); install them "
                        "with: pip install 'plaintext-crm[lsp]'") from None
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr, format="plaintext-crm lsp: %(message)s")
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by mistake must not corrupt the protocol stream
    server.start_io(sys.stdin.buffer, protocol_out)
