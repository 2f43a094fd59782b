"""`cuenode nodes`: one table of what is attached (port, identity, board, firmware, show)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cuenode.node import inventory, rigfile, statusview
from cuenode.node.transport import DEFAULT_BAUD


@click.command("nodes")
@click.option("--rig", type=click.Path(path_type=Path), help="The rig file (default: here).")
@click.option("--baud", type=int, default=None, help=f"Serial speed [default: {DEFAULT_BAUD}].")
@click.option("--json", "as_json", is_flag=True, help="One entry per port.")
def nodes_cmd(rig: Path | None, baud: int | None, as_json: bool) -> None:
    """List every node attached (USB boards, emulated nodes, the rig file's nodes), asking
    each in parallel who it is. Exit status 1 if a node of the rig file did not answer."""
    found = rigfile.find(rig)
    speed = baud or (found.baud if found is not None and found.baud else DEFAULT_BAUD)
    entries = inventory.attached(found, speed)
    if as_json:
        click.echo(json.dumps(entries, indent=2))
    elif entries:
        click.echo(statusview.nodes_table(entries))
    else:
        click.echo("no nodes found (no known USB boards, no emulated nodes, no rig file)")
    missing = [e["rig_name"] for e in entries if e["rig_name"] and not e["ok"]]
    if missing:
        raise click.ClickException(f"rig node(s) not answering: {', '.join(missing)}")


COMMANDS = [nodes_cmd]
