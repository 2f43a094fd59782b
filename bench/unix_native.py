# Plain vs native (viper) hot loops on the MicroPython unix port (x86-64), measured:
#   .venv/bin/micropython -X heapsize=192K bench/unix_native.py
# Per frame with all channels fading (engine tick) and a 512-change GO, each with fast=False
# (plain loops) and fast=True (the viper loops, taken after their self-check). A PC, not a
# chip: the ratio says how much of the work the native loops take off the VM, not RP2040 time.
import io
import json
import sys
import time

sys.path[:0] = ["firmware", "tests/firmware", "bench"]

from cuefw.compat import ticks_add  # noqa: E402
from cuefw.engine import Engine  # noqa: E402
from cuefw.eventlog import EventLog  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.showfile import ShowReader  # noqa: E402
from cuefw.universe import Universe  # noqa: E402

DATA = "tests/firmware/data/"


def engine(show, fast):
    with open(DATA + show, "rb") as f:
        data = f.read()
    log = EventLog(64)
    eng = Engine(Universe(), RelayGovernor(4, log), log, fast=fast)
    eng.load(ShowReader(io.BytesIO(data)), 0)
    return eng


def tick_us(show, fast, frames=300):
    """The best single frame (least disturbed by a shared machine)."""
    eng = engine(show, fast)
    eng.go(0)
    now = 23
    eng.tick(now)
    best = None
    for _ in range(frames):
        now = ticks_add(now, 1)  # 1 ms a frame: the long fades keep every channel moving
        start = time.ticks_us()
        eng.tick(now)
        us = time.ticks_diff(time.ticks_us(), start)
        best = us if best is None or us < best else best
    assert eng.fading
    return best


def go_us(fast, repeat=20):
    eng = engine("wide.cnshow", fast)
    best = None
    t = 1000
    for _ in range(repeat):
        eng.goto(0, t)
        eng.tick(t + 5)
        start = time.ticks_us()
        eng.go(t + 10)
        us = time.ticks_diff(time.ticks_us(), start)
        best = us if best is None or us < best else best
        t += 100_000
    return best


eng = engine("wide.cnshow", True)
if hasattr(eng, "paths"):
    paths = eng.paths()
else:  # a baseline from before cuefw/loops.py
    paths = {"frame": "native" if eng.fast else "plain", "go": "native" if eng.fast_go else "plain"}
result = {"paths_native": paths}
for fast in (False, True):
    key = "native" if fast else "plain"
    result["tick_512x8_us:" + key] = tick_us("wide.cnshow", fast)
    result["tick_256x16_us:" + key] = tick_us("wide16.cnshow", fast)
    result["go_512_changes_us:" + key] = go_us(fast)
print(json.dumps(result))
