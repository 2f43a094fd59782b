# Per-frame cost of the cue engine with every channel fading. Plain Python that runs on both
# runtimes: bench_engine.py imports it under CPython and runs it as a script under MicroPython
# (tools/mp-wasm/runner.mjs --script bench/engine_frames.py), which prints one JSON line.
import json
import sys

from cuefw.compat import ticks_add
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe

FRAME_MS = 23
SHOWS = ("wide.cnshow", "wide16.cnshow")  # 512 8-bit / 256 16-bit (S-curve) parameters


def calibration_loop(n):
    """An integer loop shaped like the engine's hot loop (array reads, multiply, shift, store),
    timed on its own so runtimes can be compared on the same work."""
    src = bytearray(256)
    out = bytearray(513)
    acc = 0
    i = 0
    while i < n:
        q = i & 255
        out[q + 1] = (src[q] + ((q * 181 + 8192) >> 14)) & 255
        acc += q
        i += 1
    return acc


def time_frames(data_dir, show, frames, clock_ms):
    with open(data_dir + "/" + show, "rb") as f:
        log = EventLog(64)
        engine = Engine(Universe(), RelayGovernor(4, log), log)
        engine.load(ShowReader(f), 0)
        engine.go(0)
        now = 0
        for _ in range(3):
            now = ticks_add(now, FRAME_MS)
            engine.tick(now)
        start = clock_ms()
        i = 0
        while i < frames:
            now = ticks_add(now, FRAME_MS)
            engine.tick(now)
            i += 1
        elapsed = clock_ms() - start
        assert engine.fading, "the fade ended during the measurement"
        loops = time_hot_loops(engine, frames, clock_ms)
    return elapsed * 1000 / frames, loops  # microseconds per frame


def time_hot_loops(engine, frames, clock_ms):
    """The part of a frame spent in the two per-channel loops (cuefw/loops.py write8/write16),
    the part the viper loops replace on the chips; the rest of tick() stays Python."""
    if not hasattr(engine, "loops"):  # a baseline from before cuefw/loops.py
        return _time_old_hot_loops(engine, frames, clock_ms)
    lp, e = engine.loops, engine
    start = clock_ms()
    i = 0
    while i < frames:
        lp.write8(e.n8, e.grp, e.src, e.delta, e.prog, e.coarse, e.frame)
        if e.n8 < e.n_params:
            lp.write16(e.n8, e.n_params, e.grp, e.src, e.delta, e.prog, e.coarse, e.fine, e.frame)
        i += 1
    return (clock_ms() - start) * 1000 / frames


def _time_old_hot_loops(engine, frames, clock_ms):
    start = clock_ms()
    i = 0
    while i < frames:
        engine._write8()
        if engine.n8 < engine.n_params:
            engine._write16()
        i += 1
    return (clock_ms() - start) * 1000 / frames


def measure(data_dir, frames, loops, clock_ms):
    result = {"runtime": sys.implementation.name, "frames": frames}
    for show in SHOWS:
        best = None
        for _ in range(3):  # best of three: the least disturbed by the shared machine
            us = time_frames(data_dir, show, frames, clock_ms)
            best = us if best is None or us[0] < best[0] else best
        result[show] = best[0]
        result[show + ":loops"] = best[1]
    best = None
    for _ in range(3):
        start = clock_ms()
        calibration_loop(loops)
        ns = (clock_ms() - start) * 1e6 / loops
        best = ns if best is None or ns < best else best
    result["calibration_ns_per_iteration"] = best
    return result


if __name__ == "__main__":
    import mpharness  # MicroPython run by runner.mjs: a sub-millisecond clock from JavaScript

    print(
        "@@BENCH " + json.dumps(measure("/repo/tests/firmware/data", 300, 100000, mpharness.now_ms))
    )
