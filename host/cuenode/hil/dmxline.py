"""Decode a DMX512 line from its level changes: break, mark after break, every slot.

The HIL suite measures what is on the pin. Its input is a list of edges `(t_us, level)` (the
level the line takes at t_us), from whatever watched the line: the jig's PIO timestamps on
real hardware, the emulated Pico's GPIO recorder, or the CPython emulator's transmitter
(rendered to edges by `edges_from_frames`, so every target goes through this one decoder).
The decoder is a plain UART receiver at 250 kbit/s, 8N2, sampling each bit at its middle from
the start bit's falling edge, as a DMX receiver does. A low run longer than a whole slot
(11 bits, 44 us: a UART's break condition) is a break, whatever its length, so a short break
is measured and judged by the checks (E1.11 wants >= 92 us sent, >= 88 us accepted) rather
than silently not decoded.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

BIT_US = 4.0
BREAK_MIN_US = 11 * BIT_US  # longer than any slot's low run (a 0x00 slot is low 36 us)


@dataclass
class Packet:
    t_us: float  # start of the break
    break_us: float
    mab_us: float
    data: bytearray = field(default_factory=bytearray)  # start code first
    starts_us: list[float] = field(default_factory=list)  # each slot's start-bit edge
    framing_errors: int = 0

    def slot_times_us(self) -> list[float]:
        return [b - a for a, b in zip(self.starts_us, self.starts_us[1:], strict=False)]


class Line:
    """Level lookup over a sorted edge list."""

    def __init__(self, edges: Sequence[tuple[float, int]], idle: int = 1) -> None:
        self.times = [t for t, _ in edges]
        self.levels = [lv for _, lv in edges]
        self.idle = idle

    def level_at(self, t_us: float) -> int:
        i = bisect_right(self.times, t_us)
        return self.levels[i - 1] if i else self.idle

    def next_edge(self, after_us: float, level: int) -> float | None:
        """Time of the first change to `level` strictly after `after_us`."""
        i = bisect_right(self.times, after_us)
        while i < len(self.times):
            if self.levels[i] == level and (i == 0 or self.levels[i - 1] != level):
                return self.times[i]
            i += 1
        return None


def decode(edges: Sequence[tuple[float, int]], end_us: float | None = None) -> list[Packet]:
    """Every complete packet on the line (a packet cut off by `end_us` is left out)."""
    line = Line(edges)
    end = end_us if end_us is not None else (line.times[-1] if line.times else 0.0)
    packets: list[Packet] = []
    t = line.next_edge(-1e18, 0)
    while t is not None:
        rise = line.next_edge(t, 1)
        if rise is None:
            break
        if rise - t < BREAK_MIN_US:
            t = line.next_edge(rise, 0)
            continue
        packet, t = _read_packet(line, t, rise, end)
        if packet is not None:
            packets.append(packet)
    return packets


def _read_packet(
    line: Line, brk: float, rise: float, end: float
) -> tuple[Packet | None, float | None]:
    """Slots after one break; returns the packet and the next falling edge after it."""
    first = line.next_edge(rise, 0)
    if first is None:
        return None, None
    packet = Packet(brk, rise - brk, first - rise)
    start: float | None = first
    while start is not None and start + 11 * BIT_US <= end:
        if line.next_edge(start, 1) is not None and _is_break(line, start):
            return _close(packet), start
        byte, ok = _read_slot(line, start)
        packet.data.append(byte)
        packet.starts_us.append(start)
        packet.framing_errors += 0 if ok else 1
        start = line.next_edge(start + 10 * BIT_US, 0)
    if start is None and packet.data:
        return packet, None  # the line went idle: the last packet ended cleanly
    return None, start  # cut off by the end of the recording


def _close(packet: Packet) -> Packet | None:
    return packet if packet.data else None


def _is_break(line: Line, fall: float) -> bool:
    rise = line.next_edge(fall, 1)
    return rise is not None and rise - fall >= BREAK_MIN_US


def _read_slot(line: Line, start: float) -> tuple[int, bool]:
    value = 0
    for bit in range(8):
        if line.level_at(start + (1.5 + bit) * BIT_US):
            value |= 1 << bit
    stops_high = line.level_at(start + 9.5 * BIT_US) and line.level_at(start + 10.5 * BIT_US)
    return value, bool(stops_high) and not line.level_at(start + 0.5 * BIT_US)


def edges_from_frames(frames: Iterable[object]) -> list[tuple[float, int]]:
    """The line a transmitter drew for emulator frames (t_us, break_us, mab_us, data)."""
    edges: list[tuple[float, int]] = []
    for f in frames:
        t = float(f.t_us)  # type: ignore[attr-defined]
        edges.append((t, 0))
        t += f.break_us  # type: ignore[attr-defined]
        edges.append((t, 1))
        t += f.mab_us  # type: ignore[attr-defined]
        for byte in f.data:  # type: ignore[attr-defined]
            t = _slot_edges(edges, t, byte)
    return _merge(edges)


def _slot_edges(edges: list[tuple[float, int]], t: float, byte: int) -> float:
    bits = [0] + [(byte >> i) & 1 for i in range(8)] + [1, 1]
    for bit in bits:
        edges.append((t, bit))
        t += BIT_US
    return t


def _merge(edges: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Only real changes, in time order (a frame's start may repeat a level)."""
    out: list[tuple[float, int]] = []
    level = 1
    for t, lv in sorted(edges, key=lambda e: e[0]):
        if lv != level:
            out.append((t, lv))
            level = lv
    return out
