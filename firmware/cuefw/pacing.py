# DMX frame pacing: when the next frame is due. Pure: the caller passes the time (ms ticks).
#
# A frame is due every `period_ms` on a fixed schedule (no drift while frames are on time). A
# frame that starts late (a long GO, a flash write, a busy link held the loop) moves the
# schedule: the next frame is due one period after the late one, never sooner. Keeping the old
# schedule instead would make the next frames "due" while the late packet is still on the
# line: the loop would then wait for the line on every frame from then on, its frames late
# for good and computed before the line was free (issue 8, D2). So a late frame costs one long
# gap and the next frame is on time again.
from cuefw.compat import const, ticks_add, ticks_diff

_LATE_MS = const(3)  # a packet sent this late (or later) moves the schedule: a real stall
# (a long GO, a flash write), not wake-up jitter. Wake-ups on the chip come 0.75 ms (p50) to
# 2.45 ms (p99) late; such a packet keeps the schedule: the driver queues the next packet
# behind it (rp2: the DMA is done while the PIO FIFO still holds the last slots), so the next
# frame waits at most ~2.4 ms for the line and the line catches up 0.24 ms a frame (23 ms
# schedule, 22.76 ms packet). Measured off the emulated Pico's pin (bench/pico/chip.py, theatre
# 'sl', packets per simulated s standing by / fading): 1 ms 41.85/41.20, 3 ms 43.12/43.35,
# 8 ms 43.24/43.39, 23 ms 43.33/43.54.


class FramePacer:
    def __init__(self, period_ms, now):
        self.period = period_ms
        self.due = now  # when the frame being made now was due
        self.late = 0  # frames that went out late since boot (status, tests)

    def sent(self, now):
        """The packet went out at `now`. Anchor the schedule on it if it is late (>= _LATE_MS,
        a stall): the next frame is then due one period after this packet started.
        (Anchoring on the wake-up instead is not enough: a frame that then waited for the
        line would leave the schedule a line-time behind, and every frame would wait.)"""
        if ticks_diff(now, self.due) >= _LATE_MS:
            self.due = now
            self.late += 1

    def wait_ms(self, now):
        """After the frame went out: ms to sleep until the next one is due (0: now)."""
        self.due = ticks_add(self.due, self.period)
        wait = ticks_diff(self.due, now)
        return wait if wait > 0 else 0
