"""A board's HIL wiring, read from its data file (boards/<board>.py, `HIL_JIG`).

One description per board: each node signal (the DMX TX pin, every button, relay and LED,
and the node's power) and the jig Pico's GPIO it is wired to. The jig drives buttons
(open-drain, so a press pulls the node's pull-up low), senses relays and LEDs, timestamps
the DMX line with PIO, and may switch the node's power through a relay.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from typing import Any

from cuenode.paths import BOARDS_DIR

JIG_GPIOS = range(0, 29)  # a Pico's usable GPIOs (GP0..GP28)
SECTIONS = ("dmx", "buttons", "relays", "leds", "power")


@dataclass(frozen=True)
class Wire:
    section: str  # dmx, buttons, relays, leds, power
    signal: str  # the node's name for it (DMX_TX, B1, R1, STATUS, POWER)
    node_gpio: int | None  # None for power (the node's supply, not a GPIO)
    jig_gpio: int


def board_data(board: str) -> dict[str, Any]:
    return runpy.run_path(str(BOARDS_DIR / f"{board}.py"))


def wires(board: str) -> list[Wire]:
    data = board_data(board)
    jig = data["HIL_JIG"]
    node_pins = {
        "dmx": {"DMX_TX": data["DMX_TX"]},
        "buttons": {k: v[0] for k, v in data["BUTTONS"].items()},
        "relays": {k: v[0] for k, v in data["RELAYS"].items()},
        "leds": {"STATUS": data["STATUS_LED"], **data.get("BUTTON_LEDS", {})},
    }
    out = []
    for section in SECTIONS:
        if section == "power":
            out.append(Wire("power", "POWER", None, jig["power"]))
            continue
        for signal, jig_gpio in jig[section].items():
            out.append(Wire(section, signal, node_pins[section][signal], jig_gpio))
    return out


def problems(board: str) -> list[str]:
    """What is wrong with a board's HIL_JIG: unknown signals, jig pins used twice or invalid."""
    data = board_data(board)
    jig = data.get("HIL_JIG")
    if not isinstance(jig, dict) or set(jig) != set(SECTIONS):
        return [f"{board}: HIL_JIG must have exactly the sections {', '.join(SECTIONS)}"]
    found = []
    try:
        ws = wires(board)
    except KeyError as exc:
        return [f"{board}: HIL_JIG names {exc.args[0]!r}, which the board does not have"]
    used: dict[int, str] = {}
    for w in ws:
        if w.jig_gpio not in JIG_GPIOS:
            found.append(f"{board}: {w.signal} -> jig GP{w.jig_gpio} is not a Pico GPIO")
        if w.jig_gpio in used:
            found.append(f"{board}: jig GP{w.jig_gpio} wired to {used[w.jig_gpio]} and {w.signal}")
        used[w.jig_gpio] = w.signal
    wired = {w.signal for w in ws}
    for signal in [*data["BUTTONS"], *data["RELAYS"]]:
        if signal not in wired:
            found.append(f"{board}: {signal} is not wired to the jig")
    return found


def markdown_table(board: str) -> str:
    rows = ["| what | node signal | node GPIO | jig Pico GPIO |", "| --- | --- | --- | --- |"]
    for w in wires(board):
        node = "supply (via relay)" if w.node_gpio is None else str(w.node_gpio)
        rows.append(f"| {w.section} | {w.signal} | {node} | GP{w.jig_gpio} |")
    return "\n".join(rows)
