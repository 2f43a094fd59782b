# Cue parts and effects in the engine. Runs under CPython (pytest) and MicroPython: plain
# asserts, the fixture show data/parts.cnshow (described in make_data.py):
#   p0 slot 1, p1 slot 2, p2 16-bit slots 3/4, p3 slot 5, p4 slot 6.
#   effect 0 "pair": square, 1000 ms, size 100: p3 high in the first half, p4 in the second.
#   effect 1 "wave": sine, 2000 ms, size 1000, offset -500, on p2 (16-bit).
#   cue 1: p0 -> 255 up 1 s; part delay .5 s up 2 s: p1 -> 200; part up 0: p2 -> 10000;
#          starts "pair". cue 2: p0 -> 0 down 1 s, "pair" and "wave". cue 3: p3 -> 50, none.
import io
from array import array

from cuefw.compat import ticks_add
from cuefw.effects import SINE, Effects
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import Cue, ShowError, ShowReader
from cuefw.universe import Universe


def _data(name):
    here = __file__
    base = here.rsplit("/", 1)[0] if "/" in here else "."
    return base + "/data/" + name


def make(now=0):
    with open(_data("parts.cnshow"), "rb") as f:
        blob = f.read()
    log = EventLog(64)
    uni = Universe()
    eng = Engine(uni, RelayGovernor(4, log), log)
    eng.load(ShowReader(io.BytesIO(blob)), now)
    return eng, uni


def p16(uni):
    return (uni.frame[3] << 8) | uni.frame[4]


def at(eng, uni, now):
    eng.tick(now)
    return list(uni.frame[1:7])


# --- cue parts -----------------------------------------------------------------------------


def test_reader_gives_parts_and_effect_mask():
    with open(_data("parts.cnshow"), "rb") as f:
        r = ShowReader(io.BytesIO(f.read()))
    assert r.max_parts == 2 and r.n_effects == 2 and r.n_members == 3
    cue = r.read_cue(0, Cue(r.max_changes, r.max_actions, r.max_parts))
    assert cue.n_changes == 3 and cue.n_parts == 2 and cue.effects == 1
    assert list(cue.parts) == [1, 0, 500, 2000, 0, 1, 0, 0, 0, 0]  # n, curve, delay, up, down
    # the changes: the cue's own run first, then each part's
    assert [cue.param(k) for k in range(3)] == [0, 1, 2]
    look = r.read_look(0, array("H", bytes(10)))
    assert list(look) == [255, 200, 10000, 0, 0]
    too_small = Cue(r.max_changes, r.max_actions)  # no room for parts
    try:
        r.read_cue(0, too_small)
        raise AssertionError("a Cue without room for parts was filled")
    except ShowError as exc:
        assert "Cue(3, 0, 2)" in str(exc)


def test_each_part_fades_with_its_own_delay_and_time():
    eng, uni = make()
    assert eng.go(0)
    eng.tick(0)
    assert p16(uni) == 10000  # part 2: up 0, there at GO
    f = at(eng, uni, 500)
    assert 127 <= f[0] <= 128 and f[1] == 0  # the cue's own 1 s; part 1 still in its delay
    f = at(eng, uni, 1500)
    assert f[0] == 255 and f[1] == 100  # part 1: half of its 2 s after .5 s delay
    assert eng.fading and eng.progress(1500) < 1000
    f = at(eng, uni, 2500)
    assert f[1] == 200 and not eng.fading
    assert eng.progress(2500) == 1000  # the cue lasts as long as its longest part


def test_go_during_a_part_leaves_the_part_fading_with_its_own_time():
    eng, uni = make()
    eng.go(0)
    at(eng, uni, 1000)
    assert eng.go(1500)  # cue 2 lowers p0 only: p1 keeps its part's fade
    f = at(eng, uni, 2000)
    assert 127 <= f[0] <= 128 and f[1] == 150
    f = at(eng, uni, 2500)
    assert f[0] == 0 and f[1] == 200


