# Relay governor: the only code that switches a relay. It enforces each relay's safety limits
# (max on-time, min off-time, duty cycle, arming) whatever the engine, the show or the host
# asks, and logs every refusal. Drivers mirror `state` (1 = on) to the pins; power-up is off.
#
# Time is an argument (ms ticks, wrapping at 2**30). Every public method first applies the
# cut-offs due at `now`, so a late tick() never lets a caller see a relay on past its limit.
#
# Cutting on time: a relay goes off when tick() runs at or after its deadline, so the app must
# tick at the deadline, not merely once per DMX frame (a 23 ms frame tick held a 10 s max_on
# relay on for 10,020 ms). next_cut_in(now) says when the next cut is due, and on_change
# (a callable the app sets, called with no arguments) says that a relay just switched on or
# off or its deadline moved earlier: nodeapp's relay task sleeps until the deadline, woken by
# it, and mirrors the pins at once (so a STOP cuts a hazard within the request, not a frame).
from array import array

from cuefw.compat import const, ticks_add, ticks_diff
from cuefw.eventlog import (
    EV_ARM,
    EV_DISARM,
    EV_PANIC,
    EV_RELAY_OFF,
    EV_RELAY_ON,
    EV_RELAY_REFUSED,
    R_DISARM,
    R_DUTY,
    R_MAX_ON,
    R_MIN_OFF,
    R_NO_RELAY,
    R_NOT_ARMED,
    R_PANIC,
    R_PULSE_END,
    R_REQUEST,
    R_RESET,
)
from cuefw.showfile import RELAY_HAZARD, RELAY_REQUIRES_ARM

# Longest limit or window the governor represents: ticks_diff is only exact below 2**29.
MAX_LIMIT_MS = const(1 << 28)  # 74 h
HISTORY = const(8)  # past on-intervals remembered per relay for the duty-cycle window

_CONFIGURED = const(4)  # internal flag bit beside RELAY_REQUIRES_ARM (1) and RELAY_HAZARD (2)


def _clamp(ms):
    if ms < 0:
        return 0
    return MAX_LIMIT_MS if ms > MAX_LIMIT_MS else ms


