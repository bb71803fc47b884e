"""The `plaintext-crm` command line: a click group whose commands are imported only when used.

Commands live in plaintext_crm/commands/; importing them lazily keeps `plaintext-crm lint` from paying
for jinja2 and markdown-it at start-up.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from plaintext_crm import __version__
from plaintext_crm.errors import ToolError

# command name -> "module:attribute", in the order `--help` lists them.
COMMANDS: dict[str, str] = {
    "init": "plaintext_crm.commands.init:init",
    "lint": "plaintext_crm.commands.lint:lint",
    "rules": "plaintext_crm.commands.rules:rules",
    "install-hook": "plaintext_crm.commands.install_hook:install_hook",
    "new": "plaintext_crm.commands.new:new",
    "next": "plaintext_crm.commands.next:next_action",
    "move": "plaintext_crm.commands.move:move",
    "handoff": "plaintext_crm.commands.handoff:handoff",
    "build": "plaintext_crm.commands.build:build",
    "serve": "plaintext_crm.commands.serve:serve",
    "ci": "plaintext_crm.commands.ci:ci",
    "changes": "plaintext_crm.commands.changes:changes",
    "followups": "plaintext_crm.commands.followups:followups",
    "digest": "plaintext_crm.commands.digest:digest",
    "notify": "plaintext_crm.commands.notify:notify",
    "report": "plaintext_crm.commands.report:report",
    "schedule": "plaintext_crm.commands.schedule:schedule",
    "workload": "plaintext_crm.commands.workload:workload_command",
    "revenue": "plaintext_crm.commands.revenue:revenue_command",
    "import": "plaintext_crm.commands.import_:import_group",
    "export": "plaintext_crm.commands.export:export_group",
    "schema": "plaintext_crm.commands.schema:schema",
    "lsp": "plaintext_crm.commands.lsp:lsp",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs or its help is shown."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="plaintext-crm")
def cli() -> None:
    """A plain-text CRM and delivery tracker.

    Clients, deals and projects are Markdown files with YAML front matter in a git repository.
    plaintext-crm lints them (owners, next actions, hand-offs, references, dependencies), builds a
    static site of dashboards, and helps hand a won deal over to delivery.
    """


DEBUG_VARIABLE = "PLAINTEXT_CRM_DEBUG"


def main() -> None:
    """Console-script entry point.

    Commands turn the failures they expect into messages (ToolError, exit 2). This is the last line of
    defence for the ones they did not: a message without a traceback and exit 2, never a stack dump
    that mixes the user's data into the terminal (PLAINTEXT_CRM_DEBUG=1 shows the traceback).
    """
    try:
        cli(prog_name="plaintext-crm")
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # the reader of our output went away (`| head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # the boundary where any failure becomes a message
        if os.environ.get(DEBUG_VARIABLE):
            raise
        ToolError(unexpected_failure_message(exc)).show()
        sys.exit(ToolError.exit_code)


def unexpected_failure_message(exc: BaseException) -> str:
    """What to tell the user about a failure no command turned into a message of its own."""
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (f"{exc.strerror or exc}{where}; the command stopped. Check the disk space and the "
                "permissions of that path, then run it again.")
    return (f"internal error ({type(exc).__name__}: {exc}); the command stopped. This is a bug: please "
            f"report it (docs/security.md says how); {DEBUG_VARIABLE}=1 shows the traceback.")
