# ruff: noqa: UP031 - MicroPython code, % formatting as in firmware/
# A measurement main.py for the emulated Pico: the real application standing by, with the
# frame loop's times recorded on the chip's own µs clock: when dmx_task woke (FramePacer.start)
# and when it started the packet (DmxOut.send). Prints percentiles after 4 s.
import asyncio
from array import array
from time import ticks_diff, ticks_us

import nodeapp
from cuefw.pacing import FramePacer

N = 200
wakes = array("i", [0] * N)
sends = array("i", [0] * N)
count = [0, 0, 0]
work_us = array("i", [0] * N)


class TimedPacer(FramePacer):
    def wait_ms(self, now):  # the frame loop sleeps after this; it wakes at the next frame
        wait = FramePacer.wait_ms(self, now)
        if count[0] < N:
            wakes[count[0]] = ticks_us() + 1000 * wait  # the wake-up it asks for
            count[0] += 1
        return wait


_make_dmx = nodeapp.make_dmx


def make_timed_dmx():
    dmx = _make_dmx()
    send = dmx.send

    def timed_send(frame):
        if count[1] < N:
            sends[count[1]] = ticks_us()
            count[1] += 1
        send(frame)

    dmx.send = timed_send
    return dmx


_frame_once = nodeapp.frame_once


def timed_frame_once(app, dmx, frame, now):
    t0 = ticks_us()
    _frame_once(app, dmx, frame, now)
    if count[2] < N:
        work_us[count[2]] = ticks_diff(ticks_us(), t0)
        count[2] += 1


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


async def probe(app):
    await asyncio.sleep_ms(4000)
    n = min(count[0], count[1]) - 1
    periods = [ticks_diff(sends[i + 1], sends[i]) for i in range(5, n)]
    work = [ticks_diff(sends[i + 1], wakes[i]) for i in range(5, n)]
    ticks = [work_us[i] for i in range(5, n)]
    for name, v in (
        ("send period", periods),
        ("asked wake-up to send", work),
        ("frame_once", ticks),
    ):
        print(
            "FR %s us: min %d p50 %d p99 %d max %d"
            % (name, min(v), pct(v, 0.5), pct(v, 0.99), max(v))
        )
    print("FR late %d of %d frames" % (app.pacer.late, app.frames))
    print("FR done")


_run = nodeapp.run


async def run_with_probe(app, handler, wdt):
    asyncio.create_task(probe(app))
    await _run(app, handler, wdt)


nodeapp.FramePacer = TimedPacer
nodeapp.make_dmx = make_timed_dmx
nodeapp.run = run_with_probe
nodeapp.frame_once = timed_frame_once
APP = nodeapp.main()
