# Run under MicroPython only (tests/test_mp_heap.py runs it with tools/mp-wasm/runner.mjs,
# after copying the compiled example show's per-node files to /shows/).
#
# Peak heap of the engine running a realistic show, as on a node: the show streams from an
# open file, every cue is run with GO and its fade ticked to the end (follows and hangs
# included), then STOP, GO after STOP, BACK and GOTO. The script awaits yield_to_gc() after
# every command and frame, so the GC runs as it would on a device (this build collects only
# between calls into the interpreter). Sampled just before each collection, gc.mem_alloc() is
# live data plus the garbage made since the previous sample: its maximum is the peak reported.
import gc
import json
import os

import mpharness

STEP_MS = 250  # virtual time between ticks while a fade runs
MAX_STEPS = 2400  # 10 minutes of virtual time per cue at most


class Peak:
    def __init__(self):
        self.peak = 0  # live + garbage since the last collection
        self.live = 0  # right after a collection

    async def sample(self):
        used = gc.mem_alloc()
        if used > self.peak:
            self.peak = used
        await mpharness.yield_to_gc()
        live = gc.mem_alloc()
        if live > self.live:
            self.live = live


async def run_to_end(engine, now, peak):
    steps = 0
    while (engine.fading or engine.progress(now) < 1000) and steps < MAX_STEPS:
        now += STEP_MS
        engine.tick(now)
        await peak.sample()
        steps += 1
    return now


async def run_show(path, peak):
    from cuefw.engine import Engine
    from cuefw.eventlog import EventLog
    from cuefw.governor import RelayGovernor
    from cuefw.showfile import ShowReader
    from cuefw.universe import Universe

    with open(path, "rb") as f:
        log = EventLog(64)
        engine = Engine(Universe(), RelayGovernor(8, log), log)
        now = 1000
        engine.load(ShowReader(f), now)
        await peak.sample()
        gos = 0
        while engine.go(now):
            gos += 1
            await peak.sample()
            now = await run_to_end(engine, now, peak)
            now += 1000  # past GO protection
        engine.stop(now)
        now = await run_to_end(engine, now, peak)
        engine.resume(engine.n_cues // 2, now)
        engine.go(now)
        now = await run_to_end(engine, now, peak)
        engine.back(now)
        now = await run_to_end(engine, now, peak)
        engine.goto(engine.n_cues - 1, now)
        await run_to_end(engine, now, peak)
        return gos, engine.n_cues


async def main():
    await mpharness.yield_to_gc()
    baseline = gc.mem_alloc()  # the interpreter and the test harness, before any firmware
    for name in sorted(os.listdir("/shows")):
        peak = Peak()
        gos, cues = await run_show("/shows/" + name, peak)
        await mpharness.yield_to_gc()
        print(
            "@@HEAP "
            + json.dumps(
                {
                    "show": name,
                    "cues": cues,
                    "gos": gos,
                    "baseline": baseline,
                    "peak": peak.peak,
                    "peak_live": peak.live,
                    "after": gc.mem_alloc(),
                    "heap_total": mpharness.heap_total(),
                }
            )
        )
