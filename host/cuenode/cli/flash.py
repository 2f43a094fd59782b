"""`cuenode flash`: put the cuenode firmware and a node name on boards running MicroPython."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import click

from cuenode.errors import CuenodeError
from cuenode.node import flash
from cuenode.node.transport import discover


def _ports(ports: tuple[str, ...], all_nodes: bool) -> list[str]:
    if ports and all_nodes:
        raise click.UsageError("give either --port or --all, not both")
    if ports:
        return list(ports)
    if not all_nodes:
        raise click.UsageError("name the board with --port PORT (repeatable), or use --all")
    found = [p.device for p in discover()]
    if not found:
        raise CuenodeError(
            "no boards found (no known USB boards, no emulated nodes)",
            "plug a board in, or name its port with --port",
        )
    return found


def _names(names: tuple[str, ...], ports: list[str]) -> list[str | None]:
    """One --name per --port, in order; none at all keeps each node's current name."""
    if not names:
        return [None] * len(ports)
    if len(names) != len(ports):
        raise click.UsageError(
            f"{len(names)} --name for {len(ports)} port(s): give one --name per --port"
        )
    return list(names)


def _flash_all(
    targets: list[tuple[str, str | None]], board: str | None, quiet: bool = False
) -> list[flash.FlashResult]:
    """Flash every target in parallel; progress on stderr, a verdict line per node (stdout,
    unless quiet: --json prints only the JSON)."""
    lock = threading.Lock()

    def step_for(port: str):
        def step(text: str) -> None:
            with lock:
                click.echo(f"{port}: {text}", err=True)

        return step

    def one(target: tuple[str, str | None]) -> flash.FlashResult:
        port, name = target
        result = flash.flash_node(port, name, board, step_for(port))
        if not quiet:
            with lock:
                verdict = "ok" if result.ok else "FAILED"
                click.echo(f"{result.label()}: {verdict} ({result.seconds:.1f} s)")
        return result

    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        return list(pool.map(one, targets))


def _summary(results: list) -> None:
    click.echo(f"{'node':<16} {'board':<14} {'port':<28} {'files':>5} {'time':>6}  result")
    for r in results:
        what = "ok" if r.ok else r.error
        click.echo(
            f"{r.name or '?':<16} {r.board or '?':<14} {r.port:<28} {r.files:>5} "
            f"{r.seconds:>5.1f}s  {what}"
        )


@click.command("flash")
@click.option("--port", "ports", multiple=True, metavar="PORT", help="Serial port; repeatable.")
@click.option(
    "--name", "names", multiple=True, metavar="NODE_ID", help="The node's name; one per --port."
)
@click.option(
    "--board",
    type=click.Choice(flash.FLASH_BOARDS),
    help="Board data to install (default: detected from the running MicroPython).",
)
@click.option("--all", "all_nodes", is_flag=True, help="Every board found (keeps their names).")
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output (one entry per node)."
)
def flash_cmd(
    ports: tuple[str, ...],
    names: tuple[str, ...],
    board: str | None,
    all_nodes: bool,
    as_json: bool,
) -> None:
    """Install the cuenode firmware on boards already running MicroPython, name them, reset
    them and check each answers as its new name. The show on a node is kept. --board is
    checked against the chip first. Exit status 1 if any node failed."""
    chosen = _ports(ports, all_nodes)
    targets = list(zip(chosen, _names(names, chosen), strict=True))
    results = _flash_all(targets, board, quiet=as_json)
    if as_json:
        entries = [r.as_json() for r in results]
        click.echo(json.dumps(entries if len(results) > 1 else entries[0], indent=2))
    else:
        _summary(results)
    failed = [r for r in results if not r.ok]
    if len(results) == 1 and failed:
        raise CuenodeError(f"{failed[0].label()}: {failed[0].error}")
    if failed:
        raise CuenodeError(
            f"flash failed on {len(failed)} of {len(results)} node(s): "
            + "; ".join(f"{r.label()}: {r.error}" for r in failed)
        )


COMMANDS = [flash_cmd]
