# The LEDs (cuefw/leds.py): status pattern by priority, button LEDs from the show's button
# actions and the engine, and the driver writing the board's LED pins. Virtual time only.
# Runs under CPython and MicroPython (firmware test convention).
import io

import fwtest
from cuefw import leds
from cuefw.buttons import LED_BLINK, LED_OFF, LED_ON, Debouncer
from cuefw.engine import MODE_NO_SHOW, MODE_RUNNING, MODE_STANDBY, MODE_STOPPED, Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import BTN_BACK, BTN_FIRE, BTN_GO, BTN_STOP, ShowReader
from cuefw.universe import Universe


class Pin:
    def __init__(self):
        self.level = -1

    def value(self, v):
        self.level = v


def lit_ms(pattern, start=0):
    """ms lit in one 2,048 ms cycle starting at `start`."""
    return sum(leds.lit(pattern, start + t) for t in range(2048))


def test_status_patterns_by_priority():
    p = leds.status_pattern
    assert p(MODE_NO_SHOW, False, False) == leds.NO_SHOW
    assert p(MODE_STANDBY, False, False) == leds.STANDING_BY
    assert p(MODE_STOPPED, False, False) == leds.STANDING_BY
    assert p(MODE_RUNNING, False, False) == leds.RUNNING
    assert p(MODE_RUNNING, True, False) == leds.ARMED  # hazards can fire: say so first
    assert p(MODE_RUNNING, True, True) == leds.FAULT
    assert p(MODE_NO_SHOW, False, True) == leds.FAULT


def test_patterns_tell_apart_at_a_glance():
    assert lit_ms(leds.RUNNING) == 2048
    assert lit_ms(leds.STANDING_BY) == 1024
    assert [leds.lit(leds.STANDING_BY, t) for t in (0, 1023, 1024, 2047, 2048)] == [1, 1, 0, 0, 1]
    assert lit_ms(leds.NO_SHOW) == 128
    assert lit_ms(leds.ARMED) == 512
    assert lit_ms(leds.FAULT) == 1024
    # fault blinks ~4 Hz: 8 lit steps of 128 ms a cycle, alternating
    assert [leds.lit(leds.FAULT, 128 * k) for k in range(4)] == [1, 0, 1, 0]


def test_patterns_run_on_across_the_ticks_wrap():
    end = fwtest.ticks_before_wrap(1)  # the last tick before 0
    for pattern in (leds.STANDING_BY, leds.ARMED, leds.FAULT):
        # the step at the last tick before the wrap is step 15, tick 0 starts step 0
        assert leds.lit(pattern, end) == (pattern >> 15) & 1
        assert leds.lit(pattern, 0) == pattern & 1


def relay_show_engine():
    log = EventLog(32)
    gov = RelayGovernor(4, log)
    eng = Engine(Universe(), gov, log)
    data = fwtest.read_bytes(fwtest.data_path("relays.cnshow"))
    reader = ShowReader(io.BytesIO(data))
    return eng, gov, reader


def modes(eng, reader):
    out = []
    for i in range(reader.n_buttons):
        _, action, _, cue_index, _, _ = reader.button(i)
        out.append(leds.button_mode(action, cue_index, eng))
    return out


def test_button_leds_follow_the_show_and_the_engine():
    eng, gov, reader = relay_show_engine()
    # relays.cnshow: B1 GO, B2 BACK, B3 STOP, B4 FIRE cue index 2; three cues
    assert [reader.button(i)[1] for i in range(4)] == [BTN_GO, BTN_BACK, BTN_STOP, BTN_FIRE]
    assert modes(eng, reader) == [LED_OFF] * 4  # no show: every button dark
    eng.load(reader, 0)
    assert modes(eng, reader) == [LED_BLINK, LED_OFF, LED_OFF, LED_OFF]  # GO required
    eng.go(100)
    assert modes(eng, reader) == [LED_ON, LED_OFF, LED_ON, LED_OFF]
    eng.go(200)
    assert modes(eng, reader) == [LED_ON, LED_ON, LED_ON, LED_OFF]
    eng.go(300)  # the last cue (index 2): FIRE's cue is live, GO has nothing left
    assert modes(eng, reader) == [LED_OFF, LED_ON, LED_ON, LED_ON]
    eng.stop(400)
    assert modes(eng, reader)[2] == LED_OFF  # stopped: STOP would do nothing more


def test_driver_writes_status_and_button_pins():
    eng, gov, reader = relay_show_engine()
    status = Pin()
    pins = {"B1": Pin(), "B2": Pin(), "B9": Pin()}  # B3/B4 have no LED on this board
    driver = leds.Leds(status, pins)
    deb = Debouncer(reader.n_buttons)
    driver.update(0, eng, False, False, deb)
    assert status.level == 1  # no show: the blip at the start of the cycle
    driver.update(500, eng, False, False, deb)
    assert status.level == 0
    eng.load(reader, 0)
    labels = [reader.button(i)[0] for i in range(reader.n_buttons)]
    actions = [(reader.button(i)[1], reader.button(i)[3]) for i in range(reader.n_buttons)]
    driver.map_buttons(labels, actions)
    assert pins["B9"].level == 0  # a LED no show button uses is dark
    for t in (1000, 1001):  # standing by: GO's LED blinks slowly (mode set, then sampled)
        driver.update(t, eng, False, False, deb)
        for i in range(deb.n):
            deb.sample(i, False, t)
    driver.update(1002, eng, False, False, deb)
    assert pins["B1"].level == (1002 >> 9) & 1 and pins["B2"].level == 0
    assert status.level == leds.lit(leds.STANDING_BY, 1002)
    gov.arm(1100)
    driver.update(1100, eng, True, False, deb)
    assert status.level == leds.lit(leds.ARMED, 1100)
    driver.update(1100, eng, True, True, deb)
    assert status.level == leds.lit(leds.FAULT, 1100)


def test_a_board_without_a_status_led_is_fine():
    eng, _, reader = relay_show_engine()
    driver = leds.Leds(None, {})
    driver.map_buttons(["B1"], [(BTN_GO, 0)])
    driver.update(0, eng, False, False, Debouncer(1))  # nothing to write, nothing raised
