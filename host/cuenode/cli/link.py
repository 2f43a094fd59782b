"""`cuenode push|go|back|stop|goto|arm|disarm|status|log`: talk to nodes over the serial link.

Each command picks its nodes with --port PORT (repeatable), --node ID (found by asking every
attached node who it is) or --all, then calls the typed functions in `cuenode.node.ops`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click
from cuefw import showfile

from cuenode.errors import CuenodeError
from cuenode.node import ops, statusview
from cuenode.node.ops import Session
from cuenode.node.transport import DEFAULT_BAUD, discover


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


# --- choosing nodes ----------------------------------------------------------------------------


class Chosen(list[Session]):
    """The connected sessions, plus the nodes that were asked for but could not be reached
    (so `stop --all` still reaches every node that answers, and then says who it missed)."""

    def __init__(self) -> None:
        super().__init__()
        self.missed: list[str] = []

    def skip(self, port: str, exc: CuenodeError) -> None:
        click.echo(f"skipping {port}: {exc.format_message()}", err=True)
        self.missed.append(port)


def finish(chosen: Chosen, failed: list[str], what: str) -> None:
    """Exit 1 naming every node the command did not reach or that refused it."""
    bad = chosen.missed + failed
    if bad:
        total = len(chosen) + len(chosen.missed)
        raise CuenodeError(f"{what} failed on {len(bad)} of {total} node(s): {', '.join(bad)}")


@contextmanager
def sessions(
    ports: tuple[str, ...],
    node_id: str | None,
    all_nodes: bool,
    baud: int,
    *,
    check_identity: bool = True,
) -> Iterator[Chosen]:
    """The chosen nodes, connected; every port opened is closed again, even on errors."""
    opened = Chosen()
    try:
        if ports:
            _open_ports(ports, node_id, all_nodes, baud, check_identity, opened)
        else:
            _open_found(node_id, all_nodes, baud, opened)
        yield opened
    finally:
        for s in opened:
            s.close()


def _open_ports(
    ports: tuple[str, ...],
    node_id: str | None,
    all_nodes: bool,
    baud: int,
    check_identity: bool,
    opened: Chosen,
) -> None:
    if all_nodes:
        raise click.UsageError("give either --port or --all, not both")
    for port in ports:
        try:
            opened.append(ops.connect(port, baudrate=baud))
        except CuenodeError as exc:
            if len(ports) == 1:
                raise
            opened.skip(port, exc)
            continue
        if node_id and check_identity:
            _check_is(opened[-1], node_id)


def _open_found(node_id: str | None, all_nodes: bool, baud: int, opened: Chosen) -> None:
    found = discover()
    if not found:
        raise CuenodeError(
            "no cuenode nodes found (no known USB boards, no emulated nodes)",
            "plug a node in, or name its port with --port",
        )
    if not node_id and not all_nodes and len(found) > 1:
        names = ", ".join(p.device for p in found)
        raise click.UsageError(f"several ports found ({names}): pick with --port, --node or --all")
    for port in found:
        try:
            s = ops.connect(port.device, baudrate=baud)
        except CuenodeError as exc:
            if len(found) == 1:
                raise
            opened.skip(port.device, exc)
            continue
        if node_id is None or s.info.node_id == node_id:
            opened.append(s)
            if node_id is not None:
                return
        else:
            s.close()
    if node_id is not None:
        raise CuenodeError(
            f"no attached node is '{node_id}'",
            "check `cuenode status --all` for the nodes and their identities",
        )
    if not opened:
        raise CuenodeError("no attached node answered", "check the cables, or flash the nodes")


def _check_is(s: Session, node_id: str) -> None:
    if s.info.node_id != node_id:
        raise CuenodeError(
            f"{s.info.port} is node '{s.info.node_id}', not '{node_id}'",
            "check the port, or leave out --node",
        )


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
) -> str:
    """Push this node its part; returns the line to print."""
    show_node, blob = _part_for(s, parts, node_id)
    if s.info.show_hash == blob[-32:].hex() and not opts["force_identity"]:
        return f"{s.info.label()}: already running this show ({len(blob)} bytes)"
    result = ops.push(s, blob, show_node, progress=progress, **opts)
    when = "switched now" if result.switched else "switches at the next cue"
    extra = f", resumed at {result.resumed_from}" if result.resumed_from else ""
    if result.wire_bytes < result.size:
        extra += f", {result.wire_bytes} bytes compressed"
    return (
        f"{s.info.label()}: pushed {result.size} bytes in {result.seconds:.2f} s "
        f"({result.bytes_per_s / 1024:.0f} KB/s{extra}); verified; {when}"
    )


def _push_with_bar(s: Session, parts: dict[str, bytes], node_id: str | None, opts: dict) -> None:
    with ExitStack() as stack:
        bars: list = []

        def progress(done: int, total: int) -> None:
            if not bars:  # opened only once the node has accepted the show
                label = f"{s.info.node_id or 'node'} → {s.info.port}"
                bar = click.progressbar(length=total, label=label, show_pos=True, width=30)
                bars.append(stack.enter_context(bar))
            bars[0].update(done - bars[0].pos)

        line = _push_one(s, parts, node_id, opts, progress)
    click.echo(line)


def _push_parallel(
    chosen: list[Session], parts: dict[str, bytes], node_id: str | None, opts: dict
) -> list[str]:
    """Every node at once (load-in: many boxes); one line per node as each finishes.
    Returns the ports that failed."""
    failed = []
    with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
        futures = {pool.submit(_push_one, s, parts, node_id, opts): s for s in chosen}
        for future in as_completed(futures):
            try:
                click.echo(future.result())
            except CuenodeError as exc:
                failed.append(futures[future].info.port)
                click.echo(f"Error: {exc.format_message()}", err=True)
    return failed


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
def push_cmd(
    show: Path,
    ports: tuple[str, ...],
    node_id: str | None,
    all_nodes: bool,
    baud: int,
    force: bool,
    no_compress: bool,
    switch_now: bool,
) -> None:
    """Compile SHOW (or take a compiled file) and push each node its part (several nodes in
    parallel)."""
    parts = load_parts(show)
    opts = {"force_identity": force, "force_switch": switch_now, "compress": not no_compress}
    with sessions(ports, node_id, all_nodes, baud, check_identity=not force) as chosen:
        if len(chosen) == 1:
            _push_with_bar(chosen[0], parts, node_id, opts)
            return
        failed = _push_parallel(chosen, parts, node_id, opts)
    if failed:
        raise CuenodeError(f"push failed on {len(failed)} node(s): {', '.join(sorted(failed))}")


# --- show control ------------------------------------------------------------------------------


def _describe(result: dict) -> str:
    if not result:
        return "ok"
    return ", ".join(f"{k} {v if v != '' else '-'}" for k, v in result.items())


def run_on_each(chosen: Chosen, what: str, op: Callable[[Session], dict]) -> None:
    """Send the command to every chosen node even if an earlier one fails (a STOP must reach
    every node that answers); then exit 1 naming the nodes it missed."""
    if len(chosen) == 1 and not chosen.missed:  # one node: its own error is the one line
        click.echo(f"{chosen[0].info.label()}: {what}: {_describe(op(chosen[0]))}")
        return
    failed = []
    for s in chosen:
        try:
            click.echo(f"{s.info.label()}: {what}: {_describe(op(s))}")
        except CuenodeError as exc:
            click.echo(f"{what} FAILED: {exc.format_message()}", err=True)
            failed.append(s.info.label())
    finish(chosen, failed, what)


def _control_command(name: str, op: Callable[[Session], dict], help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @target_options
    def command(ports: tuple[str, ...], node_id: str | None, all_nodes: bool, baud: int) -> None:
        with sessions(ports, node_id, all_nodes, baud) as chosen:
            run_on_each(chosen, name.upper(), op)

    return command


@click.command("goto")
@click.argument("cue")
@target_options
def goto_cmd(
    cue: str, ports: tuple[str, ...], node_id: str | None, all_nodes: bool, baud: int
) -> None:
    """Jump to cue CUE (a number like 12 or 12.25), with that cue's timing."""
    ops.cue_thousandths(cue)  # a typo fails before any port is opened
    with sessions(ports, node_id, all_nodes, baud) as chosen:
        run_on_each(chosen, f"GOTO {cue}", lambda s: ops.goto(s, cue))


