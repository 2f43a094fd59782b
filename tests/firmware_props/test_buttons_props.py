"""Debouncer properties under random bouncing inputs (hypothesis, CPython).

The input is a random sequence of (level, ms) segments sampled every millisecond, starting
anywhere (also just before the 2**30 ticks wrap).
- Clean input (every segment at least debounce_ms + 1 long): exactly one event per change,
  stamped with the tick of the change.
- Any input: events alternate press/release; a press is only accepted after the input has
  been pressed for debounce_ms in a row; each event's stamp is an edge of the right direction
  at or before its acceptance: the first one since the old level last held steady.
"""

from __future__ import annotations

from cuefw.buttons import BUTTON_MASK, NO_EVENT, PRESS, RELEASE, Debouncer
from cuefw.compat import ticks_add
from hypothesis import given, settings
from hypothesis import strategies as st

DEBOUNCE = 10
segments = st.lists(st.tuples(st.booleans(), st.integers(1, 40)), min_size=1, max_size=40)
bases = st.sampled_from([0, 777, (1 << 30) - 200])


def run(levels, base):
    """Feed the per-ms levels (first sample released); returns raw and (kind, stamp, at)."""
    deb = Debouncer(1, debounce_ms=DEBOUNCE, stuck_ms=0)
    raw = [0] + levels  # t = 0 is released, so the first real sample is a real edge
    events = []
    for t, level in enumerate(raw):
        deb.sample(0, level, ticks_add(base, t))
        code = deb.pop()
        while code != NO_EVENT:
            assert code & BUTTON_MASK == 0
            stamp = (deb.event_tick - base) % (1 << 30)
            events.append((code & ~BUTTON_MASK, stamp, t))
            code = deb.pop()
    return raw, events


def first_edge(raw, after, at, level):
    """Independent statement of the stamp: scan (after, at]; an old-level run of
    DEBOUNCE + 1 samples forgets any earlier edge (it was a glitch)."""
    edge = None
    run = 0
    for t in range(after + 1, at + 1):
        if raw[t] == level:
            if edge is None:
                edge = t
            run = 0
        else:
            run += 1
            if run >= DEBOUNCE + 1:
                edge = None
    return edge


def expand(segs):
    out = []
    for level, ms in segs:
        out += [1 if level else 0] * ms
    return out


@settings(max_examples=400, deadline=None)
@given(segs=segments, base=bases)
def test_any_input_gives_alternating_debounced_first_edge_events(segs, base):
    raw, events = run(expand(segs), base)
    expected_kind = PRESS
    previous_at = 0
    for kind, stamp, at in events:
        assert kind == expected_kind
        level = 1 if kind == PRESS else 0
        # steady at the new level for debounce_ms before acceptance
        assert all(raw[t] == level for t in range(at - DEBOUNCE, at + 1))
        # the stamp is the FIRST edge into the new level since the old level last held
        # steady (debounce_ms + 1 samples) after the previous acceptance
        assert stamp == first_edge(raw, previous_at, at, level), (stamp, previous_at, at)
        expected_kind = RELEASE if kind == PRESS else PRESS
        previous_at = at


@settings(max_examples=400, deadline=None)
@given(
    segs=st.lists(st.tuples(st.booleans(), st.integers(DEBOUNCE + 1, 60)), min_size=1, max_size=30),
    base=bases,
)
def test_clean_input_gives_one_event_per_change_at_the_change(segs, base):
    levels = expand(segs)
    raw, events = run(levels, base)
    changes = [t for t in range(1, len(raw)) if raw[t] != raw[t - 1]]
    # the last change may not have been steady long enough when the input ends
    if changes and len(raw) - changes[-1] <= DEBOUNCE:
        changes.pop()
    assert [stamp for _, stamp, _ in events] == changes
    assert all(at - stamp == DEBOUNCE for _, stamp, at in events)
