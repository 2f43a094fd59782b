"""`cuenode push|go|back|stop|goto|arm|disarm|status|log`: talk to nodes over the serial link.

Each command picks its nodes with --port PORT (repeatable), --node ID (found by asking every
attached node who it is) or --all, then calls the typed functions in `cuenode.node.ops`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from cuefw import showfile

from cuenode.errors import CuenodeError
from cuenode.node import fleet, ops, select, statusview
from cuenode.node.fleet import Outcome
from cuenode.node.ops import Session
from cuenode.node.transport import DEFAULT_BAUD


def target_options(func: Callable) -> Callable:
    func = click.option(
        "--baud",
        type=int,
        default=DEFAULT_BAUD,
        show_default=True,
        help="Serial speed (USB CDC ignores it; USB-UART boards need it).",
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


def targets(ports: tuple[str, ...], node_id: str | None, all_nodes: bool) -> list[select.Target]:
    try:
        return select.choose(ports, node_id, all_nodes)
    except select.UsageProblem as exc:
        raise click.UsageError(exc.message) from None


def run_command(
    what: str,
    op: Callable[[Session], Any],
    opts: dict,
    describe: Callable[[Outcome], str],
    *,
    check_identity: bool = True,
    entry: Callable[[Outcome], dict] | None = None,
) -> list[Outcome]:
    """Run `op` on the chosen nodes in parallel; print a line per node as each finishes
    (or, with --json, one entry per node at the end); exit 1 if any node failed."""
    chosen = targets(opts["ports"], opts["node_id"], opts["all_nodes"])
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
    }


def _push_line(label: str, d: dict) -> str:
    if d["already_running"]:
        return f"{label}: already running this show ({d['size']} bytes)"
    when = "switched now" if d["switched"] else "switches at the next cue"
    extra = f", resumed at {d['resumed_from']}" if d["resumed_from"] else ""
    if d["wire_bytes"] < d["size"]:
        extra += f", {d['wire_bytes']} bytes compressed"
    rate = d["size"] / d["seconds"] / 1024 if d["seconds"] > 0 else 0
    return (
        f"{label}: pushed {d['size']} bytes in {d['seconds']:.2f} s "
        f"({rate:.0f} KB/s{extra}); verified; {when}"
    )


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
@click.argument("show", type=click.Path(path_type=Path))
@target_options
@click.option(
    "--force", is_flag=True, help="Push even to a node with another identity than the show part's."
)
@click.option("--no-compress", "no_compress", is_flag=True, help="Send the show uncompressed.")
@click.option(
    "--now",
    "switch_now",
    is_flag=True,
    help="Switch at once, even mid-fade (default: at the next cue).",
)
@json_option
def push_cmd(
    show: Path,
    force: bool,
    no_compress: bool,
    switch_now: bool,
    **opts: Any,
) -> None:
    """Compile SHOW (or take a compiled file) and push each node its part (several nodes in
    parallel). Exit status 1 if any node was not pushed."""
    parts = load_parts(show)
    push_opts = {
        "force_identity": force,
        "force_switch": switch_now,
        "compress": not no_compress,
    }
    node_id = opts["node_id"]
    single = len(opts["ports"]) == 1 and not opts["all_nodes"] and not opts["as_json"]

    def op(s: Session) -> dict:
        if single:
            return _push_with_bar(s, parts, node_id, push_opts)
        return _push_one(s, parts, node_id, push_opts)

    run_command(
        "push", op, opts, lambda o: _push_line(o.label(), o.result), check_identity=not force
    )


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
def status_cmd(**opts: Any) -> None:
    """Show each node's cue, fades, relays, DMX rate, link counters, show and firmware.
    With --json: one entry per node asked, a node that did not answer with its error."""
    run_command(
        "status",
        ops.status,
        opts,
        lambda o: "\n".join(statusview.status_lines(o.result)),
        entry=lambda o: {**o.result, "ok": True},
    )


@click.command("log")
@target_options
@json_option
@click.option(
    "--since", type=click.IntRange(0, 2**32 - 1), default=0, help="First log entry to fetch."
)
def log_cmd(since: int, **opts: Any) -> None:
    """Print each node's event log with node timestamps."""

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
