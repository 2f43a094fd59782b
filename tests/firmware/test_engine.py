# Cue engine: timing, tracking, GO/BACK/GOTO/STOP/RESUME, follow and hang, retargeting.
# Runs under CPython (pytest) and MicroPython: plain asserts, cuefw imports, fixture shows
# from data/ (built by make_data.py; the cue lists are described there).
import io

from cuefw.compat import ticks_add, ticks_diff
from cuefw.engine import MODE_RUNNING, MODE_STANDBY, MODE_STOPPED, Engine
from cuefw.eventlog import (
    EV_AUTO_GO,
    EV_BACK,
    EV_BACK_REFUSED,
    EV_GO,
    EV_GO_REFUSED,
    EV_GOTO_REFUSED,
    EV_RELAY_REFUSED,
    EV_SHOW_LOADED,
    EV_STOP,
    G_END,
    G_PROTECT,
    EventLog,
)
from cuefw.governor import RelayGovernor
from cuefw.showfile import BTN_BACK, BTN_FIRE, BTN_GO, BTN_STOP, ShowReader
from cuefw.universe import Universe


def _data(name):
    try:
        here = __file__
    except NameError:
        here = "tests/firmware/x.py"
    base = here.rsplit("/", 1)[0] if "/" in here else "."
    return base + "/data/" + name


def reader(name):
    with open(_data(name), "rb") as f:
        return ShowReader(io.BytesIO(f.read()))


def make(name, now=0):
    log = EventLog(64)
    uni = Universe()
    gov = RelayGovernor(4, log)
    eng = Engine(uni, gov, log)
    eng.load(reader(name), now)
    return eng, uni, gov, log


def at(eng, uni, now):
    """Tick the engine at `now` and return slots 1..5."""
    eng.tick(now)
    return list(uni.frame[1:6])


def p16(uni, coarse):
    return (uni.frame[coarse] << 8) | uni.frame[coarse + 1]


def last(log):
    return log.get(0)


# An 8-bit level is the ideal rounded to nearest, from progress quantised to 2**-14:
# error <= 0.5 + 255 / 16384 < 0.52 of a DMX step (the spec: within one step).
TOL = 0.52
TOL_PERCENT = 52
# A 16-bit level: 0.5 + 65535 / 16384 units of 1/65535.
TOL16 = 4.52


def near(value, ideal, tolerance):
    return abs(value - ideal) <= tolerance


# --- loading and standby -------------------------------------------------------------------


def test_load_stands_by_at_first_cue_without_touching_output():
    eng, uni, _, log = make("fade.cnshow")
    assert eng.mode == MODE_STANDBY and eng.standby
    assert eng.current == -1 and eng.next_index == 0 and eng.next_number == 1000
    assert at(eng, uni, 100) == [0, 0, 0, 0, 0]
    assert last(log)[1] == EV_SHOW_LOADED and last(log)[2] == 6


def test_load_reads_current_levels_so_first_go_fades_from_them():
    log = EventLog(16)
    uni = Universe()
    uni.set(1, 100)  # p0 already at 100 on stage
    eng = Engine(uni, RelayGovernor(1, log), log)
    eng.load(reader("fade.cnshow"), 0)
    assert eng.go(0)
    # Cue 1 full look: p0 100 -> 255 in 1000 ms (up).
    assert at(eng, uni, 0)[0] == 100
    assert near(at(eng, uni, 500)[0], 100 + 155 * 0.5, 1)


def test_no_show_refuses_commands():
    log = EventLog(8)
    eng = Engine(Universe(), RelayGovernor(1, log), log)
    assert not eng.go(0)
    assert not eng.back(0)
    assert not eng.goto(0, 0)
    assert not eng.fire(1000, 0)
    eng.tick(10)  # nothing to do, no error
    assert log.count(EV_GO_REFUSED) == 1 and log.count(EV_GOTO_REFUSED) == 2


# --- fade timing ---------------------------------------------------------------------------


