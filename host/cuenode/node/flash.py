"""`cuenode flash`: install the cuenode firmware on a board that already runs MicroPython.

The files are the board's node image (`cuenode.build.image`: boot.py, main.py, the board
family's driver, cuefw/, board.py, the node's name), staged on the host exactly as the
emulator's flash is written; on a real chip the cuefw modules are precompiled with mpy-cross
for its architecture (less RAM and no compile at boot). The real
mpremote CLI copies them (its `fs cp` skips files whose SHA-256 already matches), the node
hashes each file back (SHA-256 on the node, compared with the staged file), then the board
is reset, and the node must answer HELLO with its new name.
Nothing else on the node's flash is touched: the show (show.bin and the store's files) stays.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from cuenode.boards import board_names, family_for_probe, load_board
from cuenode.build import image
from cuenode.errors import CuenodeError

MPREMOTE_TIMEOUT_S = 120
HELLO_WAIT_S = 15.0  # after the reset: boot + (USB re-enumeration on a real Pico)
FLASH_BOARDS = tuple(board_names())

Step = Callable[[str], None]  # progress: a short description of what happens now


@dataclass
class FlashResult:
    port: str
    name: str
    board: str = ""
    files: int = 0
    seconds: float = 0.0
    error: str = ""

    previous: str = ""  # the name on the node before flashing ("" if none or unknown)

    @property
    def ok(self) -> bool:
        return not self.error

    def label(self) -> str:
        """The node as a rigger knows it: its name (and the old one if renamed) and port."""
        names = self.name or self.previous
        if self.previous and self.name and self.previous != self.name:
            names = f"{self.previous}' → '{self.name}"
        return f"node '{names}' on {self.port}" if names else self.port

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "port": self.port,
            "node": self.name or self.previous or None,
            "previous_name": self.previous or None,
            "board": self.board or None,
            "ok": self.ok,
            "files": self.files,
            "seconds": round(self.seconds, 3),
        }
        if not self.ok:
            out["error"] = self.error
        return out


# --- talking to MicroPython through mpremote ---------------------------------------------------


def mpremote(port: str, *args: str, timeout: float = MPREMOTE_TIMEOUT_S) -> str:
    """Run the real mpremote on `port`; its stdout, or CuenodeError with its last error line."""
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CuenodeError(
            f"{port}: mpremote gave no answer within {timeout:.0f} s",
            "unplug and replug the board, then flash again",
        ) from None
    if done.returncode != 0:
        raise CuenodeError(f"{port}: {_last_line(done.stderr or done.stdout)}", _remedy(port))
    return done.stdout


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "mpremote failed"


def _remedy(port: str) -> str:
    return (
        f"check that {port} is a board running MicroPython "
        "(`mpremote connect PORT exec 'print(1)'`)"
    )


PROBE = "import sys,os\nprint(sys.implementation._machine)\nprint(os.uname()[0])\n"
NAME_PROBE = "try:\n print('node.id=' + open('node.id').read().strip())\nexcept OSError:\n pass\n"


@dataclass(frozen=True)
class Probe:
    """What MicroPython on a port says it is, and the node name on its flash ("" if none)."""

    machine: str
    name: str


def probe(port: str) -> Probe:
    """One mpremote call: the chip (sys.implementation._machine, uname) and node.id."""
    out = mpremote(port, "exec", PROBE + NAME_PROBE)
    lines = out.strip().splitlines()
    name = next((ln[len("node.id=") :] for ln in lines if ln.startswith("node.id=")), "")
    machine = "\n".join(ln for ln in lines if not ln.startswith("node.id="))
    return Probe(machine + "\n", name.strip())


def detect_board(port: str) -> str:
    """The board name (boards/<name>.py) for what MicroPython on `port` says it is."""
    return board_for(probe(port).machine)


def check_board(port: str, board: str, machine: str) -> None:
    """As esptool checks the chip before writing: --board must be for the chip found, or the
    copy would fail late (or the node would not boot) for the wrong reason."""
    wanted = load_board(board)
    found = family_for_probe(machine)
    if wanted is None or found is None or found.name == wanted.family:
        return
    says = machine.strip().splitlines()[0] if machine.strip() else "?"
    raise CuenodeError(
        f"{port}: --board {board} is for {wanted.family} chips, but this board is "
        f"{found.name} (MicroPython says: {says})",
        f"use --board {found.default_board}, or leave --board out to detect it",
    )


def board_for(probe_output: str) -> str:
    family = family_for_probe(probe_output)
    if family is None:
        raise CuenodeError(
            f"no cuenode board matches this MicroPython: {probe_output.strip().splitlines()[0]}",
            f"name the board with --board ({', '.join(FLASH_BOARDS)})",
        )
    return family.default_board


# --- staging the files -------------------------------------------------------------------------


def stage_firmware(stage: Path, board: str, name: str, compile_mpy: bool = True) -> list[str]:
    """The node's files under `stage`, as node paths ('main.py', 'cuefw/engine.mpy', ...)."""
    return image.stage_image(stage, board, name, compile_mpy)


def cleanup_script(files: list[str]) -> str:
    """MicroPython code run on the node: make cuefw/, remove the other flavour (.py/.mpy) of
    each module so an old copy can never shadow the new one. Leaves every other file."""
    stale = image.stale_flavours(files)
    return (
        "import os\n"
        "try:\n os.mkdir('cuefw')\nexcept OSError:\n pass\n"
        f"for f in {stale!r}:\n"
        " try:\n  os.remove(f)\n except OSError:\n  pass\n"
    )


