"""Tool failures (bad usage, no workspace): exceptions the CLI prints without a traceback, exit 2."""

from __future__ import annotations

import click


class ToolError(click.ClickException):
    """A failure of the tool or its invocation, not a problem in the user's data."""

    exit_code = 2
