# Universe, event log and fade curves. Runs under CPython (pytest) and MicroPython.
from array import array

from cuefw.curves import FULL, MAX_FADE_MS, level, progress, scurve
from cuefw.eventlog import EV_GO, EV_RELAY_REFUSED, EV_STOP, R_MIN_OFF, EventLog, describe
from cuefw.universe import Universe


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    return False


# --- universe ------------------------------------------------------------------------------


def test_universe_frame_is_start_code_plus_512_slots():
    uni = Universe()
    assert len(uni.frame) == 513 and uni.frame[0] == 0
    uni.set(1, 10)
    uni.set(512, 255)
    assert uni.get(1) == 10 and uni.frame[512] == 255
    assert raises(IndexError, uni.set, 0, 1)
    assert raises(IndexError, uni.set, 513, 1)
    assert raises(IndexError, uni.get, 0)


def test_universe_set16_and_blackout():
    uni = Universe()
    frame = uni.frame
    uni.set16(7, 8, 0x1234)
    assert uni.get(7) == 0x12 and uni.get(8) == 0x34
    uni.blackout()
    assert uni.frame is frame  # same buffer the driver holds
    assert frame == bytearray(513)
    assert len(uni.slots()) == 512


# --- event log -----------------------------------------------------------------------------


def test_event_log_ring_newest_first():
    log = EventLog(4)
    for k in range(6):
        log.add(100 + k, EV_GO, k, 1000 * k)
    assert len(log) == 4 and log.seq == 6
    assert [e[2] for e in log] == [5, 4, 3, 2]
    assert log.get(0) == (105, EV_GO, 5, 5000)
    assert raises(IndexError, log.get, 4)


def test_event_log_copy_into_and_since():
    log = EventLog(8)
    for k in range(5):
        log.add(k, EV_STOP if k % 2 else EV_GO, k, -k)
    ticks = array("i", [0] * 3)
    codes = bytearray(3)
    a = array("i", [0] * 3)
    b = array("i", [0] * 3)
    assert log.copy_into(ticks, codes, a, b) == 3
    assert list(a) == [4, 3, 2] and list(b) == [-4, -3, -2] and codes[1] == EV_STOP
    assert [e[2] for e in log.since(2)] == [2, 3, 4]  # oldest first
    assert log.count(EV_GO) == 3


def test_event_log_describe():
    assert describe((5, EV_RELAY_REFUSED, 0, R_MIN_OFF)) == "5 relay-refused: relay 0: min-off"
    assert describe((7, EV_GO, 2, 3000)) == "7 go: cue 3"
    assert describe((8, EV_GO, 3, 12250)) == "8 go: cue 12.25"
    assert describe((9, EV_STOP, 3, 2000)) == "9 stop: fade to black in 2000 ms"


# --- curves --------------------------------------------------------------------------------


def test_progress_is_exact_floor_for_long_fades():
    for duration in (1, 3, 1000, 22_727, 600_000, MAX_FADE_MS):
        for elapsed in (0, 1, duration // 3, duration // 2, duration - 1, duration, duration + 5):
            want = min(FULL, elapsed * FULL // duration)  # big ints are fine in the test
            assert progress(elapsed, duration) == want, (elapsed, duration)
    assert progress(-5, 100) == 0
    assert progress(0, 0) == FULL  # a 0 ms fade is complete at once


def test_scurve_shape():
    assert scurve(0) == 0 and scurve(FULL) == FULL and scurve(FULL // 2) == FULL // 2
    previous = 0
    for p in range(FULL + 1):  # monotonic everywhere (integers only)
        v = scurve(p)
        assert v >= previous
        previous = v
    worst = 0
    for p in range(0, FULL + 1, 61):  # and within 0.5 of the exact curve (floats: sampled)
        x = p / FULL
        worst = max(worst, abs(scurve(p) - FULL * (3 * x * x - 2 * x * x * x)))
    assert worst <= 0.5


def test_level_rounds_and_reaches_both_ends():
    assert level(0, 255, 0) == 0 and level(0, 255, FULL) == 255
    assert level(255, 0, FULL) == 0 and level(65535, 0, FULL) == 0
    assert level(0, 65535, FULL) == 65535
    assert level(0, 255, FULL // 2) == 128  # 127.5 rounds up
    assert level(10, 10, 1234) == 10
