# Cue engine: runs a compiled show (streamed from flash by showfile.ShowReader) into the DMX
# universe, and a cue's relay actions through the relay governor.
#
# Fades are computed from their START tick every frame (never by accumulating increments), so
# frame jitter never adds up: level(t) = start + (target - start) * curve(progress(t)).
# Each GO opens a "fade group" (start tick, delay, up time, down time, curve). A parameter
# belongs to at most one group; its direction (up: rising, down: falling) picks the group's up
# or down progress. GO during a fade moves only the parameters the new cue changes into the new
# group, starting from their current level; the others finish their original fade.
#
# The per-frame path (tick) allocates nothing and keeps every int below 2**30. The hot loops
# themselves (per frame and GO path, plain and native) are in cuefw/loops.py; the engine keeps
# the cue semantics: groups, timing, tracking, protection, follows, relay actions.
from array import array

from cuefw import loops
from cuefw.compat import const, ticks_add, ticks_diff
from cuefw.curves import FULL, MAX_FADE_MS, level, scurve
from cuefw.curves import progress as fade_progress
from cuefw.eventlog import (
    EV_AUTO_GO,
    EV_BACK,
    EV_BACK_REFUSED,
    EV_GO,
    EV_GO_REFUSED,
    EV_GOTO,
    EV_GOTO_REFUSED,
    EV_RESUME,
    EV_SHOW_LOADED,
    EV_STOP,
    G_END,
    G_NO_CUE,
    G_NO_SHOW,
    G_PROTECT,
)
from cuefw.showfile import (
    ACT_OFF,
    ACT_ON,
    ACT_PULSE,
    AUTO_FOLLOW,
    AUTO_HANG,
    BTN_BACK,
    BTN_FIRE,
    BTN_GO,
    BTN_STOP,
    CURVE_LINEAR,
    CURVE_SCURVE,
    PART_WORDS,
    Cue,
    ShowError,
)

_IDLE = const(255)  # parameter not fading (its value is dst): loops.IDLE
MAX_GROUPS = const(16)  # fades that can run at once (a 17th GO re-times the oldest, see _group)
MAX_AUTO_MS = const(1 << 27)

MODE_NO_SHOW = const(0)
MODE_STANDBY = const(1)  # loaded or resumed: nothing runs until GO (which sets the full look)
MODE_RUNNING = const(2)
MODE_STOPPED = const(3)  # after STOP: faded to black, the next GO sets its cue's full look

MODE_NAMES = ("no-show", "standby", "running", "stopped")


class _NoEffects:
    """The effects of a show that has none: cuefw.effects is not even imported (its code and
    tables stay out of the heap of a node whose show needs none)."""

    n_on = 0

    def run(self, mask, t):
        pass

    def load(self, reader, engine):
        pass

    def frame(self, now):
        pass

    def stop_all(self):
        pass


NO_EFFECTS = _NoEffects()


def _clamp_ms(ms, top):
    return top if ms > top else ms


