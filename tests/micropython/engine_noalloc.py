# Run under MicroPython only (tests/test_mp_heap.py runs it with tools/mp-wasm/runner.mjs).
# 1,000 engine frames with all 512 channels fading allocate nothing: gc.mem_alloc() is the same
# before and after. In this build no garbage collection can run inside the call (see
# tools/mp-wasm/harness.py), so any allocation at all would show up in the difference.
# micropython.heap_lock() would be the stronger check, but in this build an allocation under
# the lock hangs the interpreter instead of raising MemoryError.
import gc
import json

from cuefw.compat import ticks_add
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe

FRAMES = 1000
FRAME_MS = 23  # one full DMX universe (22.7 ms)
# Start 10 s before the 30-bit ticks counter wraps: the run crosses the wrap.
START = (1 << 30) - 10000


def allocated_by(tick, now):
    """Bytes allocated by FRAMES calls of tick(now), now advancing one DMX frame each call."""
    gc.collect()  # only schedules a collection here; gc.disable() makes the intent explicit
    gc.disable()
    before = gc.mem_alloc()
    i = 0
    while i < FRAMES:  # no range object: the loop itself allocates nothing
        now = ticks_add(now, FRAME_MS)  # (now + FRAME_MS) could be a heap-allocated long int
        tick(now)
        i += 1
    after = gc.mem_alloc()
    gc.enable()
    return after - before, now


def measure(show):
    with open("/repo/tests/firmware/data/" + show, "rb") as f:
        log = EventLog(64)
        uni = Universe()
        engine = Engine(uni, RelayGovernor(4, log), log)
        engine.load(ShowReader(f), START)
        assert engine.go(START)
        now = START
        for _ in range(3):  # the first frames after GO may still settle fade groups
            now = ticks_add(now, FRAME_MS)
            engine.tick(now)
        frames_before = bytes(uni.frame)
        allocated, now = allocated_by(engine.tick, now)
    changed = sum(1 for i in range(1, 513) if uni.frame[i] != frames_before[i])
    return {
        "show": show,
        "frames": FRAMES,
        "allocated": allocated,
        "fading": engine.fading,
        "slots_changed": changed,
        "fast": engine.fast,
        "wrapped": now < START,
    }


def measure_effects():
    """parts.cnshow after its cue 2: two effects (a square on two 8-bit parameters, a sine
    on a 16-bit one) run every frame, and cue 2's 1 s fade runs during the first frames."""
    with open("/repo/tests/firmware/data/parts.cnshow", "rb") as f:
        log = EventLog(64)
        uni = Universe()
        engine = Engine(uni, RelayGovernor(4, log), log)
        engine.load(ShowReader(f), START)
        assert engine.go(START)
        now = ticks_add(START, 200)
        assert engine.go(now)
        engine.tick(now)
        allocated, now = allocated_by(engine.tick, now)
    return {
        "show": "parts.cnshow",
        "frames": FRAMES,
        "allocated": allocated,
        "effects": engine.effects.n_on,
        "wrapped": now < START,
    }


def control():
    """The measurement sees allocation: a tick that makes one small tuple per frame."""
    return {"show": "control", "allocated": allocated_by(lambda now: (now, now), START)[0]}


for result in (
    measure("wide.cnshow"),
    measure("wide16.cnshow"),
    measure_effects(),
    control(),
):
    print("@@NOALLOC " + json.dumps(result))
