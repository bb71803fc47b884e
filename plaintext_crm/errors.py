"""Tool failures (bad usage, no workspace): exceptions the CLI prints without a traceback, exit 2."""

from __future__ import annotations

import click


class ToolError(click.ClickException):
    """A failure of the tool or its invocation, not a problem in the user's data."""

    exit_code = 2

    def format_message(self) -> str:
        """The message as printed: names and values in it show their control and bidi characters as
        escapes (plaintext_crm.escape), so no file name or argument can write to the terminal raw."""
        from plaintext_crm.escape import terminal_lines

        return terminal_lines(self.message)
