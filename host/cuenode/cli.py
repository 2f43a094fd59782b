"""The `cuenode` command line. Commands stay thin: they parse arguments and call typed
functions in the other modules (which also work without click)."""

from __future__ import annotations

import click

from cuenode import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cuenode")
def cli() -> None:
    """cuenode: validate, compile, emulate and push shows to cuenode venue nodes."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
