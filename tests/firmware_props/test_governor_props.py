"""Relay governor safety properties under random command sequences (hypothesis, CPython).

Whatever is asked, in any order, at any time (also across the 2**30 ticks wrap):
- no relay stays on longer than its max_on;
- no relay switches on before min_off has passed since it went off;
- a requires-arm relay is never on while the node is disarmed;
- in every window of duty_window ms a relay is on for at most duty_pct % of it.

The harness ticks the governor exactly when `next_cut_in` says a cut is due, as the firmware's
main loop (which ticks every millisecond) does, so observed on-intervals are exact.
"""

from __future__ import annotations

from cuefw.compat import ticks_add, ticks_diff
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import RELAY_HAZARD, RELAY_REQUIRES_ARM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

N_RELAYS = 3
MASK = (1 << 30) - 1

MAX_ON = (0, 1, 50, 700, 3000)
MIN_OFF = (0, 1, 100, 2000)
WINDOW = (0, 1000, 10_000)
STEP = (0, 0, 1, 7, 50, 333, 999, 1000, 2500, 4000)
BASE = (0, 12_345, (1 << 30) - 20_000, (1 << 30) - 1)


# Examples are decoded from plain bytes: hypothesis generates and shrinks those far faster
# than nested tuples, which keeps 10,000 sequences well inside the time budget.
def decode_configs(raw: bytes):
    """5 bytes per relay -> (max_on_ms, min_off_ms, duty_window_ms, duty_pct, flags)."""
    raw = raw.ljust(5 * N_RELAYS, b"\0")
    return [
        (
            MAX_ON[raw[5 * i] % len(MAX_ON)],
            MIN_OFF[raw[5 * i + 1] % len(MIN_OFF)],
            WINDOW[raw[5 * i + 2] % len(WINDOW)],
            raw[5 * i + 3] % 101,
            raw[5 * i + 4] & (RELAY_REQUIRES_ARM | RELAY_HAZARD),
        )
        for i in range(N_RELAYS)
    ]


def decode_commands(raw: bytes):
    """4 bytes per command -> (op 0..7, relay -1..N_RELAYS, ms 0..6120, time step)."""
    return [
        (
            raw[k] % 8,
            raw[k + 1] % (N_RELAYS + 2) - 1,  # -1 and N_RELAYS: out of range on purpose
            raw[k + 2] * 24,
            STEP[raw[k + 3] % len(STEP)],
        )
        for k in range(0, len(raw) - 3, 4)
    ]


class Observer:
    """Replays the relay states seen after every governor call into exact on-intervals."""

    def __init__(self, gov: RelayGovernor, configs) -> None:
        self.gov = gov
        self.configs = configs
        self.on_since: list[int | None] = [None] * N_RELAYS
        self.last_off: list[int | None] = [None] * N_RELAYS
        self.intervals: list[list[tuple[int, int]]] = [[] for _ in range(N_RELAYS)]

    def observe(self, t: int) -> None:
        """t: absolute (unwrapped) time of the call just made."""
        for i, (max_on, min_off, _window, _pct, flags) in enumerate(self.configs):
            on = self.gov.state[i] == 1
            if on and self.on_since[i] is None:
                if self.last_off[i] is not None:
                    assert t - self.last_off[i] >= min_off, f"relay {i} on before min_off"
                self.on_since[i] = t
            elif not on and self.on_since[i] is not None:
                self.intervals[i].append((self.on_since[i], t))
                self.on_since[i] = None
                self.last_off[i] = t
                self.check_duty(i, t)
            if on:
                assert max_on == 0 or t - self.on_since[i] < max_on, f"relay {i} past max_on"
                if flags & RELAY_REQUIRES_ARM:
                    assert self.gov.armed, f"relay {i} on while disarmed"

    def check_duty(self, i: int, end: int) -> None:
        _max_on, _min_off, window, pct, _flags = self.configs[i]
        if not window or pct >= 100:
            return
        budget = window * pct // 100
        used = sum(max(0, min(b, end) - max(a, end - window)) for a, b in self.intervals[i])
        if self.on_since[i] is not None:
            used += end - max(self.on_since[i], end - window)
        assert used <= budget, f"relay {i}: {used} ms on in a {window} ms window > {budget}"


def run(configs, commands, base):
    log = EventLog(16)
    gov = RelayGovernor(N_RELAYS, log)
    for i, cfg in enumerate(configs):
        gov.configure(i, *cfg)
    obs = Observer(gov, configs)
    t = 0
    gov.tick(base)

    def at(abs_t: int) -> int:
        return (base + abs_t) & MASK

    for op, relay, ms, step in commands:
        target = t + step
        # The main loop: tick whenever a cut is due before the next command.
        ticked_at = None
        while True:
            due = gov.next_cut_in(at(t))
            if due < 0 or t + due > target or (due == 0 and ticked_at == t):
                break  # (the last case: a cut due now did not happen; observe() will say)
            t += due
            ticked_at = t
            gov.tick(at(t))
            obs.observe(t)
        t = target
        now = at(t)
        if op == 0:
            gov.request(relay, True, now)
        elif op == 1:
            gov.request(relay, False, now)
        elif op == 2:
            gov.pulse(relay, ms, now)
        elif op == 3:
            gov.arm(now)
        elif op == 4:
            gov.disarm(now)
        elif op == 5:
            gov.panic(now)
        else:
            gov.tick(now)
        obs.observe(t)
        if 0 <= relay < N_RELAYS and gov.state[relay]:
            left = gov.remaining_on_ms(relay, now)
            assert left == -1 or ticks_diff(ticks_add(now, left), now) == left
    for i in range(N_RELAYS):
        obs.check_duty(i, t)
    return obs


@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    config_bytes=st.binary(min_size=5 * N_RELAYS, max_size=5 * N_RELAYS),
    command_bytes=st.binary(max_size=4 * 40),
    base=st.sampled_from(BASE),
)
def test_governor_limits_hold_for_any_command_sequence(config_bytes, command_bytes, base):
    run(decode_configs(config_bytes), decode_commands(command_bytes), base)


def test_harness_sees_violations():
    """The observer is not vacuous: an ungoverned relay trips it."""

    class Ungoverned(RelayGovernor):
        def tick(self, now):  # never cuts anything
            self.last_tick = now

    log = EventLog(4)
    gov = Ungoverned(1, log)
    gov.configure(0, 100, 0, 0, 100, RELAY_HAZARD)
    obs = Observer(gov, [(100, 0, 0, 100, RELAY_HAZARD)] + [(0, 0, 0, 100, 0)] * 2)
    gov.state.extend(bytearray(2))  # observer looks at 3 relays
    gov.request(0, True, 0)
    obs.observe(0)
    gov.tick(150)
    try:
        obs.observe(150)
    except AssertionError as e:
        assert "max_on" in str(e)
    else:
        raise AssertionError("a relay on for 150 ms past a 100 ms max_on went unnoticed")
