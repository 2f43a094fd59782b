"""The virtual DMX line as a logic-analyser capture: sigrok binary (1 sample a byte, bit 0 is
the line) and VCD, with each frame's real break / mark-after-break / slot timing.

A slot on the line: start bit (low), 8 data bits LSB first, 2 stop bits (high), 4 us a bit.
Between packets the line idles high (mark before break). Decode a capture independently with
`sigrok-cli -i CAP.bin -I binary:numchannels=1:samplerate=1000000
-P uart:rx=0:baudrate=250000:stop_bits=2.0 -A uart --protocol-decoder-samplenum`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from cuenode.emulator.client import WorldClient
from cuenode.emulator.world import Frame

SAMPLERATE = 1_000_000  # 1 sample per microsecond
BIT_US = 4
LEAD_US = 200  # idle (mark) before the first break, so a decoder sees the falling edge


def line_segments(frame: Frame) -> list[tuple[int, int]]:
    """(level, duration_us) runs of one packet on the line, from its break to its last stop."""
    runs: list[tuple[int, int]] = [(0, frame.break_us), (1, frame.mab_us)]
    for byte in frame.data:
        bits = [0] + [(byte >> i) & 1 for i in range(8)] + [1, 1]
        for bit in bits:
            runs.append((bit, BIT_US))
    merged: list[tuple[int, int]] = []
    for level, dur in runs:
        if merged and merged[-1][0] == level:
            merged[-1] = (level, merged[-1][1] + dur)
        else:
            merged.append((level, dur))
    return merged


def transitions(frames: Sequence[Frame]) -> list[tuple[int, int]]:
    """(time_us, level) of every change, time 0 = LEAD_US before the first break."""
    if not frames:
        return []
    origin = frames[0].t_us - LEAD_US
    out: list[tuple[int, int]] = [(0, 1)]
    for frame in frames:
        t = frame.t_us - origin
        for level, dur in line_segments(frame):
            if out[-1][1] != level:
                out.append((t, level))
            t += dur
        if out[-1][1] != 1:
            out.append((t, 1))
    return out


def end_time(frames: Sequence[Frame]) -> int:
    origin = frames[0].t_us - LEAD_US
    return frames[-1].t_us - origin + frames[-1].duration_us() + LEAD_US


def to_sigrok_binary(frames: Sequence[Frame]) -> bytes:
    """1 MHz samples, one byte each (bit 0 = the DMX line)."""
    if not frames:
        return b""
    samples = bytearray(b"\x01" * end_time(frames))
    marks = transitions(frames) + [(len(samples), 1)]
    for (t, level), (t_next, _) in zip(marks, marks[1:], strict=False):
        if level == 0:
            samples[t:t_next] = bytes(t_next - t)
    return bytes(samples)


def to_vcd(frames: Sequence[Frame], node_id: str = "node") -> str:
    lines = [
        "$date cuenode emulator $end",
        "$version cuenode capture $end",
        "$timescale 1 us $end",
        f"$scope module {node_id} $end",
        "$var wire 1 ! dmx $end",
        "$upscope $end",
        "$enddefinitions $end",
    ]
    for t, level in transitions(frames):
        lines.append(f"#{t}")
        lines.append(f"{level}!")
    if frames:
        lines.append(f"#{end_time(frames)}")
    return "\n".join(lines) + "\n"


def write_capture(frames: Iterable[Frame], stem: Path, node_id: str = "node") -> list[Path]:
    """STEM.bin (sigrok binary), STEM.vcd and STEM.json (frame times, how to decode)."""
    frames = list(frames)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".bin"), stem.with_suffix(".vcd"), stem.with_suffix(".json")]
    paths[0].write_bytes(to_sigrok_binary(frames))
    paths[1].write_text(to_vcd(frames, node_id))
    meta = {
        "node": node_id,
        "samplerate": SAMPLERATE,
        "lead_us": LEAD_US,
        "frames": [
            {
                "seq": f.seq,
                "t_us": f.t_us,
                "break_us": f.break_us,
                "mab_us": f.mab_us,
                "slots": len(f.data) - 1,
            }
            for f in frames
        ],
        "decode": f"sigrok-cli -i {paths[0].name} -I binary:numchannels=1:samplerate=1000000 "
        "-P uart:rx=0:baudrate=250000:stop_bits=2.0 -A uart "
        "--protocol-decoder-samplenum",
    }
    paths[2].write_text(json.dumps(meta, indent=1))
    return paths


def capture_frames(io: WorldClient, frames: int, virtual: bool) -> list[Frame]:
    """The next `frames` DMX frames of a node (fewer if it stops sending for ~10 s). With
    virtual time the node is advanced one frame time (23 ms) at a time."""
    io.subscribe(dmx=True)
    deadline = time.monotonic() + 10 + frames * 0.03
    steps = 3 * frames + 10  # virtual time: a node sending frames needs `frames` steps
    while len(io.frames) < frames and time.monotonic() < deadline and steps > 0:
        if virtual:
            steps -= 1
            io.advance(ms=23)
        else:
            io.collect(0.05)
    io.subscribe(dmx=False)
    return list(io.frames)[:frames]
