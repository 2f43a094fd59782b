"""The `cuenode` command line. Commands stay thin: they parse arguments and call typed
functions in the other modules (which also work without click)."""

from __future__ import annotations

import importlib

import click

from cuenode import __version__

# Each area keeps its commands in its own module exposing COMMANDS (a list of click commands).
COMMAND_MODULES = ("show", "compile", "emulator", "link", "flash", "console")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cuenode")
def cli() -> None:
    """cuenode: validate, compile, emulate and push shows to cuenode venue nodes."""


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cuenode.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cuenode.cli.{name}":
                raise
            continue
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
