# cuefw.pacing.FramePacer: a fixed schedule while frames are on time; a late frame moves it.
# CPython and MicroPython.
from cuefw.compat import ticks_add
from cuefw.pacing import FramePacer

TICKS_MAX = ticks_add(0, -1)  # the port's own wrap (2**30 - 1 on a Pico, more on 64-bit unix)


def test_on_time_frames_keep_a_fixed_schedule():
    p = FramePacer(23, 1000)
    p.start(1000)
    assert p.wait_ms(1003) == 20  # 3 ms of work: the next frame is still due at 1023
    p.start(1023)
    assert p.wait_ms(1023) == 23
    assert p.late == 0


def test_a_late_frame_moves_the_schedule_one_period_on():
    p = FramePacer(23, 0)
    p.start(0)
    assert p.wait_ms(0) == 23
    p.start(63)  # woken 40 ms late (a stall)
    assert p.late == 1
    assert p.wait_ms(63) == 23  # due at 86, one period after the late frame, not at 46
    p.start(86)
    assert p.wait_ms(86) == 23 and p.late == 1


def test_the_schedule_crosses_the_ticks_wrap():
    p = FramePacer(23, TICKS_MAX - 5)
    p.start(TICKS_MAX - 5)
    assert p.wait_ms(TICKS_MAX - 5) == 23
    p.start(ticks_add(TICKS_MAX - 5, 23))  # 17 after the wrap
    assert p.late == 0 and p.wait_ms(ticks_add(TICKS_MAX - 5, 23)) == 23
