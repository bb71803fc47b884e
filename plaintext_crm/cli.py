"""The `plaintext-crm` command line: a click group whose commands are imported only when used.

Commands live in plaintext_crm/commands/; importing them lazily keeps `plaintext-crm lint` from paying
for jinja2 and markdown-it at start-up.
"""

from __future__ import annotations

import importlib

import click

from plaintext_crm import __version__

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
    "changes": "plaintext_crm.commands.changes:changes",
    "followups": "plaintext_crm.commands.followups:followups",
    "schedule": "plaintext_crm.commands.schedule:schedule",
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="plaintext-crm")