# --- status and log ----------------------------------------------------------------------------


def _print_status(st: dict) -> None:
    for line in statusview.status_lines(st):
        click.echo(line)


@click.command("status")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(
    ports: tuple[str, ...], node_id: str | None, all_nodes: bool, baud: int, as_json: bool
) -> None:
    """Show each node's cue, fades, relays, DMX rate, link counters, show and firmware."""
    with sessions(ports, node_id, all_nodes, baud) as chosen:
        states = [ops.status(s) for s in chosen]
    # One node: an object; several (--all, repeated --port): a list, whatever answered.
    several = all_nodes or len(states) + len(chosen.missed) > 1
    if as_json:
        click.echo(json.dumps(states if several else states[0], indent=2))
    else:
        for st in states:
            _print_status(st)
    finish(chosen, [], "status")


@click.command("log")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--since", type=click.IntRange(0, 2**32 - 1), default=0, help="First log entry to fetch."
)
def log_cmd(
    ports: tuple[str, ...],
    node_id: str | None,
    all_nodes: bool,
    baud: int,
    as_json: bool,
    since: int,
) -> None:
    """Print each node's event log with node timestamps."""
    with sessions(ports, node_id, all_nodes, baud) as chosen:
        logs = {s.info.node_id or s.info.port: ops.log(s, since) for s in chosen}
    several = all_nodes or len(logs) + len(chosen.missed) > 1
    if as_json:
        out = [{"node": k, "events": v} for k, v in logs.items()]
        click.echo(json.dumps(out if several else out[0], indent=2))
    else:
        for node, events in logs.items():
            for t_ms, *rest in events:
                text = " ".join(str(r) for r in rest)
                click.echo(f"{node} {t_ms // 1000:>6}.{t_ms % 1000:03d}  {text}")
    finish(chosen, [], "log")


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
]