def test_linear_up_fade_within_one_dmx_step_every_ms():
    eng, uni, _, _ = make("fade.cnshow")
    assert eng.go(0)
    for t in range(0, 1001):
        eng.tick(t)
        assert near(uni.frame[1], 255 * t / 1000, TOL), t
        assert near(p16(uni, 3), 65535 * t / 1000, TOL16), t
    assert uni.frame[1] == 255 and p16(uni, 3) == 65535
    assert not eng.fading


def test_fade_level_is_computed_from_start_not_accumulated():
    # Ticking at irregular times gives exactly the levels of ticking at those times alone.
    eng_a, uni_a, _, _ = make("fade.cnshow")
    eng_b, uni_b, _, _ = make("fade.cnshow")
    eng_a.go(0)
    eng_b.go(0)
    t = 0
    for step in (1, 22, 23, 24, 7, 50, 3, 23, 300):
        t += step
        eng_a.tick(t)
    eng_b.tick(t)
    assert uni_a.frame == uni_b.frame


def test_up_down_and_delay_times():
    eng, uni, _, _ = make("fade.cnshow")
    eng.go(0)
    eng.tick(1000)
    assert eng.go(2000)  # cue 2: delay 500; p0 255 -> 0 down 2000; p1 0 -> 200 up 3000
    assert at(eng, uni, 2000)[:2] == [255, 0]
    assert at(eng, uni, 2499)[:2] == [255, 0]  # still in the delay
    assert at(eng, uni, 2500)[:2] == [255, 0]
    f = at(eng, uni, 3500)
    assert near(f[0], 255 * (1 - 1000 / 2000), TOL) and near(f[1], 200 * 1000 / 3000, TOL)
    f = at(eng, uni, 4500)
    assert f[0] == 0 and near(f[1], 200 * 2000 / 3000, TOL)
    assert eng.fading
    assert at(eng, uni, 5500)[:2] == [0, 200]
    assert not eng.fading
    assert p16(uni, 3) == 65535  # not in cue 2: tracks


def test_scurve_within_one_dmx_step_of_smoothstep():
    eng, uni, _, _ = make("fade.cnshow")
    eng.goto(1, 0)
    eng.tick(10_000)
    assert eng.go(20_000)  # cue 3: S-curve 1 s, p0 0 -> 255, p3 0 -> 255
    worst = 0.0
    for t in range(0, 1001, 5):
        eng.tick(20_000 + t)
        x = t / 1000
        ideal = 255 * (3 * x * x - 2 * x * x * x)
        worst = max(worst, abs(uni.frame[1] - ideal), abs(uni.frame[5] - ideal))
    assert worst <= TOL + 255 * 0.5 / 16384, worst  # + the S-curve rounding
    # and it is not linear: a quarter of the way it is at 15.6 %, not 25 %
    eng.goto(1, 30_000)
    eng.tick(40_000)
    eng.go(50_000)
    assert at(eng, uni, 50_250)[0] == 40


def test_snap_cue_lands_at_go_tick():
    eng, uni, _, _ = make("fade.cnshow")
    eng.go(0)
    eng.tick(100)
    assert eng.go(600)  # cue 2 (delay .5) now running
    assert eng.go(1200)  # cue 3
    assert eng.go(1800)  # cue 4: snap p0=10, p1=20, p2=0, p3=0
    assert at(eng, uni, 1800) == [10, 20, 0, 0, 0]
    assert not eng.fading


def test_ten_minute_fade_exact_and_ends_within_one_frame():
    eng, uni, _, _ = make("fade.cnshow")
    start = 5000
    eng.goto(3, 0)  # snap: p0 10, p1 20, p2 0
    eng.tick(0)
    assert eng.go(start)  # cue 5: 600 s, p0 10 -> 255, p1 20 -> 0, p2 0 -> 65535
    duration = 600_000
    end = start + duration
    slack = TOL_PERCENT * duration // 100
    t = start
    frame = 0
    while ticks_diff(end, t) > 0:
        eng.tick(t)
        e = t - start
        # integer form of |level - ideal| <= TOL (MicroPython floats live on the heap)
        assert abs(uni.frame[1] * duration - (10 * duration + 245 * e)) <= slack, t
        assert abs(uni.frame[2] * duration - (20 * duration - 20 * e)) <= slack, t
        if frame % 64 == 0:
            assert near(p16(uni, 3), 65535 * e / duration, TOL16), t
        assert eng.fading
        frame += 1
        t += 22 if frame % 3 else 23  # 44 Hz-ish frames that do not divide the fade
    assert p16(uni, 3) < 65535  # the last frame before the nominal end is not final yet
    eng.tick(t)  # the first frame at or after the end: final everywhere
    assert ticks_diff(t, end) < 23
    assert at(eng, uni, t)[:4] == [255, 0, 255, 255] and not eng.fading


