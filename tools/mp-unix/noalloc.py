# Run in the MicroPython unix port (tests/test_micropython_unix.py): 1,000 engine frames with
# every channel fading, on the loops the engine chose (native here), under
# micropython.heap_lock(): any allocation raises MemoryError. The 2**30 ticks wrap is not
# crossed here (this port wraps at 2**62): the WebAssembly no-allocation test covers it.
# Prints one JSON line per case.
import json
import sys

import micropython

sys.path[:0] = ["firmware"]
from cuefw.compat import ticks_add  # noqa: E402
from cuefw.engine import Engine  # noqa: E402
from cuefw.eventlog import EventLog  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.showfile import ShowReader  # noqa: E402
from cuefw.universe import Universe  # noqa: E402


def frames_under_lock(tick, now, n):
    micropython.heap_lock()
    try:
        i = 0
        while i < n:
            now = ticks_add(now, 23)
            tick(now)
            i += 1
    except MemoryError:
        micropython.heap_unlock()
        return False
    micropython.heap_unlock()
    return True


def case(show):
    with open("tests/firmware/data/" + show, "rb") as f:
        log = EventLog(64)
        eng = Engine(Universe(), RelayGovernor(4, log), log)
        eng.load(ShowReader(f), 0)
        eng.go(0)
        for t in (23, 46, 69):  # the first frames after GO may still settle fade groups
            eng.tick(t)
        ok = frames_under_lock(eng.tick, 69, 1000)
    return {"show": show, "no_alloc": ok, "fading": eng.fading, "loops": eng.paths()}


for result in (case("wide.cnshow"), case("wide16.cnshow")):
    print(json.dumps(result))
print(json.dumps({"show": "control", "no_alloc": frames_under_lock(lambda now: [now], 0, 1)}))
