"""Every pass/fail threshold of the HIL suite, named once, with where each number comes from.

A board may override any of them with a `HIL_THRESHOLDS = {name: value}` dict in its
`boards/<board>.py` (for example a board whose status round trip goes through a USB-UART
bridge). Checks look thresholds up by name; the report prints the name, the limit and the source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal["min", "max"]


@dataclass(frozen=True)
class Threshold:
    name: str
    limit: float
    kind: Kind  # "min": measured must be >= limit; "max": measured must be <= limit
    unit: str
    source: str
    native_usb_only: bool = False  # judged only on a real node's native USB link

    def passes(self, measured: float) -> bool:
        return measured >= self.limit if self.kind == "min" else measured <= self.limit

    def describe(self) -> str:
        sign = ">=" if self.kind == "min" else "<="
        return f"{sign} {self.limit:g} {self.unit}"


E1_11 = "ANSI E1.11 (DMX512-A)"
DESIGN = "DESIGN.md"
ISSUE = "HIL default (no standard says)"

# DMX timing for a transmitter, E1.11 table 6: break >= 92 us, MAB >= 12 us, 250 kbit/s +-2 %
# (so one 11-bit slot is 43.12..44.88 us), break-to-break >= 1204 us and <= 1 s.
_ALL = [
    Threshold("break_us_min", 92, "min", "us", E1_11 + ": transmitted break"),
    Threshold("mab_us_min", 12, "min", "us", E1_11 + ": transmitted mark after break"),
    Threshold("slot_us_min", 43.12, "min", "us", E1_11 + ": 11 bits at 250 kbit/s +2 %"),
    Threshold("slot_us_max", 44.88, "max", "us", E1_11 + ": 11 bits at 250 kbit/s -2 %"),
    Threshold("packet_slots", 513, "min", "slots", DESIGN + ": start code + 512 slots"),
    Threshold("break_to_break_us_min", 1204, "min", "us", E1_11 + ": break to break"),
    Threshold("break_to_break_us_max", 1_000_000, "max", "us", E1_11 + ": break to break"),
    Threshold("frame_rate_hz_min", 43, "min", "Hz", DESIGN + ": full universe at ~44 Hz"),
    Threshold("frame_jitter_p99_us", 1000, "max", "us", ISSUE + ": interval jitter p99"),
    Threshold("look_mismatches", 0, "max", "packets", DESIGN + ": the line carries the look"),
    Threshold("go_latency_p99_ms", 38, "max", "ms", DESIGN + ": debounce 10 + frame 23 + 5 ms"),
    Threshold("bounce_gos", 1, "max", "GOs", DESIGN + ": a bouncing press is one GO"),
    Threshold("relay_pulse_error_ms", 2, "max", "ms", DESIGN + ": relays switch on time (2 ms)"),
    Threshold("max_on_cut_late_ms", 2, "max", "ms", DESIGN + ": relay cut within 2 ms of max_on"),
    Threshold("stop_cut_ms", 2, "max", "ms", DESIGN + ": STOP cuts hazards at once"),
    Threshold("status_rtt_p99_ms", 20, "max", "ms", ISSUE + ": native USB", True),
    Threshold("push_speedup_min", 5, "min", "x", ISSUE + ": push vs mpremote cp", True),
    Threshold("stuck_report_s", 6, "max", "s", DESIGN + ": stuck after 5 s, reported next s"),
]
DEFAULTS: dict[str, Threshold] = {t.name: t for t in _ALL}


def for_board(overrides: dict[str, float] | None) -> dict[str, Threshold]:
    """The default thresholds with a board's `HIL_THRESHOLDS` applied (unknown names refused)."""
    table = dict(DEFAULTS)
    for name, value in (overrides or {}).items():
        if name not in table:
            known = ", ".join(sorted(table))
            raise KeyError(f"HIL_THRESHOLDS names {name!r}; known thresholds: {known}")
        table[name] = replace(table[name], limit=float(value), source="board override")
    return table