def test_sixteen_bit_moves_coarse_and_fine_together():
    eng, uni, _, _ = make("fade.cnshow")
    eng.go(0)
    previous = 0
    for t in range(0, 1001):
        eng.tick(t)
        value = p16(uni, 3)
        assert value >= previous  # a rising fade never steps back (no coarse/fine tearing)
        previous = value
    eng.tick(1000)
    eng.goto(3, 2000)  # cue 4 snap: p2 -> 0
    assert at(eng, uni, 2000)[2:4] == [0, 0]


# --- GO during a fade ----------------------------------------------------------------------


def test_go_mid_fade_retargets_changed_channels_from_current_value():
    eng, uni, _, _ = make("fade.cnshow")
    eng.go(0)  # cue 1: p0 0 -> 255 up 1 s; p2 0 -> 65535 up 1 s
    eng.tick(480)
    assert eng.go(500)  # cue 2: delay .5; p0 -> 0 down 2 s; p1 -> 200 up 3 s
    p0_at_go = 255 * 500 / 1000
    f = at(eng, uni, 750)
    assert near(f[0], p0_at_go, TOL)  # p0 holds its current level through cue 2's delay
    assert near(p16(uni, 3), 65535 * 0.75, 5)  # p2 is not in cue 2: keeps its own fade
    assert near(at(eng, uni, 1000)[0], p0_at_go, TOL)
    assert p16(uni, 3) == 65535  # finished on its original time
    assert near(at(eng, uni, 2000)[0], p0_at_go * 0.5, TOL)  # from current, cue 2's time
    assert near(uni.frame[2], 200 * 1000 / 3000, TOL)
    assert at(eng, uni, 3000)[0] == 0
    assert at(eng, uni, 4000)[1] == 200


def test_go_mid_fade_same_direction_has_no_jump():
    eng, uni, _, _ = make("fade.cnshow")
    eng.goto(4, 0)  # cue 5 (10 min) from black: p0 -> 255, p2 -> 65535
    eng.tick(60_000)
    before = uni.frame[1]
    assert eng.go(60_000)  # cue 6: p0 -> 0 down 8 s; p1 -> 255 up 4 s
    assert at(eng, uni, 60_000)[0] == before
    assert near(at(eng, uni, 64_000)[0], before / 2, TOL)


# --- GO protection, BACK, GOTO/FIRE, end of list --------------------------------------------


def test_go_protection_refuses_and_never_skips_a_cue():
    eng, _, _, log = make("fade.cnshow")  # go_protect_ms = 500
    assert eng.go(0) and eng.current == 0
    assert not eng.go(100)
    assert not eng.go(499)
    assert eng.current == 0 and eng.next_index == 1
    assert log.count(EV_GO_REFUSED) == 2 and last(log)[3] == G_PROTECT
    assert eng.go(500)
    assert eng.current == 1 and eng.next_index == 2


def test_go_at_end_of_list_is_refused():
    eng, _, _, log = make("fade.cnshow")
    eng.goto(5, 0)
    assert not eng.go(10_000)
    assert last(log)[1] == EV_GO_REFUSED and last(log)[3] == G_END
    assert eng.current == 5


