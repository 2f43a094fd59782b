# ruff: noqa: UP031 - MicroPython code, % formatting as in firmware/
# A measurement main.py for the emulated Pico (bench/pico/measure.py stages it instead of the
# tiny main.py): runs the real application (nodeapp.main) with one extra task that prints the
# heap standing by, then GOes through the show's cues and prints the heap during each.
# "status" is gc.mem_free() as the node's status reports it (garbage not yet collected counts
# as used); "live" is after gc.collect() (what the firmware really holds).
import asyncio
import gc
from time import ticks_diff, ticks_ms, ticks_us

import nodeapp

CUES = 12  # GO this many times, one GO every STEP_MS
STEP_MS = 1500
SAMPLE_MS = 50


def heap(tag):
    status = gc.mem_free()
    t0 = ticks_us()
    gc.collect()
    took = ticks_diff(ticks_us(), t0)
    print("HEAP %s status %d live %d collect_us %d" % (tag, status, gc.mem_free(), took))


async def probe(app):
    await asyncio.sleep_ms(2000)
    heap("standby")
    e = app.engine
    for k in range(CUES):
        t0 = ticks_us()
        ok = e.go(ticks_ms())
        took = ticks_diff(ticks_us(), t0)
        low = gc.mem_free()
        end = ticks_ms() + STEP_MS
        while ticks_diff(end, ticks_ms()) > 0:
            await asyncio.sleep_ms(SAMPLE_MS)
            low = min(low, gc.mem_free())
        print(
            "CUE %d ok %s number %d go_us %d lowest_status %d"
            % (k + 1, ok, e.current_number, took, low)
        )
        heap("cue%d" % (k + 1))
    print("FRAMES %d late %d" % (app.frames, app.pacer.late))
    print("HEAP done")


_run = nodeapp.run


async def run_with_probe(app, handler, wdt):
    asyncio.create_task(probe(app))
    await _run(app, handler, wdt)


nodeapp.run = run_with_probe
APP = nodeapp.main()