# --- one node ----------------------------------------------------------------------------------


def flash_node(
    port: str, name: str | None, board: str | None = None, step: Step | None = None
) -> FlashResult:
    """Flash one node; never raises: the result says what went wrong."""
    result = FlashResult(port, name or "")
    started = time.monotonic()
    say = step or (lambda text: None)
    try:
        _flash(result, board, say)
    except CuenodeError as exc:
        # result.label() names the node and its port: the message need not repeat the port
        result.error = exc.format_message().removeprefix(f"{port}: ")
    result.seconds = time.monotonic() - started
    return result


def _flash(result: FlashResult, board: str | None, say: Step) -> None:
    port = result.port
    if "://" not in port and not Path(port).exists():
        raise CuenodeError(
            f"no such port {port}",
            "is the board plugged in? `cuenode status --all` lists the nodes found",
        )
    say("asking MicroPython what it is")
    found = probe(port)
    result.previous = found.name
    if board is not None:
        try:
            check_board(port, board, found.machine)
        except CuenodeError:
            reset(port)  # the probe left it at the REPL: back to its show, as it was
            raise
    result.board = board or board_for(found.machine)
    if not result.name:
        result.name = found.name or no_name(port)
    with tempfile.TemporaryDirectory(prefix="cuenode-flash-") as tmp:
        stage = Path(tmp)
        say(f"compiling for {result.board}")
        files = stage_firmware(stage, result.board, result.name)
        result.files = len(files)
        say(f"copying {len(files)} files")
        mpremote(port, "exec", cleanup_script(files), *copy_args(stage, files))
        say("verifying")
        verify_hashes(port, stage, files)
    say("resetting")
    reset(port)
    say("waiting for HELLO")
    confirm_hello(port, result.name)


def copy_args(stage: Path, files: list[str]) -> list[str]:
    """One mpremote command chain: `+ fs cp SRC :DST` per file (one connection for all)."""
    args: list[str] = []
    for f in files:
        args += ["+", "fs", "cp", str(stage / f), ":" + f]
    return args


HASH_SCRIPT = """import hashlib, binascii
for f in %r:
    h = hashlib.sha256()
    try:
        with open(f, 'rb') as fh:
            while True:
                b = fh.read(512)
                if not b:
                    break
                h.update(b)
        print(f, binascii.hexlify(h.digest()).decode())
    except OSError:
        print(f, 'missing')
"""


def verify_hashes(port: str, stage: Path, files: list[str]) -> None:
    """Read every file back as the node sees it (SHA-256 computed on the node)."""
    out = mpremote(port, "exec", HASH_SCRIPT % (files,))
    on_node = dict(line.split(" ", 1) for line in out.strip().splitlines() if " " in line)
    for f in files:
        want = hashlib.sha256((stage / f).read_bytes()).hexdigest()
        if on_node.get(f, "").strip() != want:
            raise CuenodeError(
                f"{port}: {f} on the node does not match what was sent "
                f"({on_node.get(f, 'not listed').strip()})",
                "flash again; if it repeats, the board's filesystem may be full or damaged",
            )


def no_name(port: str) -> NoReturn:
    raise CuenodeError(f"{port} has no node name yet", "give it one with --name NODE_ID")


def reset(port: str) -> None:
    """machine.reset(): the board reboots into main.py (a soft reset from mpremote's raw REPL
    would not run main.py). The port may vanish meanwhile (USB), so mpremote's exit is moot."""
    try:
        mpremote(port, "reset", timeout=30)
    except CuenodeError:
        pass


def confirm_hello(port: str, name: str) -> None:
    from cuenode.node import ops

    deadline = time.monotonic() + HELLO_WAIT_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with ops.connect(port) as s:
                if s.info.node_id == name:
                    return
                last = f"it answers as '{s.info.node_id}'"
        except CuenodeError as exc:
            last = exc.format_message()
        time.sleep(0.2)
    raise CuenodeError(
        f"{port}: flashed, but cuenode did not come up as '{name}' ({last})",
        "see the board's output with `mpremote connect PORT repl`",
    )


# --- back into the firmware (`cuenode reset`) --------------------------------------------------


def restart(port: str) -> dict:
    """machine.reset() through the REPL (mpremote's CR Ctrl-C CR hands a running show over
    first), then wait until cuenode answers: the node is as after a power cut."""
    from cuenode.node import ops

    reset(port)
    deadline = time.monotonic() + HELLO_WAIT_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with ops.connect(port) as s:
                st = ops.status(s)
                nxt = st.get("next")
                where = f"standing by at cue {nxt}" if nxt not in (None, "") else "standing by"
                return {"node": s.info.node_id, "standing_by": where}
        except CuenodeError as exc:
            last = exc.message
        time.sleep(0.2)
    raise CuenodeError(
        f"{port}: reset, but cuenode did not come back ({last})",
        f"if the board has no cuenode firmware, flash it: `cuenode flash --port {port} "
        "--name NODE_ID`",
    )


def restart_outcome(target: Any) -> Any:
    """restart() as a fleet Outcome (for running on many ports in parallel)."""
    from cuenode.node.fleet import Outcome

    outcome = Outcome(target.port, target.name)
    try:
        outcome.result = restart(target.port)
        outcome.node = outcome.result["node"] or target.name
    except CuenodeError as exc:
        outcome.error = exc.format_message()
    return outcome
