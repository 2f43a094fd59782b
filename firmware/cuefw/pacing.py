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

_LATE_MS = const(1)  # a packet sent this late (or later) moves the schedule. The packet is
# 22.76 ms on the line, so a 23 ms frame has 0.24 ms of slack: a packet that left a tick late
# would make the next frame wait for the line. Measured off the emulated Pico's pin (bench/pico,
# period p50/p99): 1 ms 23.32/24.34 ms, 2 ms 23.67/28.42 ms, 3 ms 23.67/24.31 ms.


class FramePacer:
    def __init__(self, period_ms, now):
        self.period = period_ms
        self.due = now  # when the frame being made now was due
        self.late = 0  # frames that went out late since boot (status, tests)

    def sent(self, now):
        """The packet went out at `now`. Anchor the schedule on it if it is late: the next
        frame is then due one period after this packet started, when the line is free again.
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
