"""The cuenode firmware measured on the emulated Pico (the project's own runner, rp2040js).

    .venv/bin/python bench/pico/chip.py [frames|cycles|golatency|heap|boot|all] [--show FILE]

Every figure is simulated time on the chip: the RP2040 at 125 MHz (8 ns a cycle); on the chip
time.ticks_us() reads that clock, and the pins are recorded on it. Nothing here depends on
how fast the host is (a loaded machine only takes longer).

frames     DMX packets per simulated second and break-to-break period, off GPIO0, standing by
           and while a cue fades.
cycles     engine tick with 512 8-bit / 256 16-bit channels fading, GO/GOTO/BACK/STOP of 512
           parameters, the plain and native (viper) loops, effects per frame (chip_cycles.py).
golatency  GO button edge (GPIO6 pulled low) to the first DMX packet carrying the cue, on the pins.
heap       gc.mem_free() of the example shows standing by and at each cue (heap_main.py).
boot       reset to the first DMX packet on GPIO0.
"""

from __future__ import annotations

import argparse
import bisect
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.emulator.pico import DMX_TX_GPIO
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import prepared_image
from cuenode.emulator.pico.pins import PinTrace, record
from cuenode.paths import EXAMPLES_DIR, REPO_ROOT

HERE = Path(__file__).resolve().parent
CACHE = REPO_ROOT / ".cuenode" / "cache"
B1_GPIO = 6  # boards/pico.py BUTTONS["B1"]
BREAK_NS = 88_000  # a low this long is a break (DMX receivers accept >= 88 us)
BOOTED_S = 1.5


@contextmanager
def booted(node: str, show: bytes, extra: dict[str, bytes] | None = None) -> Iterator[EmulatedPico]:
    """One emulated Pico with the firmware, `show` as show.bin and `extra` files installed."""
    image = prepared_image(CACHE, node, {"show.bin": show, **(extra or {})})
    with tempfile.TemporaryDirectory() as tmp, EmulatedPico(tmp, node, image=image) as chip:
        yield chip


def show_bytes(path: Path, node: str) -> bytes:
    return compile_file(path)[node]


def packet_starts(trace: PinTrace) -> list[int]:
    """Simulated ns at which each break starts (a low of >= 88 us)."""
    starts, t = [], trace.t0_ns
    for k, (level, ns) in enumerate(trace.runs()):
        if k and level == 0 and ns >= BREAK_NS:  # the first run is cut by the record
            starts.append(t)
        t += ns
    return starts


def period_figures(starts: list[int]) -> dict[str, float]:
    periods = sorted(b - a for a, b in zip(starts, starts[1:], strict=False))
    pct = lambda q: periods[min(len(periods) - 1, int(q * len(periods)))] / 1e6  # noqa: E731
    span_s = (starts[-1] - starts[0]) / 1e9
    return {
        "packets": len(starts),
        "packets_per_s": round((len(starts) - 1) / span_s, 2),
        "period_ms_min": periods[0] / 1e6,
        "period_ms_p50": pct(0.5),
        "period_ms_p99": pct(0.99),
        "period_ms_max": periods[-1] / 1e6,
        "mean_ms": round(statistics.fmean(periods) / 1e6, 4),
    }


def measure_frames(chip: EmulatedPico, seconds: float) -> dict[str, float]:
    trace = chip.record([DMX_TX_GPIO], seconds)[DMX_TX_GPIO]
    return period_figures(packet_starts(trace))


def frames(show: bytes, node: str, seconds: float, extra: dict[str, bytes] | None = None) -> dict:
    with booted(node, show, extra) as chip:
        chip.until_sim(BOOTED_S)
        standing = measure_frames(chip, seconds)
        chip.press(B1_GPIO)
        chip.wait_sim(0.06)
        chip.release(B1_GPIO)
        fading = measure_frames(chip, seconds)
    return {"standing_by": standing, "cue_1_fading": fading}


RESULT = re.compile(r"^RESULT (\S+) (.*)$")


def results(text: str) -> dict[str, str]:
    """`RESULT name value` lines the chip printed."""
    return {m[1]: m[2] for line in text.splitlines() if (m := RESULT.match(line.strip()))}


def level_at(trace: PinTrace, ns: int) -> int:
    i = bisect.bisect_right(trace.edges, (ns, 2))
    return trace.edges[i - 1][1] if i else trace.start


def packet_bytes(trace: PinTrace, start_ns: int, n: int = 513) -> bytes:
    """The slots of the packet whose break starts at start_ns, read at the bit centres (the
    PIO's timing is exact: break 176 us, MAB 12 us, 44 us a slot, 4 us a bit)."""
    out = bytearray()
    for k in range(n):
        slot = start_ns + (188 + 44 * k) * 1000
        out.append(sum(level_at(trace, slot + (4 * (1 + b) + 2) * 1000) << b for b in range(8)))
    return bytes(out)


