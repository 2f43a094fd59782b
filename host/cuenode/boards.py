"""Boards and board families, as plain data on the host.

A *board* is one data file in boards/ (pins, relays, buttons, LEDs, wiring). A *family* is
what every board of one chip shares: which firmware driver module runs it, how its modules
are compiled, which timer feeds the watchdog at the REPL, where its USB serial is, and what
MicroPython on it says it is. `FAMILIES` is the one table of that: the node image builder
(cuenode.build.image), `cuenode flash`, the emulator and — written into each node's board.py
by the image builder — the firmware read it.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cuenode.paths import BOARDS_DIR


@dataclass(frozen=True)
class Family:
    name: str
    driver: str  # the firmware module with this family's DMX output and serial (firmware/)
    mpy_arch: str | None  # mpy-cross -march for the cuefw modules; None: they ship as source
    timer_id: int  # machine.Timer id that feeds the watchdog while the REPL has the port
    default_board: str  # boards/<name>.py that `cuenode flash` installs when it detects one
    probe_words: tuple[str, ...]  # in MicroPython's `sys.implementation._machine` / uname


# rp2: the timer is a virtual one (-1, a soft timer); esp32 has no virtual timers, so
# hardware timer 0. The emulator runs the firmware as source (CPython or the WebAssembly
# MicroPython), so nothing is precompiled for it.
FAMILIES: dict[str, Family] = {
    "rp2": Family("rp2", "board_rp2", "armv6m", -1, "pico", ("rp2040", "rp2350", "\nrp2")),
    "esp32": Family("esp32", "board_esp32", "xtensawin", 0, "esp32_devkitc", ("esp32",)),
    "emulator": Family("emulator", "board_emu", None, -1, "emulator", ("cuenode emulator",)),
}


@dataclass(frozen=True)
class Board:
    name: str
    family: str
    description: str
    relays: dict[str, tuple[int, int]]
    buttons: dict[str, tuple[int, str]]
    path: Path

    @property
    def chip(self) -> Family:
        return FAMILIES[self.family]


@cache
def load_board(name: str) -> Board | None:
    path = BOARDS_DIR / f"{name}.py"
    if not path.is_file():
        return None
    data = runpy.run_path(str(path))
    return Board(
        name=data["BOARD"],
        family=data["FAMILY"],
        description=data["DESCRIPTION"],
        relays=dict(data["RELAYS"]),
        buttons=dict(data["BUTTONS"]),
        path=path,
    )


def board_names() -> list[str]:
    return sorted(p.stem for p in Path(BOARDS_DIR).glob("*.py") if not p.stem.startswith("_"))


def family_for_probe(probe_output: str) -> Family | None:
    """The family whose MicroPython says `probe_output` (the emulator first: it also names the
    RP2040 it pretends to be)."""
    text = probe_output.lower()
    for name in ("emulator", "rp2", "esp32"):
        if any(word in text for word in FAMILIES[name].probe_words):
            return FAMILIES[name]
    return None
