"""The `cuenode` command line. Commands stay thin: they parse arguments, call typed functions
of the library (which never imports click and never prints) and print the result.

The library's `CuenodeError` becomes one `Error: what went wrong — what to do` line and exit
status 1 here, for every command; a show with problems prints each problem first."""

from __future__ import annotations

import importlib
from typing import Any

import click

from cuenode import __version__
from cuenode.errors import CuenodeError
from cuenode.show.valid import ShowInvalid

# Each area keeps its commands in its own module exposing COMMANDS (a list of click commands).
COMMAND_MODULES = (
    "show",
    "compile",
    "emulator",
    "link",
    "flash",
    "fixtures",
    "hil",
    "console",
    "nodes",
)


class CuenodeGroup(click.Group):
    """Turns the library's errors into click's one-line exit (status 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShowInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            raise click.ClickException(exc.format_message()) from exc
        except CuenodeError as exc:
            bad_input = getattr(exc, "exit_code", 1) == 2  # the input is wrong (a rig file)
            raise (_BadInput if bad_input else click.ClickException)(exc.format_message()) from exc


class _BadInput(click.ClickException):
    exit_code = 2


@click.group(cls=CuenodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cuenode")
def cli() -> None:
    """cuenode: validate, compile, emulate and push shows to cuenode venue nodes."""


def _register_commands() -> None:
    """Every command module must import: a missing one is a broken install, not an option."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"cuenode.cli.{name}")
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