class Engine:
    def __init__(self, universe, governor, log, max_groups=MAX_GROUPS, fast=True):
        self.universe = universe
        self.frame = universe.frame
        self.gov = governor
        self.log = log
        self.reader = None
        self.n_params = 0
        self.n_cues = 0
        self.mode = MODE_NO_SHOW
        self.go_protect_ms = 0
        self.stop_fade_ms = 0
        self.current = -1  # cue index last run (-1: none)
        self.current_number = -1  # its number in thousandths
        self.next_index = 0  # the cue GO runs (the "standby" cue)
        self.next_number = -1
        self._full_look = True  # next GO sets the cue's whole tracked look, not only changes
        self._last_go = 0
        self._protecting = False  # _last_go is recent enough to refuse a GO
        self._last_back = 0
        self._back_protecting = False  # _last_back is recent enough to refuse a BACK
        self._auto_pending = False
        self._auto_at = 0
        self._cue_start = 0
        self._cue_total = 0  # delay + max(up, down) of the cue last run
        self._cue_done = True
        # Fade groups. prog[2g] / prog[2g+1]: curve-applied up / down progress of group g.
        # grp holds 2g + direction in a byte, 255 meaning idle: at most 127 groups.
        max_groups = max(1, min(127, max_groups))
        self.max_groups = max_groups
        self.g_busy = bytearray(max_groups)
        self.g_start = array("i", bytes(4 * max_groups))
        self.g_delay = array("i", bytes(4 * max_groups))
        self.g_up = array("i", bytes(4 * max_groups))
        self.g_down = array("i", bytes(4 * max_groups))
        self.g_curve = bytearray(max_groups)
        self.g_serial = array("i", bytes(4 * max_groups))  # age order, to re-time the oldest
        self.prog = array("i", bytes(8 * max_groups))
        # parameters per (group, direction); signed: see loops.retarget_changes
        self.g_n = array("i", bytes(8 * max_groups))
        self._serial = 0
        self.n_busy = 0
        self._settle_due = False
        self.n8 = 0
        self._alloc_params(0)
        # The hot loops (per frame, GO path): native where they pass loops' self-check.
        self.loops = loops.choose(fast)
        self.after_fades = ()  # per-frame contributors after the fades (see tick)
        self.effects = NO_EFFECTS  # the show's effects (cuefw/effects.py): started by cues

    # --- show loading --------------------------------------------------------------------

    # Parameters are stored in "lane" order: the 8-bit ones first (lanes 0..n8-1), then the
    # 16-bit ones, so the per-frame loops need no per-parameter width test. lane_of maps the
    # show's parameter index to its lane.

    def _alloc_params(self, n):
        m = max(1, n)
        self.lane_of = array("H", bytes(2 * m))
        self.coarse = array("H", bytes(2 * m))
        self.fine = array("H", bytes(2 * m))  # 0: 8-bit parameter
        self.src = array("H", bytes(2 * m))  # level the current fade started from
        self.dst = array("H", bytes(2 * m))  # level it goes to (the value when idle)
        self.delta = array("i", bytes(4 * m))  # dst - src
        self.grp = bytearray(m)  # 2 * group + direction, or _IDLE
        self.look = array("H", bytes(2 * m))  # scratch for tracked looks (BACK, GOTO)

    def load(self, reader, now):
        """Take over a show. Output is untouched: the engine stands by at cue 0, GO required.

        Current DMX levels are read back from the universe so the first GO fades from what
        is on stage. Relays: all off, limits reconfigured from the show, disarmed."""
        n = reader.n_params
        n8 = self.check(reader)  # validate everything before touching the running show
        if n > len(self.grp):
            self._alloc_params(n)
        lane8, lane16 = 0, n8
        for p in range(n):
            coarse, fine = reader.param(p)
            if fine:
                self._load_param(p, lane16, coarse, fine)
                lane16 += 1
            else:
                self._load_param(p, lane8, coarse, fine)
                lane8 += 1
        self.n8 = n8
        self.reader = reader
        self.n_params = n
        self.n_cues = reader.n_cues
        self.cue = Cue(reader.max_changes, reader.max_actions, reader.max_parts)
        self.go_protect_ms = _clamp_ms(reader.go_protect_ms, MAX_AUTO_MS)
        self.stop_fade_ms = _clamp_ms(reader.stop_fade_ms, MAX_FADE_MS)
        self._reset_groups()
        self.effects = NO_EFFECTS
        if reader.n_effects:  # imported only for a show with effects (heap: see _NoEffects)
            from cuefw.effects import Effects

            self.effects = Effects()
            self.effects.load(reader, self)  # none running until a cue starts them
        self._configure_relays(reader, now)
        self._stand_by(0)
        self.log.add(now, EV_SHOW_LOADED, reader.n_cues, n)

    def check(self, reader):
        """Raise ShowError if this engine cannot run the show; else its 8-bit parameter count.

        Touches nothing: a pushed show is checked before it is committed."""
        n = reader.n_params
        if n > 512:
            raise ShowError("show has %d parameters, a universe holds at most 512" % n)
        if reader.n_relays > self.gov.n:
            raise ShowError("show uses %d relays, this node has %d" % (reader.n_relays, self.gov.n))
        n8 = 0
        for p in range(n):
            coarse, fine = reader.param(p)
            if not 1 <= coarse <= 512 or fine > 512 or fine == coarse:
                raise ShowError(
                    "parameter %d has slots %d/%d: slots are 1..512" % (p, coarse, fine)
                )
            if not fine:
                n8 += 1
        if reader.n_effects:
            from cuefw.effects import Effects

            Effects.check(reader)
        return n8

    def _load_param(self, p, q, coarse, fine):
        self.lane_of[p] = q
        self.coarse[q] = coarse
        self.fine[q] = fine
        value = self.frame[coarse]
        if fine:
            value = (value << 8) | self.frame[fine]
        self.src[q] = value
        self.dst[q] = value
        self.delta[q] = 0
        self.grp[q] = _IDLE

    def _configure_relays(self, reader, now):
        gov = self.gov
        gov.reset(now)
        for i in range(reader.n_relays):
            _, label, max_on, min_off, window, pct, flags = reader.relay(i)
            # Keyed by board pin label: the physical relay keeps its rest and duty history.
            gov.configure(i, max_on, min_off, window, pct, flags, now, label)

    def _reset_groups(self):
        for g in range(self.max_groups):
            self.g_busy[g] = 0
            self.g_n[2 * g] = 0
            self.g_n[2 * g + 1] = 0
        self.n_busy = 0

    def _stand_by(self, index):
        self.mode = MODE_STANDBY
        self.current = -1
        self.current_number = -1
        self.next_index = index
        self.next_number = self._number(index)
        self._full_look = True
        self._auto_pending = False
        self._protecting = False
        self._back_protecting = False
        self._cue_done = True

    def resume(self, index, now):
        """After a reboot: stand by at cue `index` without running anything; GO required.

        The next GO runs that cue with its full tracked look and its own times."""
        if self.reader is None or not 0 <= index < self.n_cues:
            self.log.add(
                now, EV_GOTO_REFUSED, index, G_NO_SHOW if self.reader is None else G_NO_CUE
            )
            return False
        self._stand_by(index)
        self.log.add(now, EV_RESUME, index, self.next_number)
        return True

    # --- commands ------------------------------------------------------------------------

    def go(self, now):
        """Run the standby cue. Refused (logged, False) within GO protection: never skips."""
        if self.reader is None:
            self.log.add(now, EV_GO_REFUSED, -1, G_NO_SHOW)
            return False
        self._expire_protection(now)
        if self._protecting:
            self.log.add(now, EV_GO_REFUSED, self.next_index, G_PROTECT)
            return False
        if self.next_index >= self.n_cues:
            self.log.add(now, EV_GO_REFUSED, self.next_index, G_END)
            return False
        self._run(self.next_index, now, now, EV_GO, True)
        return True

    def back(self, now):
        """Back to the previous cue's full look with that cue's own times (no relay actions,
        no follow). A BACK within the show's GO protection time of the previous BACK is
        refused (a double press goes back one cue, not two); GO protection is separate."""
        if self.reader is None or self.current < 1:
            self.log.add(
                now, EV_BACK_REFUSED, self.current - 1, G_NO_SHOW if self.reader is None else G_END
            )
            return False
        self._expire_protection(now)
        if self._back_protecting:
            self.log.add(now, EV_BACK_REFUSED, self.current - 1, G_PROTECT)
            return False
        self._full_look = True
        self._run(self.current - 1, now, now, EV_BACK, False)
        self._last_back = now
        self._back_protecting = self.go_protect_ms > 0
        return True

    def goto(self, index, now):
        """Run cue `index` now with its full look, relay actions and follow (FIRE button)."""
        if self.reader is None or not 0 <= index < self.n_cues:
            self.log.add(
                now, EV_GOTO_REFUSED, index, G_NO_SHOW if self.reader is None else G_NO_CUE
            )
            return False
        self._full_look = True
        self._run(index, now, now, EV_GOTO, True)
        return True

    def fire(self, number, now):
        """GOTO by cue number (thousandths: cue 12.5 -> 12500)."""
        if self.reader is None:
            self.log.add(now, EV_GOTO_REFUSED, -1, G_NO_SHOW)
            return False
        index = self.reader.find_cue(number)
        if index < 0:
            self.log.add(now, EV_GOTO_REFUSED, -1, G_NO_CUE)
            return False
        return self.goto(index, now)

    def stop(self, now):
        """STOP/panic: hazardous and armed relays off at once (governor.panic), follows
        cancelled, every parameter fades to 0 in the show's stop_fade_ms. The standby cue
        stays; the next GO runs it with its full look."""
        self.gov.panic(now)
        self._auto_pending = False
        if self.reader is not None:
            self._update_progress(now)
            self.effects.stop_all()  # effects stop first: the look they leave fades to black
            g = self._group(now, 0, self.stop_fade_ms, self.stop_fade_ms, CURVE_LINEAR)
            self.loops.all_to_black(self, g)
            self.mode = MODE_STOPPED
            self._full_look = True
            self._cue_start = now
            self._cue_total = self.stop_fade_ms
            self._cue_done = False
        self.log.add(now, EV_STOP, self.current, self.stop_fade_ms)

    def do(self, action, cue_index, now):
        """Run a button action (showfile BTN_*): GO, BACK, STOP, or FIRE cue_index."""
        if action == BTN_GO:
            return self.go(now)
        if action == BTN_BACK:
            return self.back(now)
        if action == BTN_STOP:
            self.stop(now)
            return True
        if action == BTN_FIRE:
            return self.goto(cue_index, now)
        return False

    # --- per frame -----------------------------------------------------------------------

    def tick(self, now):
        """Once per DMX frame. The per-frame contributors run here, in this order:
        1. cue timers: due follow/hang cues start, GO/BACK protection and the cue end expire;
        2. the fades: every fading parameter into the universe (loops.write8/write16);
        3. the running effects (cuefw/effects.py), on top of the cue values;
        4. `after_fades`: anything that changes the frame on top of the cue levels (effects),
           each called as c.frame(now, frame) every frame, fading or not.
        Allocates nothing unless a follow/hang cue starts (a contributor must not either)."""
        self._cue_timers(now)
        if self.n_busy:
            self._write_fades(now)
        if self.effects.n_on:
            self.effects.frame(now)
        for c in self.after_fades:
            c.frame(now, self.frame)

    def _cue_timers(self, now):
        if self._auto_pending and ticks_diff(now, self._auto_at) >= 0:
            self._run_autos(now)
        if self._protecting or self._back_protecting:
            self._expire_protection(now)
        if not self._cue_done and ticks_diff(now, self._cue_start) >= self._cue_total:
            self._cue_done = True  # stop comparing before the start tick can wrap

    def _write_fades(self, now):
        self._update_progress(now)
        lp = self.loops
        lp.write8(self.n8, self.grp, self.src, self.delta, self.prog, self.coarse, self.frame)
        if self.n8 < self.n_params:
            lp.write16(
                self.n8,
                self.n_params,
                self.grp,
                self.src,
                self.delta,
                self.prog,
                self.coarse,
                self.fine,
                self.frame,
            )
        if self._settle_due:
            self._settle()
        self._free_done_groups()

    def _settle(self):
        """Parameters whose direction of their group has arrived stop fading (after the
        write, which has put their final value out)."""
        self._settle_due = False
        grp = self.grp
        prog = self.prog
        g_n = self.g_n
        for q in range(self.n_params):
            g = grp[q]
            if g != _IDLE and prog[g] == 16384:
                grp[q] = _IDLE
                g_n[g] -= 1

    def _update_progress(self, now):
        """Up/down progress (curve applied) of every running group at `now`."""
        prog = self.prog
        for g in range(self.max_groups):
            if not self.g_busy[g]:
                continue
            e = ticks_diff(now, self.g_start[g]) - self.g_delay[g]
            up = fade_progress(e, self.g_up[g])
            down = fade_progress(e, self.g_down[g])
            if self.g_curve[g] == CURVE_SCURVE:
                up = scurve(up)
                down = scurve(down)
            prog[2 * g] = up
            prog[2 * g + 1] = down
            if (up == FULL and self.g_n[2 * g]) or (down == FULL and self.g_n[2 * g + 1]):
                self._settle_due = True

    def _free_done_groups(self):
        # A group is free once no parameter fades in it: _write moves finished parameters
        # to _IDLE, a later GO may take parameters over.
        g_n = self.g_n
        for g in range(self.max_groups):
            if self.g_busy[g] and not g_n[2 * g] and not g_n[2 * g + 1]:
                self.g_busy[g] = 0
                self.n_busy -= 1

    # --- running a cue -------------------------------------------------------------------

    def _run(self, i, t, now, code, with_actions):
        """Start cue i with its fade beginning at tick t; relay actions happen at `now`."""
        cue = self.reader.read_cue(i, self.cue)
        delay = _clamp_ms(cue.delay_ms, MAX_FADE_MS)
        up = _clamp_ms(cue.up_ms, MAX_FADE_MS)
        down = _clamp_ms(cue.down_ms, MAX_FADE_MS)
        self._update_progress(t)
        g = self._group(t, delay, up, down, cue.curve)
        n_own = cue.n_changes
        for k in range(cue.n_parts):
            n_own -= cue.parts[PART_WORDS * k]
        if self._full_look:
            self.reader.read_look(i, self.look)
            self.loops.retarget_look(self, self.look, g)
        else:
            self.loops.retarget_changes(self, cue.changes, n_own, g)
        total = self._group_length(g)
        if cue.n_parts:  # cue parts: each part's changes move again, into a group of its own
            total = self._run_parts(cue, t, n_own, total)
        self.effects.run(cue.effects, t)
        self.mode = MODE_RUNNING
        self._full_look = False
        self.current = i
        self.current_number = cue.number
        self.next_index = i + 1
        self.next_number = self._number(i + 1)
        self._cue_start = t
        self._cue_total = total
        self._cue_done = False
        self._auto_pending = False
        if code != EV_BACK:
            self._last_go = t
            self._protecting = True
            self._schedule_auto(cue, t, self._cue_total)
        if with_actions:
            self._relay_actions(cue, now)
        self.log.add(now, code, i, cue.number)

    def _run_parts(self, cue, t, at, total):
        """Cue parts (after the cue's own group took its changes, or the full look): part k's
        changes, stored after the cue's own, each move into a fade group with the part's
        delay/up/down/curve, from where they are now (the cue's group has not run yet, so
        that is where they were). Returns the cue's length: the longest group."""
        words = memoryview(cue.changes)
        parts = cue.parts
        for k in range(cue.n_parts):
            w = PART_WORDS * k  # n_changes, curve, delay, up, down
            n = parts[w]
            g = self._group(
                t,
                _clamp_ms(parts[w + 2], MAX_FADE_MS),
                _clamp_ms(parts[w + 3], MAX_FADE_MS),
                _clamp_ms(parts[w + 4], MAX_FADE_MS),
                parts[w + 1],
            )
            self.loops.retarget_changes(self, words[2 * at : 2 * (at + n)], n, g)
            at += n
            length = self._group_length(g)
            total = length if length > total else total
        return total

    def _group_length(self, g):
        """ms from a group's start until its parameters have arrived: delay plus the longer
        of the up and down times among the directions that have parameters."""
        up = self.g_up[g] if self.g_n[2 * g] else 0
        down = self.g_down[g] if self.g_n[2 * g + 1] else 0
        return self.g_delay[g] + (up if up > down else down)

    def _group(self, t, delay, up, down, curve):
        """A free fade group, started at t. If all are busy, the oldest is re-timed: its
        parameters continue from where they are to their targets with the new times."""
        g = -1
        oldest = -1
        g_n = self.g_n
        for k in range(self.max_groups):
            if not self.g_busy[k] or not (g_n[2 * k] or g_n[2 * k + 1]):
                g = k
                break
            if oldest < 0 or self.g_serial[k] - self.g_serial[oldest] < 0:
                oldest = k
        if g < 0:
            g = oldest
            self._rebase_group(g)
        elif not self.g_busy[g]:
            self.g_busy[g] = 1
            self.n_busy += 1
        self.g_start[g] = t
        self.g_delay[g] = delay
        self.g_up[g] = up
        self.g_down[g] = down
        self.g_curve[g] = CURVE_SCURVE if curve == CURVE_SCURVE else CURVE_LINEAR
        self._serial = (self._serial + 1) & 0x3FFFFFFF
        self.g_serial[g] = self._serial
        self.prog[2 * g] = 0
        self.prog[2 * g + 1] = 0
        return g

    def _rebase_group(self, g):
        for q in range(self.n_params):
            k = self.grp[q]
            if k != _IDLE and k >> 1 == g:
                cur = level(self.src[q], self.dst[q], self.prog[k])
                self.src[q] = cur
                self.delta[q] = self.dst[q] - cur
                self.g_n[k] -= 1
                k = 2 * g + (1 if self.dst[q] < cur else 0)
                self.grp[q] = k
                self.g_n[k] += 1

    def _schedule_auto(self, cue, t, total):
        ms = _clamp_ms(cue.auto_ms, MAX_AUTO_MS)
        if cue.auto_mode == AUTO_FOLLOW:
            self._auto_at = ticks_add(t, ms)
        elif cue.auto_mode == AUTO_HANG:
            self._auto_at = ticks_add(t, total + ms)
        else:
            return
        self._auto_pending = self.next_index < self.n_cues

    def _run_autos(self, now):
        # A chain of 0 ms follows runs in one call; each cue starts at its exact due tick.
        while self._auto_pending and ticks_diff(now, self._auto_at) >= 0:
            self._auto_pending = False
            self._run(self.next_index, self._auto_at, now, EV_AUTO_GO, True)

    def _relay_actions(self, cue, now):
        gov = self.gov
        for k in range(cue.n_actions):
            relay = cue.action_relay[k]
            kind = cue.action_kind[k]
            if kind == ACT_ON:
                gov.request(relay, True, now)
            elif kind == ACT_OFF:
                gov.request(relay, False, now)
            elif kind == ACT_PULSE:
                gov.pulse(relay, cue.action_ms[k], now)

    def _expire_protection(self, now):
        if self._protecting and ticks_diff(now, self._last_go) >= self.go_protect_ms:
            self._protecting = False
        if self._back_protecting and ticks_diff(now, self._last_back) >= self.go_protect_ms:
            self._back_protecting = False

    def _number(self, i):
        if self.reader is None or not 0 <= i < self.n_cues:
            return -1
        return self.reader.cue_number(i)

    # --- status --------------------------------------------------------------------------

    @property
    def fast(self):
        """The per-frame loops run native (viper) code."""
        return self.loops.frame == loops.NATIVE

    @property
    def fast_go(self):
        """The GO path's loops run native code."""
        return self.loops.go == loops.NATIVE

    def paths(self):
        """Which loops run, for status: {"frame": "native" or "plain", "go": ...}."""
        return {"frame": self.loops.frame, "go": self.loops.go}

    @property
    def fading(self):
        return self.n_busy > 0

    @property
    def standby(self):
        """True while the engine holds and waits for GO (after load, resume or STOP)."""
        return self.mode == MODE_STANDBY or self.mode == MODE_STOPPED

    def progress(self, now):
        """Progress of the cue last run (or of the STOP fade), 0..1000."""
        if self._cue_done or self._cue_total <= 0:
            return 1000 if self.current >= 0 or self.mode == MODE_STOPPED else 0
        return fade_progress(ticks_diff(now, self._cue_start), self._cue_total) * 1000 >> 14

    def value(self, p):
        """Target (or resting) raw value of show parameter p."""
        return self.dst[self.lane_of[p]]