def test_back_runs_previous_cue_look_with_its_own_time():
    eng, uni, _, log = make("fade.cnshow")
    eng.go(0)
    eng.tick(5000)
    eng.go(5000)
    eng.tick(9000)
    assert at(eng, uni, 9000)[:2] == [0, 200]
    assert eng.back(10_000)  # to cue 1: p0 0 -> 255 (up 1 s), p1 200 -> 0 (down 2 s)
    assert last(log)[1] == EV_BACK and eng.current == 0 and eng.next_index == 1
    f = at(eng, uni, 10_500)
    assert near(f[0], 127.5, TOL) and near(f[1], 150, TOL)
    assert at(eng, uni, 12_000)[:2] == [255, 0]
    assert not eng.back(12_100)  # nothing before cue 1
    assert eng.go(12_200) and eng.current == 1  # BACK does not start GO protection


def test_a_double_press_of_back_goes_back_one_cue():
    eng, _, _, log = make("fade.cnshow")  # go_protect_ms = 500
    for t in (0, 1000, 2000):
        assert eng.go(t)
    assert eng.current == 2
    assert eng.do(BTN_BACK, 0, 10_000) and eng.current == 1
    assert not eng.do(BTN_BACK, 0, 10_150)  # the bounce / double press: refused, logged
    assert eng.current == 1 and last(log)[1:] == (EV_BACK_REFUSED, 0, G_PROTECT)
    assert eng.go(10_200) and eng.current == 2  # GO is not held up by a BACK
    assert eng.back(10_499) is False and eng.current == 2
    assert eng.back(10_500) and eng.current == 1  # protection time over


def test_goto_and_fire_set_the_full_tracked_look():
    eng, uni, _, log = make("fade.cnshow")
    assert eng.goto(3, 0)  # cue 4: snap 10, 20, 0, 0
    assert at(eng, uni, 0) == [10, 20, 0, 0, 0]
    assert eng.fire(2000, 1000)  # cue 2's tracked look: p0 0, p1 200, p2 65535, p3 0
    assert eng.current == 1 and eng.current_number == 2000 and eng.next_number == 3000
    eng.tick(1000 + 3500)
    assert list(uni.frame[1:6]) == [0, 200, 255, 255, 0]
    assert not eng.fire(9999, 5000)
    assert not eng.goto(6, 5000)
    assert log.count(EV_GOTO_REFUSED) == 2


def test_tracked_values_match_sequential_playback():
    eng, uni, _, _ = make("tracking.cnshow")
    expected = [7] * 8
    t = 0
    for k in range(40):
        assert eng.go(t)
        expected[k % 8] = k + 1
        t += 1000
        eng.tick(t)
        assert list(uni.frame[1:9]) == expected, k
    # GOTO into the middle (keyframes every 16 cues; cue 37 replays cues 33..37)
    eng2, uni2, _, _ = make("tracking.cnshow")
    eng2.goto(37, 0)
    eng2.tick(1000)
    look = [7] * 8
    for k in range(38):
        look[k % 8] = k + 1
    assert list(uni2.frame[1:9]) == look


def test_button_actions_dispatch():
    eng, _, gov, _ = make("relays.cnshow")
    assert eng.do(BTN_GO, 0, 0) and eng.current == 0
    assert eng.do(BTN_FIRE, 2, 100) and eng.current == 2
    assert eng.do(BTN_BACK, 0, 200) and eng.current == 1
    assert eng.do(BTN_STOP, 0, 300) and eng.mode == MODE_STOPPED
    assert not eng.do(99, 0, 400)


# --- STOP and RESUME -----------------------------------------------------------------------


def test_stop_kills_hazard_relays_and_fades_to_black():
    eng, uni, gov, log = make("relays.cnshow")  # stop_fade_ms = 1000
    gov.arm(0)
    assert eng.go(0)  # cue 1: p0 -> 255 up 1 s, fog pulse
    assert gov.state[0] == 1
    eng.tick(500)
    level_at_stop = uni.frame[1]
    eng.stop(500)
    assert gov.state[0] == 0 and not gov.armed
    assert eng.mode == MODE_STOPPED and eng.standby
    assert last(log)[1] == EV_STOP or log.count(EV_STOP) == 1
    assert at(eng, uni, 500)[0] == level_at_stop
    assert near(at(eng, uni, 1000)[0], level_at_stop / 2, TOL)
    assert at(eng, uni, 1500)[0] == 0 and not eng.fading
    # GO after STOP runs the standby cue with its full look (cue 2: snap p0 = 128)
    assert eng.go(2000) and eng.current == 1
    assert at(eng, uni, 2000)[0] == 128


