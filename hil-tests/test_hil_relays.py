"""Relays on their pins: a pulse's length, the node's own max_on cut, and STOP's cut."""

from __future__ import annotations

import hil_show
import pytest
from cuenode.hil.results import Timeline
from cuenode.hil.rig import Recording, Rig
from cuenode.node import ops

pytestmark = [pytest.mark.needs_jig, pytest.mark.timeout(300)]


def on_spans(rig: Rig, rec: Recording, label: str) -> list[tuple[float, float]]:
    """(on, off) times in us of the relay `label` (active level from the board data)."""
    active = rig.relay_active(label)
    spans, since = [], None
    for t, level in rec.pins[label]:
        if level == active and since is None:
            since = t
        elif level != active and since is not None:
            spans.append((since, t))
            since = None
    return spans


def timeline(rig: Rig, rec: Recording, label: str, results, test: str) -> None:  # noqa: ANN001
    active = rig.relay_active(label)
    edges = [(0.0, 0)] + [
        ((t - rec.start_us) / 1000, int(lv == active)) for t, lv in rec.pins[label]
    ]
    edges.append(((rec.end_us - rec.start_us) / 1000, edges[-1][1]))
    results.timelines.append(Timeline(f"relay {label}", edges, test))


def test_relay_pulse_length(rig: Rig, judge, results, request) -> None:  # noqa: ANN001
    with rig.connect() as session:
        rec = rig.record(
            hil_show.PULSE_MS + 300, ("R2",), lambda: ops.goto(session, hil_show.PULSE)
        )
    timeline(rig, rec, "R2", results, request.node.nodeid)
    spans = on_spans(rig, rec, "R2")
    assert len(spans) == 1, f"relay R2 switched {len(spans)} times for one pulse: {spans}"
    on_ms = (spans[0][1] - spans[0][0]) / 1000
    judge(
        "pulse length error (R2, 500 ms pulse)",
        "relay_pulse_error_ms",
        abs(on_ms - hil_show.PULSE_MS),
        note=f"on for {on_ms:.2f} ms",
    )


def test_max_on_cut(rig: Rig, judge, results, request) -> None:  # noqa: ANN001
    """The show switches fog on and never off: the node's governor must cut it at max_on."""
    with rig.connect() as session:
        ops.arm(session)
        rec = rig.record(
            hil_show.FOG_MAX_ON_MS + 500, ("R1",), lambda: ops.goto(session, hil_show.FOG_ON)
        )
        ops.goto(session, hil_show.FOG_OFF)
    timeline(rig, rec, "R1", results, request.node.nodeid)
    spans = on_spans(rig, rec, "R1")
    assert len(spans) == 1, f"fog relay spans: {spans}"
    on_ms = (spans[0][1] - spans[0][0]) / 1000
    judge(
        "fog cut after max_on (late by)",
        "max_on_cut_late_ms",
        on_ms - hil_show.FOG_MAX_ON_MS,
        note=f"on for {on_ms:.2f} ms, max_on {hil_show.FOG_MAX_ON_MS} ms",
    )


def test_stop_cuts_a_hazard_relay(rig: Rig, judge) -> None:  # noqa: ANN001
    with rig.connect() as session:
        rig.wait(1100)  # the fog relay's min_off after the previous check
        ops.arm(session)
        ops.goto(session, hil_show.FOG_ON)
        rig.wait(200)
        sent = {}

        def stop() -> None:
            sent["t"] = rig.now_us()
            ops.stop(session)
            sent["t"] = rig.arrived_us(sent["t"])  # from the command's arrival at the node

        rec = rig.record(100, ("R1",), stop)
        ops.goto(session, hil_show.FOG_OFF)
    offs = [t for t, lv in rec.pins["R1"] if lv != rig.relay_active("R1")]
    assert offs, "STOP did not switch the fog relay off"
    judge(
        "STOP (arrived at the node) to hazard relay off",
        "stop_cut_ms",
        (offs[0] - sent["t"]) / 1000,
        note=f"relay off {(offs[0] - rec.start_us) / 1000:.1f} ms after the host sent STOP",
    )
