# ruff: noqa: UP031 - MicroPython code, % formatting as in firmware/
# Runs ON the emulated Pico (bench/pico/chip.py installs it with the bench shows under /bench
# and runs it through mpremote): the engine's costs on the chip's own clock. time.ticks_us()
# there reads the simulated clock, so a µs is 125 RP2040 cycles. Prints "RESULT name value".
# The shared bench code (go_cost.py, effects_frames.py) is the same the WebAssembly, CPython
# and unix-port figures in docs/performance.md come from.
import gc
import sys
from time import ticks_diff, ticks_us

sys.path.append("/bench")
from cuefw.compat import ticks_add  # noqa: E402
from cuefw.engine import Engine  # noqa: E402
from cuefw.eventlog import EventLog  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.showfile import ShowReader  # noqa: E402
from cuefw.universe import Universe  # noqa: E402

DATA = "/bench/"
FRAMES = 12  # ticks timed per case (best of them: the VM has no other load here)


def clock_ms():
    return ticks_us() / 1000


def engine(show, fast):
    f = open(DATA + show, "rb")  # noqa: SIM115 - streamed from, as on the node
    log = EventLog(64)
    eng = Engine(Universe(), RelayGovernor(4, log), log, fast=fast)
    eng.load(ShowReader(f), 0)
    return eng, f


def tick_us(show, fast):
    eng, f = engine(show, fast)
    eng.go(0)
    now = 23
    eng.tick(now)
    best = None
    for _ in range(FRAMES):
        now = ticks_add(now, 1)  # 1 ms a frame: the long fades keep every channel moving
        t0 = ticks_us()
        eng.tick(now)
        us = ticks_diff(ticks_us(), t0)
        best = us if best is None or us < best else best
    assert eng.fading
    paths = eng.paths()
    f.close()
    return best, paths


def go_us(fast, repeat=5):
    eng, f = engine("wide.cnshow", fast)
    best = None
    t = 1000
    for _ in range(repeat):
        eng.goto(0, t)
        eng.tick(t + 5)
        t0 = ticks_us()
        eng.go(t + 10)
        us = ticks_diff(ticks_us(), t0)
        best = us if best is None or us < best else best
        t += 100_000
    f.close()
    return best


def result(name, value):
    print("RESULT %s %s" % (name, value))


def run():
    gc.collect()
    for fast in (False, True):
        key = "native" if fast else "plain"
        us, paths = tick_us("wide.cnshow", fast)
        result("tick_512x8_us:" + key, us)
        result("paths:" + key, "frame=%s,go=%s" % (paths["frame"], paths["go"]))
        result("tick_256x16_us:" + key, tick_us("wide16.cnshow", fast)[0])
        result("go_512_changes_us:" + key, go_us(fast))
        gc.collect()
    import go_cost

    go_cost.REPEAT = 5
    for name, ms in go_cost.measure("/bench", clock_ms).items():
        if name not in ("runtime", "repeat"):
            result(name + "_us", int(ms * 1000))
    gc.collect()
    import effects_frames

    for name, v in effects_frames.measure(DATA + "fx512.cnshow", 20).items():
        result("fx:" + name, v)
    result("done", 1)


run()