def test_stop_leaves_non_hazard_relays_alone():
    eng, _, gov, _ = make("relays.cnshow")
    eng.goto(1, 0)  # strobe (hazard) on, house on
    assert gov.state[1] == 1 and gov.state[2] == 1
    eng.stop(100)
    assert gov.state[1] == 0 and gov.state[2] == 1


def test_resume_stands_by_and_waits_for_go():
    eng, uni, _, _ = make("fade.cnshow")
    assert eng.resume(3, 0)
    assert eng.mode == MODE_STANDBY and eng.next_index == 3 and eng.current == -1
    assert eng.next_number == 4000
    assert at(eng, uni, 5000) == [0, 0, 0, 0, 0]  # nothing runs by itself
    assert eng.go(6000) and eng.mode == MODE_RUNNING
    assert at(eng, uni, 6000) == [10, 20, 0, 0, 0]  # cue 4's full look, snapped
    assert not eng.resume(6, 7000)


# --- follow and hang -----------------------------------------------------------------------


def test_follow_hang_chain_runs_at_exact_ticks():
    eng, uni, _, log = make("follow.cnshow")
    assert eng.go(1000)
    t = 1000
    seen = {}
    while t < 6000:
        eng.tick(t)
        seen[t] = list(uni.frame[1:3])
        t += 23  # frames do not land on the auto ticks
    # cue 1 p0 0 -> 100 from 1000; follow 500 -> cue 2 at 1500: p0 50 -> 200 over 1 s
    assert near(seen[1989][0], 50 + 150 * 489 / 1000, TOL)
    # cue 2 completes at 2500, hangs 200 -> cue 3 at 2700 (snap p1 255) -> follow 0 -> cue 4
    # at 2700: p1 255 -> 0 over 2 s
    assert near(seen[2702][1], 255 - 255 * 2 / 2000, TOL)
    assert near(seen[3714][1], 255 - 255 * 1014 / 2000, TOL)
    assert seen[4726][1] == 0
    assert eng.current == 3 and eng.next_index == 4  # cue 4 has no auto: the chain stops
    assert log.count(EV_AUTO_GO) == 3


def test_manual_go_replaces_a_pending_follow():
    eng, uni, _, log = make("follow.cnshow")
    eng.go(0)
    eng.tick(300)
    assert eng.go(400)  # cue 2 early (follow was due at 500); protection is 300 ms
    eng.tick(500)
    assert eng.current == 1 and log.count(EV_AUTO_GO) == 0
    # cue 2 hangs 200 ms after its 1 s fade: cue 3 (and 4) at 1600
    eng.tick(1599)
    assert eng.current == 1
    eng.tick(1600)
    assert eng.current == 3 and log.count(EV_AUTO_GO) == 2


def test_auto_go_counts_for_go_protection():
    eng, _, _, log = make("follow.cnshow")  # protection 300 ms
    eng.go(0)
    eng.tick(500)  # follow: cue 2 at 500
    assert not eng.go(700)  # too close to the automatic GO
    assert eng.go(800) and eng.current == 2
    assert log.count(EV_GO) == 2


def test_stop_cancels_follow():
    eng, _, _, _ = make("follow.cnshow")
    eng.go(0)
    eng.stop(100)
    eng.tick(2000)
    assert eng.current == 0


# --- relay actions -------------------------------------------------------------------------


def test_cue_relay_actions_go_through_the_governor():
    eng, _, gov, log = make("relays.cnshow")
    eng.go(0)  # fog pulse 5 s, but fog requires ARM
    assert gov.state[0] == 0 and log.count(EV_RELAY_REFUSED) == 1
    gov.arm(100)
    eng.goto(0, 100)
    assert gov.state[0] == 1
    gov.tick(3099)
    assert gov.state[0] == 1
    gov.tick(3100)  # max_on 3 s cuts the 5 s pulse
    assert gov.state[0] == 0


