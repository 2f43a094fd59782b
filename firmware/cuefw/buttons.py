# Button debouncer, sampled (call sample() for every button at every poll, ~1 ms).
# A press is accepted once the input has been steady for debounce_ms, but it is stamped with
# the tick of the FIRST edge, so GO latency is measured from the finger, not from the filter.
# A button held longer than stuck_ms is declared stuck: logged, ignored until released.
# A button already pressed at the first sample (held at boot, shorted) never fires a press.
from array import array

from cuefw.compat import const, ticks_diff
from cuefw.eventlog import (
    EV_BUTTON_DROPPED,
    EV_BUTTON_HELD_AT_START,
    EV_BUTTON_PRESS,
    EV_BUTTON_RELEASED,
    EV_BUTTON_STUCK,
)

PRESS = const(0x100)  # event code = PRESS | button index
RELEASE = const(0x200)
BUTTON_MASK = const(0xFF)
NO_EVENT = const(-1)

OK = const(0)
STUCK = const(1)
HELD_AT_START = const(2)

LED_OFF = const(0)
LED_ON = const(1)
LED_BLINK = const(2)  # slow blink (e.g. "standing by, GO required")


class Debouncer:
    def __init__(self, n, debounce_ms=10, stuck_ms=5000, log=None, queue_len=16):
        self.n = n
        self.log = log
        self.debounce_ms = array("i", bytes(4 * n))
        self.stuck_ms = array("i", bytes(4 * n))
        for i in range(n):
            self.debounce_ms[i] = debounce_ms
            self.stuck_ms[i] = stuck_ms  # 0: no stuck detection
        self.stable = bytearray(n)  # debounced state, 1 = pressed
        self.raw = bytearray(n)  # last sample
        self.raw_since = array("i", bytes(4 * n))  # tick the raw input last changed
        self.pending = bytearray(n)  # raw differs from stable (or did, not yet settled)
        self.first_edge = array("i", bytes(4 * n))  # first edge of the pending change
        self.pressed_at = array("i", bytes(4 * n))
        self.fault = bytearray(n)  # OK / STUCK / HELD_AT_START
        self.seen = bytearray(n)
        self.led_mode = bytearray(n)  # what the application wants the LED to show
        self.led = bytearray(n)  # 1 = lit; the driver mirrors this to the LED pins
        self.q_code = array("i", bytes(4 * queue_len))
        self.q_tick = array("i", bytes(4 * queue_len))
        self.q_cap = queue_len
        self.q_head = 0
        self.q_len = 0
        self.event_tick = 0  # tick of the event pop() returned last
        self.dropped = 0

    def configure(self, i, debounce_ms, stuck_ms):
        self.debounce_ms[i] = debounce_ms
        self.stuck_ms[i] = stuck_ms

    def set_led(self, i, mode):
        """LED_OFF / LED_ON / LED_BLINK when the button is idle and healthy."""
        self.led_mode[i] = mode

    def sample(self, i, pressed, now):
        """Feed one sample of button i (truthy = pressed) taken at tick `now`."""
        pressed = 1 if pressed else 0
        if not self.seen[i]:
            self._first_sample(i, pressed, now)
        else:
            if pressed != self.raw[i]:
                self.raw[i] = pressed
                self.raw_since[i] = now
                if not self.pending[i] and pressed != self.stable[i]:
                    self.pending[i] = 1
                    self.first_edge[i] = now
            if self.pending[i]:
                if ticks_diff(now, self.raw_since[i]) >= self.debounce_ms[i]:
                    self.pending[i] = 0
                    if self.raw[i] != self.stable[i]:  # else: a glitch that came back
                        self.stable[i] = self.raw[i]
                        self._changed(i)
            elif self.stable[i] and not self.fault[i]:
                self._check_stuck(i, now)
        self._update_led(i, now)

    def pop(self):
        """Oldest queued event code (PRESS|i or RELEASE|i), or NO_EVENT. Sets event_tick."""
        if not self.q_len:
            return NO_EVENT
        h = self.q_head
        code = self.q_code[h]
        self.event_tick = self.q_tick[h]
        h += 1
        self.q_head = 0 if h == self.q_cap else h
        self.q_len -= 1
        return code

    def is_pressed(self, i):
        """Debounced and healthy (a stuck button reads as not pressed)."""
        return self.stable[i] == 1 and self.fault[i] == OK

    def _first_sample(self, i, pressed, now):
        self.seen[i] = 1
        self.raw[i] = pressed
        self.raw_since[i] = now
        self.stable[i] = pressed
        if pressed:
            self.fault[i] = HELD_AT_START
            self._log(now, EV_BUTTON_HELD_AT_START, i, 0)

    def _changed(self, i):
        edge = self.first_edge[i]
        if self.stable[i]:
            self.pressed_at[i] = edge
            self._log(edge, EV_BUTTON_PRESS, i, 0)
            self._push(PRESS | i, edge)
            return
        fault = self.fault[i]
        if fault:
            self.fault[i] = OK
            self._log(edge, EV_BUTTON_RELEASED, i, fault)
        if fault != HELD_AT_START:  # that one never sent a press, so no release either
            self._push(RELEASE | i, edge)

    def _check_stuck(self, i, now):
        limit = self.stuck_ms[i]
        if limit and ticks_diff(now, self.pressed_at[i]) >= limit:
            self.fault[i] = STUCK
            self._log(now, EV_BUTTON_STUCK, i, limit)

    def _update_led(self, i, now):
        if self.fault[i]:
            lit = (now >> 7) & 1  # fast blink (~4 Hz): this button needs attention
        elif self.stable[i]:
            lit = 1  # acknowledge the press while held
        else:
            mode = self.led_mode[i]
            lit = (now >> 9) & 1 if mode == LED_BLINK else mode
        self.led[i] = lit

    def _push(self, code, tick):
        if self.q_len == self.q_cap:
            self.dropped += 1
            self._log(tick, EV_BUTTON_DROPPED, code & BUTTON_MASK, code >> 8)
            return
        k = self.q_head + self.q_len
        if k >= self.q_cap:
            k -= self.q_cap
        self.q_code[k] = code
        self.q_tick[k] = tick
        self.q_len += 1

    def _log(self, tick, code, a, b):
        if self.log is not None:
            self.log.add(tick, code, a, b)
