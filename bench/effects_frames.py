# Per-frame cost of effects: engine.tick() with 512 parameters under four running effects
# (data/fx512.cnshow: sine, ramp, square, chase, 128 members each), against the same engine
# with no effect running (nothing fading either: the idle frame). Plain Python for every
# runtime: bench/bench_effects.py runs it under CPython, the MicroPython WebAssembly build and
# the MicroPython unix port; it prints one "@@FXBENCH {json}" line.
import json
import sys

from cuefw.compat import ticks_add
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe

FRAME_MS = 23


def clock_us():
    try:
        from time import ticks_diff, ticks_us  # MicroPython

        t0 = ticks_us()
        return lambda: ticks_diff(ticks_us(), t0)
    except ImportError:
        from time import perf_counter

        t0 = perf_counter()
        return lambda: int((perf_counter() - t0) * 1e6)


def per_frame_us(engine, now, frames, clock):
    start = clock()
    i = 0
    while i < frames:
        now = ticks_add(now, FRAME_MS)
        engine.tick(now)
        i += 1
    return (clock() - start) / frames, now


def measure(path, frames):
    clock = clock_us()
    with open(path, "rb") as f:
        log = EventLog(64)
        engine = Engine(Universe(), RelayGovernor(4, log), log)
        engine.load(ShowReader(f), 0)
        engine.go(0)
        now = 0
        engine.tick(now)
        effects, now = per_frame_us(engine, now, frames, clock)
        n_on = engine.effects.n_on
        engine.go(now)
        engine.tick(now)
        idle, now = per_frame_us(engine, now, frames, clock)
        assert n_on == 4 and engine.effects.n_on == 0 and not engine.fading
    return {
        "runtime": sys.implementation.name,
        "frames": frames,
        "members": 512,
        "effects_us": round(effects, 1),
        "idle_us": round(idle, 1),
        "per_member_us": round((effects - idle) / 512, 3),
        "fast": engine.fast,
    }


def show_path():
    for root in (".", "/repo"):  # the repository, or its mirror in the WebAssembly runner
        path = root + "/tests/firmware/data/fx512.cnshow"
        try:
            open(path, "rb").close()
            return path
        except OSError:
            pass
    raise OSError("tests/firmware/data/fx512.cnshow not found")


if __name__ == "__main__":
    print("@@FXBENCH " + json.dumps(measure(show_path(), 200)))