def test_full_look_run_keeps_part_timing():
    eng, uni = make()
    assert eng.goto(0, 0)  # GOTO: the full tracked look, parts still timed as parts
    f = at(eng, uni, 500)
    assert 127 <= f[0] <= 128 and f[1] == 0
    assert at(eng, uni, 1500)[1] == 100


# --- effects -------------------------------------------------------------------------------


def test_sine_table_runs_from_0_to_full_and_back():
    assert SINE[0] == 0 and SINE[128] == 1024 and SINE[64] == 512 and SINE[192] == 512
    assert all(SINE[i] <= SINE[i + 1] for i in range(128))
    from math import cos, pi

    assert list(SINE) == [int((1 - cos(2 * pi * i / 256)) * 512 + 0.5) for i in range(256)]


def test_a_cue_starts_an_effect_on_top_of_the_cue_value():
    eng, uni = make()
    eng.go(0)
    f = at(eng, uni, 100)
    assert f[4] == 100 and f[5] == 0  # pair: p3 high in the first half of the cycle
    f = at(eng, uni, 600)
    assert f[4] == 0 and f[5] == 100  # p4 (phase half a cycle) in the second half
    f = at(eng, uni, 5100)  # many cycles later: same position as at 100
    assert f[4] == 100 and f[5] == 0


def test_an_effect_keeps_its_phase_across_go_and_a_new_one_starts_at_go():
    eng, uni = make()
    eng.go(0)
    at(eng, uni, 300)
    assert eng.go(700)  # cue 2: pair keeps running, wave starts at 700
    f = at(eng, uni, 700)
    assert f[4] == 0 and f[5] == 100  # pair at 700: second half, not restarted
    assert p16(uni) == 10000 - 500  # wave at its start: cue value + offset + 0
    at(eng, uni, 1700)  # wave half way: + size
    assert p16(uni) == 10000 - 500 + 1000


def test_an_effect_clamps_to_the_parameter_range():
    eng, uni = make()
    eng.go(0)
    at(eng, uni, 300)
    eng.go(700)
    at(eng, uni, 800)
    eng.goto(2, 900)  # cue 3: no effects, p3 -> 50
    f = at(eng, uni, 900)
    assert f[4] == 50 and f[5] == 0  # effects stopped: cue values again at once
    assert p16(uni) == 10000
    assert eng.effects.n_on == 0


def test_back_restores_the_previous_cues_effect_set():
    eng, uni = make()
    eng.go(0)
    eng.go(500)
    at(eng, uni, 600)
    assert eng.effects.n_on == 2
    assert eng.back(1000)
    at(eng, uni, 1000)
    assert eng.effects.n_on == 1 and eng.effects.on[0] == 1 and eng.effects.on[1] == 0
    assert p16(uni) == 10000  # wave stopped: its parameter shows the cue value


def test_stop_stops_every_effect_and_fades_the_cue_look_to_black():
    eng, uni = make()
    eng.go(0)
    at(eng, uni, 100)
    eng.stop(200)
    assert eng.effects.n_on == 0
    f = at(eng, uni, 200)
    assert f[4] == 0 and f[5] == 0
    f = at(eng, uni, 1200)
    assert f == [0, 0, 0, 0, 0, 0]
    assert eng.go(1300)  # the next GO runs the standby cue (cue 2): its look and effects
    assert eng.current == 1 and eng.effects.n_on == 2


def test_effects_run_identically_across_the_ticks_wrap():
    start = (1 << 30) - 250
    eng, uni = make(start)
    eng.go(start)
    f = at(eng, uni, ticks_add(start, 100))
    assert f[4] == 100
    f = at(eng, uni, ticks_add(start, 5600))  # wrapped: 5.6 cycles in, second half
    assert f[4] == 0 and f[5] == 100


def test_effects_table_loads_empty_for_a_show_without_effects():
    fx = Effects()
    assert fx.n == 0 and fx.n_on == 0
    fx.stop_all()
