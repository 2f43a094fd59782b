"""`cuenode push|go|back|stop|goto|arm|disarm|status|log`: talk to nodes over the serial link.

Each command picks its nodes with --port PORT (repeatable), --node ID (found by asking every
attached node who it is) or --all, then calls the typed functions in `cuenode.node.ops`."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from cuefw import showfile

from cuenode.errors import CuenodeError
from cuenode.node import fleet, ops, rigfile, select, statusview
from cuenode.node.fleet import Outcome
from cuenode.node.ops import Session
from cuenode.node.transport import DEFAULT_BAUD


def target_options(func: Callable) -> Callable:
    func = click.option(
        "--rig",
        type=click.Path(path_type=Path),
        help="The rig file (default: cuenode-rig.toml/.yaml here, if present).",
    )(func)
    func = click.option(
        "--baud",
        type=int,
        default=None,
        help=f"Serial speed (USB CDC ignores it; USB-UART boards need it) [default: the rig "
        f"file's, else {DEFAULT_BAUD}].",
    )(func)
    func = click.option(
        "--all", "all_nodes", is_flag=True, help="Every node found (USB boards and emulated nodes)."
    )(func)
    func = click.option(
        "--node",
        "node_id",
        metavar="ID",
        help="The node with this identity (asks every attached node).",
    )(func)
    return click.option(
        "--port",
        "ports",
        multiple=True,
        metavar="PORT",
        help="Serial port or URL (/dev/ttyACM0, socket://host:port); repeatable.",
    )(func)


def json_option(func: Callable) -> Callable:
    return click.option(
        "--json", "as_json", is_flag=True, help="Machine-readable output (one entry per node)."
    )(func)


# --- choosing nodes and running on them (cuenode.node.select / cuenode.node.fleet) -----------


def targets(
    ports: tuple[str, ...], node_id: str | None, all_nodes: bool, rig: rigfile.Rig | None = None
) -> list[select.Target]:
    try:
        return select.choose(ports, node_id, all_nodes, rig)
    except select.UsageProblem as exc:
        raise click.UsageError(exc.message) from None


def rig_targets(opts: dict) -> list[select.Target]:
    """The chosen nodes, with the rig file (if any) filling in what the options leave out:
    the nodes and the baud (opts["baud"] is set)."""
    rig = rigfile.find(opts.get("rig"))
    opts["rig_file"] = rig
    if opts.get("baud") is None:
        opts["baud"] = rig.baud if rig is not None and rig.baud else DEFAULT_BAUD
    return targets(opts["ports"], opts["node_id"], opts["all_nodes"], rig)


def run_command(
    what: str,
    op: Callable[[Session], Any],
    opts: dict,
    describe: Callable[[Outcome], str],
    *,
    check_identity: bool = True,
    entry: Callable[[Outcome], dict] | None = None,
    chosen: list[select.Target] | None = None,
) -> list[Outcome]:
    """Run `op` on the chosen nodes in parallel; print a line per node as each finishes
    (or, with --json, one entry per node at the end); exit 1 if any node failed."""
    chosen = chosen if chosen is not None else rig_targets(opts)
    want = opts["node_id"] if (check_identity or not opts["ports"]) else None
    as_json = opts.get("as_json", False)

    def say(o: Outcome) -> None:
        if as_json:
            return
        if o.ok:
            click.echo(describe(o))
        elif len(chosen) > 1:
            click.echo(f"Error: {what} failed on {o.label()}: {o.error}", err=True)

    outcomes = fleet.chosen(
        fleet.run(chosen, op, baud=opts["baud"], node_id=want, on_done=say), want
    )
    if opts["ports"] and want and not any(o.ok for o in outcomes if not o.skipped):
        _identity_mismatch(outcomes, want)
    if as_json:
        entries = [entry(o) if entry and o.ok else o.as_json() for o in outcomes]
        click.echo(json.dumps(entries if len(chosen) > 1 else entries[0], indent=2))
    finish(what, outcomes)
    return outcomes


def _identity_mismatch(outcomes: list[Outcome], node_id: str) -> None:
    for o in outcomes:
        if o.skipped:
            raise CuenodeError(
                f"{o.port} is node '{o.node}', not '{node_id}'",
                "check the port, or leave out --node",
            )


def finish(what: str, outcomes: list[Outcome]) -> None:
    """Exit 1 naming every node the command did not reach or that refused it."""
    if len(outcomes) == 1 and not outcomes[0].ok:
        raise CuenodeError(outcomes[0].error)
    err = fleet.summary_error(what, outcomes)
    if err is not None:
        raise err


# --- push --------------------------------------------------------------------------------------


def load_parts(path: Path) -> dict[str, bytes]:
    """The compiled show for each node: compiled from YAML, or one already compiled file."""
    if path.suffix.lower() in (".yaml", ".yml"):
        from cuenode.build.compile import compile_file

        return compile_file(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise CuenodeError(f"{path}: no such file", "check the path to the show file") from None
    except OSError as exc:
        raise CuenodeError(f"{path}: cannot read ({exc.strerror})", "check the file") from None
    try:
        reader = showfile.ShowReader(io.BytesIO(blob))
    except (showfile.ShowError, ValueError, IndexError) as exc:
        why = "" if str(exc) in ("", "not a compiled cuenode show") else f" ({exc})"
        raise CuenodeError(
            f"{path}: not a compiled cuenode show{why}",
            "push the show's .yaml, or a file from `cuenode compile`",
        ) from None
    import hashlib

    if not showfile.verify(io.BytesIO(blob), hashlib.sha256):
        raise CuenodeError(
            f"{path}: compiled show is damaged (its SHA-256 does not match)",
            "compile it again with `cuenode compile`",
        )
    return {reader.node_id: blob}


def _part_for(s: Session, parts: dict[str, bytes], node_id: str | None) -> tuple[str, bytes]:
    """Which node's part goes to this node: --node's, else its own; the node itself refuses a
    part compiled for another node (unless --force)."""
    want = node_id or s.info.node_id
    if want in parts:
        return want, parts[want]
    if len(parts) == 1 and not node_id:
        return next(iter(parts.items()))
    raise CuenodeError(
        f"the show has no part for node '{want}' (it has: {', '.join(sorted(parts))})",
        "pick a part with --node ID",
    )


def _push_one(
    s: Session,
    parts: dict[str, bytes],
    node_id: str | None,
    opts: dict,
    progress: ops.Progress | None = None,
) -> dict:
    """Push this node its part; what happened, for the line or the JSON entry."""
    show_node, blob = _part_for(s, parts, node_id)
    if s.info.show_hash == blob[-32:].hex() and not opts["force_identity"]:
        return {"part": show_node, "size": len(blob), "already_running": True}
    r = ops.push(s, blob, show_node, progress=progress, **opts)
    return {
        "part": show_node,
        "size": r.size,
        "already_running": False,
        "seconds": round(r.seconds, 3),
        "wire_bytes": r.wire_bytes,
        "resumed_from": r.resumed_from,
        "switched": r.switched,
        "position": r.position,
    }


def _push_line(label: str, d: dict) -> str:
    if d["already_running"]:
        return f"{label}: already running this show ({d['size']} bytes)"
    when = _where_text(d) if d["switched"] else "switches at the next cue"
    extra = f", resumed at {d['resumed_from']}" if d["resumed_from"] else ""
    if d["wire_bytes"] < d["size"]:
        extra += f", {d['wire_bytes']} bytes compressed"
    rate = d["size"] / d["seconds"] / 1024 if d["seconds"] > 0 else 0
    return (
        f"{label}: pushed {d['size']} bytes in {d['seconds']:.2f} s "
        f"({rate:.0f} KB/s{extra}); verified; {when}"
    )


def _where_text(d: dict) -> str:
    """Where the node stands after the switch (cuefw.nodeapi EngineNode._place)."""
    pos = d.get("position") or {}
    kept = pos.get("kept")
    if kept == "same":
        return f"switched; standing by at cue {pos['next']} as before, GO runs it"
    if kept == "following":
        return (
            f"switched; cue {pos['was_next']} is gone: standing by at cue {pos['next']} "
            "(the next one after it), GO runs it"
        )
    if kept == "end":
        return f"switched; no cue after {pos['was_next']}: at the end of the list"
    if kept == "top":
        return f"switched; at the top, GO runs cue {pos.get('next') or '-'}"
    return "switched now"


def _push_with_bar(s: Session, parts: dict[str, bytes], node_id: str | None, opts: dict) -> dict:
    with ExitStack() as stack:
        bars: list = []

        def progress(done: int, total: int) -> None:
            if not bars:  # opened only once the node has accepted the show
                label = f"{s.info.node_id or 'node'} → {s.info.port}"
                bar = click.progressbar(length=total, label=label, show_pos=True, width=30)
                bars.append(stack.enter_context(bar))
            bars[0].update(done - bars[0].pos)

        return _push_one(s, parts, node_id, opts, progress)


@click.command("push")
@click.argument("show", type=click.Path(path_type=Path), required=False)
@target_options
@click.option(
    "--force", is_flag=True, help="Push even to a node with another identity than the show part's."
)
@click.option("--no-compress", "no_compress", is_flag=True, help="Send the show uncompressed.")
@click.option(
    "--from-top",
    "from_top",
    is_flag=True,
    help="Start the new show at its first cue (default: a new version of the running show "
    "stands by at the same next cue).",
)
@click.option(
    "--now",
    "switch_now",
    is_flag=True,
    help="Switch at once, even mid-fade (default: at the next cue).",
)
@json_option
def push_cmd(
    show: Path | None,
    force: bool,
    no_compress: bool,
    from_top: bool,
    switch_now: bool,
    **opts: Any,
) -> None:
    """Compile SHOW (or take a compiled file; default: the rig file's show) and push each node
    its part (several nodes in parallel). Mid-show, a new version of the running show stands
    by at the same next cue (--from-top: at its first). Exit status 1 if any node was not
    pushed."""
    chosen = rig_targets(opts)
    show = show or _rig_show(opts["rig_file"])
    parts = load_parts(show)
    push_opts = {
        "force_identity": force,
        "force_switch": switch_now,
        "compress": not no_compress,
        "from_top": from_top,
    }
    node_id = opts["node_id"]
    single = len(opts["ports"]) == 1 and not opts["all_nodes"] and not opts["as_json"]

    def op(s: Session) -> dict:
        if single:
            return _push_with_bar(s, parts, node_id, push_opts)
        return _push_one(s, parts, node_id, push_opts)

    run_command(
        "push",
        op,
        opts,
        lambda o: _push_line(o.label(), o.result),
        check_identity=not force,
        chosen=chosen,
    )


def _rig_show(rig: rigfile.Rig | None) -> Path:
    if rig is None or rig.show is None:
        raise click.UsageError("give the SHOW to push (or name it in a rig file: show = ...)")
    return rig.show


# --- show control ------------------------------------------------------------------------------


def _describe(result: dict) -> str:
    if not result:
        return "ok"
    return ", ".join(_field(k, v) for k, v in result.items())


def _field(key: str, value: Any) -> str:
    if key == "skipped":  # relays the cue did not switch: "skipped fog not armed"
        return f"skipped {', '.join(value)}"
    return f"{key} {value if value != '' else '-'}"


def _control_command(name: str, op: Callable[[Session], dict], help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @target_options
    @json_option
    def command(**opts: Any) -> None:
        what = name.upper()
        run_command(what, op, opts, lambda o: f"{o.label()}: {what}: {_describe(o.result)}")

    return command


@click.command("goto")
@click.argument("cue")
@target_options
@json_option
def goto_cmd(cue: str, **opts: Any) -> None:
    """Jump to cue CUE (a number like 12 or 12.25), with that cue's timing."""
    ops.cue_thousandths(cue)  # a typo fails before any port is opened
    what = f"GOTO {cue}"
    run_command(
        what,
        lambda s: ops.goto(s, cue),
        opts,
        lambda o: f"{o.label()}: {what}: {_describe(o.result)}",
    )


# --- status and log ----------------------------------------------------------------------------


@click.command("status")
@target_options
@json_option
@click.option(
    "--watch", is_flag=True, help="Refresh a table of the nodes until Ctrl-C (ESPHome's habit)."
)
@click.option(
    "--interval", type=click.FloatRange(0.1), default=1.0, show_default=True, help="--watch: s."
)
@click.option("--count", type=click.IntRange(1), help="--watch: stop after N refreshes.")
def status_cmd(watch: bool, interval: float, count: int | None, **opts: Any) -> None:
    """Show each node's cue, fades, relays, DMX rate, link counters, show and firmware.
    With --json: one entry per node asked, a node that did not answer with its error.
    With --watch: a table refreshed every --interval s (JSON: one line per refresh)."""
    if watch:
        _watch_status(opts, interval, count)
        return
    run_command(
        "status",
        ops.status,
        opts,
        lambda o: "\n".join(statusview.status_lines(o.result)),
        entry=lambda o: {**o.result, "ok": True},
    )


def _watch_status(opts: dict, interval: float, count: int | None) -> None:
    """Ask every node, draw the table (in place on a terminal, appended otherwise), wait;
    Ctrl-C ends with status 0. Nodes are asked in parallel each round."""
    chosen = rig_targets(opts)
    redraw = sys.stdout.isatty() and not opts["as_json"]
    rounds = 0
    try:
        while count is None or rounds < count:
            outcomes = fleet.run(chosen, ops.status, baud=opts["baud"])
            rounds += 1
            if opts["as_json"]:
                click.echo(json.dumps([_status_entry(o) for o in outcomes]))
            else:
                table = statusview.watch_table([_status_entry(o) for o in outcomes])
                stamp = time.strftime("%H:%M:%S")
                click.echo(("\x1b[H\x1b[2J" if redraw else "") + f"-- {stamp}\n{table}")
            sys.stdout.flush()
            if count is None or rounds < count:
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("")


def _status_entry(o: Outcome) -> dict:
    return {**o.result, "ok": True} if o.ok else {**o.as_json(), "node": o.node or o.port}


@click.command("log")
@target_options
@json_option
@click.option(
    "--since", type=click.IntRange(0, 2**32 - 1), default=0, help="First log entry to fetch."
)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing events as they happen, until Ctrl-C."
)
def log_cmd(since: int, follow: bool, **opts: Any) -> None:
    """Print each node's event log with node timestamps (--follow: and then its events as
    the node sends them)."""
    if follow:
        _follow_log(opts, since)
        return

    def lines(o: Outcome) -> str:
        node = o.node or o.port
        out = []
        for t_ms, *rest in o.result:
            text = " ".join(str(r) for r in rest)
            out.append(f"{node} {t_ms // 1000:>6}.{t_ms % 1000:03d}  {text}")
        return "\n".join(out) if out else f"{node}: no events"

    run_command(
        "log",
        lambda s: ops.log(s, since),
        opts,
        lines,
        entry=lambda o: {"node": o.node or o.port, "port": o.port, "ok": True, "events": o.result},
    )


