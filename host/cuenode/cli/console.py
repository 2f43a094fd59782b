"""`cuenode console`: the operator's session for a running show (docs/console.md)."""

from __future__ import annotations

import collections
import json
import signal
import sys
import threading
import time

import click

from cuenode.cli.link import rig_targets, target_options
from cuenode.console.console import Console
from cuenode.console.localsock import LocalServer
from cuenode.console.osc import DEFAULT_PORT, OscServer
from cuenode.errors import CuenodeError
from cuenode.node import fleet


def _targets(opts: dict) -> list[tuple[str, str]]:
    """(name, port) of every chosen node (the rig file's nodes if there is one); names are
    node identities, made unique. Every chosen node must answer (connected in parallel): a
    console missing a node says so."""
    chosen, node_id = rig_targets(opts), opts["node_id"]
    outcomes = fleet.chosen(
        fleet.run(chosen, lambda s: None, baud=opts["baud"], node_id=node_id), node_id
    )
    failed = fleet.summary_error("console", outcomes)
    if failed is not None:
        raise failed
    if len(outcomes) == 1 and not outcomes[0].ok:
        raise CuenodeError(outcomes[0].error)
    found = [(o.node or o.port, o.port) for o in outcomes]
    seen: dict[str, int] = {}
    out = []
    for name, port in found:
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}@{port}", port))
    return out


def _say(as_json: bool):
    def say(line: str) -> None:
        if as_json:
            t, _, text = line.strip().partition(" ")
            line = json.dumps({"t": float(t), "line": text})
        click.echo(line)
        sys.stdout.flush()

    return say


@click.command("console")
@target_options
@click.option("--headless", is_flag=True, help="No live view: log every action (scripts, CI).")
@click.option("--duration", type=float, help="Stop after this many seconds (with --headless).")
@click.option("--osc-port", type=int, default=DEFAULT_PORT, show_default=True)
@click.option("--osc-bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--osc-allow", multiple=True, metavar="ADDR", help="Sender allowed (repeatable).")
@click.option("--no-osc", is_flag=True, help="Do not listen for OSC.")
@click.option("--json", "as_json", is_flag=True, help="Log lines as JSON (with --headless).")
def console_cmd(
    headless,
    duration,
    osc_port,
    osc_bind,
    osc_allow,
    no_osc,
    as_json,
    **opts,
) -> None:
    """Hold every node of the rig and keep their cue lists linked: a GO, BACK or STOP from any
    node's button, the keys, or OSC runs on every node."""
    targets = _targets(opts)
    baud = opts["baud"]
    lines: collections.deque[str] = collections.deque(maxlen=200)
    say = _say(as_json) if headless else lines.append
    console = Console(targets, baud, say=say)
    osc = None if no_osc else OscServer(console, osc_bind, osc_port, osc_allow)
    local = LocalServer(console)
    console.start()
    local.start()
    if osc is not None:
        osc.start()
    try:
        if headless:
            _run_headless(console, duration)
        else:
            from cuenode.console.liveview import ConsoleView

            ConsoleView(console, lines).run()
    finally:
        if osc is not None:
            osc.close()
        local.close()
        console.close()


def _run_headless(console: Console, duration: float | None) -> None:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    console.log(f"console: {len(console.workers)} node(s); Ctrl-C ends")
    try:
        done.wait(duration if duration else None)
    except KeyboardInterrupt:
        pass
    console.log("console: closing")
    time.sleep(0.05)


COMMANDS = [console_cmd]