class RelayGovernor:
    def __init__(self, n_relays, log):
        self.n = n_relays
        self.log = log
        self.armed = False
        self.last_tick = 0  # the latest `now` seen
        self.state = bytearray(n_relays)  # 1 = on; the driver mirrors this to the pins
        self.flags = bytearray(n_relays)
        self.max_on = array("i", bytes(4 * n_relays))  # 0: no limit
        self.min_off = array("i", bytes(4 * n_relays))
        self.window = array("i", bytes(4 * n_relays))  # 0: no duty-cycle limit
        self.budget = array("i", bytes(4 * n_relays))  # on-ms allowed per window
        self.on_since = array("i", bytes(4 * n_relays))
        self.cut_at = array("i", bytes(4 * n_relays))  # tick the relay must be off by
        self.has_cut = bytearray(n_relays)  # cut_at is meaningful
        self.off_since = array("i", bytes(4 * n_relays))
        self.resting = bytearray(n_relays)  # 1 while min_off has not yet elapsed
        self.rest_ms = array("i", bytes(4 * n_relays))  # the rest under way (min_off at _off)
        # Duty history: HISTORY (start, end) on-intervals per relay, oldest first.
        self.h_start = array("i", bytes(4 * HISTORY * n_relays))
        self.h_end = array("i", bytes(4 * HISTORY * n_relays))
        self.h_len = bytearray(n_relays)
        # The physical relay (board pin label) each index drives, and what reset() kept of
        # each one's rest and duty history: a show reload must not clear min_off or duty.
        self.key = [None] * n_relays
        self.carried = {}
        self.on_change = None  # called when a relay switches on/off or its deadline moves (top)

    # --- configuration -------------------------------------------------------------------

    def configure(self, i, max_on_ms, min_off_ms, duty_window_ms, duty_pct, flags, now=0, key=None):
        """Set relay i's limits (from the show's relay table); switches it off first.

        `key` names the physical relay (its board pin label): if reset() kept that relay's
        rest (min_off) and duty history, they carry over under the new limits."""
        self._check_index(i)
        if self.state[i]:
            self._off(i, now, R_RESET)
        self.flags[i] = (flags & (RELAY_REQUIRES_ARM | RELAY_HAZARD)) | _CONFIGURED
        self.max_on[i] = _clamp(max_on_ms)
        self.min_off[i] = _clamp(min_off_ms)
        window = _clamp(duty_window_ms)
        pct = 100 if duty_pct > 100 else (0 if duty_pct < 0 else duty_pct)
        if window == 0 or pct >= 100:
            self.window[i] = 0
            self.budget[i] = 0
        else:
            self.window[i] = window
            self.budget[i] = window // 100 * pct + window % 100 * pct // 100
        self.resting[i] = 0
        self.h_len[i] = 0
        self.key[i] = key
        kept = self.carried.get(key) if key is not None else None
        if kept is not None:
            self._restore(i, kept, now)

    def reset(self, now):
        """Every relay off (logged if it was on) and unconfigured; disarmed. For show loads.

        What each keyed relay needs to stay within its limits (when it went off, whether it
        is still resting, its duty history) is kept for configure() to carry over."""
        carried = {}
        for i in range(self.n):
            if self.state[i]:
                self._off(i, now, R_RESET)
            if self.key[i] is not None and self.flags[i] & _CONFIGURED:
                carried[self.key[i]] = self._keep(i)
            self.flags[i] = 0
            self.resting[i] = 0
            self.h_len[i] = 0
            self.key[i] = None
        self.carried = carried
        self.armed = False

    def _keep(self, i):
        base = i * HISTORY
        n = self.h_len[i]
        hist = [(self.h_start[base + k], self.h_end[base + k]) for k in range(n)]
        rest = self.rest_ms[i] if self.resting[i] else 0
        return (self.off_since[i], rest, hist)

    def _restore(self, i, kept, now):
        """Carry a relay's rest and duty history over a reload. The rest lasts the longer of
        the old and the new min_off: a pushed show cannot shorten a rest already begun."""
        off_since, rest, hist = kept
        if rest and ticks_diff(now, off_since) < max(rest, self.min_off[i]):
            self.off_since[i] = off_since
            self.rest_ms[i] = max(rest, self.min_off[i])
            self.resting[i] = 1
        base = i * HISTORY
        n = 0
        for start, end in hist[-HISTORY:]:
            self.h_start[base + n] = start
            self.h_end[base + n] = end
            n += 1
        self.h_len[i] = n

    def _check_index(self, i):
        if not 0 <= i < self.n:
            raise IndexError("relay %d out of 0..%d" % (i, self.n - 1))

    # --- commands ------------------------------------------------------------------------

    def request(self, i, on, now):
        """Ask for relay i on or off. Returns True if the relay is now in the asked state."""
        self.tick(now)
        if not 0 <= i < self.n or not self.flags[i] & _CONFIGURED:
            if on:
                self.log.add(now, EV_RELAY_REFUSED, i, R_NO_RELAY)
                return False
            return True
        if not on:
            if self.state[i]:
                self._off(i, now, R_REQUEST)
            return True
        if self.state[i]:
            return True
        return self._on(i, now, 0)

    def pulse(self, i, ms, now):
        """Relay i on for `ms` (shortened by its limits). Returns False if refused.

        A pulse on a relay that is already on sets when it goes off (never past its limits)."""
        self.tick(now)
        if not 0 <= i < self.n or not self.flags[i] & _CONFIGURED:
            self.log.add(now, EV_RELAY_REFUSED, i, R_NO_RELAY)
            return False
        ms = _clamp(ms)
        if self.state[i]:
            end = ticks_add(now, ms)
            if not self.has_cut[i] or ticks_diff(end, self.cut_at[i]) < 0:
                self.cut_at[i] = end
                self.has_cut[i] = 1
                self._changed()
            self.log.add(now, EV_RELAY_ON, i, ms)
            return True
        if ms == 0:
            return True
        return self._on(i, now, ms)

    def arm(self, now):
        self.tick(now)
        self.armed = True
        self.log.add(now, EV_ARM, 0, 0)

    def disarm(self, now):
        """Disarm: relays that require arming go off at once."""
        self.tick(now)
        n = self._off_matching(RELAY_REQUIRES_ARM, now, R_DISARM)
        self.armed = False
        self.log.add(now, EV_DISARM, n, 0)

    def panic(self, now):
        """STOP: hazardous and arm-requiring relays off at once, and disarm."""
        self.tick(now)
        n = self._off_matching(RELAY_REQUIRES_ARM | RELAY_HAZARD, now, R_PANIC)
        self.armed = False
        self.log.add(now, EV_PANIC, n, 0)

    def all_off(self, now):
        """Every relay off (safe state, e.g. before a reboot). Returns how many were on."""
        self.tick(now)
        n = 0
        for i in range(self.n):
            if self.state[i]:
                self._off(i, now, R_PANIC)
                n += 1
        return n

    def tick(self, now):
        """Cut relays at max_on / end of duty budget / end of pulse; age the history.

        Call it when `next_cut_in` says a cut is due (and after on_change): a cut happens
        at the first tick at or after its deadline. Never allocates."""
        self.last_tick = now
        state = self.state
        for i in range(self.n):
            if state[i]:
                if self.has_cut[i] and ticks_diff(now, self.cut_at[i]) >= 0:
                    self._off(i, now, self._cut_reason(i, now))
            elif self.resting[i] and ticks_diff(now, self.off_since[i]) >= self.rest_ms[i]:
                # Stop comparing against off_since before ticks wrap make it look recent.
                self.resting[i] = 0
            if self.h_len[i]:
                self._forget_old(i, now)

    def next_cut_in(self, now):
        """ms until the earliest forced switch-off (0: due now), or -1 if none is pending."""
        best = -1
        for i in range(self.n):
            if self.state[i] and self.has_cut[i]:
                d = ticks_diff(self.cut_at[i], now)
                if d < 0:
                    d = 0
                if best < 0 or d < best:
                    best = d
        return best

    # --- queries -------------------------------------------------------------------------

    def is_on(self, i):
        return self.state[i] == 1

    def remaining_on_ms(self, i, now):
        """ms relay i may still stay on (-1: on with no limit, 0: off)."""
        if not self.state[i]:
            return 0
        if not self.has_cut[i]:
            return -1
        d = ticks_diff(self.cut_at[i], now)
        return d if d > 0 else 0

    def can_switch_on(self, i, now):
        """The reason code a request for relay i would be refused with now, or 0."""
        if not 0 <= i < self.n or not self.flags[i] & _CONFIGURED:
            return R_NO_RELAY
        if self.flags[i] & RELAY_REQUIRES_ARM and not self.armed:
            return R_NOT_ARMED
        if self.resting[i] and ticks_diff(now, self.off_since[i]) < self.rest_ms[i]:
            return R_MIN_OFF
        if self.window[i] and self._duty_left(i, now) <= 0:
            return R_DUTY
        return 0

    def duty_used_ms(self, i, now):
        """On-time of relay i within the duty window ending now (past intervals + current)."""
        used = self._past_on(i, now)
        if self.state[i]:
            used += ticks_diff(now, self.on_since[i])
        return used

    # --- internals -----------------------------------------------------------------------

    def _on(self, i, now, pulse_ms):
        reason = self.can_switch_on(i, now)
        if reason:
            self.log.add(now, EV_RELAY_REFUSED, i, reason)
            return False
        # The relay must be off by the earliest of: max_on, the duty budget left in the
        # window, the end of the pulse.
        limit = self.max_on[i]
        if self.window[i]:
            left = self._duty_left(i, now)
            if limit == 0 or left < limit:
                limit = left
        if pulse_ms and (limit == 0 or pulse_ms < limit):
            limit = pulse_ms
        self.on_since[i] = now
        if limit:
            self.cut_at[i] = ticks_add(now, limit)
            self.has_cut[i] = 1
        else:
            self.has_cut[i] = 0
        self.state[i] = 1
        self.log.add(now, EV_RELAY_ON, i, pulse_ms)
        self._changed()
        return True

    def _changed(self):
        if self.on_change is not None:
            self.on_change()

    def _cut_reason(self, i, now):
        """Why a due cut happens: the pulse ending or a safety limit."""
        on_for = ticks_diff(now, self.on_since[i])
        if self.max_on[i] and on_for >= self.max_on[i]:
            return R_MAX_ON
        if self.window[i] and self.duty_used_ms(i, now) >= self.budget[i]:
            return R_DUTY
        return R_PULSE_END

    def _off(self, i, now, reason):
        self.state[i] = 0
        self.has_cut[i] = 0
        self.off_since[i] = now
        self.resting[i] = 1 if self.min_off[i] else 0
        self.rest_ms[i] = self.min_off[i]
        if self.window[i]:
            self._remember(i, self.on_since[i], now)
        self.log.add(now, EV_RELAY_OFF, i, reason)
        self._changed()  # the pins follow at once (STOP, disarm, a cue's off), not next frame

    def _off_matching(self, mask, now, reason):
        n = 0
        for i in range(self.n):
            if self.state[i] and self.flags[i] & mask:
                self._off(i, now, reason)
                n += 1
        return n

    # Duty cycle. The on-time inside any window of `window` ms must stay <= budget. When a
    # relay switches on at t it may stay on for budget - (past on-time inside [t-window, t]):
    # past intervals only slide out of later windows, so every window ending later is then
    # within budget too. The history is bounded: when it is full the two oldest intervals
    # merge into one that spans both, which over-counts (the safe direction).

    def _duty_left(self, i, now):
        return self.budget[i] - self._past_on(i, now)

    def _past_on(self, i, now):
        w = self.window[i]
        if not w:
            return 0
        base = i * HISTORY
        used = 0
        for k in range(self.h_len[i]):
            start_age = ticks_diff(now, self.h_start[base + k])
            end_age = ticks_diff(now, self.h_end[base + k])
            if end_age >= w:
                continue
            used += (start_age if start_age < w else w) - end_age
        return used

    def _remember(self, i, start, end):
        base = i * HISTORY
        n = self.h_len[i]
        if n == HISTORY:
            # Merge the two oldest: [start0, end1] covers both and the gap (over-counts).
            self.h_end[base] = self.h_end[base + 1]
            for k in range(1, HISTORY - 1):
                self.h_start[base + k] = self.h_start[base + k + 1]
                self.h_end[base + k] = self.h_end[base + k + 1]
            n -= 1
        self.h_start[base + n] = start
        self.h_end[base + n] = end
        self.h_len[i] = n + 1

    def _forget_old(self, i, now):
        """Drop the oldest interval once it has left the window (before ticks can wrap)."""
        base = i * HISTORY
        if ticks_diff(now, self.h_end[base]) < self.window[i]:
            return
        n = self.h_len[i] - 1
        for k in range(n):
            self.h_start[base + k] = self.h_start[base + k + 1]
            self.h_end[base + k] = self.h_end[base + k + 1]
        self.h_len[i] = n
