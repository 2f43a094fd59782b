# cuefw.pacing.FramePacer: a fixed schedule while frames are on time; a late frame moves it.
# CPython and MicroPython.
from cuefw.compat import ticks_add
from cuefw.pacing import FramePacer

TICKS_MAX = ticks_add(0, -1)  # the port's own wrap (2**30 - 1 on a Pico, more on 64-bit unix)


def test_on_time_frames_keep_a_fixed_schedule():
    p = FramePacer(23, 1000)
    p.sent(1000)  # the packet left in the tick it was due
    assert p.wait_ms(1003) == 20  # the next frame is still due at 1023
    p.sent(1023)
    assert p.wait_ms(1023) == 23
    assert p.late == 0


def test_wake_up_jitter_keeps_the_schedule():
    p = FramePacer(23, 0)
    p.sent(2)  # 2 ms late (a late wake-up): the driver queues the next packet behind it
    assert p.late == 0 and p.wait_ms(2) == 21  # the next frame is still due at 23


def test_a_packet_3_ms_late_moves_the_schedule():
    p = FramePacer(23, 0)
    p.sent(3)  # a stall: the next frame would wait ~2.6 ms for the line, so it moves
    assert p.late == 1 and p.wait_ms(3) == 23


def test_a_late_frame_moves_the_schedule_one_period_on():
    p = FramePacer(23, 0)
    p.sent(0)
    assert p.wait_ms(0) == 23
    p.sent(63)  # went out 40 ms late (a stall)
    assert p.late == 1
    assert p.wait_ms(63) == 23  # due at 86, one period after the late packet, not at 46
    p.sent(86)
    assert p.wait_ms(86) == 23 and p.late == 1


def test_the_schedule_crosses_the_ticks_wrap():
    p = FramePacer(23, TICKS_MAX - 5)
    p.sent(TICKS_MAX - 5)
    assert p.wait_ms(TICKS_MAX - 5) == 23
    p.sent(ticks_add(TICKS_MAX - 5, 23))  # 17 after the wrap
    assert p.late == 0 and p.wait_ms(ticks_add(TICKS_MAX - 5, 23)) == 23
