"""Buttons: GO latency from the first edge to the first packet carrying the cue; bounce; stuck."""

from __future__ import annotations

import hil_show
import pytest
from cuenode.hil.results import percentile
from cuenode.hil.rig import Rig
from cuenode.node import ops

pytestmark = [pytest.mark.needs_jig, pytest.mark.timeout(600)]

PRESSES = 20
LATENCY_WINDOW_MS = 250  # long enough to measure (and fail) a slow GO
DIMMER = 1


def go_latency_ms(rig: Rig, session: ops.Session) -> float:
    """One press of GO from the home cue: ms from the contact to the first snapped packet."""
    ops.goto(session, hil_show.HOME)
    rig.wait(hil_show.GO_PROTECT_MS + 50)
    rec = rig.record(LATENCY_WINDOW_MS, action=lambda: rig.press("B1"))
    rig.release("B1")
    carrying = [p for p in rec.packets() if p.data[DIMMER] == 255]
    assert carrying, f"GO did not reach the DMX line within {LATENCY_WINDOW_MS} ms"
    return (carrying[0].t_us - rec.start_us) / 1000


def test_go_latency(rig: Rig, judge) -> None:  # noqa: ANN001
    with rig.connect() as session:
        latencies = [go_latency_ms(rig, session) for _ in range(PRESSES)]
    judge(
        f"GO button latency p99 over {PRESSES} presses",
        "go_latency_p99_ms",
        percentile(latencies, 99),
        samples=latencies,
        plot="hist",
        note=f"p50 {percentile(latencies, 50):.1f} ms, max {max(latencies):.1f} ms",
    )


def test_a_bouncing_press_is_one_go(rig: Rig, judge) -> None:  # noqa: ANN001
    if not hasattr(rig, "bounce"):
        pytest.skip("this target cannot make a contact bounce")
    with rig.connect() as session:
        ops.goto(session, hil_show.HOME)
        rig.wait(hil_show.GO_PROTECT_MS + 50)
        rig.bounce("B1", 20)  # type: ignore[attr-defined]
        rig.wait(200)
        rig.release("B1")
        rig.wait(100)
        cue = ops.status(session)["cue"]
    order = [hil_show.HOME, hil_show.SNAP, hil_show.PAN_FADE, hil_show.PULSE]
    gos = order.index(cue) if cue in order else 99
    assert gos >= 1, "the bouncing press gave no GO"
    judge("GOs from one bouncing press", "bounce_gos", gos, note=f"node at cue {cue}")


def test_a_stuck_button_is_reported(rig: Rig, judge) -> None:  # noqa: ANN001
    with rig.connect() as session:
        # the node's event log is a ring: compare entries, not positions
        before = {tuple(entry) for entry in ops.log(session)}
        rig.press("B3")
        pressed_us = rig.now_us()  # node time: on a slow chip each log read takes some too
        while (held_s := (rig.now_us() - pressed_us) / 1e6) < 10:
            rig.wait(500)
            new = [text for tick, text in ops.log(session) if (tick, text) not in before]
            if any("button-stuck" in text for text in new):
                held_s = (rig.now_us() - pressed_us) / 1e6
                break
        rig.release("B3")
        rig.wait(300)
    judge("a held button reported stuck after", "stuck_report_s", held_s)