def go_latency(show: bytes, node: str) -> dict[str, float]:
    """B1 pulled low at its pin -> the first packet on GPIO0 whose levels differ from standby."""
    with booted(node, show) as chip:
        chip.until_sim(BOOTED_S)
        traces: dict[int, PinTrace] = {}
        with chip.node.world(timeout=30) as io:
            rec = threading.Thread(
                target=lambda: traces.update(record(io, [B1_GPIO, DMX_TX_GPIO], 0.4))
            )
            rec.start()
            chip.wait_sim(0.1)  # standby packets first
            chip.press(B1_GPIO)
            chip.wait_sim(0.08)
            chip.release(B1_GPIO)
            rec.join()
    b1, dmx = traces[B1_GPIO], traces[DMX_TX_GPIO]
    edge = next(t for t, level in b1.edges if level == 0)
    starts = [t for t in packet_starts(dmx) if t + 23_000_000 <= dmx.t1_ns]
    standby = packet_bytes(dmx, starts[0])
    first = next(t for t in starts if packet_bytes(dmx, t) != standby)
    return {
        "edge_to_break_ms": (first - edge) / 1e6,
        "edge_to_packet_end_ms": (first + 22_760_000 - edge) / 1e6,
    }


def boot_to_dmx(show: bytes, node: str) -> dict[str, float]:
    """Reset (the chip's clock at 0) to the first break on GPIO0, and to the first packet with
    the show's standby look."""
    with booted(node, show) as chip:
        trace = chip.record([DMX_TX_GPIO], 1.5 - chip.sim_time())[DMX_TX_GPIO]
    starts = packet_starts(trace)
    return {"recorded_from_s": trace.t0_ns / 1e9, "first_break_s": starts[0] / 1e9}


HEAP = re.compile(r"^(HEAP|CUE|FRAMES) (.*)$")


def heap(show: bytes, node: str) -> list[str]:
    """heap_main.py as main.py: the real application plus a task printing gc.mem_free()
    standing by and through each cue (read off the USB serial)."""
    import serial

    extra = {"main.py": (HERE / "heap_main.py").read_bytes()}
    lines: list[str] = []
    with booted(node, show, extra) as chip, serial.Serial(chip.port, timeout=1) as port:
        deadline = time.monotonic() + 1800  # a hang guard only
        while time.monotonic() < deadline:
            line = port.readline().decode(errors="replace").strip()
            if m := HEAP.match(line):
                lines.append(line)
                if m[2] == "done":
                    break
            elif "Error" in line:
                raise RuntimeError(line)
    return lines


BENCH_FILES = ("go_cost.py", "engine_frames.py", "effects_frames.py")
BENCH_SHOWS = ("wide.cnshow", "wide16.cnshow", "tracking.cnshow", "fx512.cnshow")


def bench_files() -> dict[str, bytes]:
    """The shared bench code and shows, under /bench on the chip's drive."""
    data = REPO_ROOT / "tests" / "firmware" / "data"
    files = {f"bench/{n}": (REPO_ROOT / "bench" / n).read_bytes() for n in BENCH_FILES}
    files.update({f"bench/{n}": (data / n).read_bytes() for n in BENCH_SHOWS})
    files["bench/chip_cycles.py"] = (HERE / "chip_cycles.py").read_bytes()
    return files


def cycles(show: bytes, node: str) -> dict[str, object]:
    """chip_cycles.py on the chip (through mpremote, main.py interrupted): µs and cycles."""
    with booted(node, show, bench_files()) as chip:
        chip.until_sim(BOOTED_S)
        out = results(chip.exec("import sys; sys.path.append('/bench'); import chip_cycles"))
    if "done" not in out:
        raise RuntimeError(f"chip_cycles.py did not finish: {out}")
    figures: dict[str, object] = {}
    for name, value in out.items():
        if name.endswith("_us") or "_us:" in name:
            us = float(value)
            figures[name] = {"us": us, "cycles": round(us * 125)}
        else:
            figures[name] = value
    return figures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", nargs="?", default="all")
    ap.add_argument("--show", type=Path, default=EXAMPLES_DIR / "theatre.yaml")
    ap.add_argument("--node", default="sl")
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args(argv)
    show = show_bytes(args.show, args.node)
    out: dict[str, object] = {}
    if args.what in ("frames", "all"):
        out["frames"] = frames(show, args.node, args.seconds)
    if args.what in ("cycles", "all"):
        out["cycles"] = cycles(show, args.node)
    if args.what in ("golatency", "all"):
        out["go_latency"] = go_latency(show, args.node)
    if args.what in ("boot", "all"):
        out["boot"] = boot_to_dmx(show, args.node)
    if args.what in ("heap", "all"):
        out["heap"] = heap(show, args.node)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
