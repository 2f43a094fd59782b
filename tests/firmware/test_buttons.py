# Button debouncer: bouncing and stuck inputs, first-edge stamps, LED state, ticks wrap.
# Runs under CPython (pytest) and MicroPython.
from cuefw.buttons import (
    BUTTON_MASK,
    HELD_AT_START,
    LED_BLINK,
    LED_ON,
    NO_EVENT,
    OK,
    PRESS,
    RELEASE,
    STUCK,
    Debouncer,
)
from cuefw.compat import ticks_add
from cuefw.eventlog import (
    EV_BUTTON_DROPPED,
    EV_BUTTON_HELD_AT_START,
    EV_BUTTON_RELEASED,
    EV_BUTTON_STUCK,
    EventLog,
)


def feed(deb, i, levels, start, base=0):
    """Sample button i once per ms from `start`: levels is a list of (ms count, level)."""
    t = start
    for count, level in levels:
        for _ in range(count):
            deb.sample(i, level, ticks_add(base, t))
            t += 1
    return t


def events(deb):
    out = []
    while True:
        code = deb.pop()
        if code == NO_EVENT:
            return out
        out.append((code & ~BUTTON_MASK, code & BUTTON_MASK, deb.event_tick))


def test_clean_press_and_release_stamped_at_first_edge():
    deb = Debouncer(2)
    feed(deb, 1, [(100, 0), (200, 1), (100, 0)], 0)
    assert events(deb) == [(PRESS, 1, 100), (RELEASE, 1, 300)]


def test_press_is_accepted_only_after_debounce_time():
    deb = Debouncer(1, debounce_ms=10)
    t = feed(deb, 0, [(50, 0), (10, 1)], 0)  # 10 samples: 50..59 pressed
    assert events(deb) == []
    feed(deb, 0, [(1, 1)], t)  # steady for 10 ms at t=60
    assert events(deb) == [(PRESS, 0, 50)]


def test_bouncing_contact_gives_one_press_stamped_at_the_first_edge():
    deb = Debouncer(1)
    bounce = [(1, 1), (1, 0), (2, 1), (1, 0), (3, 1), (2, 0)]
    feed(deb, 0, [(100, 0)] + bounce + [(100, 1)] + bounce + [(100, 0)], 0)
    # the second burst starts with a "pressed" sample at 210: the first release edge is 211
    assert events(deb) == [(PRESS, 0, 100), (RELEASE, 0, 211)]


def test_glitch_shorter_than_debounce_is_ignored():
    deb = Debouncer(1)
    feed(deb, 0, [(100, 0), (4, 1), (50, 0), (9, 1), (50, 0)], 0)
    assert events(deb) == []
    # the glitch does not leave a stale first-edge stamp behind
    feed(deb, 0, [(30, 1)], 213)
    assert events(deb) == [(PRESS, 0, 213)]


def test_stuck_button_is_logged_ignored_and_recovers_on_release():
    log = EventLog(16)
    deb = Debouncer(1, debounce_ms=10, stuck_ms=5000, log=log)
    t = feed(deb, 0, [(10, 0), (4999, 1)], 0)
    assert events(deb) == [(PRESS, 0, 10)]
    assert deb.fault[0] == OK and deb.is_pressed(0)
    t = feed(deb, 0, [(2, 1)], t)  # held 5000 ms since the edge at 10
    assert deb.fault[0] == STUCK and not deb.is_pressed(0)
    assert log.get(0)[1:] == (EV_BUTTON_STUCK, 0, 5000)
    t = feed(deb, 0, [(20_000, 1)], t)  # still held: nothing more happens
    assert events(deb) == [] and log.count(EV_BUTTON_STUCK) == 1
    edge = t
    t = feed(deb, 0, [(20, 0)], t)
    assert log.get(0)[1:] == (EV_BUTTON_RELEASED, 0, STUCK)
    assert events(deb) == [(RELEASE, 0, edge)]
    assert deb.fault[0] == OK
    feed(deb, 0, [(20, 1)], t)  # works again
    assert events(deb) == [(PRESS, 0, t)]


def test_button_held_at_start_never_fires_until_released():
    log = EventLog(8)
    deb = Debouncer(1, log=log)
    t = feed(deb, 0, [(500, 1)], 0)
    assert events(deb) == [] and deb.fault[0] == HELD_AT_START
    assert log.get(0)[1:] == (EV_BUTTON_HELD_AT_START, 0, 0)
    t = feed(deb, 0, [(20, 0)], t)
    assert events(deb) == [] and deb.fault[0] == OK  # its release is no event either
    assert log.get(0)[1] == EV_BUTTON_RELEASED
    feed(deb, 0, [(20, 1)], t)
    assert events(deb) == [(PRESS, 0, t)]


def test_per_button_debounce_and_stuck_times():
    deb = Debouncer(2)
    deb.configure(1, 30, 0)  # 30 ms debounce, no stuck detection
    feed(deb, 1, [(10, 0), (29, 1)], 0)
    assert events(deb) == []
    feed(deb, 1, [(100_000, 1)], 39)
    assert events(deb) == [(PRESS, 1, 10)] and deb.fault[1] == OK


def test_led_feedback():
    deb = Debouncer(2)
    deb.set_led(0, LED_ON)
    deb.set_led(1, LED_BLINK)
    deb.sample(0, 0, 0)
    deb.sample(1, 0, 0)
    assert deb.led[0] == 1 and deb.led[1] == 0
    deb.sample(1, 0, 512)
    assert deb.led[1] == 1  # slow blink: ~1 Hz
    deb.set_led(0, 0)
    deb.sample(0, 0, 600)
    assert deb.led[0] == 0
    feed(deb, 0, [(20, 1)], 601)
    assert deb.led[0] == 1  # lit while held
    feed(deb, 0, [(5000, 1)], 621)  # stuck: fast blink
    lit = []
    for k in range(4):
        deb.sample(0, 1, 5700 + 128 * k)
        lit.append(deb.led[0])
    assert lit == [0, 1, 0, 1] or lit == [1, 0, 1, 0]


def test_full_queue_drops_and_logs():
    log = EventLog(8)
    deb = Debouncer(1, log=log, queue_len=4)
    t = feed(deb, 0, [(20, 0)], 0)
    for _ in range(3):  # 6 events into a queue of 4
        t = feed(deb, 0, [(20, 1), (20, 0)], t)
    assert deb.dropped == 2 and log.count(EV_BUTTON_DROPPED) == 2
    got = events(deb)
    assert len(got) == 4 and got[0] == (PRESS, 0, 20)


def test_press_across_the_ticks_wrap():
    base = (1 << 30) - 105  # the press edge at 100 is 5 ms before the wrap
    log = EventLog(8)
    deb = Debouncer(1, stuck_ms=3000, log=log)
    feed(deb, 0, [(100, 0), (1, 1), (1, 0), (200, 1), (50, 0)], 0, base)
    assert events(deb) == [(PRESS, 0, ticks_add(base, 100)), (RELEASE, 0, ticks_add(base, 302))]
    feed(deb, 0, [(3100, 1)], 352, base)  # stuck detection works across the wrap too
    assert deb.fault[0] == STUCK
