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
import json
import re
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.emulator.pico import DMX_TX_GPIO
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import prepared_image
from cuenode.emulator.pico.pins import PinTrace
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
    for level, ns in trace.runs():
        if level == 0 and ns >= BREAK_NS:
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
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
