# Relay governor: limits hold whatever is asked; every refusal is logged.
# Runs under CPython (pytest) and MicroPython.
from cuefw.compat import ticks_add
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
    R_RESET,
    EventLog,
)
from cuefw.governor import RelayGovernor
from cuefw.showfile import RELAY_HAZARD, RELAY_REQUIRES_ARM

FOG, STROBE, HOUSE = 0, 1, 2


def make(base=0):
    log = EventLog(64)
    gov = RelayGovernor(4, log)
    # fog: 3 s max on, 2 s min off, 50 % of any 10 s; must be armed; hazardous
    gov.configure(FOG, 3000, 2000, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD)
    gov.configure(STROBE, 0, 0, 0, 100, RELAY_HAZARD)
    gov.configure(HOUSE, 0, 0, 0, 100, 0)
    # relay 3 is left unconfigured
    gov.tick(base)
    return gov, log


def t(base, ms):
    return ticks_add(base, ms)


def last(log):
    return log.get(0)


def advance(gov, until):
    """Tick the governor at every forced cut due up to `until`, as the main loop does (it
    ticks every millisecond; next_cut_in tells exactly when it must)."""
    while True:
        now = gov.last_tick
        due = gov.next_cut_in(now)
        if due < 0 or due > until - now:
            return
        gov.tick(now + due)


def test_power_up_all_off_and_unconfigured_relay_refused():
    gov, log = make()
    assert list(gov.state) == [0, 0, 0, 0]
    assert not gov.request(3, True, 0)
    assert last(log)[1:] == (EV_RELAY_REFUSED, 3, R_NO_RELAY)
    assert not gov.request(9, True, 0)  # out of range is a refusal, not a crash
    assert gov.request(3, False, 0)  # off is always fine


def test_requires_arm_refused_until_armed():
    gov, log = make()
    assert not gov.request(FOG, True, 0)
    assert gov.state[FOG] == 0 and last(log)[1:] == (EV_RELAY_REFUSED, FOG, R_NOT_ARMED)
    gov.arm(10)
    assert last(log)[1] == EV_ARM
    assert gov.request(FOG, True, 20) and gov.state[FOG] == 1
    assert last(log)[1:] == (EV_RELAY_ON, FOG, 0)


def test_max_on_cuts_the_relay():
    for base in (0, (1 << 30) - 1500):  # also across the ticks wrap
        gov, log = make(base)
        gov.arm(base)
        assert gov.request(FOG, True, base)
        assert gov.remaining_on_ms(FOG, t(base, 1000)) == 2000
        assert gov.next_cut_in(t(base, 1000)) == 2000
        gov.tick(t(base, 2999))
        assert gov.state[FOG] == 1
        gov.tick(t(base, 3000))
        assert gov.state[FOG] == 0
        assert last(log)[1:] == (EV_RELAY_OFF, FOG, R_MAX_ON)
        assert gov.next_cut_in(t(base, 3000)) == -1


def test_a_late_call_applies_the_due_cut_first():
    gov, log = make()
    gov.arm(0)
    gov.request(FOG, True, 0)
    # nobody ticked for 4 s: the request sees the relay cut (at 4000) and min_off running
    assert not gov.request(FOG, True, 4000)
    assert gov.state[FOG] == 0
    assert last(log)[1:] == (EV_RELAY_REFUSED, FOG, R_MIN_OFF)


def test_min_off_is_enforced():
    gov, log = make()
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(FOG, False, 1000)
    assert not gov.request(FOG, True, 2999)
    assert last(log)[1:] == (EV_RELAY_REFUSED, FOG, R_MIN_OFF)
    assert gov.request(FOG, True, 3000)


def test_duty_cycle_budget_over_a_sliding_window():
    gov, log = make()  # 50 % of 10 s: 5 s of on-time in any 10 s
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.tick(3000)  # max_on cut: 3 s used
    assert gov.request(FOG, True, 5000)  # 2 s of budget left in [-5000, 5000]
    assert gov.remaining_on_ms(FOG, 5000) == 2000
    gov.tick(7000)
    assert gov.state[FOG] == 0 and last(log)[1:] == (EV_RELAY_OFF, FOG, R_DUTY)
    assert not gov.request(FOG, True, 9000)
    assert last(log)[1:] == (EV_RELAY_REFUSED, FOG, R_DUTY)
    assert not gov.request(FOG, True, 10_000)  # [0, 10000] still holds 5 s
    assert gov.request(FOG, True, 13_000)  # 0..3000 has left the window: 3 s available
    assert gov.remaining_on_ms(FOG, 13_000) == 3000
    assert gov.duty_used_ms(FOG, 13_000) == 2000


def test_many_short_pulses_never_exceed_the_duty_budget():
    # More on-intervals than the governor remembers (8): merging must stay on the safe side.
    log = EventLog(1000)
    gov = RelayGovernor(1, log)
    gov.configure(0, 0, 0, 1000, 30, 0)  # 300 ms of on-time in any 1 s, no other limit
    now = 0
    for k in range(300):
        advance(gov, now)
        gov.request(0, True, now)
        advance(gov, now + 60 + k % 11)
        gov.request(0, False, now + 60 + k % 11)
        now += 70 + k % 13
    # Rebuild the on/off timeline from the log and slide a 1000 ms window over it.
    on = bytearray(now + 1)
    events = [e for e in log if e[1] in (EV_RELAY_ON, EV_RELAY_OFF)]
    events.reverse()  # oldest first
    switched_on = -1
    count_on = 0
    for tick, code, _, _ in events:
        if code == EV_RELAY_ON:
            switched_on = tick
            count_on += 1
        else:
            for ms in range(switched_on, tick):
                on[ms] = 1
    assert count_on > 40  # the relay did run, many times
    window = sum(on[:1000])
    worst = window
    for ms in range(1000, len(on)):
        window += on[ms] - on[ms - 1000]
        worst = max(worst, window)
    assert 250 <= worst <= 300, worst