def _follow_log(opts: dict, since: int) -> None:
    from cuenode.node import follow

    chosen = rig_targets(opts)
    lock = threading.Lock()

    def emit(line: follow.Line) -> None:
        with lock:
            click.echo(line.as_json() if opts["as_json"] else line.human(), err=line.error)
            sys.stdout.flush()

    stop = follow.follow(chosen, opts["baud"], since, emit)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()


# --- back to the firmware ----------------------------------------------------------------------


@click.command("reset")
@click.option("--port", "ports", multiple=True, metavar="PORT", help="Serial port; repeatable.")
@click.option("--all", "all_nodes", is_flag=True, help="Every node found.")
@json_option
def reset_cmd(ports: tuple[str, ...], all_nodes: bool, as_json: bool) -> None:
    """Restart nodes into the cuenode firmware, from the REPL or anywhere (machine.reset():
    as after a power cut, the node stands by at its saved cue, GO required)."""
    from cuenode.node import flash

    chosen = targets(ports, None, all_nodes)

    def say(o: Outcome) -> None:
        if as_json:
            return
        if o.ok:
            click.echo(f"{o.label()}: restarted, cuenode answers; {o.result['standing_by']}")
        elif len(chosen) > 1:
            click.echo(f"Error: reset failed on {o.label()}: {o.error}", err=True)

    outcomes = fleet.on_ports(chosen, flash.restart_outcome, say)
    if as_json:
        entries = [o.as_json() for o in outcomes]
        click.echo(json.dumps(entries if len(chosen) > 1 else entries[0], indent=2))
    finish("reset", outcomes)


COMMANDS = [
    push_cmd,
    _control_command("go", ops.go, "GO: run the next cue."),
    _control_command("back", ops.back, "BACK: return to the previous cue."),
    _control_command(
        "stop", ops.stop, "STOP (panic): hazardous relays off at once, DMX fades to black."
    ),
    goto_cmd,
    _control_command("arm", ops.arm, "Arm hazardous effects (requires_arm relays)."),
    _control_command("disarm", ops.disarm, "Disarm hazardous effects."),
    status_cmd,
    log_cmd,
    reset_cmd,
]
