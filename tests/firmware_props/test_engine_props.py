"""Cue engine properties over random shows and command sequences (hypothesis, CPython).

Shows are built with the host encoder, so any timing the compiler can emit is covered:
- a fade's level at any tick is within one DMX step of the ideal linear / S-curve;
- GO during a fade never makes a level jump at the GO tick;
- random GO/BACK/GOTO/STOP/RESUME sequences keep the engine's bookkeeping consistent.
"""

from __future__ import annotations

import io
import struct

from cuefw import showfile as sf
from cuefw.compat import ticks_add
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe
from cuenode.build.showbin import CueRec, NodeShow, encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARAMS = ((1, 0), (2, 0), (3, 4))  # two 8-bit parameters, one 16-bit
TOP = (255, 255, 65535)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

times = st.sampled_from([0, 1, 10, 333, 1000, 2500, 60_000, 600_000])


def engine_for(cues, go_protect_ms=0):
    show = NodeShow(
        "n", "s", params=PARAMS, base_look=(0, 0, 0), cues=tuple(cues), go_protect_ms=go_protect_ms
    )
    log = EventLog(32)
    uni = Universe()
    eng = Engine(uni, RelayGovernor(2, log), log)
    eng.load(ShowReader(io.BytesIO(encode(show))), 0)
    return eng, uni


def levels(uni):
    f = uni.frame
    return (f[1], f[2], (f[3] << 8) | f[4])


def ideal(start, target, elapsed, duration, curve):
    if elapsed >= duration:
        x = 1.0
    elif elapsed <= 0:
        x = 0.0
    else:
        x = elapsed / duration
    if curve == sf.CURVE_SCURVE:
        x = x * x * (3 - 2 * x)
    return start + (target - start) * x


@FAST
@given(
    start=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 65535)),
    target=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 65535)),
    up=times,
    down=times,
    delay=st.sampled_from([0, 1, 500, 10_000]),
    curve=st.sampled_from([sf.CURVE_LINEAR, sf.CURVE_SCURVE]),
    base=st.sampled_from([0, (1 << 30) - 30_000]),
    probes=st.lists(st.integers(0, 700_000), min_size=1, max_size=8),
)
def test_fade_level_within_one_dmx_step(start, target, up, down, delay, curve, base, probes):
    snap = CueRec(1000, changes=tuple(enumerate(start)))
    fade = CueRec(
        2000, up_ms=up, down_ms=down, delay_ms=delay, curve=curve, changes=tuple(enumerate(target))
    )
    eng, uni = engine_for([snap, fade])
    eng.go(base)
    eng.tick(base)
    assert levels(uni) == start
    t0 = ticks_add(base, 5)
    assert eng.go(t0)
    for probe in sorted(probes):
        eng.tick(ticks_add(t0, probe))
        got = levels(uni)
        for p in range(3):
            duration = up if target[p] >= start[p] else down
            want = ideal(start[p], target[p], probe - delay, duration, curve)
            # Well inside one DMX step: rounding (0.5) plus progress quantised to 2**-14,
            # which the S-curve's slope (up to 1.5) stretches, plus its own rounding (0.5).
            quantum = 1 if curve == sf.CURVE_LINEAR else 2
            tolerance = 0.5 + quantum * TOP[p] / 16384 + 1e-9
            assert abs(got[p] - want) <= tolerance, (p, probe, got[p], want)
        if probe >= delay + max(up, down):
            assert got == target and not eng.fading


