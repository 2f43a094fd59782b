"""Pin edges recorded on an emulated Pico's simulated clock, and what is made of them: a
sigrok capture (1 MHz binary, bit 0 = the pin), a VCD, and the node's speed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuenode.emulator.client import WorldClient

SAMPLERATE = 1_000_000
DMX_FRAME_S = 0.023  # a full universe and its break: what one frame of capture spans
DECODE = (
    "sigrok-cli -i {bin} -I binary:numchannels=1:samplerate=1000000 "
    "-P uart:rx=0:baudrate=250000:stop_bits=2.0 -A uart --protocol-decoder-samplenum"
)


@dataclass(frozen=True)
class PinTrace:
    """One pin from t0 to t1 (simulated ns): its level at t0 and each change after."""

    gpio: int
    t0_ns: int
    t1_ns: int
    start: int
    edges: list[tuple[int, int]]  # (simulated ns, new level)

    @property
    def seconds(self) -> float:
        return (self.t1_ns - self.t0_ns) / 1e9

    def runs(self) -> list[tuple[int, int]]:
        """(level, duration ns) of every stretch between changes, t0 to t1."""
        out, level, t = [], self.start, self.t0_ns
        for when, new in self.edges:
            out.append((level, when - t))
            level, t = new, when
        out.append((level, self.t1_ns - t))
        return out

    def to_sigrok(self) -> bytes:
        """1 MHz samples, one byte each; sample k is the level at t0 + k µs."""
        n = (self.t1_ns - self.t0_ns) // 1000
        samples = bytearray([self.start & 1]) * n
        level, k = self.start, 0
        for when, new in self.edges:
            j = min(n, -(-(when - self.t0_ns) // 1000))  # first sample at or after the edge
            samples[k:j] = bytes([level & 1]) * (j - k)
            level, k = new, j
        samples[k:n] = bytes([level & 1]) * (n - k)
        return bytes(samples)

    def to_vcd(self, name: str = "pin") -> str:
        lines = ["$timescale 1 ns $end", f"$scope module {name} $end", "$var wire 1 ! gp $end"]
        lines += ["$upscope $end", "$enddefinitions $end", "#0", f"{self.start}!"]
        for when, level in self.edges:
            lines += [f"#{when - self.t0_ns}", f"{level}!"]
        return "\n".join(lines + [f"#{self.t1_ns - self.t0_ns}"]) + "\n"


def record(io: WorldClient, gpios: list[int], seconds: float) -> dict[int, PinTrace]:
    """Record `gpios` for `seconds` of simulated time from now (the reply comes then)."""
    wall_guard = 120 + 60 * seconds  # a hang guard only: the chip may run 1/20 of real time
    msg = io.request("record", timeout=wall_guard, gpios=gpios, us=int(seconds * 1e6))
    return {g: _trace(g, msg) for g in gpios}


def _trace(gpio: int, msg: dict[str, Any]) -> PinTrace:
    edges = [(int(t), int(v)) for t, v in msg["edges"][str(gpio)]]
    return PinTrace(gpio, int(msg["t0_ns"]), int(msg["t1_ns"]), int(msg["start"][str(gpio)]), edges)


def write_pin_capture(trace: PinTrace, stem: Path, node_id: str) -> list[Path]:
    """STEM.bin (sigrok binary), STEM.vcd, STEM.json (what was recorded, how to decode)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".bin"), stem.with_suffix(".vcd"), stem.with_suffix(".json")]
    paths[0].write_bytes(trace.to_sigrok())
    paths[1].write_text(trace.to_vcd(node_id))
    meta = {
        "node": node_id,
        "source": f"GPIO{trace.gpio} of an emulated RP2040, simulated clock",
        "samplerate": SAMPLERATE,
        "t0_ns": trace.t0_ns,
        "t1_ns": trace.t1_ns,
        "edges": len(trace.edges),
        "decode": DECODE.format(bin=paths[0].name),
    }
    paths[2].write_text(json.dumps(meta, indent=1))
    return paths


def speed_text(state: dict[str, Any]) -> str:
    """'' at real time; else how fast simulated time runs, so it never passes as real time."""
    ratio = state.get("sim_per_wall")
    if ratio is None or 0.95 <= ratio <= 1.05:
        return ""
    pace = "SLOWER" if ratio < 1 else "FASTER"
    return f"{pace} THAN REAL TIME: {ratio:.2f} simulated s per wall s"
