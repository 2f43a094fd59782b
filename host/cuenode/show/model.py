"""The validated show, as the compiler consumes it.

`cuenode.show.load.load_show()` turns a YAML file into a `Show` (or a list of `Problem`s);
the compiler (`cuenode.build.compiler`) turns a `Show` into one compiled show per node. Times
are integer milliseconds, DMX values are raw integers (0..255, or 0..65535 for 16-bit
parameters) and cue numbers are integer thousandths (cue 12.25 -> 12250) so nothing
downstream sees a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

ButtonAction = Literal["go", "back", "stop", "fire"]
RelayActionKind = Literal["on", "off", "pulse"]
Curve = Literal["linear", "s-curve"]
FaultMode = Literal["hold", "blackout"]
EffectShape = Literal["sine", "ramp", "square", "chase"]
PHASES = 65536  # effect phases and widths are 65536ths of a cycle (the compiled format's unit)


class Mark(NamedTuple):
    """Where something was written: 1-based line and column in `path`. (A named tuple: a
    big show has a million of them, and a tuple is the smallest and quickest to make.)"""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One validation error: `show.yaml:LINE:COL: <key path>: <what is wrong>; <expected>`."""

    mark: Mark
    key_path: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        tail = f"; {self.expected}" if self.expected else ""
        return f"{self.mark}: {self.key_path}: {self.message}{tail}"


@dataclass(frozen=True)
class ParamDef:
    name: str
    offset: int  # 0-based channel offset within the fixture (coarse channel for 16-bit)
    fine_offset: int | None = None  # 16-bit parameters: offset of the fine channel
    default: int = 0  # raw value (0..255, or 0..65535 if 16-bit)

    @property
    def is16(self) -> bool:
        return self.fine_offset is not None

    @property
    def max_value(self) -> int:
        return 0xFFFF if self.is16 else 0xFF


@dataclass(frozen=True)
class FixtureType:
    name: str
    params: tuple[ParamDef, ...]
    footprint: int  # number of DMX channels the fixture occupies


@dataclass(frozen=True)
class Fixture:
    name: str
    type: FixtureType
    address: int  # DMX start address 1..512
    node: str  # id of the node whose universe drives it


@dataclass(frozen=True)
class Relay:
    name: str  # unique across the show (cues address relays by name)
    node: str
    pin: str  # board pin label, e.g. "R1"
    max_on_ms: int | None = None
    min_off_ms: int = 0
    duty_pct: int | None = None  # at most this % on within any duty_window_ms
    duty_window_ms: int = 60_000
    requires_arm: bool = False
    hazard: bool = False  # switched off at once by STOP/panic


@dataclass(frozen=True)
class Button:
    node: str
    pin: str  # board pin label, e.g. "B1"
    action: ButtonAction
    cue: int | None = None  # cue number (thousandths) for "fire"
    debounce_ms: int = 10
    stuck_s: int = 5


@dataclass(frozen=True)
class Node:
    id: str
    board: str  # board data file name in boards/, e.g. "pico"
    fixtures: tuple[str, ...]
    on_fault: FaultMode = "hold"
    go_protect_ms: int = 500
    stop_fade_ms: int = 2000


@dataclass(frozen=True)
class RelayAction:
    relay: str
    kind: RelayActionKind
    duration_ms: int = 0  # for pulse


@dataclass(frozen=True)
class Effect:
    """A looping effect (cuenode.show.effects): each frame its members' `param` shows
    cue value + offset + size x wave(position + member phase), clamped."""

    name: str
    shape: EffectShape
    param: str
    members: tuple[tuple[str, int], ...]  # (fixture, phase in 65536ths), in target order
    period_ms: int
    size: int  # raw, peak to peak
    offset: int = 0  # raw, signed
    width: int = PHASES // 2  # square/chase: high for this many 65536ths of the cycle


@dataclass(frozen=True)
class CuePart:
    """Levels of a cue with timing of their own (an Eos part): a parameter set in a part
    fades with the part's times instead of the cue's."""

    levels: dict[tuple[str, str], int]
    up_ms: int = 0
    down_ms: int = 0
    delay_ms: int = 0
    curve: Curve = "linear"


@dataclass(frozen=True)
class Cue:
    number: int  # thousandths
    label: str = ""
    # explicit levels in this cue: (fixture name, parameter name) -> raw value
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    up_ms: int = 0
    down_ms: int = 0
    delay_ms: int = 0
    follow_ms: int | None = None  # auto-continue this long after GO
    hang_ms: int | None = None  # auto-continue this long after the fade completes
    curve: Curve = "linear"
    relays: tuple[RelayAction, ...] = ()
    parts: tuple[CuePart, ...] = ()
    effects: tuple[tuple[str, bool], ...] = ()  # (effect name, True: start / False: stop)

    @property
    def all_levels(self) -> dict[tuple[str, str], int]:
        """Every level the cue sets: its own, then each part's (a part wins)."""
        if not self.parts:
            return self.levels
        levels = dict(self.levels)
        for part in self.parts:
            levels.update(part.levels)
        return levels


@dataclass(frozen=True)
class Show:
    name: str
    version: int
    fixtures: dict[str, Fixture]
    nodes: dict[str, Node]
    relays: dict[str, Relay]
    buttons: tuple[Button, ...]
    cues: tuple[Cue, ...]
    source: str = ""  # path of the YAML file
    effects: dict[str, Effect] = field(default_factory=dict)