@FAST
@given(
    up=times,
    down=times,
    delay=st.sampled_from([0, 300]),
    curve=st.sampled_from([sf.CURVE_LINEAR, sf.CURVE_SCURVE]),
    go_at=st.integers(0, 70_000),
    second=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 65535)),
)
def test_go_mid_fade_never_jumps(up, down, delay, curve, go_at, second):
    first = CueRec(
        1000,
        up_ms=up,
        down_ms=down,
        delay_ms=delay,
        curve=curve,
        changes=((0, 255), (1, 0), (2, 40000)),
    )
    nxt = CueRec(
        2000, up_ms=up, down_ms=down, delay_ms=delay, curve=curve, changes=tuple(enumerate(second))
    )
    eng, uni = engine_for([CueRec(500, changes=((1, 200),)), first, nxt])
    eng.go(0)
    eng.go(10)
    eng.tick(10 + go_at)
    before = levels(uni)
    assert eng.go(10 + go_at)
    eng.tick(10 + go_at)
    after = levels(uni)
    for p in range(3):
        duration = up if second[p] >= before[p] else down
        # only a 0 ms fade without delay may move a level at the GO tick: it is a snap
        assert after[p] == (second[p] if delay == 0 and duration == 0 else before[p]), p


def check_bookkeeping(eng):
    busy_lanes = sum(1 for q in range(eng.n_params) if eng.grp[q] != 255)
    assert busy_lanes == sum(eng.g_n)
    assert eng.n_busy == sum(eng.g_busy)
    for q in range(eng.n_params):
        if eng.grp[q] != 255:
            assert eng.g_busy[eng.grp[q] >> 1]
        assert eng.delta[q] == eng.dst[q] - eng.src[q] or eng.grp[q] == 255


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cue_times=st.lists(
        st.tuples(times, times, st.sampled_from([0, 0, 1, 2])), min_size=3, max_size=6
    ),
    commands=st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(-1, 7), st.sampled_from([0, 1, 22, 23, 400, 5000])
        ),
        max_size=30,
    ),
)
def test_random_commands_keep_engine_consistent(cue_times, commands):
    cues = [
        CueRec(
            1000 * (k + 1),
            up_ms=up,
            down_ms=down,
            auto_mode=auto,
            auto_ms=up // 2,
            changes=((k % 3, (k * 97) % 256),),
        )
        for k, (up, down, auto) in enumerate(cue_times)
    ]
    eng, uni = engine_for(cues, go_protect_ms=100)
    t = (1 << 30) - 3000  # the run crosses the ticks wrap
    for op, arg, step in commands:
        t = ticks_add(t, step)
        if op == 0:
            eng.go(t)
        elif op == 1:
            eng.back(t)
        elif op == 2:
            eng.goto(arg, t)
        elif op == 3:
            eng.stop(t)
        elif op == 4:
            eng.resume(arg, t)
        eng.tick(t)
        check_bookkeeping(eng)
        assert -1 <= eng.current < len(cues) and 0 <= eng.next_index <= len(cues)
        assert 0 <= eng.progress(t) <= 1000
    # Whatever happened, everything settles once the longest fade is over. A follow/hang
    # chain may start one more cue per link (fade <= 600 s, then hang <= 300 s), so give each
    # cue its own settling step.
    for _ in range(len(cues) + 1):
        t = ticks_add(t, 2 * 600_000 + 10)
        eng.tick(t)
    assert not eng.fading
    check_bookkeeping(eng)


def test_bad_show_is_refused_without_disturbing_the_running_one():
    good = [CueRec(1000, up_ms=1000, changes=((0, 255), (2, 65535)))]
    eng, uni = engine_for(good)
    eng.go(0)
    eng.tick(500)
    before = levels(uni)
    # The encoder refuses slot 600, so patch it into a valid file (as corruption would).
    blob = bytearray(
        encode(NodeShow("n", "s", params=((1, 0), (500, 0)), base_look=(0, 0), cues=()))
    )
    params_off = ShowReader(io.BytesIO(bytes(blob))).params_off
    struct.pack_into(sf.PARAM_FMT, blob, params_off + sf.PARAM_LEN, 600, 0)
    try:
        eng.load(ShowReader(io.BytesIO(bytes(blob))), 500)
    except sf.ShowError as e:
        assert "parameter 1 has slots 600/0" in str(e)
    else:
        raise AssertionError("a show patched to slot 600 was accepted")
    eng.tick(1000)  # the running fade carries on to its end
    assert levels(uni) == (255, 0, 65535) != before
    assert eng.current == 0 and eng.n_params == 3
