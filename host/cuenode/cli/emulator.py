"""`cuenode emulate` and `cuenode capture`: thin click wrappers around cuenode.emulator."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cuenode.errors import CuenodeError

if TYPE_CHECKING:  # imported when a command runs: `cuenode --help` stays fast
    from cuenode.emulator.fleet import Fleet

RUNTIMES = ("cpython", "micropython")


@click.command("emulate")
@click.option(
    "--nodes",
    "count",
    type=click.IntRange(1, 64),
    default=None,
    help="How many virtual nodes to start [default: the show's nodes, else 1].",
)
@click.option(
    "--show",
    "show_path",
    type=click.Path(path_type=Path),
    help="Show YAML to compile and preload (the show's nodes, then '<id>-2', ...).",
)
@click.option("--headless", is_flag=True, help="No live view (CI, scripts).")
@click.option(
    "--runtime",
    type=click.Choice(RUNTIMES),
    default="cpython",
    show_default=True,
    help="Run the firmware under CPython or the MicroPython WebAssembly build.",
)
@click.option(
    "--board",
    type=click.Choice(["emulator", "pico"]),
    default="emulator",
    show_default=True,
    help="pico: each node is an emulated RP2040 running MicroPython's Pico image.",
)
@click.option(
    "--speed",
    type=click.Choice(["realtime", "max"]),
    default="realtime",
    show_default=True,
    help="Emulated Picos: never ahead of the wall clock, or as fast as the host allows.",
)
@click.option(
    "--baud",
    type=click.IntRange(0, 4_000_000),
    default=0,
    help="Pace each node's serial to N baud 8N1 (0: unpaced, like native USB).",
)
@click.option(
    "--capture",
    "capture_dir",
    type=click.Path(path_type=Path),
    help="Write each node's DMX line (sigrok .bin, .vcd) to DIR.",
)
@click.option(
    "--capture-frames",
    type=click.IntRange(1, 2000),
    default=44,
    show_default=True,
    help="How many DMX frames to capture per node.",
)
@click.option(
    "--virtual-time",
    is_flag=True,
    help="Node clocks stand still until advanced over the world socket (scripts).",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=Path(".cuenode"),
    show_default=True,
    help="Flash directories, sockets and tty symlinks live here (one emulator per directory). "
    "Other commands find these nodes in ./.cuenode/nodes, or with CUENODE_NODES_DIR=DIR/nodes.",
)
@click.option(
    "--keep-flash",
    is_flag=True,
    help="Keep what is on each node's flash: its show and its name (from `cuenode flash`).",
)
@click.option(
    "--duration",
    type=float,
    default=0.0,
    help="Headless: stop after this many seconds (0: until Ctrl-C).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the node table as JSON.")
def emulate(
    count: int | None,
    show_path: Path | None,
    headless: bool,
    runtime: str,
    board: str,
    speed: str,
    baud: int,
    capture_dir: Path | None,
    capture_frames: int,
    virtual_time: bool,
    workdir: Path,
    keep_flash: bool,
    duration: float,
    as_json: bool,
) -> None:
    """Start virtual nodes running the real firmware, each on its own pseudo-terminal."""
    from cuenode.build.compile import build_show
    from cuenode.emulator import fleet as fleet_mod

    built = build_show(show_path) if show_path else None
    shows = built.blobs if built else None
    plans = fleet_mod.plan_nodes(count or (len(shows) if shows else 1), shows)
    fleet = fleet_mod.Fleet(workdir, runtime="pico" if board == "pico" else runtime, speed=speed)
    try:
        for plan in plans:
            fleet.add(plan, virtual=virtual_time, baud=baud, fresh=not keep_flash)
        started = fleet.start()
        print_nodes(fleet, started, as_json)
        if capture_dir is not None:
            capture_all(fleet, capture_dir, capture_frames, virtual_time)
        if headless:
            wait(duration, fleet if board == "pico" else None)
        else:
            from cuenode.emulator.liveview import run_live_view

            labels = fleet_mod.fixture_labels(built.show) if built else {}
            run_live_view(fleet, labels)
    finally:
        fleet.stop()


def print_nodes(fleet: Fleet, started: float, as_json: bool) -> None:
    rows = [
        {
            "node": n.node_id,
            "tty": n.tty,
            "link": os.path.relpath(n.link_path),
            "world": os.path.relpath(n.world_path),
            "flash": os.path.relpath(n.flash_dir),
            "pid": n.pid,
        }
        for n in fleet.nodes
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "nodes": rows,
                    "start_s": round(started, 3),
                    "nodes_dir": str(fleet.sup.workdir / "nodes"),
                }
            )
        )
        return
    for row in rows:
        click.echo(f"{row['node']:<14} {row['tty']:<12} {row['link']}")
    click.echo(f"{len(rows)} node(s) up in {started:.2f} s; Ctrl-C stops them.")
    click.echo(discovery_hint(fleet.sup.workdir / "nodes"))


def discovery_hint(nodes_dir: Path) -> str:
    """How other commands find these nodes: ./.cuenode/nodes of their working directory, or
    CUENODE_NODES_DIR."""
    if nodes_dir.resolve() == (Path.cwd() / ".cuenode" / "nodes").resolve():
        return "Other cuenode commands run here find these nodes (`cuenode status --all`)."
    return (
        "Other cuenode commands find these nodes with "
        f"CUENODE_NODES_DIR={nodes_dir} (e.g. `CUENODE_NODES_DIR={nodes_dir} "
        "cuenode status --all`)."
    )


def capture_all(fleet: Fleet, out: Path, frames: int, virtual: bool) -> None:
    from cuenode.emulator.capture import capture_frames, write_capture

    for node in fleet.nodes:
        with node.world() as io:
            got = capture_frames(io, frames, virtual)
        paths = write_capture(got, out / node.node_id, node.node_id)
        click.echo(f"captured {len(got)} frames of {node.node_id}: {paths[0]} {paths[1]}")


def wait(duration: float, picos: object = None) -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    deadline = time.monotonic() + duration if duration > 0 else None
    next_note = time.monotonic() + 5
    try:
        while not stop and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.1)
            if picos is not None and time.monotonic() > next_note:
                next_note += 5
                say_speeds(picos)
    except KeyboardInterrupt:
        pass


def say_speeds(fleet: object) -> None:
    """Emulated Picos: say when simulated time is not running at real time."""
    from cuenode.emulator.pico.pins import speed_text

    for node in fleet.nodes:  # type: ignore[attr-defined]
        try:
            text = speed_text(node.io.state())
        except Exception:  # noqa: BLE001 - resetting or powered off: nothing to say now
            continue
        if text:
            click.echo(f"{node.node_id}: {text}")


@click.command("capture")
@click.argument("node_id")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=Path(".cuenode"),
    show_default=True,
    help="The running emulator's work directory.",
)
@click.option("--frames", type=click.IntRange(1, 2000), default=44, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("capture"),
    show_default=True,
    help="Directory for NODE_ID.bin/.vcd/.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def capture(node_id: str, workdir: Path, frames: int, out: Path, as_json: bool) -> None:
    """Capture NODE_ID's DMX line from a running `cuenode emulate` (sigrok .bin + .vcd).
    Exit status 1 if fewer frames than asked for were captured."""
    entry: dict = {"node": node_id, "workdir": str(workdir)}
    try:
        entry.update(capture_node(node_id, workdir, frames, out))
        text = entry.pop("text")
    except CuenodeError as exc:
        if not as_json:
            raise
        entry.update(ok=False, error=exc.format_message())
        click.echo(json.dumps(entry, indent=2))
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps({**entry, "ok": True}, indent=2))
    else:
        click.echo(text)


def capture_node(node_id: str, workdir: Path, frames: int, out: Path) -> dict:
    """Record `frames` DMX frames of a running emulated node; what was written."""
    from cuenode.emulator.capture import capture_frames, write_capture
    from cuenode.emulator.client import WorldClient, WorldError

    sock = workdir / "run" / f"{node_id}.sock"
    try:
        io = WorldClient.connect(str(sock), timeout=2.0)
    except WorldError:
        raise CuenodeError(
            f"{sock}: no running emulated node '{node_id}'",
            "start it with `cuenode emulate` (same --workdir)",
        ) from None
    with io:
        hello = io.request("hello")
        if hello.get("runtime") == "pico":
            from cuenode.emulator.pico.pins import DMX_FRAME_S, record, write_pin_capture

            trace = record(io, [0], frames * DMX_FRAME_S)[0]
            paths = write_pin_capture(trace, out / node_id, node_id)
            text = f"captured {trace.seconds:.3f} simulated s of GPIO0: {paths[0]} {paths[1]}"
            return {"seconds": trace.seconds, "files": [str(p) for p in paths], "text": text}
        got = capture_frames(io, frames, virtual=hello["virtual"])
        repl = io.state().get("repl", "running")
    if not got:
        raise CuenodeError(
            f"captured 0 frames of '{node_id}': {no_frames_why(repl)}",
            f"bring cuenode back with `cuenode reset --port {workdir / 'nodes' / node_id}.tty`",
        )
    paths = write_capture(got, out / node_id, node_id)
    if len(got) < frames:
        raise CuenodeError(f"captured only {len(got)} of {frames} frames of '{node_id}'")
    text = f"captured {len(got)} frames: {paths[0]} {paths[1]} {paths[2]}"
    return {"frames": len(got), "files": [str(p) for p in paths], "text": text}


def no_frames_why(repl: str) -> str:
    if repl != "running":
        return f"the node is at the MicroPython REPL ({repl} mode): nothing drives DMX there"
    return "the node sent no DMX frame"


COMMANDS = [emulate, capture]