def test_pulse_runs_its_time_or_is_cut_at_max_on():
    gov, log = make()
    assert gov.pulse(STROBE, 500, 0)
    assert last(log)[1:] == (EV_RELAY_ON, STROBE, 500)
    gov.tick(499)
    assert gov.state[STROBE] == 1
    gov.tick(500)
    assert gov.state[STROBE] == 0 and last(log)[1:] == (EV_RELAY_OFF, STROBE, R_PULSE_END)
    gov.arm(600)
    assert gov.pulse(FOG, 10_000, 600)
    assert gov.remaining_on_ms(FOG, 600) == 3000
    gov.tick(3600)
    assert gov.state[FOG] == 0 and last(log)[1:] == (EV_RELAY_OFF, FOG, R_MAX_ON)


def test_pulse_on_a_latched_relay_sets_its_off_time():
    gov, _ = make()
    gov.request(HOUSE, True, 0)
    assert gov.remaining_on_ms(HOUSE, 0) == -1  # no limit
    assert gov.pulse(HOUSE, 200, 1000)
    gov.tick(1200)
    assert gov.state[HOUSE] == 0


def test_disarm_switches_off_relays_that_require_arming():
    gov, log = make()
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(STROBE, True, 0)
    gov.disarm(100)
    assert gov.state[FOG] == 0 and gov.state[STROBE] == 1 and not gov.armed
    assert log.get(1)[1:] == (EV_RELAY_OFF, FOG, R_DISARM)
    assert last(log)[1:] == (EV_DISARM, 1, 0)


def test_panic_switches_off_hazards_and_disarms():
    gov, log = make()
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(STROBE, True, 0)
    gov.request(HOUSE, True, 0)
    gov.panic(50)
    assert list(gov.state[:3]) == [0, 0, 1] and not gov.armed
    assert last(log)[1:] == (EV_PANIC, 2, 0)
    assert log.count(EV_RELAY_OFF) == 2
    assert log.get(1)[3] == R_PANIC


def test_reconfigure_and_reset_switch_off_first():
    gov, log = make()
    gov.request(HOUSE, True, 0)
    gov.configure(HOUSE, 100, 0, 0, 100, 0, 5)
    assert gov.state[HOUSE] == 0 and last(log)[1:] == (EV_RELAY_OFF, HOUSE, R_RESET)
    gov.request(STROBE, True, 10)
    gov.reset(20)
    assert list(gov.state) == [0, 0, 0, 0]
    assert not gov.request(STROBE, True, 30)  # unconfigured after reset
    assert last(log)[3] == R_NO_RELAY


def test_limits_survive_a_long_idle_past_the_ticks_half_range():
    gov, _ = make()
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(FOG, False, 100)
    gov.tick(2100)  # min_off over
    gov.tick(10_100)  # the 0..100 interval has left the duty window
    later = (1 << 29) + 50  # ticks_diff to the old off tick would now look negative
    gov.tick(later)
    assert gov.request(FOG, True, later)
    assert gov.remaining_on_ms(FOG, later) == 3000


def test_can_switch_on_reports_the_reason_without_acting():
    gov, log = make()
    n = log.seq
    assert gov.can_switch_on(FOG, 0) == R_NOT_ARMED
    assert gov.can_switch_on(HOUSE, 0) == 0
    assert log.seq == n


def reload(gov, now, fog_key="R1", fog_min_off=2000):
    """What a show load does: reset, then configure every relay with its board pin label."""
    gov.reset(now)
    gov.configure(
        FOG, 3000, fog_min_off, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD, now, fog_key
    )


def test_a_reload_keeps_the_physical_relays_min_off():
    gov, log = make()
    gov.configure(FOG, 3000, 2000, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD, 0, "R1")
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(FOG, False, 1000)
    reload(gov, 1100)
    gov.arm(1100)
    assert not gov.request(FOG, True, 1200), "a reload cleared min_off"
    assert last(log)[1:] == (EV_RELAY_REFUSED, FOG, R_MIN_OFF)
    assert not gov.request(FOG, True, 2999)
    assert gov.request(FOG, True, 3000)


def test_a_reload_switching_a_relay_off_starts_its_rest_and_cannot_shorten_it():
    gov, log = make()
    gov.configure(FOG, 3000, 2000, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD, 0, "R1")
    gov.arm(0)
    gov.request(FOG, True, 0)
    reload(gov, 500, fog_min_off=0)  # the new show asks for no rest: the begun one stands
    gov.arm(600)
    assert not gov.request(FOG, True, 600)
    assert last(log)[3] == R_MIN_OFF
    assert gov.request(FOG, True, 2500)


def test_a_reload_keeps_the_duty_history():
    gov, log = make()
    gov.configure(FOG, 3000, 0, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD, 0, "R1")
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.tick(3000)  # max_on cut: 3 s of the 5 s budget used
    reload(gov, 3100, fog_min_off=0)
    gov.arm(3100)
    assert gov.request(FOG, True, 3200)
    assert gov.remaining_on_ms(FOG, 3200) == 2000, "a reload cleared the duty history"


def test_a_relay_moved_to_another_pin_starts_fresh():
    gov, log = make()
    gov.configure(FOG, 3000, 2000, 10_000, 50, RELAY_REQUIRES_ARM | RELAY_HAZARD, 0, "R1")
    gov.arm(0)
    gov.request(FOG, True, 0)
    gov.request(FOG, False, 1000)
    reload(gov, 1100, fog_key="R2")  # another physical relay: it has not been on
    gov.arm(1100)
    assert gov.request(FOG, True, 1200)