def test_back_runs_no_relay_actions():
    eng, _, gov, _ = make("relays.cnshow")
    eng.goto(2, 0)  # strobe off
    eng.back(100)  # cue 2 look, but no "strobe on" action
    assert gov.state[1] == 0


# --- status and limits ---------------------------------------------------------------------


def test_progress_reports_the_running_cue():
    eng, _, _, _ = make("fade.cnshow")
    assert eng.progress(0) == 0
    eng.go(0)  # cue 1: only rising channels, up 1 s (its 2 s down time is unused)
    assert eng.progress(0) == 0
    assert eng.progress(500) == 500
    eng.tick(1000)
    assert eng.progress(1000) == 1000


def test_more_overlapping_fades_than_groups_never_jump():
    eng, uni, _, _ = make("many.cnshow")  # 20 cues, each a 10 s fade of its own channel
    t = 0
    for _ in range(20):
        assert eng.go(t)
        t += 10
        eng.tick(t)
        busy = 0
        for q in range(eng.n_params):
            busy += eng.grp[q] != 255
        assert busy == sum(eng.g_n) and eng.n_busy == sum(eng.g_busy) <= 16
    previous = bytearray(uni.frame[1:21])
    frame = uni.frame
    for t in range(200, 10_300, 10):
        eng.tick(t)
        for p in range(20):
            assert previous[p] <= frame[p + 1] <= previous[p] + 2, (t, p)
            previous[p] = frame[p + 1]
    assert list(previous) == [200] * 20 and not eng.fading


# --- ticks wraparound ----------------------------------------------------------------------


COMMANDS = ((0, "go"), (300, "go"), (900, "go"), (1700, "back"), (2600, "go"), (4000, "stop"))


def same_run_at_two_bases(show, base_a, base_b):
    """Run one command script at two tick offsets in lockstep; every frame must match."""
    runs = [make(show, base_a), make(show, base_b)]
    bases = (base_a, base_b)
    for off in range(0, 9000, 23):
        for when, command in COMMANDS:
            if off - 23 < when <= off:
                for k in (0, 1):
                    getattr(runs[k][0], command)(ticks_add(bases[k], when))
        for k in (0, 1):
            runs[k][0].tick(ticks_add(bases[k], off))
        assert runs[0][1].frame == runs[1][1].frame, off
    log_a, log_b = runs[0][3], runs[1][3]
    assert log_a.seq == log_b.seq
    for k in range(len(log_a)):
        ev_a, ev_b = log_a.get(k), log_b.get(k)
        assert ev_a[1:] == ev_b[1:]
        assert ticks_diff(ev_b[0], ev_a[0]) == ticks_diff(base_b, base_a)


def test_engine_runs_identically_across_the_ticks_wrap():
    same_run_at_two_bases("fade.cnshow", 0, (1 << 30) - 2000)  # wraps 2 s into the script
    same_run_at_two_bases("follow.cnshow", 0, (1 << 30) - 1600)


def test_ten_minute_fade_across_the_wrap():
    start = (1 << 30) - 300_000  # wraps halfway through
    eng, uni, _, _ = make("fade.cnshow", start)
    eng.goto(4, start)
    eng.tick(ticks_add(start, 300_000))
    assert near(uni.frame[1], 127.5, TOL)
    end = ticks_add(start, 600_000)
    eng.tick(ticks_add(end, -1))
    assert eng.fading
    eng.tick(end)
    assert uni.frame[1] == 255 and not eng.fading


def test_go_protection_does_not_misfire_after_long_idle():
    eng, _, _, _ = make("fade.cnshow")
    eng.go(0)
    eng.tick(1000)  # protection expires here and is no longer compared
    idle = (1 << 29) + 100  # ticks_diff would now see the old GO as "recent"
    assert eng.go(idle)
